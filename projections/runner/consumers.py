"""The consumers of one office's log and the exactly-once step that moves them (``Consumers``,
the base of ``Runner``): a batch of decoded events applied to every projection, rows and
positions in one transaction under the office's lock, and to every process manager; a
consumer that fails on an event stops there (its dead letter) and the others go on. May
import: the standard library, ``eventsourcing``, ``projections.readstore``, the other modules
of ``projections.runner`` and, for the stores it reads, ``services.stores``.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from typing import Any

from eventsourcing.persistence import Notification

import projections.runner as tuning
from projections.readstore import ReadStore, Tracking, Tx
from projections.readstore.base import add_column_sql
from projections.runner.contract import (
    Batch,
    Decoded,
    Envelope,
    ProcessManager,
    Projection,
    body_of,
)
from projections.runner.failures import Failure, infrastructure
from projections.runner.states import States
from services.stores import Backend, TenantStore

log = logging.getLogger("projections.runner")

ALL_OFFICES = "projections"
"""The lock every transaction moving projections holds shared, and dropping all rows alone."""

VERSIONS_SQL = "SELECT consumer, version FROM read_models"
CLAIM_SQL = (
    "INSERT INTO read_models (consumer, version) VALUES (?, ?) ON CONFLICT (consumer) DO NOTHING"
)
BUILT_SQL = "SELECT 1 AS one FROM tracking WHERE consumer = ? LIMIT 1"
SET_VERSION_SQL = (
    "INSERT INTO read_models (consumer, version) VALUES (?, ?) "
    "ON CONFLICT (consumer) DO UPDATE SET version = excluded.version"
)


def office_lock(office: str) -> str:
    return f"{ALL_OFFICES}:{office}"


class Consumers:
    """Every consumer (projections, then process managers) and the step that applies one
    office's batch to them exactly once."""

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
        self._for_managers: OrderedDict[str, States] = OrderedDict()
        self._draining = False
        versions = self._claim_versions()
        for projection in projections:
            if versions[projection.name] != projection.version:  # shown to the gate (migrate
                read.wanted(  # records it), not run: it may not fit the other version's tables
                    [s for s in projection.ddl.split(";") if s.strip()]
                    + [add_column_sql(*added) for added in projection.added_columns]
                )
                continue
            read.ensure(projection.ddl)
            for table, column, definition in projection.added_columns:
                read.add_columns(table, [(column, definition)])

    def _claim_versions(self) -> dict[str, int]:
        """Which version built each projection's rows, saying so where nobody has yet: this
        one's for rows not built yet, version 1 for rows built before versions were kept. A
        projection whose rows another version built is left alone (``other_version``), its
        DDL not run, and said once."""
        with self.read.transaction() as tx:
            known = {r["consumer"]: int(r["version"]) for r in tx.all(VERSIONS_SQL)}
            for p in self.projections:
                if p.name not in known:
                    built = tx.all(BUILT_SQL, [p.name])
                    known[p.name] = 1 if built else p.version
                    tx.execute(CLAIM_SQL, (p.name, known[p.name]))
        for p in self.projections:
            if known[p.name] != p.version:
                log.warning(
                    "projection %s: the read store holds version %d, this process runs %d: it "
                    "leaves %s alone (%s)",
                    p.name,
                    known[p.name],
                    p.version,
                    p.name,
                    "run 'ducha projections upgrade'"
                    if known[p.name] < p.version
                    else "upgrade this process",
                )
        return known

    def other_version(self, versions: dict[str, int]) -> set[str]:
        """The projections whose rows another version of them built (absent: version 1)."""
        return {p.name for p in self.projections if versions.get(p.name, 1) != p.version}

    def stored_versions(self) -> dict[str, int]:
        """Which version built each projection's rows (absent: version 1)."""
        return {r["consumer"]: int(r["version"]) for r in self.read.all(VERSIONS_SQL)}

    @property
    def consumers(self) -> list[str]:
        return [p.name for p in self.projections] + [m.name for m in self.managers]

    def wanted(self, event: Any) -> bool:
        """Whether projections apply this event; ignored events still advance tracking."""
        return True

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

    def _decode(
        self, store: TenantStore, notifications: Sequence[Notification]
    ) -> tuple[list[tuple[int, Any]], Failure | None]:
        """The events, up to one that cannot be decoded (returned as the failure), each with
        its body as stored (``Decoded``)."""
        mapper = store.mapper
        try:
            decoded = [Decoded(n.id, mapper.to_domain_event(n), n.state) for n in notifications]
            return list(decoded), None
        except Exception as e:
            if infrastructure(e) or not self.isolate_failures:
                raise
        events: list[tuple[int, Any]] = []
        for n in notifications:
            try:
                events.append(Decoded(n.id, mapper.to_domain_event(n), n.state))
            except Exception as e:
                return events, Failure(n.id, n.topic, n.originator_id, n.originator_version, e)
        return events, None

    def _batch(self, office: str, states: States, events: list[tuple[int, Any]]) -> Batch:
        return Batch(
            [
                Envelope(office, item[0], item[1], states.after(item[1]), body_of(item))
                for item in events
                if self.wanted(item[1])  # before the state moves on: time travel stops here
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
            if tracking.version(name) != projection.version:
                continue  # its rows are another version's (see _claim_versions)
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
                rest = [item for item in events if item[0] > done]
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
        rest = [item for item in events if item[0] > done]
        batch = self._batch(office, States(self.backend.store(office), tuning.REBUILD_STATES), rest)
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
        states = States(self.backend.store(office), tuning.REBUILD_STATES)
        reached = done
        for item in events:
            position, event = item
            try:
                with tx.savepoint():
                    if self.wanted(event):
                        state = states.after(event)
                        envelope = Envelope(office, position, event, state, body_of(item))
                        projection.handle_batch(tx, Batch([envelope]))
            except Exception as e:
                if infrastructure(e):
                    raise
                return reached, Failure.on(position, event, e)
            reached = position
        return reached, None

    def _manager_states(self, office: str, store: TenantStore) -> States:
        """The states process managers see, kept apart from the projections' (which a batch
        has already moved to its end): stepped through each batch in order, so that a
        manager is handed each record exactly as it stood after the event, without reading
        its history again (a recently used office's records stay known between batches)."""
        states = self._for_managers.get(office)
        if states is None or states.store is not store:
            states = self._for_managers[office] = States(store, tuning.PUMP_STATES_PER_OFFICE)
        self._for_managers.move_to_end(office)
        while len(self._for_managers) > tuning.PUMP_OFFICES_KEPT:
            self._for_managers.popitem(last=False)
        return states

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
        states = self._manager_states(office, store)
        for position, event in events:
            if position <= done:
                continue
            try:
                state = states.after(event)  # every event, so that each state steps on cheaply
                if manager.concerns(event):
                    manager.handle(Envelope(office, position, event, state))
            except Exception as e:
                states.cache.clear()
                if infrastructure(e) or not self.isolate_failures:
                    raise
                with self.read.transaction() as tx:
                    tx.set_position(manager.name, office, reached)
                    self._dead_letter(tx, office, manager.name, Failure.on(position, event, e))
                return
            reached = position
        with self.read.transaction() as tx:
            tx.set_position(manager.name, office, last)
