"""Consumers that follow every office's notification log and apply each event exactly once.

A *projection* writes read-model rows; its tracking position per (projection, office) is
written in the same transaction as the rows. A *process manager* writes to other offices'
stores; its effects are idempotent by the source event's identity, and its position is
advanced after the effect, so a crash in between repeats an effect that changes nothing.
The same code serves the embedded pump (after every command) and, later, Kafka workers.
"""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import Notification

from projections.readstore import ReadStore, Tx
from services.stores import Backend, TenantStore

log = logging.getLogger(__name__)

BATCH = 5000
PUMP_OFFICES_KEPT = 32
PUMP_STATES_PER_OFFICE = 1000


@dataclass(frozen=True)
class Envelope:
    """An event as consumers see it: where it was recorded, and the record's state after it."""

    office: str
    position: int
    event: Any
    state: Aggregate | None

    @property
    def source(self) -> str:
        """The event's identity across the platform: office / aggregate id / version."""
        return f"{self.office}/{self.event.originator_id}/{self.event.originator_version}"


class Projection(ABC):
    name: str
    ddl: str

    @abstractmethod
    def handle_batch(self, tx: Tx, envelopes: list[Envelope]) -> None:
        """Apply a batch of one office's events, in order. A record's ``state`` is the same
        object in each of its envelopes: its state after its *last* event in the batch."""

    @abstractmethod
    def drop(self, tx: Tx, office: str | None) -> None:
        """Delete the rows built from ``office``'s events (every office's if None)."""


class ProcessManager(ABC):
    name: str

    def concerns(self, event: Any) -> bool:
        """Whether ``handle`` may act on this event (others are passed over cheaply)."""
        return True

    @abstractmethod
    def handle(self, envelope: Envelope) -> None: ...


class States:
    """The state of each aggregate after each event, replayed in order, loaded when needed."""

    def __init__(self, store: TenantStore, size: int = 20_000) -> None:
        self.store = store
        self.size = size
        self.cache: OrderedDict[UUID, Aggregate] = OrderedDict()

    def after(self, event: Any) -> Aggregate | None:
        aggregate_id, version = event.originator_id, event.originator_version
        known = self.cache.get(aggregate_id)
        state: Aggregate | None
        if version == 1:
            state = event.mutate(None)
        elif known is not None and known.version == version - 1:
            state = event.mutate(known)
        else:
            state = self.store.repository.get(aggregate_id, version=version)
        self.cache[aggregate_id] = state
        self.cache.move_to_end(aggregate_id)
        if len(self.cache) > self.size:
            self.cache.popitem(last=False)
        return state


