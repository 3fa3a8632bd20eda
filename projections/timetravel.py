"""Time travel: the read models as they stood at a past instant.
May import: the standard library, ``domain`` (cases, values), ``projections`` (queries,
readstore, rollup, rollup.counters, rollup.matters, runner) and ``services`` (errors, stores).

Events carry their business time (DESIGN §6.8: in the payload, not a column). Roll-ups start
from the roll-up projection's daily changes (``rollup_daily``: the counters at the end of the
day before the instant's day are a sum over it) and replay only the events of the instant's own
day up to the instant, from the stores: the cost follows that day's events, not the history.
An instant at the very end of a day needs no replay at all.

Items and trees replay the stores into a throw-away in-memory read store, each record's history
up to its first event after the instant; that replay is built only when such a query asks for
it. Nothing is written anywhere else and no process manager runs. Replays are bounded per
process by a ``ReplayGate``: beyond it, ``ReplayBusyError`` (HTTP 429 with ``Retry-After``).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from itertools import groupby
from time import monotonic
from typing import Any
from uuid import UUID

from domain.cases import Case
from domain.values import CHINA_TZ, WorkingCalendar, business_date
from projections.queries import ReadModels
from projections.readstore import ReadStore, SQLiteReadStore
from projections.rollup import (
    Counters,
    RollupProjection,
    add,
    as_rows,
    counted,
    counters_at_end_of,
    summarize_rollup,
)
from projections.rollup.counters import matter_of
from projections.rollup.matters import RecordDay, moved_since
from projections.runner import Projection, Runner
from services.errors import ServiceError
from services.stores import Backend, TenantStore

REPLAY_CHUNK = 500


class ReplayBusyError(ServiceError):
    """Too many time-travel replays are running in this process; try again shortly."""

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(
            f"too many time-travel queries at once; try again in {retry_after_seconds} s"
        )
        self.retry_after_seconds = retry_after_seconds


class ReplayGate:
    """At most ``limit`` replays at once in this process. A replay that finds the gate full
    waits up to ``wait_seconds`` for a place, then is refused with ``ReplayBusyError``, whose
    ``retry_after_seconds`` is the recent replays' mean duration (at least 1 s)."""

    def __init__(self, limit: int = 2, wait_seconds: float = 0.2) -> None:
        if limit < 1:
            raise ValueError("a replay gate needs at least one place")
        self.limit = limit
        self.wait_seconds = wait_seconds
        self._places = threading.BoundedSemaphore(limit)
        self._durations: list[float] = []
        self._lock = threading.Lock()

    @contextmanager
    def held(self) -> Iterator[None]:
        if not self._places.acquire(timeout=self.wait_seconds):
            raise ReplayBusyError(self.retry_after_seconds())
        started = monotonic()
        try:
            yield
        finally:
            self._places.release()
            with self._lock:
                self._durations = [*self._durations[-9:], monotonic() - started]

    def retry_after_seconds(self) -> int:
        with self._lock:
            recent = self._durations
            mean = sum(recent) / len(recent) if recent else 1.0
        return max(1, math.ceil(mean))


