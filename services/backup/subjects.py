"""The ledger's per-person keys in a backup (``subject-keys.json``). May import: the standard
library, psycopg, ``services.backup.manifest``.

The tlog projection makes a subject's key (``tlog_subject_keys``, rows only ever added) when
it applies the first event naming that person. An event inside the manifest's ids that the
projection had not applied when the read store was copied (SQLite: the read store is copied
first; PostgreSQL: the snapshot may be taken before the consumer got to it) has its key made
later, outside the copy: restored without it, the rebuild would make a fresh random key, and
that event's leaf, and every root after it, would differ from the source's. So after the
stores are copied every key is read again, from the live read store, and written 0600 into
the backup; a restore inserts them (keeping any the copy has: ``ON CONFLICT DO NOTHING``)
into the restored read store before the read models are rebuilt.
"""

from __future__ import annotations

import base64
import json
import os
import sqlite3
from pathlib import Path
from typing import Any

import psycopg

from services.backup.manifest import BackupError

SUBJECT_KEYS = "subject-keys.json"
TABLE = "tlog_subject_keys"  # projections.tlog's table
READ_SCHEMA = "ducha_read"
CREATE = (
    f"CREATE TABLE IF NOT EXISTS {TABLE} (subject TEXT NOT NULL PRIMARY KEY, "
    "secret BYTEA NOT NULL, created_at TEXT NOT NULL)"
)
Row = tuple[str, bytes, str]


def live_keys(database_url: str | None, read_store: Path) -> list[Row]:
    """Every subject key the live read store holds now (none if it has no table yet)."""
    if database_url:
        with psycopg.connect(database_url, autocommit=True) as conn:
            found = conn.execute("SELECT to_regclass(%s)", (f"{READ_SCHEMA}.{TABLE}",)).fetchone()
            if not found or found[0] is None:
                return []
            rows: list[Any] = conn.execute(
                f"SELECT subject, secret, created_at FROM {READ_SCHEMA}.{TABLE} ORDER BY subject"
            ).fetchall()
    else:
        if not read_store.exists():
            return []
        conn_ = sqlite3.connect(f"{read_store.resolve().as_uri()}?mode=ro", uri=True, timeout=10)
        try:
            known = conn_.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (TABLE,)
            ).fetchone()
            rows = (
                []
                if known is None
                else conn_.execute(
                    f"SELECT subject, secret, created_at FROM {TABLE} ORDER BY subject"
                ).fetchall()
            )
        finally:
            conn_.close()
    return [(str(r[0]), bytes(r[1]), str(r[2])) for r in rows]


def write_keys(rows: list[Row], root: Path) -> None:
    """``subject-keys.json``, created 0600 (the keys are secrets: whoever has one can check a
    name against the ledger's commitments)."""
    text = json.dumps(
        [
            {"subject": s, "secret": base64.b64encode(k).decode(), "created_at": c}
            for s, k, c in rows
        ],
        ensure_ascii=False,
        indent=1,
    )
    descriptor = os.open(root / SUBJECT_KEYS, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        out.write(text + "\n")


def read_keys(root: Path) -> list[Row]:
    path = root / SUBJECT_KEYS
    if not path.exists():  # a backup made before the file was written
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return [
            (str(d["subject"]), base64.b64decode(d["secret"], validate=True), str(d["created_at"]))
            for d in data
        ]
    except (ValueError, KeyError, TypeError) as e:
        raise BackupError(f"{path} cannot be read: {e}") from None


def restore_keys(database_url: str | None, read_store: Path, root: Path) -> int:
    """Insert the backup's subject keys into the restored read store: how many were new."""
    rows = read_keys(root)
    if not rows:
        return 0
    if database_url:
        with psycopg.connect(database_url) as conn, conn.cursor() as curs:
            curs.execute(f"SET LOCAL search_path TO {READ_SCHEMA}")
            curs.execute(CREATE)
            before = count_pg(curs)
            curs.executemany(
                f"INSERT INTO {TABLE} (subject, secret, created_at) VALUES (%s, %s, %s) "
                "ON CONFLICT (subject) DO NOTHING",
                rows,
            )
            return count_pg(curs) - before
    read_store.parent.mkdir(parents=True, exist_ok=True)
    conn_ = sqlite3.connect(read_store)
    try:
        with conn_:
            conn_.execute(CREATE)
            before = conn_.total_changes
            conn_.executemany(
                f"INSERT INTO {TABLE} (subject, secret, created_at) VALUES (?, ?, ?) "
                "ON CONFLICT (subject) DO NOTHING",
                rows,
            )
            return conn_.total_changes - before
    finally:
        conn_.close()


def count_pg(curs: psycopg.Cursor[Any]) -> int:
    row = curs.execute(f"SELECT count(*) FROM {TABLE}").fetchone()
    return int(row[0]) if row else 0