class Runner:
    """Brings every consumer up to date with the offices' notification logs."""

    def __init__(
        self,
        backend: Backend,
        offices: Callable[[], Iterable[str]],
        read: ReadStore,
        projections: list[Projection],
        managers: list[ProcessManager],
    ) -> None:
        self.backend = backend
        self.offices = offices
        self.read = read
        self.projections = projections
        self.managers = managers
        self._dirty: set[str] = set()
        self._lock = threading.RLock()
        # the pump keeps recent records' states between commands, so that the next event
        # of a record is applied to its known state instead of replaying its history
        self._states: OrderedDict[str, States] = OrderedDict()
        self._draining = False
        for projection in projections:
            read.ensure(projection.ddl)

    # -- the embedded pump ------------------------------------------------------------
    def notify(self, office: str) -> None:
        """Called after a command saved in ``office``: returns when everything is current,
        including what process managers wrote to other offices meanwhile."""
        with self._lock:
            self._dirty.add(office)
            self._drain()

    def catch_up_all(self) -> int:
        """On start: apply whatever was recorded while no consumer ran."""
        with self._lock:
            self._dirty.update(self.offices())
            return self._drain()

    def _drain(self) -> int:
        """Catch up dirty offices until none is left. A process manager's effect marks its
        target dirty and returns: the loop, not a nested catch-up, picks it up."""
        if self._draining:
            return 0
        self._draining = True
        try:
            applied = 0
            while self._dirty:
                applied += self.catch_up(self._dirty.pop())
            return applied
        finally:
            self._draining = False

    # -- one office -------------------------------------------------------------------
    def catch_up(
        self,
        office: str,
        progress: Callable[[int], None] | None = None,
        states: States | None = None,
    ) -> int:
        store = self.backend.store(office)
        states = states or self._recent_states(office, store)
        applied = 0
        while batch := self._next_batch(store, office):
            self._apply(office, store, states, batch)
            applied += len(batch)
            if progress:
                progress(len(batch))
        return applied

    def deliver(self, office: str, notifications: list[Notification]) -> int:
        """Apply notifications that arrived from elsewhere (a Kafka worker), in order.

        Those already applied are dropped (dedupe by office and notification id, never by
        the transport's offsets). If the first new one is beyond the next expected id, the
        missing events are read from the office's store and applied first — a lost,
        duplicated or replayed message can neither be skipped nor applied twice. Returns how
        many events were applied.
        """
        with self._lock:
            store = self.backend.store(office)
            done = self._done(office)
            fresh = [n for n in notifications if n.id > done]
            if not fresh:
                return 0
            run: list[Notification] = []
            for n in fresh:  # the contiguous run that follows what was applied
                if n.id != done + len(run) + 1:
                    break
                run.append(n)
            if run:
                self._apply(office, store, self._recent_states(office, store), run)
            if len(run) < len(fresh):  # a gap (or a hole the store itself has): read the store
                return len(run) + self.catch_up(office)
            return len(run)

    def _apply(
        self, office: str, store: TenantStore, states: States, batch: Sequence[Notification]
    ) -> None:
        events = [(n.id, store.mapper.to_domain_event(n)) for n in batch]
        self._project(office, states, events)
        for manager in self.managers:
            self._manage(manager, store, office, events)

    def _recent_states(self, office: str, store: TenantStore) -> States:
        states = self._states.get(office)
        if states is None or states.store is not store:
            states = self._states[office] = States(store, size=PUMP_STATES_PER_OFFICE)
        self._states.move_to_end(office)
        while len(self._states) > PUMP_OFFICES_KEPT:
            self._states.popitem(last=False)
        return states

    def _done(self, office: str) -> int:
        """The last notification id every consumer has applied for ``office``."""
        names = [p.name for p in self.projections] + [m.name for m in self.managers]
        with self.read.transaction() as tx:
            done = tx.positions(office)
        return min((done.get(name, 0) for name in names), default=0)

    def _next_batch(self, store: TenantStore, office: str) -> list[Notification]:
        return list(store.recorder.select_notifications(self._done(office) + 1, BATCH))

    def _project(self, office: str, states: States, events: list[tuple[int, Any]]) -> None:
        """Every projection's rows and positions for the batch, in one transaction."""
        last = events[-1][0]
        envelopes = []
        for position, event in events:
            envelope = Envelope(office, position, event, None)
            if self.wanted(envelope):  # before the state moves on: time travel stops here
                envelopes.append(Envelope(office, position, event, states.after(event)))
        with self.read.transaction() as tx:
            tx.lock(f"projections:{office}")  # another process may be catching up too
            positions = tx.positions(office)
            for projection in self.projections:
                done = positions.get(projection.name, 0)
                todo = [e for e in envelopes if e.position > done]
                if todo:
                    projection.handle_batch(tx, todo)
                if last > done:
                    tx.set_position(projection.name, office, last)

    def wanted(self, envelope: Envelope) -> bool:
        """Whether projections apply this event; ignored events still advance tracking."""
        return True

    def _manage(
        self,
        manager: ProcessManager,
        store: TenantStore,
        office: str,
        events: list[tuple[int, Any]],
    ) -> None:
        """A process manager sees each record exactly as it stood after the event. Its effects
        are idempotent, so its position is advanced once per batch: a crash in between only
        repeats effects that change nothing."""
        with self.read.transaction() as tx:
            done = tx.position(manager.name, office)
        last = events[-1][0]
        if last <= done:
            return
        for position, event in events:
            if position > done and manager.concerns(event):
                state: Aggregate = store.repository.get(
                    event.originator_id, version=event.originator_version
                )
                manager.handle(Envelope(office, position, event, state))
        with self.read.transaction() as tx:
            tx.set_position(manager.name, office, last)

    # -- rebuild ----------------------------------------------------------------------
    def rebuild(
        self,
        names: list[str] | None = None,
        office: str | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> int:
        """Drop the named projections' rows (for one office, or all) and replay the stores."""
        chosen = [p for p in self.projections if names is None or p.name in names]
        offices = [office] if office else list(self.offices())
        with self._lock:
            with self.read.transaction() as tx:
                for projection in chosen:
                    projection.drop(tx, office)
                    for code in offices:
                        tx.set_position(projection.name, code, 0)
            self._states.clear()
            return sum(
                self.catch_up(code, progress, States(self.backend.store(code))) for code in offices
            )
