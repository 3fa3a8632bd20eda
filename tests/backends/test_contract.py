"""One contract, run against every backend: SQLite files and real PostgreSQL schemas."""

from __future__ import annotations

import multiprocessing
from datetime import datetime
from typing import Any
from uuid import uuid4

import pytest

from services.bootstrap import Platform, Settings, build_platform
from services.errors import ConflictError, NotFoundError
from tests.conftest import FixedClock
from tests.scenario import ADMIN, build_hierarchy, new_item, person


def test_offices_have_their_own_stores_and_the_hierarchy_answers(platform: Platform) -> None:
    build_hierarchy(platform)
    registry = platform.registry
    assert [o.code for o in registry.children("state-council")] == ["gansu", "sichuan"]
    assert [o.code for o in registry.ancestors("pingchuan")] == ["baiyin", "gansu", "state-council"]
    assert [o.code for o in registry.descendants("gansu")] == ["baiyin", "pingchuan"]
    assert all(platform.backend.is_provisioned(o.code) for o in registry.all())
    assert not platform.backend.is_provisioned("unregistered")


def test_the_same_item_id_in_two_offices_never_mixes(platform: Platform) -> None:
    build_hierarchy(platform)
    shared = uuid4()
    service = platform.supervision
    service.register_item(person("gansu"), "gansu", new_item("甘肃的事项"), shared)
    service.register_item(person("sichuan"), "sichuan", new_item("四川的事项"), shared)
    service.act(person("gansu"), "gansu", str(shared), "acknowledge")

    assert service.get("gansu", str(shared)).title == "甘肃的事项"
    assert service.get("sichuan", str(shared)).title == "四川的事项"
    assert [e.type for e in service.history("gansu", str(shared))] == [
        "Registered",
        "Acknowledged",
    ]
    assert [e.type for e in service.history("sichuan", str(shared))] == ["Registered"]
    for office, title in (("gansu", "甘肃的事项"), ("sichuan", "四川的事项")):
        log = platform.backend.store(office).recorder.select_notifications(1, 100)
        assert {n.originator_id for n in log} == {shared}
        assert [c.title for c in service.list_cases(office)] == [title]
    with pytest.raises(NotFoundError):
        service.get("baiyin", str(shared))


def test_a_stale_expected_version_is_a_conflict_and_records_nothing(platform: Platform) -> None:
    build_hierarchy(platform)
    item = platform.supervision.register_item(person("gansu"), "gansu", new_item())
    with pytest.raises(ConflictError, match="version 1, not 0"):
        platform.supervision.act(person("gansu"), "gansu", item.id, "acknowledge", 0)
    assert platform.supervision.get("gansu", item.id).version == 1


def test_stores_survive_a_restart_and_other_processes_see_new_offices(
    settings: Settings,
) -> None:
    first = build_platform(settings, clock=FixedClock())
    second = build_platform(settings, clock=FixedClock())
    try:
        build_hierarchy(first)
        item = first.supervision.register_item(person("baiyin"), "baiyin", new_item())
        assert second.registry.get("baiyin").name == "白银市人民政府办公室"
        assert second.supervision.get("baiyin", item.id).title == item.title
    finally:
        first.close()
        second.close()
    again = build_platform(settings, clock=FixedClock())
    try:
        assert len(again.registry.all()) == 5
        assert again.supervision.get("baiyin", item.id).version == 1
    finally:
        again.close()


class BarrierClock:
    """Holds every writer at the barrier after it has loaded the item and before it saves."""

    def __init__(self, barrier: Any) -> None:
        self.barrier = barrier
        self.inner = FixedClock()

    def __call__(self) -> datetime:
        if self.barrier is not None:
            barrier, self.barrier = self.barrier, None
            barrier.wait(timeout=60)
        return self.inner()


def writer(settings: Settings, item_id: str, reports: int, barrier: Any, results: Any) -> None:
    """A separate process reporting progress; it retries on conflict, as a client would."""
    clock = BarrierClock(barrier)
    platform = build_platform(settings, clock=clock)
    conflicts = 0
    try:
        for n in range(reports):
            while True:
                try:
                    platform.supervision.act(
                        person("gansu"),
                        "gansu",
                        item_id,
                        "report-progress",
                        text=f"r{n}",
                        percent=n,
                    )
                    break
                except ConflictError:
                    conflicts += 1
        results.put(("ok", conflicts))
    except Exception as e:  # reported to the test, which fails on it
        results.put(("error", repr(e)))
    finally:
        platform.close()


