"""The ``Runner``: brings every consumer up to date with the offices' notification logs, after
each command (``notify``, the embedded pump), on start (``catch_up_all``), from a Kafka worker
(``deliver``), and for operators (``status``, ``retry``; ``rebuild`` it inherits). May import:
the standard library, ``eventsourcing.persistence``, ``projections.readstore``, the other
modules of ``projections.runner`` and ``services.stores``.
"""

from __future__ import annotations

import logging
import time

from eventsourcing.persistence import Notification

import projections.runner as tuning
from projections.readstore import DeadLetter
from projections.runner.failures import AT_ONCE, ConsumerStatus, infrastructure
from projections.runner.rebuild import Rebuilding
from projections.runner.states import States
from services.stores import TenantStore

log = logging.getLogger("projections.runner")

FEW_OFFICES = 100
"""Up to this many offices' positions are read by name; more, all at once."""


class Runner(Rebuilding):
    """Brings every consumer up to date with the offices' notification logs."""

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
        """Apply whatever was recorded while no consumer ran (``ducha serve`` does it as it
        starts, in the background, and ``ducha projections catch-up`` on demand). One look at
        every office's last id tells which are behind; one office's failure is logged and
        the others go on."""
        return self.catch_up_offices(list(self.offices()))

    def catch_up_offices(self, offices: list[str]) -> int:
        """Catch up those of ``offices`` where a consumer is behind. The look is taken before
        the pump's lock, so that commands of this process are not kept waiting meanwhile."""
        behind = self._behind(offices)
        if not behind:
            return 0
        with self._lock:
            self._dirty.update(behind)
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
        return list(self.lagging(offices))

    def lagging(self, offices: list[str]) -> dict[str, tuple[int, int]]:
        """Of ``offices``, those where a consumer that is not stopped has something to apply:
        the position of the furthest behind, and the office's last notification id."""
        if not offices:
            return {}
        last = self._last_ids(offices)
        positions, dead = self._everywhere(offices if len(offices) <= FEW_OFFICES else None)
        idle = self.other_version(self.stored_versions())
        running = [n for n in self.consumers if n not in idle]
        found = {}
        for o in offices:
            live = [positions.get((o, n), 0) for n in running if (o, n) not in dead]
            if live and min(live) < last.get(o, 0):
                found[o] = (min(live), last[o])
        return found

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
        self, offices: str | list[str] | None = None
    ) -> tuple[dict[tuple[str, str], int], dict[tuple[str, str], DeadLetter]]:
        """Every (office, consumer)'s position, and the dead letters stopping them: of one
        office, of a few, or of all."""
        chosen = [offices] if isinstance(offices, str) else offices
        if chosen == []:
            return {}, {}
        where, params = "", []
        if chosen is not None:
            where, params = f" WHERE office IN ({', '.join('?' * len(chosen))})", chosen
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
                    self._for_managers.pop(code, None)
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
            batch := store.recorder.select_notifications(done + 1, tuning.BATCH)
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

    def _recent_states(self, office: str, store: TenantStore) -> States:
        states = self._states.get(office)
        if states is None or states.store is not store:
            states = self._states[office] = States(store, size=tuning.PUMP_STATES_PER_OFFICE)
        self._states.move_to_end(office)
        while len(self._states) > tuning.PUMP_OFFICES_KEPT:
            self._states.popitem(last=False)
        return states

    def _done(self, office: str) -> int | None:
        """The last notification id every consumer of ``office`` has applied, leaving out
        those stopped at a dead letter and projections another version built (None if all
        are)."""
        tracking = self.read.tracking(office)
        idle = tracking.dead | self.other_version(tracking.versions)
        live = [tracking.positions.get(n, 0) for n in self.consumers if n not in idle]
        return min(live) if live else None
