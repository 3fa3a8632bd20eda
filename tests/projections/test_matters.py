"""Roll-ups count each matter once (issue 11 §1).

A matter is a root item and everything assigned from it; an office's roll-up counts each
matter with a record in its subtree once, with the status and light of its record nearest to
the office, beside every record (``records``) and each child office's subtree (``by_office``).
The on-time rate is on-time completions ÷ what is due; the circular ranks by it, outcomes only.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from domain.assignment import Assignee
from domain.tasks import Task
from domain.values import CHINA_TZ
from projections.queries import RULE
from projections.rollup import on_time_rate
from services.bootstrap import Platform, Settings, build_platform
from services.cli import main
from tests.conftest import FixedClock
from tests.projections.test_flow import CHAIN, assign_chain
from tests.scenario import ADMIN, build_hierarchy, new_item, person


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock("2026-03-02")


@pytest.fixture
def ducha(settings: Settings, clock: FixedClock) -> Iterator[Platform]:
    """The test hierarchy, on each backend, with a clock the test moves."""
    platform = build_platform(settings, clock=clock)
    build_hierarchy(platform)
    yield platform
    platform.close()


def register(p: Platform, office: str, deadline: date, title: str = "事项") -> str:
    return p.supervision.register_item(
        person(office), office, new_item(title, deadline=deadline)
    ).id


def complete(p: Platform, office: str, record: str) -> None:
    p.supervision.act(person(office), office, record, "acknowledge")
    p.supervision.act(person(office), office, record, "report-completion", text="完成")
    p.supervision.act(person(office, "leader"), office, record, "accept-completion")


def test_a_matter_assigned_down_three_levels_counts_once_overdue_included(
    ducha: Platform, clock: FixedClock
) -> None:
    """Failed before: one matter counted four times at the State Council, overdue too."""
    assign_chain(ducha)  # deadline: 30 working days after 2 March
    clock.set("2026-05-06")  # past it
    top = ducha.views.rollup("state-council")
    assert (top["records"]["total"], top["records"]["overdue"]) == (4, 4)
    assert (top["matters"]["total"], top["matters"]["overdue"]) == (1, 1)
    assert top["matters"]["by_light"] == {"green": 0, "yellow": 0, "red": 1}
    assert top["matters"]["by_kind"] == {"item": 1}  # the State Council's own item
    for office in CHAIN[1:]:
        assert ducha.views.rollup(office)["matters"]["total"] == 1
        assert ducha.views.rollup(office)["matters"]["by_kind"] == {"task": 1}


def test_a_matter_has_the_status_of_its_record_nearest_to_the_office(ducha: Platform) -> None:
    ids = assign_chain(ducha)
    s = ducha.supervision
    s.act(person("pingchuan"), "pingchuan", ids[3], "report-completion", text="已完成")
    s.act(person("baiyin", "leader"), "baiyin", ids[2], "accept-completion", assignee="pingchuan")
    statuses = {office: ducha.views.summary(office)["matters"]["by_status"] for office in CHAIN}
    records = {o: s.get(o, record).status for o, record in zip(CHAIN, ids, strict=True)}
    assert records["pingchuan"] == "completed" and records["baiyin"] != "completed"
    assert statuses == {office: {records[office]: 1} for office in CHAIN}
    assert ducha.views.summary("pingchuan")["matters"]["completed"] == 1
    assert ducha.views.summary("state-council")["matters"]["completed"] == 0
    assert ducha.views.summary("state-council")["records"]["completed"] == 1


def test_a_skipped_level_counts_the_nearest_record_below_it_and_ties_break_by_age(
    ducha: Platform, clock: FixedClock
) -> None:
    """gansu holds no record of a matter the State Council assigned straight to two offices
    below it: the matter counts there once, with the record of the earlier of the two."""
    ducha.registry.register(ADMIN, "lanzhou", "兰州市人民政府办公室", "prefecture", "gansu")
    s = ducha.supervision
    item = register(ducha, "state-council", date(2026, 4, 30), "跨级交办")
    leader = person("state-council", "supervisor")
    s.act(
        leader, "state-council", item, "assign", assignees=[Assignee("office", "lanzhou", "lead")]
    )
    clock.set("2026-03-03")
    s.act(leader, "state-council", item, "assign", assignees=[Assignee("office", "baiyin", "lead")])
    lanzhou = str(Task.create_id("state-council", item, "lanzhou"))
    baiyin = str(Task.create_id("state-council", item, "baiyin"))
    s.act(person("baiyin"), "baiyin", baiyin, "acknowledge")
    gansu = ducha.views.summary("gansu")
    assert (gansu["matters"]["total"], gansu["records"]["total"]) == (1, 2)
    # equally near (one level down): lanzhou's task came into being first
    assert s.get("lanzhou", lanzhou).status == "received"
    assert gansu["matters"]["by_status"] == {"received": 1}
    assert ducha.views.summary("baiyin")["matters"]["by_status"] == {"acknowledged": 1}


def test_on_time_rate_is_over_what_is_due_never_full_while_anything_is_overdue(
    ducha: Platform, clock: FixedClock
) -> None:
    """Failed before: on_time_rate 1.0 beside overdue records."""
    assert on_time_rate(0, 0, 0) is None
    assert on_time_rate(3, 3, 1) == 0.75
    complete(ducha, "gansu", register(ducha, "gansu", date(2026, 3, 20), "按时"))
    register(ducha, "gansu", date(2026, 3, 10), "逾期")
    assert ducha.views.summary("gansu")["records"]["on_time_rate"] == 1.0  # nothing else due yet
    clock.set("2026-03-11")
    gansu = ducha.views.summary("gansu")
    for part in ("records", "matters"):
        figures = gansu[part]
        assert (figures["overdue"], figures["completed"], figures["on_time"]) == (1, 1, 1)
        assert (figures["due"], figures["on_time_rate"]) == (2, 0.5)
    assert ducha.views.summary("sichuan")["records"]["on_time_rate"] is None  # nothing due


def test_by_office_gives_each_child_subtree_from_its_own_roll_up(
    ducha: Platform, clock: FixedClock
) -> None:
    assign_chain(ducha)
    register(ducha, "sichuan", date(2026, 3, 10))
    complete(ducha, "sichuan", register(ducha, "sichuan", date(2026, 3, 20)))
    register(ducha, "sichuan", date(2026, 4, 30))  # not due yet
    clock.set("2026-04-20")  # the chain's deadline and one of sichuan's passed
    entries = ducha.views.rollup("state-council")["by_office"]
    assert [(e["office"], e["name"]) for e in entries] == [
        (code, name) for code, name in ducha.views.children("state-council")
    ]
    for entry in entries:
        child = ducha.views.summary(entry["office"])
        for part in ("records", "matters"):
            assert entry[part] == {
                name: child[part][name]
                for name in ("total", "overdue", "completed", "on_time", "due", "on_time_rate")
            }
    by_code = {e["office"]: e for e in entries}
    assert (by_code["gansu"]["records"]["total"], by_code["gansu"]["matters"]["total"]) == (3, 1)
    assert (by_code["gansu"]["records"]["overdue"], by_code["gansu"]["matters"]["overdue"]) == (
        3,
        1,
    )
    assert by_code["sichuan"]["matters"] == {
        "total": 3,
        "overdue": 1,
        "completed": 1,
        "on_time": 1,
        "due": 2,
        "on_time_rate": 0.5,
    }


def test_the_circular_ranks_by_outcomes_and_lists_offices_with_nothing_due_last(
    ducha: Platform, clock: FixedClock
) -> None:
    """Failed before: an office with overdue work and one on-time completion (rate 1.0)
    ranked above an office with nothing overdue."""
    ducha.registry.register(ADMIN, "anhui", "安徽省人民政府办公厅", "province", "state-council")
    complete(ducha, "gansu", register(ducha, "gansu", date(2026, 3, 20)))
    for n in range(5):
        register(ducha, "gansu", date(2026, 3, 10), f"逾期{n}")
    complete(ducha, "sichuan", register(ducha, "sichuan", date(2026, 3, 20)))
    register(ducha, "anhui", date(2026, 6, 30))  # nothing due
    clock.set("2026-03-11")
    circular = ducha.views.circular("state-council")
    ranking = [
        (e["office"], e["rank"], e["matters"]["on_time_rate"], e["matters"]["overdue"])
        for e in circular["ranking"]
    ]
    assert ranking == [
        ("sichuan", 1, 1.0, 0),
        ("gansu", 2, round(1 / 6, 4), 5),
        ("anhui", None, None, 0),
    ]
    assert circular["rule"] == RULE and "不以登录" in RULE["zh"] and "Activity" in RULE["en"]


def test_equal_rates_rank_fewer_overdue_first_then_by_name(
    ducha: Platform, clock: FixedClock
) -> None:
    ducha.registry.register(ADMIN, "anhui", "安徽省人民政府办公厅", "province", "state-council")
    register(ducha, "gansu", date(2026, 3, 10))
    register(ducha, "gansu", date(2026, 3, 10))
    register(ducha, "sichuan", date(2026, 3, 10))
    register(ducha, "anhui", date(2026, 3, 10))
    clock.set("2026-03-11")
    ranking = ducha.views.circular("state-council")["ranking"]
    names = sorted(["四川省人民政府办公厅", "安徽省人民政府办公厅"])
    assert [(e["name"], e["rank"]) for e in ranking] == [
        (names[0], 1),
        (names[1], 2),
        ("甘肃省人民政府办公厅", 3),
    ]


def test_time_travel_within_a_day_moves_matters_to_their_nearest_record_then(
    ducha: Platform, clock: FixedClock
) -> None:
    ids = assign_chain(ducha)
    clock.now = datetime(2026, 3, 5, 10, tzinfo=CHINA_TZ)
    ducha.supervision.act(
        person("gansu"), "gansu", ids[1], "report-progress", text="过半", percent=50
    )
    offices = [o.code for o in ducha.registry.all()]
    before = ducha.as_of(datetime(2026, 3, 5, 9, tzinfo=CHINA_TZ), offices).rollup("gansu")
    after = ducha.as_of(datetime(2026, 3, 5, 11, tzinfo=CHINA_TZ), offices).rollup("gansu")
    assert before["matters"]["by_status"] == {"acknowledged": 1}
    assert after["matters"]["by_status"] == {"in_progress": 1}
    assert after["by_office"][0]["office"] == "baiyin"  # the children's figures at that time too
    assert before["records"]["total"] == after["records"]["total"] == 3


def test_the_cli_prints_tables_and_the_rule(
    sqlite_settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    p = build_platform(sqlite_settings, clock=FixedClock("2026-03-02"))
    try:
        build_hierarchy(p)
        assign_chain(p)
    finally:
        p.close()
    monkeypatch.setenv("DUCHA_DATA_DIR", str(sqlite_settings.data_dir))
    monkeypatch.setenv("DUCHA_CLOCK", "2026-05-06T12:00:00+08:00")
    assert main(["rollup", "--office", "state-council"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert not any("{" in line for line in lines)  # no Python dicts
    assert lines[0].startswith("state-council on 2026-05-06: 1 matters (1 overdue), 4 records")
    assert next(line for line in lines if line.startswith("total")).split() == ["total", "1", "4"]
    assert any("甘肃省人民政府办公厅 (gansu)" in line for line in lines)  # by office
    assert main(["circular", "--office", "state-council"]) == 0
    circular = capsys.readouterr().out.splitlines()
    assert circular[1] == f"rule: {RULE['zh']}"
    assert circular[6].split()[:2] == ["1", "甘肃省人民政府办公厅"]


def matters_of(p: Platform, office: str) -> dict[str, Any]:
    return p.views.summary(office)["matters"]


def test_rebuilding_one_office_takes_its_records_out_of_matters_and_puts_them_back(
    ducha: Platform, clock: FixedClock
) -> None:
    ids = assign_chain(ducha)
    ducha.supervision.act(
        person("baiyin"), "baiyin", ids[2], "report-progress", text="过半", percent=50
    )
    clock.set("2026-05-06")
    before = {office: matters_of(ducha, office) for office in CHAIN}
    for office in CHAIN:
        ducha.runner.rebuild(["rollup"], office=office)
        assert {o: matters_of(ducha, o) for o in CHAIN} == before
    assert before["pingchuan"]["by_status"] == {"acknowledged": 1}
    assert before["baiyin"]["by_status"] == {"in_progress": 1}
