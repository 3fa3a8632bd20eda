"""Consumers that follow every office's notification log and apply each event exactly once.

A *projection* writes read-model rows; its tracking position per (projection, office) is
written in the same transaction as the rows. A *process manager* writes to other offices'
stores; its effects are idempotent by the source event's identity, and its position is
advanced after the effect, so a crash in between repeats an effect that changes nothing.
The same code serves the embedded pump (after every command) and Kafka workers.

**Failures.** A consumer that fails on an event stops for that office only: the event, the
consumer and the error go to the read store's ``dead_letters``, its position stays before the
event, and the failure is logged. Nothing else stops: not the command that recorded the event,
not the office's other consumers (each projection is a consumer of its own; a batch is one
transaction, and if it fails, each projection applies it alone under a savepoint, event by
event up to the one it fails on), not other offices. Until ``retry`` the stopped consumer
applies nothing more there (order matters) and is not tried again on every command. A failure
of the infrastructure (the database unreachable, locked, deadlocked; a conflict) is no fault
of the event: nothing is dead-lettered, the pump logs it and the office catches up on its next
command, start or retry, and ``deliver`` raises it so that a Kafka worker receives the
messages again.

**Rebuilds and live consumers exclude each other per office.** Every transaction that moves
an office's projections holds that office's lock (and a shared lock on all offices); a rebuild
drops and refills an office in one transaction holding it, so a live consumer — this
process's pump or another process's — waits, then applies only what follows. Dropping every
office's rows at once takes the lock on all offices for that moment. A consumer applies a
batch only where it follows its position, so a batch read before a drop is never applied after
it. A rebuild replays whole logs, so it is pipelined: this thread reads, decodes and projects
the next batch while a writer thread stores the last one (``projections.writer``).
"""

from __future__ import annotations

import gc
import logging
import sqlite3
import sys
import threading
import time
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from functools import cached_property, partial
from itertools import islice
from typing import Any, Generic, NamedTuple, TypeVar
from uuid import UUID

import psycopg
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import InterfaceError as StoreInterfaceError
from eventsourcing.persistence import Notification
from eventsourcing.persistence import OperationalError as StoreOperationalError
from eventsourcing.utils import get_topic

from projections.readstore import DeadLetter, ReadStore, Tracking, Tx
from projections.writer import Writer
from services.errors import ConflictError
from services.stores import Backend, TenantStore

log = logging.getLogger(__name__)

BATCH = 5000
REBUILD_BATCH = 500
"""Smaller: the writer thread starts sooner and the last batch, which nothing overlaps, is short."""
REBUILD_STATES = 20_000
PUMP_OFFICES_KEPT = 32
PUMP_STATES_PER_OFFICE = 1000
ALL_OFFICES = "projections"
"""The lock every transaction moving projections holds shared, and dropping all rows alone."""

INFRASTRUCTURE: tuple[type[Exception], ...] = (
    sqlite3.OperationalError,  # locked, busy, disk I/O (also a missing table: a deployment's)
    psycopg.OperationalError,  # connection lost, pool timeout, lock timeout, deadlock
    StoreOperationalError,
    StoreInterfaceError,
    ConnectionError,
    TimeoutError,
    MemoryError,
    ConflictError,  # a process manager's effect kept conflicting: it is tried again later
)
"""Failures that are not an event's fault: never dead-lettered."""
AT_ONCE = (psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure)
"""Failures that trying again at once resolves."""


def infrastructure(error: BaseException) -> bool:
    return isinstance(error, INFRASTRUCTURE)


def office_lock(office: str) -> str:
    return f"{ALL_OFFICES}:{office}"


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


class Failure(NamedTuple):
    """The event a consumer failed on, and the error."""

    position: int
    topic: str
    originator_id: UUID | str
    originator_version: int
    error: Exception

    @classmethod
    def on(cls, position: int, event: Any, error: Exception) -> Failure:
        topic = get_topic(type(event))
        return cls(position, topic, event.originator_id, event.originator_version, error)

    def letter(self, office: str, consumer: str) -> DeadLetter:
        now = datetime.now(UTC).isoformat()
        return DeadLetter(
            office,
            consumer,
            self.position,
            self.topic,
            str(self.originator_id),
            self.originator_version,
            type(self.error).__name__,
            str(self.error)[:2000],
            now,
            now,
            1,
        )


class Unprepared(NamedTuple):
    """A projection's ``prepare`` failed on a rebuild batch: it is applied afresh, event by
    event, in the writer's transaction, to find the event it fails on."""

    error: Exception