class UntilRunner(Runner):
    """A runner that stops each record's history at the first event after ``until``. A failure
    is raised, never dead-lettered: a replay into a throw-away store must not answer partially."""

    isolate_failures = False

    def __init__(self, until: datetime, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.until = until
        self.stopped: set[UUID] = set()

    def wanted(self, event: Any) -> bool:
        if event.originator_id in self.stopped or event.timestamp > self.until:
            self.stopped.add(event.originator_id)
            return False
        return True


def replayed(
    until: datetime,
    backend: Backend,
    offices: list[str],
    projections: list[Projection[Any]],
) -> ReadStore:
    """``offices``' stores replayed up to ``until`` into an in-memory read store."""
    read = SQLiteReadStore(":memory:")
    UntilRunner(until, backend, lambda: offices, read, projections, []).catch_up_all()
    return read


class ReplayedStore(ReadStore):
    """A read store replayed from the stores when first read, under the gate."""

    dialect = "sqlite"

    def __init__(self, build: Callable[[], ReadStore], gate: ReplayGate | None) -> None:
        self._build = build
        self._gate = gate
        self._built: ReadStore | None = None
        self._lock = threading.Lock()

    def built(self) -> ReadStore:
        with self._lock:
            if self._built is None:
                with self._gate.held() if self._gate else _nothing():
                    self._built = self._build()
            return self._built

    def transaction(self) -> Any:
        return self.built().transaction()

    def close(self) -> None:
        if self._built is not None:
            self._built.close()


@contextmanager
def _nothing() -> Iterator[None]:
    yield


class PastReadModels(ReadModels):
    """Read models as they stood at ``until``: roll-ups (and circulars) from the live read
    store's daily changes plus a replay of that day's events; anything else from a full
    replay, built on first use."""

    def __init__(
        self,
        until: datetime,
        backend: Backend,
        replay: ReplayedStore,
        calendar: WorkingCalendar,
        children: Callable[[str], list[tuple[str, str]]],
        live: ReadStore,
        gate: ReplayGate | None,
    ) -> None:
        super().__init__(replay, calendar, lambda: business_date(until), children)
        self.until = until
        self.backend = backend
        self.live = live
        self.gate = gate
        self.days: DayCache = {}  # each office's day replayed once, for every roll-up

    def summary(self, office: str) -> dict[str, Any]:
        with self.gate.held() if self.gate else _nothing():
            counters = rollup_counters_at(
                self.live, self.backend, office, self.until, self.calendar, self.days
            )
        return summarize_rollup(office, as_rows(counters), self.today(), self.calendar)

    def briefs(self, offices: list[str]) -> dict[str, dict[str, Any]]:
        """Each office's roll-up at ``until`` (each office's day replayed once for all)."""
        return {code: self.summary(code) for code in offices}


def as_of(
    until: datetime,
    backend: Backend,
    offices: Iterable[str],
    projections: list[Projection[Any]],
    calendar: WorkingCalendar,
    children: Callable[[str], list[tuple[str, str]]],
    live: ReadStore | None = None,
    gate: ReplayGate | None = None,
) -> ReadModels:
    """Read models of ``offices`` as they stood at ``until`` (lights judged on that day).

    With ``live`` (the platform's read store) roll-ups come from its daily changes; without
    it, from the full replay. ``gate`` bounds this process's concurrent replays."""
    codes = list(offices)
    if live is None:
        replay = ReplayedStore(lambda: replayed(until, backend, codes, projections), gate)
        return ReadModels(replay, calendar, lambda: business_date(until), children)
    items_only = [p for p in projections if not isinstance(p, RollupProjection)]
    replay = ReplayedStore(lambda: replayed(until, backend, codes, items_only), gate)
    return PastReadModels(until, backend, replay, calendar, children, live, gate)


# -- roll-ups from the daily changes ---------------------------------------------------
DayCache = dict[tuple[str, int, int], tuple[Counters, list[RecordDay]]]


def rollup_counters_at(
    live: ReadStore,
    backend: Backend,
    office: str,
    until: datetime,
    calendar: WorkingCalendar,
    cache: DayCache | None = None,
) -> Counters:
    """``office``'s roll-up counters as they stood at ``until``: those at the end of the day
    before (or of the day itself, if ``until`` is its last instant), and the changes that the
    day's events up to ``until`` made, each touched record moved from its state before the
    day to its state at ``until``, and each of their matters from its nearest record then to
    its nearest record now. What the roll-up projection has not applied yet (a consumer
    behind or stopped) is not counted, as in the live roll-up. ``cache`` keeps each office's
    replayed day for other roll-ups at the same instant (an office's children's)."""
    local = until.astimezone(CHINA_TZ)
    day = local.date()
    whole_day = local.time() == time.max
    if not whole_day and day == date.min:
        return {}  # before anything could have happened
    base = day if whole_day else day - timedelta(days=1)
    with live.transaction() as tx:
        counters = counters_at_end_of(tx, office, base)
        if whole_day:
            return counters
        spans = tx.all(
            "SELECT source, first_position, last_position FROM rollup_days "
            "WHERE office = ? AND day = ?",
            (office, day.isoformat()),
        )
    # offices whose stores are open first: on SQLite, reopening one costs more than its day
    spans.sort(key=lambda span: span["source"] not in backend.recent)
    touched: list[RecordDay] = []
    for span in spans:
        first, last = int(span["first_position"]), int(span["last_position"])
        key = (span["source"], first, last)
        if cache is None or key not in cache:
            store = backend.store(span["source"])
            replayed_day = day_changes(store, first, last, day, until, calendar)
            if cache is None:
                cache = {}
            cache[key] = replayed_day
        changes, now = cache[key]
        add(counters, changes)
        touched.extend(now)
    if touched:
        with live.transaction() as tx:
            add(counters, moved_since(tx, office, base.isoformat(), touched))
    return counters


def day_changes(
    store: TenantStore, first: int, last: int, day: date, until: datetime, calendar: WorkingCalendar
) -> tuple[Counters, list[RecordDay]]:
    """What the events of ``day`` up to ``until`` between positions ``first`` and ``last``
    changed: for each record they touch, its contribution at ``until`` less the one before
    its first event that day (its state there loaded from the store); and those records as
    they stood at ``until`` (chain and since left for the matters to fill in)."""
    changes: Counters = {}
    touched: list[RecordDay] = []
    for record, events in groupby(sorted(day_events(store, first, last, day), key=_order), _id):
        history = list(events)
        if history[0].timestamp > until:
            continue  # nothing of it happened yet at ``until``
        state = state_before(store, record, history[0].originator_version)
        add(changes, counted(state, calendar), -1)
        for event in history:
            if event.timestamp > until or event.originator_version != _version(state) + 1:
                break
            state = event.mutate(state)
        now = counted(state, calendar)
        add(changes, now)
        if isinstance(state, Case):
            matter = "/".join(matter_of(state))
            iso = day.isoformat()
            touched.append(RecordDay(matter, state.office, str(record), iso, "", "", now))
    return changes, touched


def state_before(store: TenantStore, record: UUID, version: int) -> Any:
    """The record as it stood before ``version`` (None before its first event), folded from
    its earlier events (``repository.get`` does the same, with a slower protocol check)."""
    state = None
    event: Any
    for event in store.repository.event_store.get(record, lte=version - 1):
        state = event.mutate(state)
    return state


def day_events(store: TenantStore, first: int, last: int, day: date) -> Iterator[Any]:
    """The events recorded on ``day`` between positions ``first`` and ``last``."""
    position = first
    while position <= last:
        read = store.recorder.select_notifications(position, REPLAY_CHUNK, stop=last)
        if not read:
            return
        for notification in read:
            event: Any = store.mapper.to_domain_event(notification)
            if business_date(event.timestamp) == day:
                yield event
        position = read[-1].id + 1


def _order(event: Any) -> tuple[str, int]:
    return str(event.originator_id), event.originator_version


def _id(event: Any) -> UUID:
    return event.originator_id  # type: ignore[no-any-return]


def _version(state: Any) -> int:
    return 0 if state is None else int(state.version)
