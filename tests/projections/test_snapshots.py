"""Daily roll-up changes and time travel from them (issue 10 §6).

The roll-up projection keeps what each counter changed by per China business day
(``rollup_daily``) and where each day's events lie (``rollup_days``). Built incrementally they
equal a rebuild in any batching; a time-travel roll-up from them equals the full replay of the
stores while reading only the events of its own day; and a process runs only a few replays at
once.
"""

from __future__ import annotations

import tempfile
import threading
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
from hypothesis import HealthCheck, given, settings

from domain.values import CHINA_TZ
from projections import runner
from projections.timetravel import ReplayBusyError, ReplayGate, as_of
from services.bootstrap import Platform, Settings, build_platform, projections
from tests.conftest import FixedClock, fresh_database
from tests.projections.test_golden_rebuild import OFFICES, attempt, dump, steps
from tests.scenario import build_hierarchy, new_item, person

DAILY_TABLES = {
    "rollup_daily": "SELECT * FROM rollup_daily WHERE value <> 0 ORDER BY office, day, metric, key",
    "rollup_days": "SELECT * FROM rollup_days ORDER BY office, day, source",
}


def dump_all(p: Platform) -> dict[str, list[tuple[Any, ...]]]:
    tables = dump(p)
    for name, sql in DAILY_TABLES.items():
        tables[name] = [tuple(r.values()) for r in p.read.all(sql)]
    return tables


def check_sums(p: Platform) -> None:
    """Each office's daily changes add up to its roll-up."""
    summed = p.read.all(
        "SELECT office, metric, key, SUM(value) AS value FROM rollup_daily "
        "GROUP BY office, metric, key"
    )
    current = p.read.all("SELECT office, metric, key, value FROM rollup")
    assert {
        (r["office"], r["metric"], r["key"], int(r["value"])) for r in summed if r["value"]
    } == {(r["office"], r["metric"], r["key"], int(r["value"])) for r in current if r["value"]}


def full_replay(p: Platform, until: datetime, office: str) -> dict[str, Any]:
    """The roll-up as time travel computed it before the daily changes: every store of the
    subtree replayed up to ``until``."""
    offices = [office, *[o.code for o in p.registry.descendants(office)]]
    past = as_of(
        until,
        p.backend,
        offices,
        projections(p.registry, p.calendar),
        p.calendar,
        p.views.children,
    )
    return past.rollup(office)


def from_snapshots(p: Platform, until: datetime, office: str) -> dict[str, Any]:
    offices = [office, *[o.code for o in p.registry.descendants(office)]]
    return p.as_of(until, offices).rollup(office)


