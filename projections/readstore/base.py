"""Where read models live: one SQLite file (embedded) or one PostgreSQL schema (``ducha_read``).

Projections write rows and their tracking position in one transaction, so each event's effect
is applied exactly once. SQL is written once, with ``?`` placeholders and upserts that both
databases understand; the PostgreSQL side rewrites the placeholders.

Bulk writes (``Tx.write``) go the fastest way each database offers, and both hand the rows
over in one call: SQLite reads them from one JSON array inside one statement (which runs
without holding Python's GIL, so a rebuild's writer thread overlaps the next batch's
projection), PostgreSQL takes them by ``COPY``.

Text that no database here can hold as it is never fails a write: NUL (PostgreSQL refuses it
in text, SQLite's JSON cuts the text short at it) and lone surrogates (not UTF-8) are written
as U+FFFD. Events recorded before the commands refused such text still project.

Next to the positions lives each consumer's dead letter (``dead_letters``): the event it
failed on, kept until it is retried, while its position stays before that event.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
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

DEAD_LETTERS_DDL = """
CREATE TABLE IF NOT EXISTS dead_letters (
    office TEXT NOT NULL,
    consumer TEXT NOT NULL,
    position BIGINT NOT NULL,
    event_type TEXT NOT NULL,
    originator_id TEXT NOT NULL,
    originator_version BIGINT NOT NULL,
    error TEXT NOT NULL,
    message TEXT NOT NULL,
    first_failed_at TEXT NOT NULL,
    last_failed_at TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    retrying INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (office, consumer)
)
"""
"""One row per (office, consumer) that stopped: ``position`` is the event it failed on (its
tracking position stays before it). ``retrying`` is set while ``retry`` tries it again."""

TRACKING_SQL = (
    "SELECT consumer, position, 0 AS dead FROM tracking WHERE office = ? "
    "UNION ALL SELECT consumer, position, 1 AS dead FROM dead_letters "
    "WHERE office = ? AND retrying = 0"
)

UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
"""What no database here stores as text: NUL and lone surrogates."""
REPLACEMENT = "\ufffd"


def storable(value: Any) -> Any:
    """``value`` with NUL and lone surrogates replaced by U+FFFD if it is text."""
    if isinstance(value, str) and UNSTORABLE.search(value):
        return UNSTORABLE.sub(REPLACEMENT, value)
    return value


def storable_params(params: Sequence[Any]) -> Sequence[Any]:
    if any(isinstance(v, str) and UNSTORABLE.search(v) for v in params):
        return [storable(v) for v in params]
    return params


def rows_as_json(rows: Sequence[Sequence[Any]]) -> bytes | None:
    """The rows as one JSON array, or None if some text in them must be made storable first
    (a NUL shows as an escape in the JSON; a lone surrogate cannot be encoded). One pass in C,
    so that the common case costs no per-value work in Python."""
    try:
        dumped = orjson.dumps(rows)
    except orjson.JSONEncodeError:
        return None
    return None if b"\\u0000" in dumped else dumped


def storable_rows(rows: Sequence[Sequence[Any]]) -> list[list[Any]]:
    return [[storable(v) for v in row] for row in rows]


@dataclass(frozen=True)
class Tracking:
    """One office's consumers: their positions, and which of them stopped at a dead letter."""

    positions: dict[str, int] = field(default_factory=dict)
    dead: frozenset[str] = frozenset()

    @classmethod
    def of(cls, rows: list[Row]) -> Tracking:
        return cls(
            {r["consumer"]: int(r["position"]) for r in rows if not r["dead"]},
            frozenset(r["consumer"] for r in rows if r["dead"]),
        )


