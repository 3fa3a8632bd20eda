"""Where read models live: one SQLite file (embedded) or one PostgreSQL schema (``ducha_read``);
the package's names are importable from here as they always were. ``base`` holds what every
database shares (the tracking and dead-letter tables, ``Tracking``, ``DeadLetter``,
``Table``, ``Tx``, ``ReadStore``, and making text storable), ``sqlite`` the SQLite store and
``postgres`` the PostgreSQL store. An adapter: may import the standard library, ``orjson``,
psycopg and psycopg_pool, and nothing of the platform's.

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

from projections.readstore.base import (
    DEAD_LETTERS_DDL,
    READ_MODELS_DDL,
    TRACKING_DDL,
    TRACKING_SQL,
    DeadLetter,
    ReadStore,
    Row,
    Table,
    Tracking,
    Tx,
    dead_letter_filter,
)
from projections.readstore.postgres import FEW_ROWS, PostgresReadStore, PostgresTx
from projections.readstore.sqlite import SQLiteReadStore, SQLiteTx
from projections.readstore.text import (
    REPLACEMENT,
    UNSTORABLE,
    rows_as_json,
    storable,
    storable_params,
    storable_rows,
)

__all__ = [
    "DEAD_LETTERS_DDL",
    "FEW_ROWS",
    "READ_MODELS_DDL",
    "REPLACEMENT",
    "TRACKING_DDL",
    "TRACKING_SQL",
    "UNSTORABLE",
    "DeadLetter",
    "PostgresReadStore",
    "PostgresTx",
    "ReadStore",
    "Row",
    "SQLiteReadStore",
    "SQLiteTx",
    "Table",
    "Tracking",
    "Tx",
    "dead_letter_filter",
    "rows_as_json",
    "storable",
    "storable_params",
    "storable_rows",
]