def instants(p: Platform) -> list[datetime]:
    """Around the scenario's events: at some of them and a microsecond before, the start and
    the very end of each day, and before and after everything."""
    times = sorted(
        {datetime.fromisoformat(r["time"]) for r in p.read.all("SELECT time FROM audit")}
    )
    picked = times[:: max(1, len(times) // 6)]
    chosen = {t for at in picked for t in (at, at - timedelta(microseconds=1))}
    first, last = times[0].astimezone(CHINA_TZ).date(), times[-1].astimezone(CHINA_TZ).date()
    day = first - timedelta(days=1)
    while day <= last:
        chosen.add(datetime.combine(day, time.max, tzinfo=CHINA_TZ))
        chosen.add(datetime.combine(day, time(0), tzinfo=CHINA_TZ))
        day += timedelta(days=1)
    return sorted(chosen)


def check(settings_: Settings, scenario: list[tuple[str, int, int, int]]) -> None:
    clock = FixedClock("2026-03-02")
    p = build_platform(settings_, clock=clock)
    try:
        build_hierarchy(p)
        for step in [("register", 0, 0, 0), *scenario]:
            clock.now += timedelta(minutes=7)  # events at different times of a day
            attempt(p, clock, *step)
        incremental = dump_all(p)
        assert incremental["rollup_daily"]
        check_sums(p)
        p.runner.rebuild()
        assert dump_all(p) == incremental
        with patch.multiple(runner, REBUILD_BATCH=3, REBUILD_STATES=2):
            p.runner.rebuild()
        assert dump_all(p) == incremental
        for office in OFFICES:  # one office's part taken out and put back
            p.runner.rebuild(["rollup"], office=office)
            assert dump_all(p) == incremental
        for until in instants(p):
            for office in ("state-council", "gansu"):
                assert from_snapshots(p, until, office) == full_replay(p, until, office), until
    finally:
        p.close()


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=steps)
def test_daily_changes_equal_a_rebuild_and_time_travel_on_sqlite(
    scenario: list[tuple[str, int, int, int]],
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        check(Settings(data_dir=Path(tmp) / "var"), scenario)


@pytest.mark.postgres
def test_daily_changes_equal_a_rebuild_and_time_travel_on_postgres(pg_server_url: str) -> None:
    @settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(scenario=steps)
    def run(scenario: list[tuple[str, int, int, int]]) -> None:
        with fresh_database(pg_server_url, "s") as url:
            check(Settings(database_url=url), scenario)

    run()


def test_a_catch_up_spanning_days_splits_each_record_by_day(settings: Settings) -> None:
    """Commands recorded over several days while no consumer ran reach the projection in one
    batch; each record's change still lands on the day it happened."""
    clock = FixedClock("2026-03-02")
    p = build_platform(settings, clock=clock)
    try:
        build_hierarchy(p)
        p.supervision.listeners.clear()  # nothing projects until the catch-up
        s, clerk = p.supervision, person("gansu")
        item = s.register_item(clerk, "gansu", new_item())
        clock.set("2026-03-03")
        s.act(clerk, "gansu", item.id, "acknowledge")
        clock.set("2026-03-05")
        s.act(clerk, "gansu", item.id, "report-completion", text="完成")
        p.runner.catch_up_all()
        both = p.views.rollup_changes("state-council", date(2026, 3, 1), date(2026, 3, 31))
        changes = {
            d: {k: v for k, v in c.items() if not k.startswith("m.")} for d, c in both.items()
        }
        # one item, its own matter: the matter's changes are the record's, on the same days
        assert {
            d: {k[2:]: v for k, v in c.items() if k.startswith("m.")} for d, c in both.items()
        } == changes
        assert changes == {
            "2026-03-02": {
                "due|2026-04-14": 1,
                "due_month|2026-04": 1,
                "kind|item": 1,
                "month|2026-03": 1,
                "source_kind|instruction": 1,
                "status|registered": 1,
                "total|all": 1,
            },
            "2026-03-03": {"status|acknowledged": 1, "status|registered": -1},
            "2026-03-05": {
                "due|2026-04-14": -1,  # reported complete: no longer due
                "due_month|2026-04": -1,
                "status|acknowledged": -1,
                "status|completion_reported": 1,
            },
        }
        on_4th = p.views.rollup_at_end_of("state-council", date(2026, 3, 4))
        assert on_4th["records"]["by_status"] == {"acknowledged": 1}
        assert on_4th["on"] == "2026-03-04"
    finally:
        p.close()


def test_time_travel_reads_only_the_events_of_its_day(sqlite_settings: Settings) -> None:
    """Failed before: an as-of roll-up replayed every event of every office of the subtree."""
    clock = FixedClock("2026-03-02")
    p = build_platform(sqlite_settings, clock=clock)
    try:
        build_hierarchy(p)
        s = p.supervision
        for office in ("gansu", "sichuan", "baiyin", "pingchuan"):
            for n in range(10):  # a long history before the day travelled to
                item = s.register_item(person(office), office, new_item(f"事项{n}"))
                s.act(person(office), office, item.id, "acknowledge")
        clock.set("2026-03-10")
        today = s.register_item(person("baiyin"), "baiyin", new_item("今天的事项"))
        s.act(person("baiyin"), "baiyin", today.id, "acknowledge")
        read: list[int] = []
        for office in OFFICES:
            recorder = p.backend.store(office).recorder
            original = recorder.select_notifications

            def counted(*args: Any, _original: Any = original, **kwargs: Any) -> Any:
                found = _original(*args, **kwargs)
                read.append(len(found))
                return found

            recorder.select_notifications = counted  # type: ignore[method-assign]
        until = datetime(2026, 3, 10, 12, 30, tzinfo=CHINA_TZ)
        past = from_snapshots(p, until, "state-council")
        assert sum(read) == 2  # the day's two events, nothing of the 80 before
        assert past["records"]["total"] == 41
        assert past["records"]["by_status"] == {"acknowledged": 41}
        assert (
            from_snapshots(p, datetime(2026, 3, 9, 23, 0, tzinfo=CHINA_TZ), "state-council")[
                "records"
            ]["total"]
            == 40
        )
        assert sum(read) == 2  # a day with no events: the snapshot alone
    finally:
        p.close()


def test_replays_are_bounded_per_process() -> None:
    gate = ReplayGate(limit=2, wait_seconds=0.05)
    inside, leave = threading.Barrier(3), threading.Event()

    def replay() -> None:
        with gate.held():
            inside.wait(5)
            leave.wait(5)

    threads = [threading.Thread(target=replay) for _ in range(2)]
    for t in threads:
        t.start()
    inside.wait(5)
    with pytest.raises(ReplayBusyError) as refused, gate.held():
        pass
    assert refused.value.retry_after_seconds >= 1
    leave.set()
    for t in threads:
        t.join(5)
    with gate.held():  # free again
        pass


def test_a_busy_gate_refuses_time_travel_roll_ups(ducha: Platform) -> None:
    ducha.supervision.register_item(person("gansu"), "gansu", new_item())
    offices = [o.code for o in ducha.registry.all()]
    until = datetime(2026, 3, 2, 13, tzinfo=CHINA_TZ)
    assert ducha.as_of(until, offices).rollup("state-council")["records"]["total"] == 1
    ducha.replays = ReplayGate(limit=1, wait_seconds=0.01)
    with ducha.replays.held(), pytest.raises(ReplayBusyError):
        ducha.as_of(until, offices).rollup("state-council")
    with ducha.replays.held(), pytest.raises(ReplayBusyError):
        ducha.as_of(until, offices).item("gansu", "x")  # the full replay is gated too
