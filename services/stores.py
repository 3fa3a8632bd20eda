"""One event store per tenant: an ``eventsourcing`` Application over that tenant's recorder.

Embedded default: one SQLite file per office under the data directory (DESIGN §6.3: offices
never share a file). With ``DUCHA_DATABASE_URL``: PostgreSQL, one schema per office.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import ApplicationRecorder, JSONTranscoder, Transcoding
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteDatastore
from psycopg.sql import SQL, Identifier, Literal

from domain.assignment import Assignee
from domain.values import Actor
from services.errors import StoreUnavailableError
from services.pgstore import SchemaDatastore, SchemaRecorder, open_shared_pool

PLATFORM = "_platform"
"""The platform's own tenant (the office registry); never a valid office code."""

SQLITE_LOCK_TIMEOUT_SECONDS = 10
DEFAULT_CACHE_SIZE = 128  # aggregates kept per tenant
LOCK_STRIPES = 64


class ActorAsList(Transcoding):
    type = Actor
    name = "actor"

    def encode(self, obj: Actor) -> list[str]:
        return [obj.user_id, obj.office, obj.role]

    def decode(self, data: list[str]) -> Actor:
        return Actor(*data)


class AssigneeAsList(Transcoding):
    type = Assignee
    name = "assignee"

    def encode(self, obj: Assignee) -> list[str]:
        return [obj.kind, obj.target, obj.role]

    def decode(self, data: list[str]) -> Assignee:
        return Assignee(*data)


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class TenantStore(Application[UUID]):
    """The append-only event store of one tenant."""

    def __init__(
        self, tenant: str, recorder: ApplicationRecorder, cache_size: int = DEFAULT_CACHE_SIZE
    ) -> None:
        self.tenant = tenant
        self._given_recorder = recorder
        self._stripes = [threading.RLock() for _ in range(LOCK_STRIPES)]
        super().__init__(
            env={
                "PERSISTENCE_MODULE": "eventsourcing.popo",
                # Fast-forwarding reads what other processes wrote since the cached version;
                # no deep copy, so commands must go through ``changing`` (see there).
                "AGGREGATE_CACHE_MAXSIZE": str(cache_size),
                "AGGREGATE_CACHE_FASTFORWARD": "y",
                "DEEPCOPY_FROM_AGGREGATE_CACHE": "n",
            }
        )

    def construct_recorder(self) -> ApplicationRecorder:
        return self._given_recorder

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(ActorAsList())
        transcoder.register(AssigneeAsList())
        transcoder.register(DateAsISO())

    @contextmanager
    def locked(self, aggregate_id: UUID) -> Iterator[None]:
        """Serialise this process's work on one aggregate (other processes are kept apart by
        the store's unique (id, version) key, which turns a lost race into a conflict)."""
        with self._stripes[hash(aggregate_id) % LOCK_STRIPES]:
            yield

    @contextmanager
    def changing(self, aggregate_id: UUID) -> Iterator[Any]:
        """Load an aggregate to change it; the caller saves it inside the block.

        Cached aggregates are shared, not copied: if anything fails before the save
        completes, the cached object (which may hold an unsaved event) is forgotten.
        """
        with self.locked(aggregate_id):
            aggregate: Any = self.repository.get(aggregate_id)
            try:
                yield aggregate
            except BaseException:
                self.forget(aggregate_id)
                raise

    def forget(self, aggregate_id: UUID) -> None:
        if self.repository.cache is not None:
            with suppress(KeyError):
                self.repository.cache.get(aggregate_id, evict=True)

    def remember(self, aggregate: Any) -> None:
        """Cache an aggregate that has just been created and saved."""
        if self.repository.cache is not None:
            self.repository.cache.put(aggregate.id, aggregate)


class Backend(ABC):
    """Where tenants' stores live. ``provision`` once per tenant, then ``store`` any time."""

    name: str

    def __init__(self) -> None:
        self._stores: dict[str, TenantStore] = {}
        self._lock = threading.Lock()

    def store(self, tenant: str) -> TenantStore:
        with self._lock:
            found = self._stores.get(tenant)
            if found is None:
                found = self._stores[tenant] = TenantStore(tenant, self._open(tenant))
            return found

    def provision(self, tenant: str) -> TenantStore:
        self._provision(tenant)
        return self.store(tenant)

    def last_ids(self, tenants: list[str]) -> dict[str, int]:
        """Each tenant's last notification id (0 if none): what a poller checks first."""
        return {t: self.store(t).recorder.max_notification_id() or 0 for t in tenants}

    @abstractmethod
    def _open(self, tenant: str) -> ApplicationRecorder: ...

    @abstractmethod
    def _provision(self, tenant: str) -> None: ...

    @abstractmethod
    def is_provisioned(self, tenant: str) -> bool: ...

    def close(self) -> None:
        with self._lock:
            for store in self._stores.values():
                store.close()
            self._stores.clear()


class SQLiteBackend(Backend):
    """One SQLite file per tenant: ``DATA/platform.sqlite`` and ``DATA/offices/CODE.sqlite``."""

    name = "sqlite"

    def __init__(self, data_dir: Path) -> None:
        super().__init__()
        self.data_dir = data_dir

    def path(self, tenant: str) -> Path:
        if tenant == PLATFORM:
            return self.data_dir / "platform.sqlite"
        return self.data_dir / "offices" / f"{tenant}.sqlite"

    def is_provisioned(self, tenant: str) -> bool:
        return self.path(tenant).exists()

    def _recorder(self, tenant: str) -> SQLiteApplicationRecorder:
        datastore = SQLiteDatastore(
            str(self.path(tenant)), lock_timeout=SQLITE_LOCK_TIMEOUT_SECONDS, pool_size=2
        )
        return SQLiteApplicationRecorder(datastore)

    def _open(self, tenant: str) -> ApplicationRecorder:
        if not self.is_provisioned(tenant):
            raise StoreUnavailableError(f"no event store for '{tenant}' at {self.path(tenant)}")
        return self._recorder(tenant)

    def _provision(self, tenant: str) -> None:
        self.path(tenant).parent.mkdir(parents=True, exist_ok=True)
        self._recorder(tenant).create_table()


class PostgresBackend(Backend):
    """One schema per tenant (``ducha_platform``, ``office_CODE``) over one shared pool."""

    name = "postgres"

    def __init__(self, dsn: str, pool_size: int = 10) -> None:
        super().__init__()
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
