"""The read store on SQLite: ``DATA/read.sqlite`` (or ``:memory:`` for time travel), one
connection and one lock; bulk writes read their rows from one JSON array inside one statement,
which runs without holding Python's GIL, so a rebuild's writer thread overlaps the next
batch's projection. May import: the standard library, ``orjson`` and
``projections.readstore.base`` and ``text``.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson

from projections.readstore.base import (
    DEAD_LETTERS_DDL,
    READ_MODELS_DDL,
    TRACKING_DDL,
    ReadStore,
    Row,
    Table,
    Tx,
)
from projections.readstore.text import (
    rows_as_json,
    storable_params,
    storable_rows,
)


class SQLiteTx(Tx):
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.conn.execute(sql, storable_params(params))

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return [dict(r) for r in self.conn.execute(sql, storable_params(params)).fetchall()]

    def write(
        self, table: Table, rows: Sequence[Sequence[Any]], on_conflict: str | None = None
    ) -> None:
        """One statement over one JSON array: SQLite parses and inserts it all in one step,
        without the GIL (``executemany`` would take it back for every row)."""
        if rows:
            values = ", ".join(f"value ->> {i}" for i in range(len(table.columns)))
            upsert = f" ON CONFLICT ({', '.join(table.key)}) {on_conflict}" if on_conflict else ""
            dumped = rows_as_json(rows) or orjson.dumps(storable_rows(rows))
            self.conn.execute(
                f"INSERT INTO {table.name} ({', '.join(table.names)}) "
                f"SELECT {values} FROM json_each(?) WHERE true{upsert}",  # WHERE: see SQLite's
                (dumped.decode(),),  # upsert docs on INSERT ... SELECT parsing
            )


WAL_LIMIT = 64 * 1024 * 1024
"""Bytes of write-ahead log kept once it has been copied back into the file. SQLite reuses the
log rather than shrink it, so without a limit it would keep the size of the largest
transaction it ever held (240 MB after a rebuild of 10⁵ events), for as long as the server
runs."""


class SQLiteReadStore(ReadStore):
    """``DATA/read.sqlite`` (or ``:memory:`` for time travel). One connection, one lock."""

    dialect = "sqlite"

    def __init__(self, path: Path | str) -> None:
        self.path = path
        if isinstance(path, Path):
            path.parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(
            str(path), isolation_level=None, check_same_thread=False, timeout=30
        )
        self.conn.row_factory = sqlite3.Row
        if str(path) != ":memory:":
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute(f"PRAGMA journal_size_limit={WAL_LIMIT}")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.lock = threading.RLock()
        self.ensure(TRACKING_DDL + ";" + DEAD_LETTERS_DDL + ";" + READ_MODELS_DDL)

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        with self.lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield SQLiteTx(self.conn)
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """A read on its own takes no writer lock: in WAL mode it sees the last commit, and
        neither waits for a long transaction (a rebuild's) nor holds one up."""
        with self.lock:
            return SQLiteTx(self.conn).all(sql, params)

    def close(self) -> None:
        self.conn.close()
