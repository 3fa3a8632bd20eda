"""PostgreSQL: one schema per office, every office's recorder over one shared pool. May import: the
standard library, ``eventsourcing`` and psycopg.

``eventsourcing`` gives each application its own pool (DESIGN §6.4), and inserts through a
composite type that exists once per schema. Thousands of offices cannot each hold six
connections, and psycopg keys composite adapters by name, so here every office gets a datastore
*view* bound to its own schema over a single pool, and a recorder that inserts from plain arrays.
The table lock that keeps notification ids in commit order is kept (DESIGN §6.1).

**Heads and signals.** The statement that inserts an office's events also writes the office's
last notification id to one platform table (``ducha_platform.log_heads``, one row per schema)
and sends ``NOTIFY ducha_events`` with the office's code as payload; both take effect only if
the insert commits. A consumer thus learns which offices moved from one small query, or at
once from the signal, instead of asking every office's table.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import ProgrammingError, StoredEvent
from eventsourcing.postgres import (
    ConnectionPool,
    PostgresApplicationRecorder,
    PostgresDatastore,
)
from psycopg import Connection, Cursor
from psycopg.rows import DictRow, dict_row
from psycopg.sql import SQL, Identifier, Literal

LOCK_TIMEOUT_SECONDS = 5
ADVISORY_LOCK_PROVISION = 0x0D0C4A  # serialises DDL across processes (DESIGN §6.5)
PLATFORM_SCHEMA = "ducha_platform"
HEADS_TABLE = "log_heads"
CHANNEL = "ducha_events"
"""The one channel every office's recorder notifies, with the office's code as payload."""
EVENTS_TABLE = "stored_events"


def open_shared_pool(
    dsn: str, max_size: int = 10, min_size: int = 1, timeout: float = 30.0
) -> ConnectionPool[Connection[DictRow]]:
    """The process's one pool: ``min_size`` connections kept open, at most ``max_size``; a
    caller waits at most ``timeout`` seconds for a free one (then ``PoolTimeout``)."""

    def configure(conn: Connection[DictRow]) -> None:
        conn.autocommit = True
        conn.execute("SET idle_in_transaction_session_timeout = '30s'")

    pool: ConnectionPool[Connection[DictRow]] = ConnectionPool(
        dsn,
        connection_class=Connection[DictRow],
        kwargs={"row_factory": dict_row},
        min_size=min_size,
        max_size=max_size,
        open=False,
        configure=configure,
        timeout=timeout,
        name="ducha",
    )
    pool.open(wait=True, timeout=timeout)
    return pool


def heads_ddl() -> list[SQL | Any]:
    """The schema and table of the heads (``backfill_heads`` fills a new one)."""
    heads = SQL("{}.{}").format(Identifier(PLATFORM_SCHEMA), Identifier(HEADS_TABLE))
    return [
        SQL("CREATE SCHEMA IF NOT EXISTS {}").format(Identifier(PLATFORM_SCHEMA)),
        SQL(
            "CREATE TABLE IF NOT EXISTS {} (schema_name text PRIMARY KEY, last bigint NOT NULL)"
        ).format(heads),
    ]


def backfill_heads(curs: Cursor[DictRow]) -> None:
    """A row for every schema holding an event table and no head yet (a database provisioned
    before heads existed): its current last id."""
    curs.execute(
        "SELECT table_schema FROM information_schema.tables WHERE table_name = %s "
        "AND table_schema NOT IN (SELECT schema_name FROM ducha_platform.log_heads)",
        (EVENTS_TABLE,),
    )
    for row in curs.fetchall():
        curs.execute(head_row(row["table_schema"]))


def head_row(schema: str) -> Any:
    """Insert a schema's head row from its current last id, unless it has one."""
    return SQL(
        "INSERT INTO {}.{} (schema_name, last) SELECT {}, coalesce(max(notification_id), 0) "
        "FROM {}.{} ON CONFLICT (schema_name) DO NOTHING"
    ).format(
        Identifier(PLATFORM_SCHEMA),
        Identifier(HEADS_TABLE),
        Literal(schema),
        Identifier(schema),
        Identifier(EVENTS_TABLE),
    )


