"""Where read models live: one SQLite file (embedded) or one PostgreSQL schema (``ducha_read``).

Projections write rows and their tracking position in one transaction, so each event's effect
is applied exactly once. SQL is written once, with ``?`` placeholders and upserts that both
databases understand; the PostgreSQL side rewrites the placeholders.
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
    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...

    @abstractmethod
    def all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...

    @abstractmethod
    def write(self, table: Table, rows: Sequence[Sequence[Any]], on_conflict: str) -> None:
        """Insert ``rows`` (in ``table.columns`` order, unique by key) in one go;
        ``on_conflict`` follows ``ON CONFLICT (key)``: ``DO NOTHING`` or ``DO UPDATE SET ...``."""

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
        self.execute(
            "INSERT INTO tracking (consumer, office, position) VALUES (?, ?, ?) "
            "ON CONFLICT (consumer, office) DO UPDATE SET position = excluded.position",
            (consumer, office, position),
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

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self.conn.executemany(sql, rows)

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return [dict(r) for r in self.conn.execute(sql, params).fetchall()]

    def write(self, table: Table, rows: Sequence[Sequence[Any]], on_conflict: str) -> None:
        if rows:
            marks = ", ".join("?" * len(table.columns))
            self.conn.executemany(
                f"INSERT INTO {table.name} ({', '.join(table.names)}) VALUES ({marks}) "
                f"ON CONFLICT ({', '.join(table.key)}) {on_conflict}",
                rows,
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

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with self.conn.cursor() as cur:
            cur.executemany(self.sql(sql), rows)

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        rows = self.conn.execute(self.sql(sql), params).fetchall()
        return [dict(r) for r in rows]

    def write(self, table: Table, rows: Sequence[Sequence[Any]], on_conflict: str) -> None:
        """One statement whatever the number of rows: each column travels as one array."""
        if rows:
            arrays = ", ".join(f"%b::{kind}[]" for _, kind in table.columns)
            self.conn.execute(
                f"INSERT INTO {table.name} ({', '.join(table.names)}) "
                f"SELECT * FROM unnest({arrays}) "
                f"ON CONFLICT ({', '.join(table.key)}) {on_conflict}",
                [list(column) for column in zip(*rows, strict=True)],
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
