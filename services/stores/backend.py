"""What every event store shares: ``TenantStore`` (one office's ``eventsourcing`` application
over its recorder, with the transcodings of our value objects), the bound on open offices and
the ``Backend`` interface that ``sqlite`` and ``postgres`` implement. Imports the domain's value
objects and ``eventsourcing``.
May import: the standard library, eventsourcing, ``domain`` (assignment, values) and
``services.stores.signals``.

Thousands of offices, few of them busy at once: a backend keeps what an office holds — its open
SQLite files, its cached aggregates — only for the most recently used offices (``RecentOffices``)
and lets the others give it back. A ``TenantStore`` itself is never closed while the process
runs, so callers may keep one as long as they like: an evicted office's connections are opened
again on its next query.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.application import Application, LRUCache
from eventsourcing.persistence import ApplicationRecorder, JSONTranscoder, Transcoding

from domain.assignment import Assignee
from domain.values import Actor
from services.stores.signals import NoSignals, Signals

PLATFORM = "_platform"
"""The platform's own tenant (the office registry); never a valid office code."""

SQLITE_LOCK_TIMEOUT_SECONDS = 10
SQLITE_POOL_SIZE = 2  # idle connections kept per open office (3 files each, the -shm shared)
DEFAULT_CACHE_SIZE = 128  # aggregates kept per tenant
DEFAULT_OPEN_STORES = 128  # offices whose files and caches are kept (``DUCHA_OPEN_STORES``)
LOCK_STRIPES = 64


class ActorAsList(Transcoding):
    """``[user, office, role]``, then ``channel`` and ``os_user`` when either is known: events
    stored before channels were kept (three items) decode with both empty."""

    type = Actor
    name = "actor"

    def encode(self, obj: Actor) -> list[str]:
        if obj.channel or obj.os_user:
            return [obj.user_id, obj.office, obj.role, obj.channel, obj.os_user]
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
        self.cache_size = cache_size
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

    def forget_all(self) -> None:
        """Drop the cached aggregates (an idle office gives its memory back). Safe while a
        command runs: it keeps the object it loaded, saves it and caches it again."""
        self.repository.cache = LRUCache(maxsize=self.cache_size)

    def close(self) -> None:
        """Also close the recorder's connections (the library's popo factory owns none)."""
        super().close()
        datastore = getattr(self._given_recorder, "datastore", None)
        if datastore is not None:
            datastore.close()


class RecentOffices:
    """The ``limit`` most recently used offices. When one more is used, the least recently
    used give back what they hold (``release``, which answers False for an office still busy
    in another thread: that one stays, counted as just used, and is tried again later), so
    the bound can be exceeded only while more than ``limit`` offices are busy at once."""

    def __init__(self, limit: int, release: Callable[[str], bool]) -> None:
        if limit < 1:
            raise ValueError("at least one office must be kept open")
        self.limit = limit
        self.release = release
        self._used: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._used)

    def __contains__(self, tenant: object) -> bool:
        return tenant in self._used

    def touch(self, tenant: str) -> None:
        with self._lock:
            self._used[tenant] = None
            self._used.move_to_end(tenant)
            if len(self._used) <= self.limit:
                return
            victims = [self._used.popitem(last=False)[0] for _ in range(self._excess())]
        busy = [v for v in victims if not self.release(v)]  # outside the lock: closing is I/O
        if busy:
            with self._lock:
                for tenant_ in busy:
                    self._used[tenant_] = None

    def _excess(self) -> int:
        """How many to release: all beyond the limit except the office just used (last)."""
        return min(len(self._used) - self.limit, len(self._used) - 1)

    def clear(self) -> None:
        with self._lock:
            self._used.clear()


class Backend(ABC):
    """Where tenants' stores live. ``provision`` once per tenant, then ``store`` any time."""

    name: str

    def __init__(self, open_stores: int = DEFAULT_OPEN_STORES) -> None:
        self._stores: dict[str, TenantStore] = {}
        self._lock = threading.Lock()
        self.recent = RecentOffices(open_stores, self._release)

    def store(self, tenant: str) -> TenantStore:
        """The tenant's store: built on first use, then the same object for the process's
        life (what it holds is given back while idle, see ``RecentOffices``)."""
        with self._lock:
            found = self._stores.get(tenant)
            if found is None:
                found = self._stores[tenant] = TenantStore(tenant, self._open(tenant))
        self._used(tenant)
        return found

    def _used(self, tenant: str) -> None:
        """A tenant's store was asked for (SQLite counts connections instead, see there)."""
        self.recent.touch(tenant)

    def _release(self, tenant: str) -> bool:
        """Give back what an idle tenant holds; False if it is busy and kept."""
        with self._lock:
            found = self._stores.get(tenant)
        if found is not None:
            found.forget_all()
        return True

    def provision(self, tenant: str) -> TenantStore:
        self._provision(tenant)
        return self.store(tenant)

    def last_ids(self, tenants: list[str]) -> dict[str, int]:
        """Each tenant's last notification id (0 if none): what a poller checks first."""
        return {t: self.store(t).recorder.max_notification_id() or 0 for t in tenants}

    def signals(self) -> Signals:
        """Where to wait for offices to record events (see ``signals``)."""
        return NoSignals()

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
        self.recent.clear()