def ensure_heads(pool: ConnectionPool[Connection[DictRow]]) -> None:
    """Create and fill the heads table if this database has none yet (serialised with other
    provisioning processes)."""
    with pool.connection() as conn:
        found = conn.execute(
            "SELECT to_regclass(%s) IS NOT NULL AS present", (f"{PLATFORM_SCHEMA}.{HEADS_TABLE}",)
        ).fetchone()
        if found and found["present"]:
            return
        with conn.transaction(), conn.cursor() as curs:
            curs.execute("SELECT pg_advisory_xact_lock(%s)", (ADVISORY_LOCK_PROVISION,))
            for statement in heads_ddl():
                curs.execute(statement)
            backfill_heads(curs)


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
    """The library's application recorder, inserting without a per-schema composite type,
    and keeping the office's head and signal (see the module's docstring). ``subscribe()``
    works: the library's subscription listens on ``channel_name``, which is ours."""

    def __init__(self, datastore: SchemaDatastore, tenant: str) -> None:
        super().__init__(datastore, events_table_name=EVENTS_TABLE)
        self.tenant = tenant
        self.channel_name = CHANNEL
        self.sql_create_statements = [
            s
            for s in self.sql_create_statements
            if "CREATE TYPE" not in s.as_string() and "FUNCTION" not in s.as_string()
        ]
        self.insert_events_statement = SQL(
            "WITH new AS ("
            "INSERT INTO {schema}.{table} (originator_id, originator_version, topic, state) "
            "SELECT * FROM unnest(%s::uuid[], %s::bigint[], %s::text[], %s::bytea[]) "
            "RETURNING notification_id), "
            "head AS (INSERT INTO {heads} (schema_name, last) "
            "SELECT {name}, max(notification_id) FROM new "
            "ON CONFLICT (schema_name) DO UPDATE SET last = excluded.last) "
            "SELECT notification_id FROM new CROSS JOIN (SELECT pg_notify({channel}, {tenant})) s "
            "ORDER BY notification_id"
        ).format(
            schema=Identifier(datastore.schema),
            table=Identifier(self.events_table_name),
            heads=SQL("{}.{}").format(Identifier(PLATFORM_SCHEMA), Identifier(HEADS_TABLE)),
            name=Literal(datastore.schema),
            channel=Literal(CHANNEL),
            tenant=Literal(tenant),
        )

    def _insert_stored_events(
        self,
        curs: Cursor[DictRow],
        stored_events: Sequence[StoredEvent],
        **kwargs: Any,
    ) -> None:
        """One statement inserts the events, moves the head and signals (all three commit or
        none): a failed insert must be the pipeline's only error, or the library would take a
        statement aborted after it for a lost connection and insert again."""
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

    def _fetch_ids_after_insert_events(
        self,
        curs: Cursor[DictRow],
        stored_events: Sequence[StoredEvent],
        **_: Any,
    ) -> Sequence[int] | None:
        ids = [int(row["notification_id"]) for row in curs.fetchall()]
        if len(ids) != len(stored_events):
            raise ProgrammingError(f"inserted {len(stored_events)} events, got {len(ids)} ids")
        return ids

    def provision(self) -> None:
        """Create the schema, tables and head row, serialised with other provisioning
        processes."""
        with self.datastore.transaction(commit=True) as curs:
            curs.execute("SELECT pg_advisory_xact_lock(%s)", (ADVISORY_LOCK_PROVISION,))
            for statement in heads_ddl():
                curs.execute(statement)
            curs.execute(
                SQL("CREATE SCHEMA IF NOT EXISTS {}").format(Identifier(self.datastore.schema))
            )
            self._create_table(curs)
            curs.execute(head_row(self.datastore.schema))

    def is_provisioned(self) -> bool:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                "SELECT to_regclass(%s) IS NOT NULL AS present",
                (f'"{self.datastore.schema}"."{self.events_table_name}"',),
            )
            row = curs.fetchone()
        return bool(row and row["present"])