@dataclass(frozen=True)
class ConsumerStatus:
    """Where one consumer stands in one office."""

    office: str
    consumer: str
    kind: str  # "projection", "process-manager", or "publisher" (the Kafka relay)
    position: int
    last: int | None  # the office's last notification id (None: its log cannot be read)
    dead_letter: DeadLetter | None = None

    @property
    def lag(self) -> int | None:
        return None if self.last is None else max(0, self.last - self.position)

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape (``GET /api/v1/admin/consumers``, ``--json``)."""
        letter = asdict(self.dead_letter) if self.dead_letter else None
        if letter:
            del letter["office"], letter["consumer"]
        return {
            "office": self.office,
            "consumer": self.consumer,
            "kind": self.kind,
            "position": self.position,
            "last": self.last,
            "lag": self.lag,
            "dead_letter": letter,
        }


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

    isolate_failures = True
    """A consumer's failure on an event becomes a dead letter. False: it is raised (for a
    throw-away run such as time travel, where a partial answer would mislead)."""

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

    @property
    def consumers(self) -> list[str]:
        return [p.name for p in self.projections] + [m.name for m in self.managers]

    # -- the embedded pump ------------------------------------------------------------
    def notify(self, office: str) -> None:
        """Called after a command saved in ``office``: returns when everything is current,
        including what process managers wrote to other offices meanwhile.

        Never raises: the command's event is recorded whatever happens here. A consumer that
        fails is dead-lettered; a failure of the infrastructure is logged, and the office
        catches up on its next command (or start, or retry)."""
        with self._lock:
            self._dirty.add(office)
            self._drain()

    def catch_up_all(self) -> int:
        """On start: apply whatever was recorded while no consumer ran. One look at every
        office's last id tells which are behind; one office's failure is logged and the
        others go on."""
        with self._lock:
            self._dirty.update(self._behind(list(self.offices())))
            return self._drain()

    def _drain(self, strict: bool = False) -> int:
        """Catch up dirty offices until none is left. A process manager's effect marks its
        target dirty and returns: the loop, not a nested catch-up, picks it up. ``strict``:
        the first office's failure is raised once the others are done."""
        if self._draining:
            return 0
        self._draining = True
        failures: list[Exception] = []
        try:
            applied = 0
            while self._dirty:
                office = self._dirty.pop()
                try:
                    applied += self._catch_up_retrying(office)
                except Exception as e:
                    if not self.isolate_failures:
                        raise
                    log.error("read side of office %s stays behind: %r", office, e, exc_info=e)
                    failures.append(e)
            if strict and failures:
                raise failures[0]
            return applied
        finally:
            self._draining = False

    def _catch_up_retrying(self, office: str, attempts: int = 3) -> int:
        for attempt in range(attempts):
            try:
                return self.catch_up(office)
            except AT_ONCE:  # another office's transaction crossed this one's
                if attempt == attempts - 1:
                    raise
                time.sleep(0.05 * (attempt + 1))
        return 0

    def _behind(self, offices: list[str]) -> list[str]:
        """The offices where a consumer that is not stopped has something to apply."""
        if not offices:
            return []
        last = self._last_ids(offices)
        positions, dead = self._everywhere()
        return [
            o
            for o in offices
            if any(
                positions.get((o, n), 0) < last.get(o, 0)
                for n in self.consumers
                if (o, n) not in dead
            )
        ]

    def _last_ids(self, offices: list[str]) -> dict[str, int]:
        """Each office's last notification id, leaving out (and logging) an office whose store
        cannot be read — its store missing, say — rather than failing for all of them."""
        try:
            return self.backend.last_ids(offices) if offices else {}
        except Exception as e:
            if infrastructure(e) or not self.isolate_failures or len(offices) == 1:
                raise
        found: dict[str, int] = {}
        for office in offices:
            try:
                found.update(self.backend.last_ids([office]))
            except Exception as e:
                if infrastructure(e):
                    raise
                log.error("office %s: its notification log cannot be read: %r", office, e)
        return found

    def _everywhere(
        self, office: str | None = None
    ) -> tuple[dict[tuple[str, str], int], dict[tuple[str, str], DeadLetter]]:
        """Every (office, consumer)'s position, and the dead letters stopping them."""
        where, params = (" WHERE office = ?", [office]) if office else ("", [])
        rows = self.read.all(f"SELECT office, consumer, position FROM tracking{where}", params)
        letters = self.read.all(f"SELECT * FROM dead_letters{where}", params)
        return (
            {(r["office"], r["consumer"]): int(r["position"]) for r in rows},
            {(r["office"], r["consumer"]): DeadLetter.of(r) for r in letters if not r["retrying"]},
        )

    # -- operations -------------------------------------------------------------------
    def status(self, office: str | None = None, only_behind: bool = False) -> list[ConsumerStatus]:
        """Each consumer in each office (or one): position, the office's last notification
        id, lag, and the dead letter that stopped it. A few queries whatever the number of
        offices. ``only_behind``: just those lagging, stopped, or whose office's log cannot
        be read (``last`` None)."""
        offices = [office] if office else list(self.offices())
        last = self._last_ids(offices)
        positions, letters = self._everywhere(office)
        kinds = dict.fromkeys((p.name for p in self.projections), "projection")
        kinds.update(dict.fromkeys((m.name for m in self.managers), "process-manager"))
        for _, name in sorted(positions):  # others following the logs: the Kafka relay
            kinds.setdefault(name, "publisher")
        found = [
            ConsumerStatus(o, n, kind, positions.get((o, n), 0), last.get(o), letters.get((o, n)))
            for o in offices
            for n, kind in kinds.items()
        ]
        return [c for c in found if c.lag != 0 or c.dead_letter] if only_behind else found

    def retry(self, office: str | None = None, consumer: str | None = None) -> int:
        """Lift the dead letters (of one office, one consumer, or all) and apply again from
        where each consumer stopped. One that fails again is stopped again, its attempts
        counted. Returns how many consumers got past their dead letter. A failure of the
        infrastructure is raised (the letters then stay)."""
        consumers = [consumer] if consumer else None
        with self._lock:
            with self.read.transaction() as tx:
                if not tx.start_retrying(office, consumers):
                    return 0
                offices = {letter.office for letter in tx.dead_letters(office, consumers)}
            try:
                for code in offices:
                    self._states.pop(code, None)
                self._dirty.update(offices)
                self._drain(strict=True)
            finally:
                with self.read.transaction() as tx:
                    resolved: int = tx.end_retrying(office, consumers)
            return resolved

    # -- one office -------------------------------------------------------------------
    def catch_up(self, office: str) -> int:
        store = self.backend.store(office)
        states = self._recent_states(office, store)
        applied = 0
        while (done := self._done(office)) is not None and (
            batch := store.recorder.select_notifications(done + 1, BATCH)
        ):
            self._apply(office, store, states, done, batch)
            applied += len(batch)
        return applied

    def deliver(self, office: str, notifications: list[Notification]) -> int:
        """Apply notifications that arrived from elsewhere (a Kafka worker), in order.

        Those already applied are dropped (dedupe by office and notification id, never by
        the transport's offsets). If the first new one is beyond the next expected id, the
        missing events are read from the office's store and applied first — a lost,
        duplicated or replayed message can neither be skipped nor applied twice. A consumer
        that fails on one is dead-lettered (the worker moves on); a failure of the
        infrastructure is raised (the worker receives the messages again). Returns how many
        events were applied.
        """
        with self._lock:
            store = self.backend.store(office)
            done = self._done(office)
            if done is None:  # every consumer of the office is stopped
                return 0
            fresh = [n for n in notifications if n.id > done]
            if not fresh:
                return 0
            run: list[Notification] = []
            for n in fresh:  # the contiguous run that follows what was applied
                if n.id != done + len(run) + 1:
                    break
                run.append(n)
            if run:
                self._apply(office, store, self._recent_states(office, store), done, run)
            if len(run) < len(fresh):  # a gap (or a hole the store itself has): read the store
                return len(run) + self.catch_up(office)
            return len(run)

    def _apply(
        self,
        office: str,
        store: TenantStore,
        states: States,
        after: int,
        batch: Sequence[Notification],
    ) -> None:
        """Apply ``batch``, read from the store after position ``after`` (its first id may be
        further on: a failed insert leaves a hole in the ids, DESIGN §6.2)."""
        events, failure = self._decode(store, batch)
        if events:
            self._project(office, store, states, after, events)
            for manager in self.managers:
                self._manage(manager, store, office, after, events)
        if failure is not None:
            with self.read.transaction() as tx:
                self._stop_all(tx, office, self.consumers, failure)

    def _recent_states(self, office: str, store: TenantStore) -> States:
        states = self._states.get(office)
        if states is None or states.store is not store:
            states = self._states[office] = States(store, size=PUMP_STATES_PER_OFFICE)
        self._states.move_to_end(office)
        while len(self._states) > PUMP_OFFICES_KEPT:
            self._states.popitem(last=False)
        return states

    def _done(self, office: str) -> int | None:
        """The last notification id every consumer of ``office`` has applied, leaving out
        those stopped at a dead letter (None if all are)."""
        tracking = self.read.tracking(office)
        live = [tracking.positions.get(n, 0) for n in self.consumers if n not in tracking.dead]
        return min(live) if live else None

    def _decode(
        self, store: TenantStore, notifications: Sequence[Notification]
    ) -> tuple[list[tuple[int, Any]], Failure | None]:
        """The events, up to one that cannot be decoded (returned as the failure)."""
        mapper = store.mapper
        try:
            return [(n.id, mapper.to_domain_event(n)) for n in notifications], None
        except Exception as e:
            if infrastructure(e) or not self.isolate_failures:
                raise
        events = []
        for n in notifications:
            try:
                events.append((n.id, mapper.to_domain_event(n)))
            except Exception as e:
                return events, Failure(n.id, n.topic, n.originator_id, n.originator_version, e)
        return events, None

    def _batch(self, office: str, states: States, events: list[tuple[int, Any]]) -> Batch:
        return Batch(
            [
                Envelope(office, position, event, states.after(event))
                for position, event in events
                if self.wanted(event)  # before the state moves on: time travel stops here
            ]
        )

    def _project(
        self,
        office: str,
        store: TenantStore,
        states: States,
        after: int,
        events: list[tuple[int, Any]],
    ) -> None:
        """Every projection's rows and positions for the batch, in one transaction. If that
        fails, each projection on its own (see ``_advance``)."""
        try:
            batch = self._batch(office, states, events)

            def apply(tx: Tx, projection: Projection[Any], done: int) -> None:
                if (todo := batch.since(done)).envelopes:
                    projection.handle_batch(tx, todo)

            with self.read.transaction() as tx:
                self._advance(tx, office, self.projections, after, events, apply)
            return
        except Exception as e:
            states.cache.clear()  # they may have moved on, even half-way through an event
            if infrastructure(e) or not self.isolate_failures:
                raise
            log.warning("a projection failed on a batch of office %s (%r): one by one", office, e)
        with self.read.transaction() as tx:
            afresh = partial(self._apply_afresh, office, events)
            self._advance(tx, office, self.projections, after, events, afresh, guarded=True)

    def _advance(
        self,
        tx: Tx,
        office: str,
        projections: list[Projection[Any]],
        after: int,
        events: list[tuple[int, Any]],
        apply: Callable[[Tx, Projection[Any], int], None],
        guarded: bool = False,
        lock: bool = True,
    ) -> None:
        """Exactly once: each projection whose position lies within the batch (read after
        position ``after``) applies what follows it (``apply(tx, projection, done)``) and moves
        to the batch's end, in the caller's transaction, under the office's lock. One stopped
        at a dead letter, or whose position is outside the batch (it moved meanwhile: a rebuild
        dropped it, say), is left alone: a batch is never applied over a gap.

        ``guarded``: each projection applies in a savepoint; one that fails applies the batch
        event by event up to the event it fails on, which becomes its dead letter, and the
        others go on. ``lock=False``: the caller keeps other consumers out (a rebuild)."""
        last = events[-1][0]
        tracking = self._lock_office(tx, office) if lock else tx.tracking(office)
        moved = {}
        for projection in projections:
            name = projection.name
            done = tracking.positions.get(name, 0)
            if name in tracking.dead or not after <= done < last:
                continue
            if not guarded:
                apply(tx, projection, done)
                moved[name] = last
                continue
            try:
                with tx.savepoint():
                    apply(tx, projection, done)
                moved[name] = last
            except Exception as e:
                if infrastructure(e) or not self.isolate_failures:
                    raise
                rest = [(n, event) for n, event in events if n > done]
                moved[name], failure = self._one_by_one(tx, office, projection, done, rest)
                if failure is not None:
                    self._dead_letter(tx, office, name, failure)
        tx.set_positions(office, moved)

    def _apply_afresh(
        self,
        office: str,
        events: list[tuple[int, Any]],
        tx: Tx,
        projection: Projection[Any],
        done: int,
    ) -> None:
        """Apply the events after ``done`` from states read afresh from the store."""
        rest = [(n, event) for n, event in events if n > done]
        batch = self._batch(office, States(self.backend.store(office), REBUILD_STATES), rest)
        if batch.envelopes:
            projection.handle_batch(tx, batch)

    def _one_by_one(
        self,
        tx: Tx,
        office: str,
        projection: Projection[Any],
        done: int,
        events: list[tuple[int, Any]],
    ) -> tuple[int, Failure | None]:
        """Apply the events (those after ``done``) one at a time, each in a savepoint, up to
        the first that fails: returns the position reached, and the failure."""
        states = States(self.backend.store(office), REBUILD_STATES)
        reached = done
        for position, event in events:
            try:
                with tx.savepoint():
                    if self.wanted(event):
                        envelope = Envelope(office, position, event, states.after(event))
                        projection.handle_batch(tx, Batch([envelope]))
            except Exception as e:
                if infrastructure(e):
                    raise
                return reached, Failure.on(position, event, e)
            reached = position
        return reached, None

    @staticmethod
    def _lock_office(tx: Tx, office: str) -> Tracking:
        tx.lock(office_lock(office), within=ALL_OFFICES)
        return tx.tracking(office)

    def _stop_all(
        self, tx: Tx, office: str, consumers: list[str], failure: Failure, lock: bool = True
    ) -> None:
        """An event nobody can read (it does not decode): every consumer that has not passed it
        stops there."""
        tracking = self._lock_office(tx, office) if lock else tx.tracking(office)
        for name in consumers:
            if name not in tracking.dead and tracking.positions.get(name, 0) < failure.position:
                self._dead_letter(tx, office, name, failure)

    @staticmethod
    def _dead_letter(tx: Tx, office: str, consumer: str, failure: Failure) -> None:
        tx.record_dead_letter(failure.letter(office, consumer))
        log.error(
            "consumer %s stopped for office %s at notification %d (%s of %s v%d): %r",
            consumer,
            office,
            failure.position,
            failure.topic,
            failure.originator_id,
            failure.originator_version,
            failure.error,
            exc_info=failure.error,
        )

    def wanted(self, event: Any) -> bool:
        """Whether projections apply this event; ignored events still advance tracking."""
        return True

    def _manage(
        self,
        manager: ProcessManager,
        store: TenantStore,
        office: str,
        after: int,
        events: list[tuple[int, Any]],
    ) -> None:
        """A process manager sees each record exactly as it stood after the event. Its effects
        are idempotent, so its position is advanced once per batch: a crash in between only
        repeats effects that change nothing. If it fails on an event, it stops there."""
        tracking = self.read.tracking(office)
        done = tracking.positions.get(manager.name, 0)
        last = events[-1][0]
        if manager.name in tracking.dead or not after <= done < last:
            return
        reached = done
        for position, event in events:
            if position <= done:
                continue
            try:
                if manager.concerns(event):
                    state: Aggregate = store.repository.get(
                        event.originator_id, version=event.originator_version
                    )
                    manager.handle(Envelope(office, position, event, state))
            except Exception as e:
                if infrastructure(e) or not self.isolate_failures:
                    raise
                with self.read.transaction() as tx:
                    tx.set_position(manager.name, office, reached)
                    self._dead_letter(tx, office, manager.name, Failure.on(position, event, e))
                return
            reached = position
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

        Only those projections move; other consumers keep their positions. Live consumers
        are kept out of an office from its drop to its last batch (``_rebuild_office``), then
        apply what follows. Dropping every office's rows at once takes the lock on all
        offices for that moment; a live consumer that comes before the rebuild reaches its
        office catches up from the start itself, and the rebuild then finds its positions.
        Within an office, each batch is projected here and written by the writer thread while
        the next batch is read and projected. A projection that fails on an event stops there
        (a dead letter); the others go on. The named projections' dead letters are cleared
        with their rows. Returns how many events were replayed.
        """
        chosen = [p for p in self.projections if names is None or p.name in names]
        offices = [office] if office else list(self.offices())
        applied = 0
        with self._lock, bulk():
            self._states.clear()
            if office is None:
                with self.read.transaction() as tx:
                    self._drop_all(chosen, tx)
            with Writer(self.read, retry=AT_ONCE) as writer:
                for code in offices:
                    applied += self._rebuild_office(
                        writer, chosen, code, office is not None, progress
                    )
        return applied

    def _rebuild_office(
        self,
        writer: Writer,
        chosen: list[Projection[Any]],
        office: str,
        drop: bool,
        progress: Callable[[int], None] | None,
    ) -> int:
        """One office: a first job (dropping its rows), one per batch, and a last one applying
        what was recorded meanwhile. Live consumers are kept out by the office's lock held
        across these transactions (PostgreSQL), or, where the store cannot hold a lock
        across transactions (SQLite, whose one writer lock a transaction holds), by keeping
        the office in one transaction."""
        store = self.backend.store(office)
        release = self.read.hold(office_lock(office), within=ALL_OFFICES)
        commit = release is not None  # else: one transaction, committed by the last job
        try:
            writer.submit(partial(self._start_office, chosen, office, drop), commit)
            states, position, applied = States(store, REBUILD_STATES), 0, 0
            while read := store.recorder.select_notifications(position + 1, REBUILD_BATCH):
                events, failure = self._decode(store, read)
                if events:
                    prepared = self._prepare(office, states, chosen, events)
                    job = partial(self._write_prepared, office, chosen, position, events, prepared)
                    writer.submit(job, commit)
                position = read[-1].id
                applied += len(read)
                if progress:
                    progress(len(read))
                if failure is not None:
                    names = [p.name for p in chosen]
                    stop = partial(self._stop_all, office=office, consumers=names, lock=False)
                    writer.submit(partial(stop, failure=failure), commit)
                    break
            writer.submit(partial(self._finish_office, office, chosen, position))
        finally:
            if release is not None:
                writer.finally_(release)  # once the office's last transaction has ended
        return applied

    def _prepare(
        self,
        office: str,
        states: States,
        chosen: list[Projection[Any]],
        events: list[tuple[int, Any]],
    ) -> list[Any]:
        """Each projection's rows for a batch (None: nothing to write), or what failed."""
        try:
            batch = self._batch(office, states, events)
        except Exception as e:
            states.cache.clear()
            if infrastructure(e) or not self.isolate_failures:
                raise
            return [Unprepared(e)] * len(chosen)
        prepared: list[Any] = []
        for projection in chosen:
            try:
                prepared.append(projection.prepare(batch) if batch.envelopes else None)
            except Exception as e:
                if infrastructure(e) or not self.isolate_failures:
                    raise
                prepared.append(Unprepared(e))
        return prepared

    @staticmethod
    def _drop_all(chosen: list[Projection[Any]], tx: Tx) -> None:
        """Every office's rows, with no live consumer in the middle of a transaction."""
        tx.lock(ALL_OFFICES)
        for projection in chosen:
            projection.drop(tx, None)
        names = [p.name for p in chosen]
        tx.forget_positions(names)
        tx.forget_dead_letters(names)

    @staticmethod
    def _start_office(chosen: list[Projection[Any]], office: str, drop: bool, tx: Tx) -> None:
        if drop:
            names = [p.name for p in chosen]
            for projection in chosen:
                projection.drop(tx, office)
            tx.forget_positions(names, office)
            tx.forget_dead_letters(names, office)

    def _write_prepared(
        self,
        office: str,
        chosen: list[Projection[Any]],
        after: int,
        events: list[tuple[int, Any]],
        prepared: list[Any],
        tx: Tx,
    ) -> None:
        """The writer thread's half of a rebuild batch. Positions decide, as in ``_project``:
        a projection already past the batch's start (another consumer applied part of it
        before the office was locked) applies the rest afresh from the store, since this
        thread's states have moved on; one that fails applies it event by event."""
        rows = dict(zip((p.name for p in chosen), prepared, strict=True))

        def apply(tx: Tx, projection: Projection[Any], done: int) -> None:
            if done > after:
                self._apply_afresh(office, events, tx, projection, done)
            elif isinstance(written := rows[projection.name], Unprepared):
                raise written.error
            elif written is not None:
                projection.write(tx, written)

        self._advance(tx, office, chosen, after, events, apply, guarded=True, lock=False)

    def _finish_office(
        self, office: str, chosen: list[Projection[Any]], position: int, tx: Tx
    ) -> None:
        """Still excluding live consumers: what was recorded while the office was replayed (a
        live consumer that applied it before the office was locked had its rows dropped)."""
        store = self.backend.store(office)
        while read := store.recorder.select_notifications(position + 1, BATCH):
            events, failure = self._decode(store, read)
            if events:
                afresh = partial(self._apply_afresh, office, events)
                self._advance(
                    tx, office, chosen, position, events, afresh, guarded=True, lock=False
                )
            if failure is not None:
                self._stop_all(tx, office, [p.name for p in chosen], failure, lock=False)
                return
            position = read[-1].id