def run_writers(settings: Settings, item_id: str, writers: int, reports: int) -> list[Any]:
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(writers), ctx.Queue()
    procs = [
        ctx.Process(target=writer, args=(settings, item_id, reports, barrier, results))
        for _ in range(writers)
    ]
    for p in procs:
        p.start()
    outcomes = [results.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    return outcomes


def test_concurrent_writers_conflict_and_lose_no_event(settings: Settings) -> None:
    platform = build_platform(settings, clock=FixedClock())
    try:
        build_hierarchy(platform)
        item = platform.supervision.register_item(person("gansu"), "gansu", new_item())
        platform.supervision.act(person("gansu"), "gansu", item.id, "acknowledge")
    finally:
        platform.close()

    outcomes = run_writers(settings, item.id, writers=3, reports=5)

    assert [o[0] for o in outcomes] == ["ok"] * 3, outcomes
    # All three loaded version 2 and met at the barrier: two of them lost the first race.
    assert sum(conflicts for _, conflicts in outcomes) >= 2
    platform = build_platform(settings, clock=FixedClock())
    try:
        history = platform.supervision.history("gansu", item.id)
    finally:
        platform.close()
    assert [e.version for e in history] == list(range(1, 2 + 15 + 1))  # contiguous, none lost
    assert sum(e.type == "ProgressReported" for e in history) == 15


@pytest.mark.postgres
def test_thousands_of_offices_share_one_small_pool(pg_url: str, tmp_path: Any) -> None:
    platform = build_platform(Settings(database_url=pg_url), clock=FixedClock())
    try:
        platform.registry.register(ADMIN, "root", "国务院办公厅", "central")
        for n in range(40):
            code = f"county-{n}"
            platform.registry.register(ADMIN, code, f"省{n}", "province", "root")
            platform.supervision.register_item(person(code), code, new_item())
        stats = platform.backend.pool.get_stats()  # type: ignore[attr-defined]
        assert stats["pool_size"] <= 10
        assert sum(len(platform.supervision.list_cases(f"county-{n}")) for n in range(40)) == 40
    finally:
        platform.close()


class Interloper:
    """A clock that lets another writer commit between our load and our save."""

    def __init__(self) -> None:
        self.interrupt: Any = None
        self.inner = FixedClock()

    def __call__(self) -> datetime:
        if self.interrupt is not None:
            interrupt, self.interrupt = self.interrupt, None
            interrupt()
        return self.inner()


def test_a_lost_race_leaves_no_trace_in_the_losers_cache(settings: Settings) -> None:
    clock = Interloper()
    loser = build_platform(settings, clock=clock)
    winner = build_platform(settings, clock=FixedClock())
    try:
        build_hierarchy(loser)
        item = loser.supervision.register_item(person("gansu"), "gansu", new_item())
        loser.supervision.act(person("gansu"), "gansu", item.id, "acknowledge")
        clock.interrupt = lambda: winner.supervision.act(
            person("gansu"), "gansu", item.id, "report-progress", text="胜者", percent=20
        )
        with pytest.raises(ConflictError):
            loser.supervision.act(
                person("gansu"), "gansu", item.id, "report-progress", text="败者", percent=90
            )
        seen = loser.supervision.get("gansu", item.id)
        assert (seen.version, seen.last_report, seen.progress_percent) == (3, "胜者", 20)
        again = loser.supervision.act(
            person("gansu"), "gansu", item.id, "report-progress", text="重试", percent=95
        )
        assert again.version == 4
        assert [e.data.get("text") for e in winner.supervision.history("gansu", item.id)][2:] == [
            "胜者",
            "重试",
        ]
    finally:
        loser.close()
        winner.close()


def test_last_ids_tell_each_office_s_high_water_mark_at_once(platform: Platform) -> None:
    build_hierarchy(platform)
    platform.supervision.register_item(person("gansu"), "gansu", new_item())
    item = platform.supervision.register_item(person("sichuan"), "sichuan", new_item())
    platform.supervision.act(person("sichuan"), "sichuan", item.id, "acknowledge")
    codes = [o.code for o in platform.registry.all()]
    last = platform.backend.last_ids(codes)
    assert last == {
        code: platform.backend.store(code).recorder.max_notification_id() or 0 for code in codes
    }
    assert (last["gansu"], last["sichuan"], last["pingchuan"]) == (1, 2, 0)
