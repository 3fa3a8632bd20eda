"""The roll-up's layout answers as a recomputation from the events would (issue 15 §5).

The roll-up keeps counters in a compact layout (each office's roll-up, and its changes per
day; matter counters stored less the records', written once per transaction in a rebuild).
Whatever that layout, every answer must equal the straightforward computation: replay each
record's events up to the end of a day, count every record of the subtree, and each matter
once with its record nearest to the office. This test computes that from the stores alone,
knowing nothing of the roll-up's tables, for random histories on both backends, and compares
the live roll-up, the roll-up at the end of every day and the day-by-day changes, built
incrementally and again by a rebuild.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
from hypothesis import HealthCheck, given, settings

from domain.cases import Case
from domain.values import business_date
from projections import runner
from projections.rollup import (
    Counters,
    add,
    contribution,
    counters_at_end_of,
    stored,
    with_matters,
)
from projections.runner import rebuild as rebuilding
from services.bootstrap import Platform, Settings, build_platform
from tests.conftest import FixedClock, fresh_database
from tests.projections.test_golden_rebuild import OFFICES, attempt, steps
from tests.scenario import build_hierarchy

History = dict[tuple[str, str], list[Any]]
"""(office, record id) → the record's events, in order."""


def histories(p: Platform) -> History:
    found: History = {}
    for office in OFFICES:
        store = p.backend.store(office)
        for n in store.recorder.select_notifications(1, 100_000):
            event = store.mapper.to_domain_event(n)
            found.setdefault((office, str(event.originator_id)), []).append(event)
    return found


def state_at_end_of(events: list[Any], day: date | None) -> Case | None:
    """The record after its events up to the end of ``day`` (China time; None: all)."""
    state: Any = None
    for event in events:
        if day is not None and business_date(event.timestamp) > day:
            break
        state = event.mutate(state)
    return state if isinstance(state, Case) else None


def chain(p: Platform, office: str) -> list[str]:
    """The office and its ancestors, the office first."""
    return [office, *p.registry.ancestor_codes(office)]


def recomputed(p: Platform, history: History, target: str, day: date | None) -> Counters:
    """``target``'s roll-up at the end of ``day``, from the events alone: every record of its
    subtree, and each matter once with the record nearest to ``target`` (fewest levels down,
    then the earlier, then office code, then id), matters' counters prefixed ``m.``."""
    total: Counters = {}
    nearest: dict[tuple[str, str], tuple[tuple[int, str, str, str], Counters]] = {}
    for (office, record), events in history.items():
        offices = chain(p, office)
        if target not in offices:
            continue
        state = state_at_end_of(events, day)
        if state is None:
            continue
        counters = contribution(state, p.calendar)
        add(total, counters)
        rank = (offices.index(target), state.created_on.isoformat(), office, record)
        if state.root not in nearest or rank < nearest[state.root][0]:
            nearest[state.root] = (rank, counters)
    for _, counters in nearest.values():
        add(total, {f"m.{key}": value for key, value in counters.items()})
    return {key: value for key, value in total.items() if value}


def days_of(history: History) -> Iterator[date]:
    times = [event.timestamp for events in history.values() for event in events]
    day = business_date(min(times)) - timedelta(days=1)
    while day <= business_date(max(times)) + timedelta(days=1):
        yield day
        day += timedelta(days=1)


def check_against_events(p: Platform) -> None:
    history = histories(p)
    days = list(days_of(history))
    for target in OFFICES:
        expected = recomputed(p, history, target, None)
        rows = p.read.all("SELECT metric, key, value FROM rollup WHERE office = ?", (target,))
        assert with_matters(stored(rows)) == expected, target
        with p.read.transaction() as tx:
            assert counters_at_end_of(tx, target, days[-1]) == expected, target
            before: Counters = {}
            for day in days:
                at_end = counters_at_end_of(tx, target, day)
                assert at_end == recomputed(p, history, target, day), (target, day)
                change = dict(at_end)
                add(change, before, -1)
                shown = p.views.rollup_changes(target, day, day).get(day.isoformat(), {})
                assert shown == {k: v for k, v in change.items() if v}, (target, day)
                before = at_end
        live = p.views.summary(target)
        assert live["matters"]["total"] == expected.get("m.total|all", 0)
        assert live["records"]["total"] == expected.get("total|all", 0)


def check(settings_: Settings, scenario: list[tuple[str, int, int, int]]) -> None:
    clock = FixedClock("2026-03-02")
    p = build_platform(settings_, clock=clock)
    try:
        build_hierarchy(p)
        for step in [("register", 0, 0, 0), ("assign", 0, 1, 0), *scenario]:
            clock.now += timedelta(minutes=7)
            attempt(p, clock, *step)
        check_against_events(p)
        p.runner.rebuild()  # offices grouped into transactions, counters written once each
        check_against_events(p)
        with (
            patch.multiple(runner, REBUILD_BATCH=3, REBUILD_STATES=2),
            patch.multiple(rebuilding, GROUP_EVENTS=4, GROUP_OFFICES=2),
        ):
            p.runner.rebuild()
        check_against_events(p)
        p.runner.rebuild(["rollup"], office="gansu")  # one office taken out and put back
        check_against_events(p)
    finally:
        p.close()


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=steps)
def test_the_roll_up_equals_a_recomputation_from_the_events_on_sqlite(
    scenario: list[tuple[str, int, int, int]],
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        check(Settings(data_dir=Path(tmp) / "var"), scenario)


@pytest.mark.postgres
def test_the_roll_up_equals_a_recomputation_from_the_events_on_postgres(
    pg_server_url: str,
) -> None:
    @settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(scenario=steps)
    def run(scenario: list[tuple[str, int, int, int]]) -> None:
        with fresh_database(pg_server_url, "r") as url:
            check(Settings(database_url=url), scenario)

    run()
