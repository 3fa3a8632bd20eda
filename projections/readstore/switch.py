"""Switching a projection's tables built beside the live read store into it (the last step of
a blue/green upgrade, ``projections.runner.upgrade``). May import: the standard library and
the other modules of ``projections.readstore``.

In one transaction on the live store, after ``first(tx)`` (the caller's lock keeping consumers
out): the projection's live tables go, the new ones take their place with their indexes, the
projection's positions and dead letters become the new store's, and ``last(tx)`` runs
(recording versions, granting rights). PostgreSQL moves each table from the other schema in
the same database (``ALTER TABLE … SET SCHEMA``: no rows copied); SQLite attaches the other
file and copies the rows, holding its one writer lock meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from projections.readstore.base import ReadStore, Tx
from projections.readstore.postgres import PostgresReadStore
from projections.readstore.sqlite import SQLiteReadStore

DEAD_LETTER_COLUMNS = (
    "office, consumer, position, event_type, originator_id, originator_version, error, "
    "message, first_failed_at, last_failed_at, attempts, retrying"
)
BOOKKEEPING = (("tracking", "consumer, office, position"), ("dead_letters", DEAD_LETTER_COLUMNS))


def switch(
    live: ReadStore,
    beside: ReadStore,
    tables: Sequence[str],
    consumers: Sequence[str],
    first: Callable[[Tx], None],
    last: Callable[[Tx], None],
) -> None:
    """Replace ``tables`` and ``consumers``' bookkeeping in ``live`` by ``beside``'s."""
    if isinstance(live, PostgresReadStore) and isinstance(beside, PostgresReadStore):
        _switch_postgres(live, beside, tables, consumers, first, last)
    elif isinstance(live, SQLiteReadStore) and isinstance(beside, SQLiteReadStore):
        _switch_sqlite(live, beside, tables, consumers, first, last)
    else:
        raise TypeError("both read stores must be of one kind")


def _bookkeeping(tx: Tx, other: str, consumers: Sequence[str]) -> None:
    marks = ", ".join("?" * len(consumers))
    for table, columns in BOOKKEEPING:
        tx.execute(f"DELETE FROM {table} WHERE consumer IN ({marks})", consumers)
        tx.execute(
            f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {other}.{table} "
            f"WHERE consumer IN ({marks})",
            consumers,
        )


def _switch_postgres(
    live: PostgresReadStore,
    beside: PostgresReadStore,
    tables: Sequence[str],
    consumers: Sequence[str],
    first: Callable[[Tx], None],
    last: Callable[[Tx], None],
) -> None:
    with live.transaction() as tx:
        first(tx)
        for table in tables:
            tx.execute(f"DROP TABLE IF EXISTS {live.schema}.{table}")
            tx.execute(f"ALTER TABLE {beside.schema}.{table} SET SCHEMA {live.schema}")
        _bookkeeping(tx, beside.schema, consumers)
        last(tx)
    with live.transaction() as tx:
        tx.execute(f"DROP SCHEMA IF EXISTS {beside.schema} CASCADE")


def _switch_sqlite(
    live: SQLiteReadStore,
    beside: SQLiteReadStore,
    tables: Sequence[str],
    consumers: Sequence[str],
    first: Callable[[Tx], None],
    last: Callable[[Tx], None],
) -> None:
    path = beside.path
    beside.close()
    with live.lock:
        live.conn.execute("ATTACH DATABASE ? AS beside", (str(path),))
        try:
            with live.transaction() as tx:
                first(tx)
                for table in tables:
                    made = tx.all(
                        "SELECT sql FROM beside.sqlite_master WHERE tbl_name = ? "
                        "AND sql IS NOT NULL ORDER BY type = 'index', name",
                        (table,),
                    )
                    tx.execute(f"DROP TABLE IF EXISTS main.{table}")
                    for row in made:  # the table first, then its indexes
                        tx.execute(row["sql"])
                    tx.execute(f"INSERT INTO main.{table} SELECT * FROM beside.{table}")
                _bookkeeping(tx, "beside", consumers)
                last(tx)
        finally:
            live.conn.execute("DETACH DATABASE beside")
