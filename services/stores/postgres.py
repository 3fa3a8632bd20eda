"""PostgreSQL event stores: one schema per office over one shared pool. May import:
``eventsourcing.persistence``, psycopg, ``services.errors`` and ``services.stores``' ``backend`` and
``pgschema``.
"""

from __future__ import annotations

from eventsourcing.persistence import ApplicationRecorder
from psycopg.sql import SQL, Identifier, Literal

from services.errors import StoreUnavailableError
from services.stores.backend import DEFAULT_OPEN_STORES, PLATFORM, Backend
from services.stores.pgschema import SchemaDatastore, SchemaRecorder, open_shared_pool


class PostgresBackend(Backend):
    """One schema per tenant (``ducha_platform``, ``office_CODE``) over one shared pool."""

    name = "postgres"

    def __init__(
        self, dsn: str, pool_size: int = 10, open_stores: int = DEFAULT_OPEN_STORES
    ) -> None:
        super().__init__(open_stores)
        self.pool = open_shared_pool(dsn, pool_size)

    @staticmethod
    def schema(tenant: str) -> str:
        if tenant == PLATFORM:
            return "ducha_platform"
        return "office_" + tenant.replace("-", "_")

    def _recorder(self, tenant: str) -> SchemaRecorder:
        return SchemaRecorder(SchemaDatastore(self.pool, self.schema(tenant)))

    def last_ids(self, tenants: list[str], chunk: int = 500) -> dict[str, int]:
        """One round trip per ``chunk`` tenants (an index lookup each), not one per tenant."""
        found: dict[str, int] = {}
        table = Identifier(self.store(PLATFORM).recorder.events_table_name)  # type: ignore[attr-defined]
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
        self._recorder(tenant).provision()

    def close(self) -> None:
        super().close()
        self.pool.close()
