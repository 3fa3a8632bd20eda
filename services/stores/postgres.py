"""PostgreSQL event stores: one schema per office over one shared pool. May import:
``eventsourcing.persistence``, psycopg, ``services.errors`` and ``services.stores``' ``backend``,
``pgschema``, ``pgprovision`` and ``signals``.

Which offices have events a consumer has not seen is one query on the heads table (every
office's last notification id, kept by the recorders in their committing transactions), and
``signals()`` names them as they commit.
"""

from __future__ import annotations

from collections.abc import Callable

from eventsourcing.persistence import ApplicationRecorder
from psycopg.sql import SQL, Identifier, Literal

from services.errors import StoreUnavailableError
from services.stores.backend import DEFAULT_OPEN_STORES, PLATFORM, Backend
from services.stores.pgprovision import RecordingDDL, known_ddl, provision_office, startup_mode
from services.stores.pgschema import (
    EVENTS_TABLE,
    HEADS_TABLE,
    PLATFORM_SCHEMA,
    SchemaDatastore,
    SchemaRecorder,
    ensure_heads,
    open_shared_pool,
)
from services.stores.signals import PostgresSignals, Signals


class PostgresBackend(Backend):
    """One schema per tenant (``ducha_platform``, ``office_CODE``) over one shared pool of
    ``pool_min`` to ``pool_max`` connections (a caller waits ``pool_timeout`` seconds at most
    for one).

    ``provisioning="auto"`` (every process): the database's marker decides (``pgprovision``):
    ``migrated`` runs no DDL (offices get their schema from the owner's function, the read
    store skips what migrate ran), ``self`` creates what is missing, as before; a role that may
    not is told to run ``ducha migrate``. ``"migrate"``: ``ducha migrate`` itself, which runs
    the read side's DDL and records it (``ddl_gate``)."""

    name = "postgres"

    def __init__(
        self,
        dsn: str,
        pool_max: int = 10,
        open_stores: int = DEFAULT_OPEN_STORES,
        pool_min: int = 1,
        pool_timeout: float = 30.0,
        provisioning: str = "auto",
    ) -> None:
        super().__init__(open_stores)
        self.dsn = dsn
        self.pool = open_shared_pool(dsn, pool_max, pool_min, pool_timeout)
        self.ddl_gate: Callable[[str], bool] | None = None
        """What the read store asks before each statement of DDL (None: run them all)."""
        try:
            self.mode = "migrating" if provisioning == "migrate" else startup_mode(self.pool)
            if self.mode == "migrating":
                self.ddl_gate = RecordingDDL()
            elif self.mode == "migrated":
                self.ddl_gate = known_ddl(self.pool)
            else:
                ensure_heads(self.pool)
        except BaseException:
            self.pool.close()
            raise

    @staticmethod
    def schema(tenant: str) -> str:
        if tenant == PLATFORM:
            return "ducha_platform"
        return "office_" + tenant.replace("-", "_")

    def _recorder(self, tenant: str) -> SchemaRecorder:
        return SchemaRecorder(SchemaDatastore(self.pool, self.schema(tenant)), tenant)

    def last_ids(self, tenants: list[str]) -> dict[str, int]:
        """One query on the heads table, whatever the number of tenants. A tenant with no
        head (none should lack one: provisioning writes it) is asked directly."""
        with self.pool.connection() as conn:
            rows = conn.execute(
                SQL("SELECT schema_name, last FROM {}.{}").format(
                    Identifier(PLATFORM_SCHEMA), Identifier(HEADS_TABLE)
                )
            ).fetchall()
        heads = {r["schema_name"]: int(r["last"]) for r in rows}
        found = {t: heads[self.schema(t)] for t in tenants if self.schema(t) in heads}
        missing = [t for t in tenants if t not in found]
        if missing:
            found.update(self.last_ids_asked(missing))
        return found

    def signals(self) -> Signals:
        return PostgresSignals(self.dsn)

    def last_ids_asked(self, tenants: list[str], chunk: int = 500) -> dict[str, int]:
        """Each tenant's last id from its own table: one round trip per ``chunk`` tenants."""
        found: dict[str, int] = {}
        table = Identifier(EVENTS_TABLE)
        for start in range(0, len(tenants), chunk):
            part = tenants[start : start + chunk]
            query = SQL(" UNION ALL ").join(
                SQL("SELECT {n}::text AS tenant, max(notification_id) AS last FROM {s}.{t}").format(
                    n=Literal(t), s=Identifier(self.schema(t)), t=table
                )
                for t in part
            )
            with self.pool.connection() as conn:
                for row in conn.execute(query).fetchall():
                    found[row["tenant"]] = int(row["last"] or 0)
        return found

    def is_provisioned(self, tenant: str) -> bool:
        return bool(self._recorder(tenant).is_provisioned())

    def _open(self, tenant: str) -> ApplicationRecorder:
        if not self.is_provisioned(tenant):
            raise StoreUnavailableError(
                f"no event store for '{tenant}' (schema {self.schema(tenant)})"
            )
        recorder: ApplicationRecorder = self._recorder(tenant)
        return recorder

    def _provision(self, tenant: str) -> None:
        if self.mode == "migrated" and tenant != PLATFORM:
            provision_office(self.pool, tenant)  # the owner's function: no DDL of our own
        else:
            self._recorder(tenant).provision()

    def close(self) -> None:
        super().close()
        self.pool.close()
