"""Consumers that follow every office's notification log and apply each event exactly once.

A *projection* writes read-model rows; its tracking position per (projection, office) is
written in the same transaction as the rows. A *process manager* writes to other offices'
stores; its effects are idempotent by the source event's identity, and its position is
advanced after the effect, so a crash in between repeats an effect that changes nothing.
The same code serves the embedded pump (after every command) and Kafka workers.

A rebuild replays whole logs, so it is pipelined: this thread reads, decodes and projects the
next batch while a writer thread stores the last one (``projections.writer``).
"""

from __future__ import annotations

import gc
import logging
import sys
import threading
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import cached_property, partial
from itertools import islice
from typing import Any, Generic, NamedTuple, TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import Notification

from projections.readstore import ReadStore, Tx
from projections.writer import Writer
from services.stores import Backend, TenantStore

log = logging.getLogger(__name__)

BATCH = 5000
REBUILD_BATCH = 500
"""Smaller: the writer thread starts sooner and the last batch, which nothing overlaps, is short."""
REBUILD_STATES = 20_000
PUMP_OFFICES_KEPT = 32
PUMP_STATES_PER_OFFICE = 1000


class Envelope(NamedTuple):
    """An event as consumers see it: where it was recorded, and the record's state after it."""

    office: str
    position: int
    event: Any
    state: Aggregate | None

    @property
    def source(self) -> str:
        """The event's identity across the platform: office / aggregate id / version."""
        return f"{self.office}/{self.event.originator_id}/{self.event.originator_version}"


class Batch:
    """Consecutive events of one office, in order, as projections receive them."""

    def __init__(self, envelopes: list[Envelope]) -> None:
        self.envelopes = envelopes

    def since(self, done: int) -> Batch:
        """The part of the batch after position ``done``."""
        if not self.envelopes or self.envelopes[0].position > done:
            return self
        return Batch([e for e in self.envelopes if e.position > done])

    @cached_property
    def records(self) -> dict[UUID, tuple[Any, int]]:
        """Each record the batch touches: its state after its last event in the batch, and
        the position of its first. (States change in place, so an earlier envelope often
        carries the same object; after a cache eviction it may carry an older one.)"""
        records: dict[UUID, tuple[Any, int]] = {}
        for e in self.envelopes:
            known = records.get(record := e.event.originator_id)
            records[record] = (e.state, known[1] if known else e.position)
        return records


Prepared = TypeVar("Prepared")


