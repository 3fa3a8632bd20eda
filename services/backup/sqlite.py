"""Backing up and restoring the SQLite files (one per office, the registry's, the read store's)
with ``sqlite3``'s online backup API. May import: the standard library, ``services.registry``
(the registration's topic), ``services.stores`` and ``services.backup.manifest``.

**Order.** The files are copied one at a time while commands keep arriving, each a consistent
snapshot of its own database (one ``Connection.backup`` step is one read transaction), so the
order is what makes the whole consistent:

1. the read store first: the positions it holds (how far each consumer, the process manager
   among them, has gone in each office) and the ledger's checkpoints are then never ahead of
   the offices' files copied after it, which only grow; a consumer restored behind its office
   catches up, one restored ahead would skip what the office records next;
2. the registry second, and then exactly the offices it lists: an office registered after the
   registry's copy is left out whole (its store is provisioned before its registration, so
   copying the registry last could list an office whose file was never copied);
3. each office listed, its last id read from its copy (the manifest's point for it).

The ledger's keys are copied after all of them (``services.backup.run``): every key the copied
registry names has its file by then (a key file is written before it is registered).
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

from services.backup.manifest import BackupError, registered_codes
from services.registry import REGISTERED
from services.stores import PLATFORM, SQLiteBackend

STORES = "sqlite"
READ_STORE = "read.sqlite"
BUSY_MS = 10_000


def copy_database(source: Path, target: Path) -> None:
    """One database, online: a read-only connection's backup into a new file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        raise BackupError(f"{target} exists already")
    given = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True, timeout=10)
    copy = sqlite3.connect(target)
    try:
        given.execute(f"PRAGMA busy_timeout = {BUSY_MS}")
        given.backup(copy)
        copy.execute("PRAGMA journal_mode = DELETE")  # one file, no WAL beside it
    finally:
        copy.close()
        given.close()


def last_id(path: Path) -> int:
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        row = conn.execute("SELECT max(rowid) FROM stored_events").fetchone()
    finally:
        conn.close()
    return int(row[0] or 0)


def listed_offices(registry: Path) -> list[str]:
    """The offices the copied registry registers, in the order they were registered."""
    conn = sqlite3.connect(f"{registry.resolve().as_uri()}?mode=ro", uri=True)
    try:
        rows = conn.execute(
            "SELECT state FROM stored_events WHERE topic = ? ORDER BY rowid", (REGISTERED,)
        ).fetchall()
    finally:
        conn.close()
    return registered_codes(bytes(r[0]) for r in rows)


def back_up_sqlite(
    data_dir: Path, root: Path, started: Callable[[int], None], done: Callable[[str], None]
) -> tuple[int, dict[str, int]]:
    """Copy the read store, the registry, then each office it lists, under ``root/sqlite``:
    the registry's last id and each office's. ``started`` is told how many offices follow,
    ``done`` each one copied."""
    live = SQLiteBackend(data_dir, open_stores=1)
    stores = root / STORES
    if not live.is_provisioned(PLATFORM):
        raise BackupError(f"no Ducha data in {data_dir} (no {live.path(PLATFORM).name})")
    if (data_dir / READ_STORE).exists():
        copy_database(data_dir / READ_STORE, stores / READ_STORE)
    copy_database(live.path(PLATFORM), stores / live.path(PLATFORM).name)
    copied = SQLiteBackend(stores, open_stores=1)
    codes = listed_offices(copied.path(PLATFORM))
    started(len(codes))
    offices: dict[str, int] = {}
    for code in codes:
        copy_database(live.path(code), copied.path(code))
        offices[code] = last_id(copied.path(code))
        done(code)
    return last_id(copied.path(PLATFORM)), offices


def check_empty_data_dir(data_dir: Path) -> None:
    if data_dir.exists() and any(data_dir.iterdir()):
        raise BackupError(f"data directory {data_dir} is not empty: restore only into an empty one")


def restore_sqlite(root: Path, data_dir: Path, done: Callable[[str], None]) -> None:
    """Put the copied files in place (the backup is not live: plain copies, then synced)."""
    stores = root / STORES
    for path in sorted(stores.rglob("*.sqlite")):
        target = data_dir / path.relative_to(stores)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        if path.parent.name == "offices":
            done(path.stem)
