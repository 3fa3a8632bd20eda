"""SQLite event stores: one file per office under the data directory (DESIGN §6.3: offices never
share a file), only the most recently used offices keeping their files open. May import: the
standard library, ``eventsourcing``, ``services.errors`` and ``services.stores.backend``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from eventsourcing.persistence import ApplicationRecorder
from eventsourcing.sqlite import (
    SQLiteApplicationRecorder,
    SQLiteConnection,
    SQLiteConnectionPool,
    SQLiteDatastore,
)

from services.errors import StoreUnavailableError
from services.stores.backend import (
    DEFAULT_OPEN_STORES,
    PLATFORM,
    SQLITE_LOCK_TIMEOUT_SECONDS,
    SQLITE_POOL_SIZE,
    Backend,
)


class OfficePool(SQLiteConnectionPool):
    """One office's SQLite connections. Reports each use, and can close its idle connections
    (the library opens new ones on the next query, so a closed office reopens by itself)."""

    def __init__(self, used: Callable[[], None], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._used = used

    def get_connection(
        self, timeout: float | None = None, *, is_writer: bool | None = None
    ) -> SQLiteConnection:
        conn = super().get_connection(timeout, is_writer=is_writer)
        self._used()
        return conn

    def close_idle(self) -> bool:
        """Close the connections no thread holds; whether none is left open. Relies on the
        pool's own condition and deque (eventsourcing 9.5): a connection in use is never in
        the deque, and taking one out of it happens under the same condition."""
        with self._put_condition:
            while self._pool:
                self._pool.popleft().close()
            return not self._in_use


class SQLiteBackend(Backend):
    """One SQLite file per tenant: ``DATA/platform.sqlite`` and ``DATA/offices/CODE.sqlite``.

    Each open office holds three files (database, WAL, shared memory; two more while two
    threads use it at once), so only the ``open_stores`` offices that most recently ran a
    query keep their connections: the others' idle connections are closed, and reopened
    lazily on their next query. A connection a thread is using is never closed.
    """

    name = "sqlite"

    def __init__(self, data_dir: Path, open_stores: int = DEFAULT_OPEN_STORES) -> None:
        super().__init__(open_stores)
        self.data_dir = data_dir

    def path(self, tenant: str) -> Path:
        if tenant == PLATFORM:
            return self.data_dir / "platform.sqlite"
        return self.data_dir / "offices" / f"{tenant}.sqlite"

    def is_provisioned(self, tenant: str) -> bool:
        return self.path(tenant).exists()

    def last_ids(self, tenants: list[str]) -> dict[str, int]:
        """An office kept open is asked through its store's connection; any other on a
        read-only connection of its own, opened and closed at once: no store is built and no
        office joins the recently used (a look at 3,233 offices costs under a second). A
        tenant with no file raises ``StoreUnavailableError``."""
        found: dict[str, int] = {}
        for tenant in tenants:
            store = self._stores.get(tenant)
            if store is not None and tenant in self.recent:
                found[tenant] = store.recorder.max_notification_id() or 0
                continue
            path = self.path(tenant)
            if not path.exists():
                raise StoreUnavailableError(f"no event store for '{tenant}' at {path}")
            conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=10)
            try:
                row = conn.execute("SELECT max(rowid) FROM stored_events").fetchone()
            finally:
                conn.close()
            found[tenant] = int(row[0] or 0)
        return found

    def _datastore(self, tenant: str) -> SQLiteDatastore:
        return SQLiteDatastore(
            str(self.path(tenant)),
            lock_timeout=SQLITE_LOCK_TIMEOUT_SECONDS,
            pool_size=SQLITE_POOL_SIZE,
        )

    def _open(self, tenant: str) -> ApplicationRecorder:
        if not self.is_provisioned(tenant):
            raise StoreUnavailableError(f"no event store for '{tenant}' at {self.path(tenant)}")
        datastore = self._datastore(tenant)
        datastore.pool.close()  # never opened: replaced by one that reports its use
        datastore.pool = OfficePool(
            lambda: self.recent.touch(tenant),
            db_name=str(self.path(tenant)),
            lock_timeout=SQLITE_LOCK_TIMEOUT_SECONDS,
            pool_size=SQLITE_POOL_SIZE,
        )
        return SQLiteApplicationRecorder(datastore)

    def _used(self, tenant: str) -> None:
        """Asking for a store opens nothing; its connections report their own use."""

    def _release(self, tenant: str) -> bool:
        with self._lock:
            found = self._stores.get(tenant)
        if found is None:
            return True
        pool = found.recorder.datastore.pool  # type: ignore[attr-defined]
        if not pool.close_idle():
            return False
        found.forget_all()
        return True

    def _provision(self, tenant: str) -> None:
        self.path(tenant).parent.mkdir(parents=True, exist_ok=True)
        datastore = self._datastore(tenant)
        try:
            SQLiteApplicationRecorder(datastore).create_table()
        finally:
            datastore.close()
