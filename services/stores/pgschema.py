"""PostgreSQL: one schema per office, every office's recorder over one shared pool. May import: the
standard library, ``eventsourcing`` and psycopg.

``eventsourcing`` gives each application its own pool (DESIGN §6.4), and inserts through a
composite type that exists once per schema. Thousands of offices cannot each hold six
connections, and psycopg keys composite adapters by name, so here every office gets a datastore
*view* bound to its own schema over a single pool, and a recorder that inserts from plain arrays.
The table lock that keeps notification ids in commit order is kept (DESIGN §6.1).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import (
    ConnectionPool,
    PostgresApplicationRecorder,
    PostgresDatastore,
)
from psycopg import Connection, Cursor
from psycopg.rows import DictRow, dict_row
from psycopg.sql import SQL, Identifier

LOCK_TIMEOUT_SECONDS = 5
ADVISORY_LOCK_PROVISION = 0x0D0C4A  # serialises DDL across processes (DESIGN §6.5)


def open_shared_pool(dsn: str, max_size: int = 10) -> ConnectionPool[Connection[DictRow]]:
    def configure(conn: Connection[DictRow]) -> None:
        conn.autocommit = True
        conn.execute("SET idle_in_transaction_session_timeout = '30s'")

    pool: ConnectionPool[Connection[DictRow]] = ConnectionPool(
        dsn,
        connection_class=Connection[DictRow],
        kwargs={"row_factory": dict_row},
        min_size=1,
        max_size=max_size,
        open=False,
        configure=configure,
        timeout=30.0,
        name="ducha",
    )
    pool.open(wait=True, timeout=30.0)
    return pool


class SchemaDatastore(PostgresDatastore):
    """A datastore bound to one schema, borrowing connections from a shared pool."""

    def __init__(self, pool: ConnectionPool[Connection[DictRow]], schema: str) -> None:
        super().__init__(
            dbname="",
            host="",
            port=0,
            user="",
            password="",
            schema=schema,
            lock_timeout=LOCK_TIMEOUT_SECONDS,
        )
        self.pool.close()  # the placeholder pool built above was never opened
        self.pool = pool

    def register_type_adapters(self) -> None:
        """No composite types: ``SchemaRecorder`` inserts from plain arrays."""

    def close(self) -> None:
        """The shared pool belongs to the backend, which closes it once."""


class SchemaRecorder(PostgresApplicationRecorder):
    """The library's application recorder, inserting without a per-schema composite type."""

    def __init__(self, datastore: SchemaDatastore) -> None:
        super().__init__(datastore)
        self.sql_create_statements = [
            s
            for s in self.sql_create_statements
            if "CREATE TYPE" not in s.as_string() and "FUNCTION" not in s.as_string()
        ]
        self.insert_events_statement = SQL(
            "INSERT INTO {schema}.{table} (originator_id, originator_version, topic, state) "
            "SELECT * FROM unnest(%s::uuid[], %s::bigint[], %s::text[], %s::bytea[]) "
            "RETURNING notification_id"
        ).format(
            schema=Identifier(datastore.schema),
            table=Identifier(self.events_table_name),
        )

    def _insert_stored_events(
        self,
        curs: Cursor[DictRow],
        stored_events: Sequence[StoredEvent],
        **kwargs: Any,
    ) -> None:
        self._lock_table(curs)
        curs.execute(
            self.insert_events_statement,
            (
                [e.originator_id for e in stored_events],
                [e.originator_version for e in stored_events],
                [e.topic for e in stored_events],
                [e.state for e in stored_events],
            ),
        )

    def provision(self) -> None:
        """Create the schema and tables, serialised with other provisioning processes."""
        with self.datastore.transaction(commit=True) as curs:
            curs.execute("SELECT pg_advisory_xact_lock(%s)", (ADVISORY_LOCK_PROVISION,))
            curs.execute(
                SQL("CREATE SCHEMA IF NOT EXISTS {}").format(Identifier(self.datastore.schema))
            )
            self._create_table(curs)

    def is_provisioned(self) -> bool:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                "SELECT to_regclass(%s) IS NOT NULL AS present",
                (f'"{self.datastore.schema}"."{self.events_table_name}"',),
            )
            row = curs.fetchone()
        return bool(row and row["present"])