@dataclass(frozen=True)
class DeadLetter:
    """The event a consumer failed on in an office, and how."""

    office: str
    consumer: str
    position: int
    event_type: str
    originator_id: str
    originator_version: int
    error: str
    message: str
    first_failed_at: str
    last_failed_at: str
    attempts: int
    retrying: bool = False

    @classmethod
    def of(cls, row: Row) -> DeadLetter:
        return cls(
            **{
                **row,
                "position": int(row["position"]),
                "originator_version": int(row["originator_version"]),
                "attempts": int(row["attempts"]),
                "retrying": bool(row["retrying"]),
            }
        )


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

    def lock(self, key: str, within: str | None = None) -> None:  # noqa: B027 - see below
        """Hold ``key`` exclusively, and ``within`` shared, until the transaction ends: one
        holder of ``within`` exclusively excludes every holder of a key within it. (SQLite
        needs nothing more: its transactions begin IMMEDIATE, holding the writer lock.)"""

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A part of the transaction that a failure rolls back alone."""
        self.execute("SAVEPOINT part")
        try:
            yield
        except BaseException:
            self.execute("ROLLBACK TO SAVEPOINT part")
            self.execute("RELEASE SAVEPOINT part")
            raise
        self.execute("RELEASE SAVEPOINT part")

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

    def tracking(self, office: str) -> Tracking:
        """``office``'s consumers: positions, and those stopped at a dead letter (one query)."""
        return Tracking.of(self.all(TRACKING_SQL, (office, office)))

    def record_dead_letter(self, letter: DeadLetter) -> None:
        """Stop ``letter.consumer`` for ``letter.office`` at the event. Failing again on the same
        event counts another attempt (since the first failure); on another event, starts over."""
        self.execute(
            "INSERT INTO dead_letters (office, consumer, position, event_type, originator_id, "
            "originator_version, error, message, first_failed_at, last_failed_at, attempts, "
            "retrying) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, 0) "
            "ON CONFLICT (office, consumer) DO UPDATE SET "
            "attempts = CASE WHEN dead_letters.position = excluded.position "
            "THEN dead_letters.attempts + 1 ELSE 1 END, "
            "first_failed_at = CASE WHEN dead_letters.position = excluded.position "
            "THEN dead_letters.first_failed_at ELSE excluded.first_failed_at END, "
            "position = excluded.position, event_type = excluded.event_type, "
            "originator_id = excluded.originator_id, "
            "originator_version = excluded.originator_version, error = excluded.error, "
            "message = excluded.message, last_failed_at = excluded.last_failed_at, retrying = 0",
            (
                letter.office,
                letter.consumer,
                letter.position,
                letter.event_type,
                letter.originator_id,
                letter.originator_version,
                letter.error,
                letter.message,
                letter.first_failed_at,
                letter.last_failed_at,
            ),
        )

    def dead_letters(
        self, office: str | None = None, consumers: Sequence[str] | None = None
    ) -> list[DeadLetter]:
        where, params = dead_letter_filter(office, consumers)
        rows = self.all(f"SELECT * FROM dead_letters{where} ORDER BY office, consumer", params)
        return [DeadLetter.of(r) for r in rows]

    def forget_dead_letters(
        self, consumers: Sequence[str] | None = None, office: str | None = None
    ) -> None:
        where, params = dead_letter_filter(office, consumers)
        self.execute(f"DELETE FROM dead_letters{where}", params)

    def start_retrying(self, office: str | None, consumers: Sequence[str] | None) -> int:
        """Lift the dead letters matching (consumers proceed again); returns how many."""
        letters = self.dead_letters(office, consumers)
        where, params = dead_letter_filter(office, consumers)
        self.execute(f"UPDATE dead_letters SET retrying = 1{where}", params)
        return len(letters)

    def end_retrying(self, office: str | None, consumers: Sequence[str] | None) -> int:
        """After a retry: letters whose consumer got past them go; the rest stop it again.
        (One that failed anew was recorded anew, and so is no longer ``retrying``.) Returns how
        many went."""
        where, params = dead_letter_filter(office, consumers, alias="d.")
        passed = self.all(
            "SELECT d.office, d.consumer FROM dead_letters d JOIN tracking t "
            "ON t.office = d.office AND t.consumer = d.consumer "
            f"{where or 'WHERE true'} AND d.retrying = 1 AND t.position >= d.position",
            params,
        )
        for row in passed:
            self.execute(
                "DELETE FROM dead_letters WHERE office = ? AND consumer = ?",
                (row["office"], row["consumer"]),
            )
        where, params = dead_letter_filter(office, consumers)
        self.execute(
            f"UPDATE dead_letters SET retrying = 0 {where or 'WHERE true'} AND retrying = 1", params
        )
        return len(passed)


def dead_letter_filter(
    office: str | None, consumers: Sequence[str] | None, alias: str = ""
) -> tuple[str, list[Any]]:
    """A ``WHERE`` clause (or nothing) choosing dead letters, and its parameters."""
    clauses, params = [], []
    if office is not None:
        clauses.append(f"{alias}office = ?")
        params.append(office)
    if consumers is not None:
        clauses.append(f"{alias}consumer IN ({', '.join('?' * len(consumers)) or 'NULL'})")
        params.extend(consumers)
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


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

    def tracking(self, office: str) -> Tracking:
        """As ``Tx.tracking``, read on its own."""
        return Tracking.of(self.all(TRACKING_SQL, (office, office)))

    def hold(self, key: str, within: str) -> Callable[[], None] | None:
        """Hold ``key`` exclusively (and ``within`` shared) across transactions, as
        ``Tx.lock`` does within one, until the returned release is called; None where the
        store cannot (SQLite: only a transaction holds its one writer lock)."""
        return None

    def close(self) -> None:  # noqa: B027 - most stores own nothing to release
        """Release connections the store owns."""


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
        self.ensure(TRACKING_DDL + ";" + DEAD_LETTERS_DDL)

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


FEW_ROWS = 32
"""Up to this many rows go as one ``INSERT``: ``COPY`` pays off only in bulk (a stage and a
copy cost three more round trips)."""


class PostgresTx(Tx):
    def __init__(self, conn: Connection[DictRow]) -> None:
        self.conn = conn

    def lock(self, key: str, within: str | None = None) -> None:
        if within is None:
            self.conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (key,))
        else:  # one round trip; always the wider lock first
            self.conn.execute(
                "SELECT pg_advisory_xact_lock_shared(hashtext(%s)), "
                "pg_advisory_xact_lock(hashtext(%s))",
                (within, key),
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
        self._locks: Connection[Any] | None = None
        self._locks_guard = threading.Lock()
        with self.pool.connection() as conn:
            conn.execute(f"CREATE SCHEMA IF NOT EXISTS {self.SCHEMA}")
        self.ensure(TRACKING_DDL + ";" + DEAD_LETTERS_DDL)

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        with self.pool.connection() as conn, conn.transaction():
            conn.execute(f"SET LOCAL search_path TO {self.SCHEMA}")
            yield PostgresTx(conn)

    def hold(self, key: str, within: str) -> Callable[[], None]:
        """Session-level advisory locks, on one connection of the store's own (outside the
        pool: a rebuild holding an office while the pool serves its transactions must never
        wait for the pool). They end with that connection, should the holder die."""
        locks = self._lock_connection()
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

    def ensure(self, ddl: str) -> None:
        """DDL under an advisory lock: several processes may start at once (DESIGN §6.5)."""
        with self.transaction() as tx:
            tx.execute("SELECT pg_advisory_xact_lock(?)", (0x0D0C4B,))
            for statement in ddl.split(";"):
                if statement.strip():
                    tx.execute(statement)
