"""No calendar cliff: deadlines in a year without its holiday notice are provisional, every
read answers, the deadline engine runs, and the notice recomputes them as events (issue 10 §2).

Each test failed before the provisional calendar: the registration, the reads and the engine
raised ``CalendarDataMissingError`` (answered 422 ``calendar_data_missing``) for 2027.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from domain.assignment import Assignee
from domain.values import CHINA_TZ
from services.bootstrap import Platform, Settings, build_platform
from services.calendar import DEFAULT_DATA_FILE, NoticeError, YearData
from tests.conftest import FixedClock
from tests.scenario import build_hierarchy, new_item, person

NOTICE: dict[str, Any] = {
    "published": True,
    "source": "国办发明电〔2026〕9号（测试）",
    # the statutory days, and a make-up Saturday (调休上班) after the Spring Festival
    "holidays": [
        "2027-01-01",
        *(f"2027-02-0{d}" for d in (5, 6, 7, 8)),
        "2027-04-05",
        "2027-05-01",
        "2027-05-02",
        "2027-06-09",
        "2027-09-15",
        "2027-10-01",
        "2027-10-02",
        "2027-10-03",
    ],
    "workdays": ["2027-02-20"],
}


def platform_on(settings: Settings, day: str) -> tuple[Platform, FixedClock]:
    clock = FixedClock(day)
    platform = build_platform(settings, clock=clock)
    build_hierarchy(platform)
    return platform, clock


@pytest.fixture
def december(sqlite_settings: Settings) -> Iterator[Platform]:
    platform, _ = platform_on(sqlite_settings, "2026-12-01")
    yield platform
    platform.close()


@pytest.fixture
def data_file(tmp_path: Path) -> Path:
    """A copy of the shipped holiday data (2027 unpublished): tests never write the original."""
    path = tmp_path / "holidays.json"
    shutil.copy(DEFAULT_DATA_FILE, path)
    return path


def instruction(p: Platform, office: str, issued: date, **fields: Any) -> str:
    new = new_item(issued_on=issued, **fields)
    return p.supervision.register_item(person(office, "supervisor"), office, new).id


def test_an_instruction_issued_in_december_gets_a_provisional_deadline(december: Platform) -> None:
    s = december.supervision
    item = s.register_item(
        person("gansu", "supervisor"), "gansu", new_item(issued_on=date(2026, 12, 1))
    )
    assert (item.deadline, item.deadline_provisional) == (date(2027, 1, 13), True)
    assert item.to_dict()["deadline_provisional"] is True
    assert item.deadline_working_days == 30
    listed = december.views.items("gansu").items[0]
    assert (listed["deadline"], listed["deadline_provisional"], listed["light"]) == (
        "2027-01-13",
        True,
        "green",
    )
    given = s.register_item(
        person("gansu", "supervisor"),
        "gansu",
        new_item(issued_on=date(2026, 12, 1), deadline=date(2027, 1, 13)),
    )
    assert (given.deadline_provisional, given.deadline_working_days) == (False, None)


def test_every_read_answers_for_2027_deadlines(sqlite_settings: Settings) -> None:
    p, clock = platform_on(sqlite_settings, "2026-12-29")
    try:
        soon = instruction(p, "gansu", date(2026, 11, 20))  # due 2027-01-04: yellow
        later = instruction(p, "baiyin", date(2026, 12, 28))
        p.supervision.act(
            person("gansu", "supervisor"),
            "gansu",
            soon,
            "assign",
            assignees=[Assignee("office", "baiyin", "lead")],
        )
        assert p.supervision.get("gansu", soon).deadline == date(2027, 1, 4)
        assert [i["light"] for i in p.views.items("gansu").items] == ["yellow"]
        for light in ("red", "yellow", "green"):
            p.views.items("baiyin", light_=light)
        task = p.views.items("baiyin", kind="task").items[0]
        assert (task["deadline"], task["deadline_provisional"]) == ("2027-01-04", True)
        lights = p.views.rollup("state-council")["records"]["by_light"]
        assert lights == {"green": 1, "yellow": 2, "red": 0}
        ranking = p.views.circular("state-council")["ranking"]
        assert {e["office"]: e["rank"] for e in ranking} == {"gansu": None, "sichuan": None}
        assert p.views.tree("gansu", soon) is not None
        assert p.views.item("baiyin", later) is not None
        clock.set("2027-01-05")
        assert p.supervision.get("gansu", soon).overdue is True
        assert p.views.items("gansu", light_="red").total == 1
        until = datetime(2027, 1, 5, 23, 0, tzinfo=CHINA_TZ)
        assert p.as_of(until, ["gansu", "baiyin"]).rollup("gansu")["records"]["overdue"] == 2
    finally:
        p.close()


def test_the_deadline_engine_runs_on_provisional_days_and_says_so(december: Platform) -> None:
    item = instruction(december, "gansu", date(2026, 12, 1))  # due 2027-01-13, provisional
    certain = december.supervision.register_item(
        person("gansu", "supervisor"),
        "gansu",
        new_item(source_kind="document", deadline=date(2026, 12, 30)),
    ).id
    report = december.deadlines.run(date(2027, 1, 11))
    assert (report.urged, report.escalated, report.provisional) == (1, 1, 1)
    urged = [e for e in december.supervision.history("gansu", item) if e.type == "Urged"]
    assert urged[0].data["provisional"] is True
    assert "2027年节假日安排尚未公布" in urged[0].data["message"]
    escalated = [e for e in december.supervision.history("gansu", certain) if e.type == "Escalated"]
    # a 2026 deadline, escalated without grace: nothing provisional was counted
    assert escalated[0].data["provisional"] is False
    assert december.deadlines.run(date(2027, 1, 11)).urged == 0  # once per level, as before
    december.registry.set_deadline_policy(person("gansu", "admin"), "gansu", True, 1)
    assert december.deadlines.run(date(2027, 1, 15)).escalated == 1  # 2 working days late
    last = december.supervision.history("gansu", item)[-1]
    assert (last.type, last.data["provisional"]) == ("Escalated", True)


def test_the_notice_recomputes_open_provisional_deadlines_as_events(
    settings: Settings, data_file: Path
) -> None:
    """Across the 2027 Spring Festival: the notice's make-up Saturday (20 February) brings the
    30th working day after 20 January one day earlier, for the item and the task below it."""
    p, clock = platform_on(settings, "2027-01-20")
    try:
        s, engine = p.supervision, p.deadlines
        item = instruction(p, "gansu", date(2027, 1, 20))
        assert s.get("gansu", item).deadline == date(2027, 3, 5)
        s.act(
            person("gansu", "supervisor"),
            "gansu",
            item,
            "assign",
            assignees=[Assignee("office", "baiyin", "lead")],
        )
        task = p.views.items("baiyin").items[0]["id"]
        assert s.get("baiyin", task).deadline_provisional is True
        explicit = instruction(p, "gansu", date(2027, 1, 20), deadline=date(2027, 3, 5))
        closed = instruction(p, "sichuan", date(2027, 1, 20))
        s.act(
            person("sichuan", "leader"),
            "sichuan",
            closed,
            "close",
            reason="撤销",
            leader_closure=True,
        )
        listed = engine.provisional_records()
        assert {(r["office"], r["id"]) for r in listed} == {("gansu", item), ("baiyin", task)}
        assert listed[0]["note"] == "provisional: the 2027 holiday notice is not yet published"

        clock.set("2027-01-25")
        added = engine.add_year(2027, NOTICE, data_file)

        assert (added.year, added.written, added.source) == (2027, True, NOTICE["source"])
        assert sorted(
            (r["office"], r["old_deadline"], r["new_deadline"]) for r in added.recomputed
        ) == [
            ("baiyin", date(2027, 3, 5), date(2027, 3, 4)),
            ("gansu", date(2027, 3, 5), date(2027, 3, 4)),
        ]
        for office, record in (("gansu", item), ("baiyin", task)):
            view = s.get(office, record)
            assert (view.deadline, view.deadline_provisional) == (date(2027, 3, 4), False)
            event = s.history(office, record)[-1]
            assert event.type == "DeadlineRecomputed"
            assert event.actor == {
                "user_id": "calendar",
                "office": office,
                "role": "system",
                "channel": "",  # the platform's own engines have no channel
                "os_user": "",
            }
            assert (event.data["old_deadline"], event.data["new_deadline"]) == (
                "2027-03-05",
                "2027-03-04",
            )
            assert NOTICE["source"] in event.data["reason"]
        assert s.get("gansu", item).assignments[0]["deadline"] == "2027-03-04"
        assert p.views.items("baiyin").items[0]["deadline_provisional"] is False
        assert s.get("gansu", explicit).version == 1  # a deadline given is left alone
        assert s.get("sichuan", closed).deadline_provisional is True  # closed: left as it was
        before = datetime(2027, 1, 24, 23, 0, tzinfo=CHINA_TZ)
        assert s.get_as_of("gansu", item, before).deadline == date(2027, 3, 5)  # history stays
        assert engine.provisional_records() == []

        again = engine.add_year(2027, NOTICE, data_file)
        assert (again.written, again.recomputed) == (False, [])
        assert s.get("gansu", item).version == 3
    finally:
        p.close()


def test_the_engine_recounts_what_another_process_published(december: Platform) -> None:
    item = instruction(december, "gansu", date(2026, 12, 1))
    notice = YearData(frozenset({date(2027, 1, 1), date(2027, 1, 4)}), frozenset(), "测试")
    december.calendar.publish(2027, notice)  # as ``refresh`` does when the file changed
    report = december.deadlines.run(date(2026, 12, 2))
    assert report.recomputed == 1
    view = december.supervision.get("gansu", item)
    assert (view.deadline, view.deadline_provisional) == (date(2027, 1, 14), False)


def test_a_bad_notice_changes_nothing(december: Platform, data_file: Path) -> None:
    item = instruction(december, "gansu", date(2026, 12, 1))
    text = data_file.read_text("utf-8")
    with pytest.raises(NoticeError, match="not in 2027"):
        december.deadlines.add_year(2027, {**NOTICE, "workdays": ["2028-01-08"]}, data_file)
    assert data_file.read_text("utf-8") == text
    assert december.supervision.get("gansu", item).version == 1
    assert december.calendar.is_provisional(2027)
