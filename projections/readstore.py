"""Where read models live: one SQLite file (embedded) or one PostgreSQL schema (``ducha_read``).

Projections write rows and their tracking position in one transaction, so each event's effect
is applied exactly once. SQL is written once, with ``?`` placeholders and upserts that both
databases understand; the PostgreSQL side rewrites the placeholders.

Bulk writes (``Tx.write``) go the fastest way each database offers, and both hand the rows
over in one call: SQLite reads them from one JSON array inside one statement (which runs
without holding Python's GIL, so a rebuild's writer thread overlaps the next batch's
projection), PostgreSQL takes them by ``COPY``.
"""

from __future__ import annotations

import sqlite3
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from psycopg import Connection
from psycopg.rows import DictRow
from psycopg_pool import ConnectionPool

Row = dict[str, Any]

TRACKING_DDL = """
CREATE TABLE IF NOT EXISTS tracking (
    consumer TEXT NOT NULL,
    office TEXT NOT NULL,
    position BIGINT NOT NULL,
    PRIMARY KEY (consumer, office)
)
"""


@dataclass(frozen=True)
class Table:
    """A read-model table: columns with types both databases accept (TEXT, INTEGER, BIGINT)
    and its key. Bulk writes go through ``Tx.write``, which each database does its fastest way."""

    name: str
    columns: tuple[tuple[str, str], ...]
    key: tuple[str, ...]
    nullable: tuple[str, ...] = ()

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.columns]

    def create(self) -> str:
        columns = ",\n    ".join(
            f"{name} {kind}{'' if name in self.nullable else ' NOT NULL'}"
            for name, kind in self.columns
        )
        return (
            f"CREATE TABLE IF NOT EXISTS {self.name} (\n    {columns},\n"
            f"    PRIMARY KEY ({', '.join(self.key)})\n)"
        )

    def update_all(self, but: Sequence[str] = ()) -> str:
        """``DO UPDATE SET`` every non-key column from the new row, except ``but``."""
        kept = [n for n in self.names if n not in self.key and n not in but]
        return "DO UPDATE SET " + ", ".join(f"{n} = excluded.{n}" for n in kept)


class Tx(ABC):
    """One transaction on the read store."""

    @abstractmethod
    def execute(self, sql: str, params: Sequence[Any] = ()) -> None: ...

    @abstractmethod
    def all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...

    @abstractmethod
    def write(
        self, table: Table, rows: Sequence[Sequence[Any]], on_conflict: str | None = None
    ) -> None:
        """Insert ``rows`` (in ``table.columns`` order, unique by key; text, integers or None)
        in one go. ``on_conflict`` follows ``ON CONFLICT (key)`` (``DO UPDATE SET ...``); without
        it a row whose key exists is an error, never silently dropped."""

    def lock(self, key: str) -> None:  # noqa: B027 - SQLite needs nothing more
        """Hold ``key`` exclusively until the transaction ends (SQLite's writer lock already
        does: its transactions begin IMMEDIATE)."""

    def one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        rows = self.all(sql, params)
        return rows[0] if rows else None

    def position(self, consumer: str, office: str) -> int:
        row = self.one(
            "SELECT position FROM tracking WHERE consumer = ? AND office = ?", (consumer, office)
        )
        return int(row["position"]) if row else 0

    def positions(self, office: str) -> dict[str, int]:
        rows = self.all("SELECT consumer, position FROM tracking WHERE office = ?", (office,))
        return {r["consumer"]: int(r["position"]) for r in rows}

    def set_position(self, consumer: str, office: str, position: int) -> None:
        self.set_positions(office, {consumer: position})

    def set_positions(self, office: str, positions: dict[str, int]) -> None:
        """Several consumers' positions in one office, in one statement."""
        if positions:
            self.execute(
                "INSERT INTO tracking (consumer, office, position) VALUES "
                + ", ".join(["(?, ?, ?)"] * len(positions))
                + " ON CONFLICT (consumer, office) DO UPDATE SET position = excluded.position",
                [
                    v
                    for consumer, position in positions.items()
                    for v in (consumer, office, position)
                ],
            )

    def forget_positions(self, consumers: Sequence[str], office: str | None = None) -> None:
        """Back to the start (no position reads as 0) for ``office``, or for every office."""
        marks = ", ".join("?" * len(consumers))
        where = f"consumer IN ({marks})" + (" AND office = ?" if office else "")
        self.execute(
            f"DELETE FROM tracking WHERE {where}", (*consumers, *([office] if office else []))
        )


class ReadStore(ABC):
    """A database of read models, shared by every office's projections."""

    dialect: str

    @abstractmethod
    def transaction(self) -> Any:
        """A context manager yielding a ``Tx`` that commits on success."""

    def ensure(self, ddl: str) -> None:
        with self.transaction() as tx:
            for statement in ddl.split(";"):
                if statement.strip():
                    tx.execute(statement)

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        with self.transaction() as tx:
            rows: list[Row] = tx.all(sql, params)
            return rows

    def close(self) -> None:  # noqa: B027 - most stores own nothing to release
        """Release connections the store owns."""