class Projection(ABC, Generic[Prepared]):
    name: str
    ddl: str

    @abstractmethod
    def prepare(self, batch: Batch) -> Prepared:
        """What a batch writes, computed without I/O and without keeping references to the
        states, which move on with the next batch."""

    @abstractmethod
    def write(self, tx: Tx, prepared: Prepared) -> None:
        """Store what ``prepare`` computed, in the transaction that moves the position."""

    def handle_batch(self, tx: Tx, batch: Batch) -> None:
        self.write(tx, self.prepare(batch))

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

    def __init__(self, store: TenantStore, size: int) -> None:
        self.store = store
        self.size = size
        self.cache: dict[UUID, Aggregate] = {}

    def after(self, event: Any) -> Aggregate | None:
        aggregate_id, version = event.originator_id, event.originator_version
        cache = self.cache
        state: Aggregate | None
        if version == 1:
            state = event.mutate(None)
        elif (known := cache.pop(aggregate_id, None)) is not None and known.version == version - 1:
            state = event.mutate(known)
        else:
            state = self.store.repository.get(aggregate_id, version=version)
        cache[aggregate_id] = state  # (re)inserted last: the least recently used come first
        if len(cache) > self.size:  # forget the oldest quarter at once (cheaper than one by one)
            for old in list(islice(cache, max(1, len(cache) // 4))):
                del cache[old]
        return state


@contextmanager
def bulk() -> Iterator[None]:
    """Settings for a rebuild's length, put back afterwards. The garbage collector runs less
    often: a rebuild allocates millions of objects that live for one batch and are freed by
    reference counting, and each collection would walk every object still alive. Threads
    switch more often: the writer thread, back from a database call, would otherwise wait up
    to 5 ms for the GIL each time, and it makes hundreds of calls."""
    thresholds, interval = gc.get_threshold(), sys.getswitchinterval()
    gc.set_threshold(max(thresholds[0], 10_000), *thresholds[1:])
    sys.setswitchinterval(min(interval, 0.0002))
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        sys.setswitchinterval(interval)


class Runner:
    """Brings every consumer up to date with the offices' notification logs."""

    def __init__(
        self,
        backend: Backend,
        offices: Callable[[], Iterable[str]],
        read: ReadStore,
        projections: list[Projection[Any]],
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
    def catch_up(self, office: str) -> int:
        store = self.backend.store(office)
        states = self._recent_states(office, store)
        applied = 0
        while batch := self._next_batch(store, office):
            self._apply(office, store, states, batch)
            applied += len(batch)
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
        events = self._decode(store, batch)
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

    @staticmethod
    def _decode(store: TenantStore, notifications: Sequence[Notification]) -> list[tuple[int, Any]]:
        return [(n.id, store.mapper.to_domain_event(n)) for n in notifications]

    def _batch(self, office: str, states: States, events: list[tuple[int, Any]]) -> Batch:
        return Batch(
            [
                Envelope(office, position, event, states.after(event))
                for position, event in events
                if self.wanted(event)  # before the state moves on: time travel stops here
            ]
        )

    def _project(self, office: str, states: States, events: list[tuple[int, Any]]) -> None:
        """Every projection's rows and positions for the batch, in one transaction."""
        batch = self._batch(office, states, events)

        def apply(tx: Tx, projection: Projection[Any], done: int) -> None:
            if (todo := batch.since(done)).envelopes:
                projection.handle_batch(tx, todo)

        with self.read.transaction() as tx:
            self._advance(tx, office, self.projections, events[-1][0], apply)

    @staticmethod
    def _advance(
        tx: Tx,
        office: str,
        projections: list[Projection[Any]],
        last: int,
        apply: Callable[[Tx, Projection[Any], int], None],
    ) -> None:
        """Exactly once: each projection behind ``last`` applies what follows its position
        (``apply(tx, projection, done)``) and moves to ``last``, in the caller's transaction,
        under a lock per office (another process may be catching up too)."""
        tx.lock(f"projections:{office}")
        positions = tx.positions(office)
        moved = {}
        for projection in projections:
            done = positions.get(projection.name, 0)
            if done < last:
                apply(tx, projection, done)
                moved[projection.name] = last
        tx.set_positions(office, moved)

    def wanted(self, event: Any) -> bool:
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
        """Drop the named projections' rows (for one office, or all) and replay the stores.

        Only those projections move; other consumers keep their positions. Each batch is
        projected here and written by the writer thread, one transaction per batch as in
        ``catch_up`` (positions with rows), while the next batch is read and projected.
        """
        chosen = [p for p in self.projections if names is None or p.name in names]
        offices = [office] if office else list(self.offices())
        applied = 0
        with self._lock, bulk(), Writer(self.read) as writer:
            self._states.clear()
            writer.submit(partial(self._drop, chosen, office))
            for code in offices:
                store = self.backend.store(code)
                states, position = States(store, REBUILD_STATES), 0
                while read := store.recorder.select_notifications(position + 1, REBUILD_BATCH):
                    events = self._decode(store, read)
                    batch = self._batch(code, states, events)
                    prepared = [p.prepare(batch) if batch.envelopes else None for p in chosen]
                    writer.submit(partial(self._write_prepared, code, chosen, events, prepared))
                    position = read[-1].id
                    applied += len(read)
                    if progress:
                        progress(len(read))
        return applied

    @staticmethod
    def _drop(chosen: list[Projection[Any]], office: str | None, tx: Tx) -> None:
        for projection in chosen:
            projection.drop(tx, office)
        tx.forget_positions([p.name for p in chosen], office)

    def _write_prepared(
        self,
        office: str,
        chosen: list[Projection[Any]],
        events: list[tuple[int, Any]],
        prepared: list[Any],
        tx: Tx,
    ) -> None:
        """The writer thread's half of a rebuild batch. A consumer in another process may
        have applied part of it meanwhile: positions decide, as in ``_project``, and a part
        already applied is never applied again (the rest is projected afresh from the store,
        since this thread's states have moved on)."""
        rows = dict(zip((p.name for p in chosen), prepared, strict=True))

        def apply(tx: Tx, projection: Projection[Any], done: int) -> None:
            if done < events[0][0]:
                if rows[projection.name] is not None:
                    projection.write(tx, rows[projection.name])
                return
            rest = [(n, event) for n, event in events if n > done]
            batch = self._batch(office, States(self.backend.store(office), REBUILD_STATES), rest)
            if batch.envelopes:
                projection.handle_batch(tx, batch)

        self._advance(tx, office, chosen, events[-1][0], apply)
