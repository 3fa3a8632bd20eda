"""The read store on PostgreSQL: schema ``ducha_read`` over the platform's shared pool; bulk
writes go by ``COPY`` (a few rows by one ``INSERT``), and a rebuild holds an office's lock
across transactions on a connection of the store's own. May import: the standard library,
psycopg, psycopg_pool and ``projections.readstore.base`` and ``text``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from psycopg import Connection
from psycopg.rows import DictRow
from psycopg_pool import ConnectionPool

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

FEW_ROWS = 32
"""Up to this many rows go as one ``INSERT``: ``COPY`` pays off only in bulk (a stage and a
copy cost three more round trips)."""


def in_key_order(table: Table, rows: Sequence[Sequence[Any]]) -> Sequence[Sequence[Any]]:
    """An upsert locks its rows in the order it meets them. Two transactions updating the same
    rows in different orders — two Kafka workers adding to a common ancestor's counters —
    could each wait for the other (a deadlock, which PostgreSQL breaks after a second by
    failing one of them). In one order, the second only waits for the first to commit. A few
    rows are sorted here, a bulk upsert by ``key_order``: the same order."""
    at = [table.names.index(k) for k in table.key]
    return sorted(rows, key=lambda row: [row[i] for i in at])


def key_order(table: Table) -> str:
    """``ORDER BY`` the key as ``in_key_order`` sorts it: text by code point (``COLLATE "C"``
    compares UTF-8 bytes, which order as code points do), numbers by value."""
    kinds = dict(table.columns)
    return ", ".join(
        f'{k} COLLATE "C"' if kinds[k].upper().startswith("TEXT") else k for k in table.key
    )


class PostgresTx(Tx):
    def __init__(self, conn: Connection[DictRow], prefix: str = "") -> None:
        self.conn = conn
        self.prefix = prefix  # the locks of a store beside the live one are its own

    def lock(self, key: str, within: str | None = None) -> None:
        if within is None:
            self.conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (self.prefix + key,))
        else:  # one round trip; always the wider lock first
            self.conn.execute(
                "SELECT pg_advisory_xact_lock_shared(hashtext(%s)), "
                "pg_advisory_xact_lock(hashtext(%s))",
                (self.prefix + within, self.prefix + key),
            )

    @staticmethod
    def sql(statement: str) -> str:
        return statement.replace("?", "%s")

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.conn.execute(self.sql(sql), storable_params(params))

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        rows = self.conn.execute(self.sql(sql), storable_params(params)).fetchall()
        return [dict(r) for r in rows]

    def write(
        self, table: Table, rows: Sequence[Sequence[Any]], on_conflict: str | None = None
    ) -> None:
        """A few rows (a command's worth) in one ``INSERT … VALUES`` round trip; more by
        ``COPY``: straight into the table, or for an upsert into a temporary stage of the same
        shape and from there (``COPY`` itself cannot resolve conflicts)."""
        if not rows:
            return
        if rows_as_json(rows) is None:
            rows = storable_rows(rows)
        columns = ", ".join(table.names)
        if on_conflict is not None:  # rows locked in key order: see ``in_key_order``
            rows = in_key_order(table, rows)
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
                f"ORDER BY {key_order(table)} "
                f"ON CONFLICT ({', '.join(table.key)}) {on_conflict}; DELETE FROM {target}"
            )


class PostgresReadStore(ReadStore):
    """Schema ``ducha_read`` over the platform's shared pool (or another ``schema``: a read
    store built beside the live one, whose locks are then its own)."""

    dialect = "postgres"
    SCHEMA = "ducha_read"

    def __init__(
        self,
        pool: ConnectionPool[Connection[DictRow]],
        ddl_gate: Callable[[str], bool] | None = None,
        schema: str = SCHEMA,
    ) -> None:
        self.pool = pool
        self.ddl_gate = ddl_gate
        self.schema = schema
        self.prefix = "" if schema == self.SCHEMA else f"{schema}:"
        self._locks: Connection[Any] | None = None
        self._locks_guard = threading.Lock()
        self.ensure(
            f"CREATE SCHEMA IF NOT EXISTS {schema};{TRACKING_DDL};{DEAD_LETTERS_DDL};"
            + READ_MODELS_DDL
        )

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        with self.pool.connection() as conn, conn.transaction():
            conn.execute(f"SET LOCAL search_path TO {self.schema}")
            yield PostgresTx(conn, self.prefix)

    def hold(self, key: str, within: str) -> Callable[[], None]:
        """Session-level advisory locks, on one connection of the store's own (outside the
        pool: a rebuild holding an office while the pool serves its transactions must never
        wait for the pool). They end with that connection, should the holder die."""
        locks = self._lock_connection()
        within, key = self.prefix + within, self.prefix + key
        locks.execute(
            "SELECT pg_advisory_lock_shared(hashtext(%s)), pg_advisory_lock(hashtext(%s))",
            (within, key),
        )

        def release() -> None:
            locks.execute(
                "SELECT pg_advisory_unlock(hashtext(%s)), pg_advisory_unlock_shared(hashtext(%s))",
                (key, within),
            )

        return release

    def _lock_connection(self) -> Connection[Any]:
        with self._locks_guard:
            if self._locks is None or self._locks.closed:
                conninfo = self.pool.conninfo
                conninfo = conninfo() if callable(conninfo) else conninfo
                self._locks = Connection.connect(conninfo, autocommit=True)
            return self._locks

    def close(self) -> None:
        """The lock connection, if one was opened (the pool is the backend's)."""
        with self._locks_guard:
            if self._locks is not None:
                self._locks.close()
                self._locks = None

    def _serialize_ddl(self, tx: Tx) -> None:
        """DDL under an advisory lock: several processes may start at once (DESIGN §6.5)."""
        tx.execute("SELECT pg_advisory_xact_lock(?)", (0x0D0C4B,))