class SQLiteTx(Tx):
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.conn.execute(sql, params)

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return [dict(r) for r in self.conn.execute(sql, params).fetchall()]

    def write(
        self, table: Table, rows: Sequence[Sequence[Any]], on_conflict: str | None = None
    ) -> None:
        """One statement over one JSON array: SQLite parses and inserts it all in one step,
        without the GIL (``executemany`` would take it back for every row)."""
        if rows:
            values = ", ".join(f"value ->> {i}" for i in range(len(table.columns)))
            upsert = f" ON CONFLICT ({', '.join(table.key)}) {on_conflict}" if on_conflict else ""
            self.conn.execute(
                f"INSERT INTO {table.name} ({', '.join(table.names)}) "
                f"SELECT {values} FROM json_each(?) WHERE true{upsert}",  # WHERE: see SQLite's
                (orjson.dumps(rows).decode(),),  # upsert docs on INSERT ... SELECT parsing
            )


class SQLiteReadStore(ReadStore):
    """``DATA/read.sqlite`` (or ``:memory:`` for time travel). One connection, one lock."""

    dialect = "sqlite"

    def __init__(self, path: Path | str) -> None:
        if isinstance(path, Path):
            path.parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(
            str(path), isolation_level=None, check_same_thread=False, timeout=30
        )
        self.conn.row_factory = sqlite3.Row
        if str(path) != ":memory:":
            self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.lock = threading.RLock()
        self.ensure(TRACKING_DDL)

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

    def close(self) -> None:
        self.conn.close()


FEW_ROWS = 32
"""Up to this many rows go as one ``INSERT``: ``COPY`` pays off only in bulk (a stage and a
copy cost three more round trips)."""


class PostgresTx(Tx):
    def __init__(self, conn: Connection[DictRow]) -> None:
        self.conn = conn

    def lock(self, key: str) -> None:
        self.conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (key,))

    @staticmethod
    def sql(statement: str) -> str:
        return statement.replace("?", "%s")

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.conn.execute(self.sql(sql), params)

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        rows = self.conn.execute(self.sql(sql), params).fetchall()
        return [dict(r) for r in rows]

    def write(
        self, table: Table, rows: Sequence[Sequence[Any]], on_conflict: str | None = None
    ) -> None:
        """A few rows (a command's worth) in one ``INSERT … VALUES`` round trip; more by
        ``COPY``: straight into the table, or for an upsert into a temporary stage of the same
        shape and from there (``COPY`` itself cannot resolve conflicts)."""
        if not rows:
            return
        columns = ", ".join(table.names)
        if len(rows) <= FEW_ROWS:
            marks = f"({', '.join(['%s'] * len(table.columns))})"
            upsert = f" ON CONFLICT ({', '.join(table.key)}) {on_conflict}" if on_conflict else ""
            self.conn.execute(
                f"INSERT INTO {table.name} ({columns}) VALUES {', '.join([marks] * len(rows))}"
                + upsert,
                [value for values in rows for value in values],
            )
            return
        target = table.name if on_conflict is None else f"stage_{table.name}"
        if on_conflict is not None:
            self.conn.execute(
                f"CREATE TEMPORARY TABLE IF NOT EXISTS {target} "
                f"(LIKE {table.name}) ON COMMIT DELETE ROWS"
            )
        with self.conn.cursor() as cur, cur.copy(f"COPY {target} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        if on_conflict is not None:  # emptied at once: the same table may be written again
            self.conn.execute(
                f"INSERT INTO {table.name} ({columns}) SELECT {columns} FROM {target} "
                f"ON CONFLICT ({', '.join(table.key)}) {on_conflict}; DELETE FROM {target}"
            )


class PostgresReadStore(ReadStore):
    """Schema ``ducha_read`` over the platform's shared pool."""

    dialect = "postgres"
    SCHEMA = "ducha_read"

    def __init__(self, pool: ConnectionPool[Connection[DictRow]]) -> None:
        self.pool = pool
        with self.pool.connection() as conn:
            conn.execute(f"CREATE SCHEMA IF NOT EXISTS {self.SCHEMA}")
        self.ensure(TRACKING_DDL)

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        with self.pool.connection() as conn, conn.transaction():
            conn.execute(f"SET LOCAL search_path TO {self.SCHEMA}")
            yield PostgresTx(conn)

    def ensure(self, ddl: str) -> None:
        """DDL under an advisory lock: several processes may start at once (DESIGN §6.5)."""
        with self.transaction() as tx:
            tx.execute("SELECT pg_advisory_xact_lock(?)", (0x0D0C4B,))
            for statement in ddl.split(";"):
                if statement.strip():
                    tx.execute(statement)
