"""The read store's common part: the tracking and dead-letter tables, their rows (``Tracking``,
``DeadLetter``), a table's description (``Table``), the transaction every projection writes
in (``Tx``) and the store itself (``ReadStore``), whatever the database (how text no database
here can hold is made storable: ``text``). May import: the standard library.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

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

READ_MODELS_DDL = """
CREATE TABLE IF NOT EXISTS read_models (
    consumer TEXT PRIMARY KEY,
    version INTEGER NOT NULL
)
"""
"""Which version of each projection built its rows here (none: version 1, as built before
versions were kept)."""

TRACKING_SQL = (
    "SELECT consumer, position, 0 AS dead FROM tracking WHERE office = ? "
    "UNION ALL SELECT consumer, position, 1 AS dead FROM dead_letters "
    "WHERE office = ? AND retrying = 0 "
    "UNION ALL SELECT consumer, version AS position, 2 AS dead FROM read_models"
)


@dataclass(frozen=True)
class Tracking:
    """One office's consumers: their positions, which of them stopped at a dead letter, and
    the version of each projection whose rows the store holds (absent: version 1)."""

    positions: dict[str, int] = field(default_factory=dict)
    dead: frozenset[str] = frozenset()
    versions: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, rows: list[Row]) -> Tracking:
        return cls(
            {r["consumer"]: int(r["position"]) for r in rows if r["dead"] == 0},
            frozenset(r["consumer"] for r in rows if r["dead"] == 1),
            {r["consumer"]: int(r["position"]) for r in rows if r["dead"] == 2},
        )

    def version(self, consumer: str) -> int:
        return self.versions.get(consumer, 1)


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


def add_column_sql(table: str, name: str, definition: str) -> str:
    return f"ALTER TABLE {table} ADD COLUMN {name} {definition}"


COLUMNS_SQL = {
    "sqlite": "SELECT name FROM pragma_table_info(?)",
    "postgres": "SELECT column_name AS name FROM information_schema.columns "
    "WHERE table_schema = current_schema() AND table_name = ?",
}
"""The columns a table has, by dialect."""


class ReadStore(ABC):
    """A database of read models, shared by every office's projections."""

    dialect: str

    @abstractmethod
    def transaction(self) -> Any:
        """A context manager yielding a ``Tx`` that commits on success."""

    ddl_gate: Callable[[str], bool] | None = None
    """Asked before each statement of DDL (all go through ``ensure`` and ``add_columns``): run
    it (True), skip it (False) or raise. ``ducha migrate`` collects the DDL here, and a process
    on a migrated database skips it here. None: run every statement."""

    def wanted(self, statements: Sequence[str]) -> list[str]:
        return [s for s in statements if self.ddl_gate is None or self.ddl_gate(s)]

    def ensure(self, ddl: str) -> None:
        statements = self.wanted([s for s in ddl.split(";") if s.strip()])
        if not statements:
            return
        with self.transaction() as tx:
            self._serialize_ddl(tx)
            for statement in statements:
                tx.execute(statement)

    def add_columns(self, table: str, columns: Sequence[tuple[str, str]]) -> None:
        """Evolve ``table`` made by an earlier version: add each ``(name, definition)`` column
        it lacks (a definition with a default, e.g. ``TEXT NOT NULL DEFAULT ''``: rows
        written before hold the default until the table is rebuilt)."""
        asked = [(n, d, add_column_sql(table, n, d)) for n, d in columns]
        wanted = set(self.wanted([a[2] for a in asked]))
        columns = [(n, d) for n, d, statement in asked if statement in wanted]
        if not columns:
            return
        with self.transaction() as tx:
            self._serialize_ddl(tx)
            have = {row["name"] for row in tx.all(COLUMNS_SQL[self.dialect], (table,))}
            for name, definition in columns:
                if name not in have:
                    tx.execute(add_column_sql(table, name, definition))

    def _serialize_ddl(self, tx: Tx) -> None:  # noqa: B027 - SQLite's writer lock suffices
        """Let one process at a time change the schema (PostgreSQL: an advisory lock)."""

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
