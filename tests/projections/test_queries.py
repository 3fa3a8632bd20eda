"""Each projection's queries: filters and pages, lights, tree, audit trail, public, circular."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime

import pytest

from domain.assignment import Assignee
from domain.values import CHINA_TZ
from services.bootstrap import Platform, Settings, build_platform
from tests.conftest import FixedClock
from tests.scenario import build_hierarchy, new_item, person


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock("2026-03-02")


@pytest.fixture
def ducha(sqlite_settings: Settings, clock: FixedClock) -> Iterator[Platform]:
    platform = build_platform(sqlite_settings, clock=clock)
    build_hierarchy(platform)
    yield platform
    platform.close()


def register(p: Platform, office: str, title: str, deadline: date, **kw: object) -> str:
    item = new_item(title, source_kind="document", deadline=deadline, **kw)
    return p.supervision.register_item(person(office), office, item).id


def titles(page: object) -> list[str]:
    return [i["title"] for i in page.items]  # type: ignore[attr-defined]


def test_items_filter_by_light_on_the_calendar(ducha: Platform, clock: FixedClock) -> None:
    register(ducha, "gansu", "逾期", date(2026, 3, 20))
    register(ducha, "gansu", "三个工作日内", date(2026, 3, 25))
    register(ducha, "gansu", "尚早", date(2026, 3, 26))
    done = register(ducha, "gansu", "已报办结", date(2026, 3, 20))
    ducha.supervision.act(person("gansu"), "gansu", done, "acknowledge")
    ducha.supervision.act(person("gansu"), "gansu", done, "report-completion", text="完成")
    clock.set("2026-03-23")  # a Monday: yellow until three working days ahead, Thursday 26
    v = ducha.views
    assert titles(v.items("gansu", light_="red")) == ["逾期"]
    assert titles(v.items("gansu", light_="yellow")) == ["三个工作日内", "尚早"]
    clock.set("2026-03-24")
    assert titles(v.items("gansu", light_="yellow")) == ["三个工作日内", "尚早"]
    assert titles(v.items("gansu", light_="green")) == ["已报办结"]
    assert [i["light"] for i in v.items("gansu").items] == ["red", "yellow", "yellow", "green"]
    with pytest.raises(ValueError, match="light"):
        v.items("gansu", light_="blue")


def test_items_filter_and_paginate(ducha: Platform) -> None:
    for n in range(5):
        register(ducha, "gansu", f"事项{n}", date(2026, 6, 30), importance=1 + n % 2)
    item = register(ducha, "gansu", "黄河排污整治", date(2026, 6, 30), urgency=5)
    ducha.supervision.act(
        person("gansu", "supervisor"),
        "gansu",
        item,
        "assign",
        assignees=[Assignee("office", "baiyin", "lead")],
    )
    v = ducha.views
    page = v.items("gansu", per_page=2, page=3)
    assert (page.total, len(page.items), page.page) == (6, 2, 3)
    assert titles(v.items("gansu", text="排污")) == ["黄河排污整治"]
    assert titles(v.items("gansu", assignee="baiyin")) == ["黄河排污整治"]
    assert titles(v.items("gansu", urgency=5)) == ["黄河排污整治"]
    assert v.items("gansu", importance=2).total == 2
    assert v.items("baiyin", kind="task").total == 1
    assert v.items("gansu", source_kind="meeting").total == 0


def test_the_responsibility_tree_spans_offices(ducha: Platform) -> None:
    s = ducha.supervision
    top = register(ducha, "state-council", "煤矿事故批示", date(2026, 6, 30))
    s.act(
        person("state-council", "supervisor"),
        "state-council",
        top,
        "assign",
        assignees=[Assignee("office", "gansu", "lead"), Assignee("office", "sichuan", "co")],
    )
    gansu = ducha.views.items("gansu").items[0]["id"]
    s.act(person("gansu"), "gansu", gansu, "acknowledge")
    s.act(
        person("gansu", "supervisor"),
        "gansu",
        gansu,
        "assign",
        assignees=[Assignee("office", "baiyin", "lead")],
    )
    tree = ducha.views.tree("gansu", gansu)  # from any node, the whole tree
    assert tree is not None and (tree["office"], tree["id"]) == ("state-council", top)
    assert [c["office"] for c in tree["children"]] == ["gansu", "sichuan"]
    assert tree["children"][0]["children"][0]["office"] == "baiyin"
    assert tree["children"][0]["unit"] == "甘肃省人民政府办公厅"
    assert {"light", "status", "deadline", "responsible_person", "last_report"} <= set(tree)
    assert ducha.views.tree("gansu", "unknown") is None


def test_the_audit_trail_filters_by_record_time_actor_and_type(
    ducha: Platform, clock: FixedClock
) -> None:
    item = register(ducha, "gansu", "事项", date(2026, 6, 30))
    clock.set("2026-03-05")
    ducha.supervision.act(person("gansu", "clerk"), "gansu", item, "acknowledge")
    clock.set("2026-03-09")
    ducha.supervision.act(
        person("gansu", "supervisor"), "gansu", item, "urge", message="请加快进度"
    )
    v = ducha.views
    assert [r["type"] for r in v.audit("gansu", record_id=item).items] == [
        "Registered",
        "Acknowledged",
        "Urged",
    ]
    since = datetime(2026, 3, 4, tzinfo=CHINA_TZ)
    assert [r["type"] for r in v.audit("gansu", start=since).items] == ["Acknowledged", "Urged"]
    assert v.audit("gansu", end=since).total == 1
    assert v.audit("gansu", actor="gansu-supervisor").items[0]["summary"] == "请加快进度"
    assert v.audit("gansu", type_="Acknowledged").items[0]["actor_role"] == "clerk"
    assert v.audit("sichuan").total == 0


def test_the_public_page_shows_published_items_and_nothing_else(ducha: Platform) -> None:
    shown = register(ducha, "gansu", "公开事项", date(2026, 6, 30))
    register(ducha, "gansu", "内部事项", date(2026, 6, 30))
    ducha.supervision.act(person("gansu"), "gansu", shown, "publish", summary="整治已启动")
    page = ducha.views.public()
    assert page.total == 1
    assert page.items[0] == {
        "office": "gansu",
        "title": "公开事项",
        "summary": "整治已启动",
        "status": "registered",
        "progress_percent": 0,
        "deadline": "2026-06-30",
    }
    ducha.supervision.act(person("gansu"), "gansu", shown, "unpublish", reason="更正")
    assert ducha.views.public().total == 0


def complete(p: Platform, office: str, item: str, reported_on: str, clock: FixedClock) -> None:
    s = p.supervision
    s.act(person(office), office, item, "acknowledge")
    clock.set(reported_on)
    s.act(person(office), office, item, "report-completion", text="完成")
    s.act(person(office, "leader"), office, item, "accept-completion")


def test_the_rollup_counts_the_subtree_and_the_circular_ranks_children(
    ducha: Platform, clock: FixedClock
) -> None:
    on_time = register(ducha, "gansu", "按时", date(2026, 3, 20))
    late = register(ducha, "baiyin", "逾期办结", date(2026, 3, 10))
    register(ducha, "sichuan", "未办", date(2026, 3, 10))
    complete(ducha, "gansu", on_time, "2026-03-16", clock)
    complete(ducha, "baiyin", late, "2026-03-18", clock)
    ducha.supervision.act(person("gansu", "leader"), "gansu", on_time, "commend", reason="好")
    clock.set("2026-03-19")

    gansu = ducha.views.rollup("gansu")["records"]  # gansu, baiyin and pingchuan
    assert (gansu["total"], gansu["completed"], gansu["on_time_rate"]) == (2, 2, 0.5)
    assert gansu["by_status"] == {"completed": 2}
    # issued 2 March: reported 16 March is 10 working days later, 18 March 12: mean 11
    assert gansu["mean_working_days_to_completion"] == 11.0
    root = ducha.views.rollup("state-council")["records"]
    assert (root["total"], root["overdue"], root["by_light"]["red"]) == (3, 1, 1)
    assert root["by_source_kind"]["document"] == {"count": 3, "completed": 2, "on_time": 1}
    assert root["by_month"] == {"2026-03": 3}

    circular = ducha.views.circular("state-council")
    assert [(e["office"], e["rank"]) for e in circular["ranking"]] == [("gansu", 1), ("sichuan", 2)]
    assert circular["commended"] == ["gansu"]
