"""工作台's decisions and reminders: 待审核 (a request or report waiting on the office's
decision), 被退回 (a completion returned from above), urges merged into one line per matter,
records sorted by working days left, each counter leading to its list, pages. Each test runs
on SQLite and on PostgreSQL (the desk's queries are SQL of their own)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from domain.assignment import Assignee
from domain.tasks import Task
from services.bootstrap import Settings
from tests.http.conftest import assign_down, make_api
from tests.scenario import new_item, person
from tests.web.conftest import Screens
from tests.web.test_desk import counter


@pytest.fixture
def screens(settings: Settings) -> Iterator[Screens]:
    """The screens over each backend (``tests.conftest.settings``)."""
    yield from (Screens(api) for api in make_api(settings.data_dir.parent, settings))


def act(screens: Screens, office: str, role: str, record: str, action: str, **params: Any) -> None:
    screens.api.platform.supervision.act(person(office, role), office, record, action, **params)


def task_of(parent_office: str, parent_id: str, office: str) -> str:
    return str(Task.create_id(parent_office, parent_id, office))


def titles(page: str) -> list[str]:
    return re.findall(r"<td>([^<]+)<br>", page)


def test_a_completion_reported_from_below_waits_on_the_item_office_until_decided(
    screens: Screens,
) -> None:
    s = screens.api.platform.supervision
    item = str(s.register_item(person("gansu", "supervisor"), "gansu", new_item("待审的事项")).id)
    assign_down(screens.api, "gansu", item, "baiyin")
    task = task_of("gansu", item, "baiyin")
    act(screens, "baiyin", "clerk", task, "acknowledge")
    gansu = screens.signed_in("gansu", "leader")
    baiyin = screens.signed_in("baiyin", "clerk")
    assert counter(gansu.get("/desk").text, "待审核") == 0

    act(screens, "baiyin", "clerk", task, "report-completion", text="已办结")
    desk = gansu.get("/desk").text
    assert counter(desk, "待审核") == 1
    assert titles(gansu.get("/desk?show=awaiting").text) == ["待审的事项"]
    assert counter(baiyin.get("/desk").text, "待审核") == 0  # it waits on gansu, not on baiyin

    act(screens, "gansu", "leader", item, "return-completion", reason="材料不全")
    assert counter(gansu.get("/desk").text, "待审核") == 0
    assert counter(baiyin.get("/desk").text, "被退回") == 1
    assert titles(baiyin.get("/desk?show=returned").text) == ["待审的事项"]
    assert counter(gansu.get("/desk").text, "被退回") == 0  # gansu returned it, nothing to redo

    act(screens, "baiyin", "clerk", task, "report-progress", text="补充材料", percent=90)
    assert counter(baiyin.get("/desk").text, "被退回") == 1  # still to be reported again
    act(screens, "baiyin", "clerk", task, "report-completion", text="材料已补齐")
    assert counter(baiyin.get("/desk").text, "被退回") == 0
    assert counter(gansu.get("/desk").text, "待审核") == 1
    act(screens, "gansu", "leader", item, "accept-completion")
    assert counter(gansu.get("/desk").text, "待审核") == 0
    assert counter(baiyin.get("/desk").text, "被退回") == 0


def test_a_task_waits_on_its_office_for_a_subordinate_request_or_completion(
    screens: Screens,
) -> None:
    s = screens.api.platform.supervision
    item = str(s.register_item(person("gansu", "supervisor"), "gansu", new_item("层层交办")).id)
    assign_down(screens.api, "gansu", item, "baiyin")
    mid = task_of("gansu", item, "baiyin")
    act(screens, "baiyin", "clerk", mid, "acknowledge")
    assign_down(screens.api, "baiyin", mid, "pingchuan")
    low = task_of("baiyin", mid, "pingchuan")
    act(screens, "pingchuan", "clerk", low, "acknowledge")
    baiyin = screens.signed_in("baiyin", "leader")
    gansu = screens.signed_in("gansu", "leader")

    act(
        screens,
        "pingchuan",
        "clerk",
        low,
        "request-extension",
        new_deadline=date(2026, 4, 30),
        reason="汛期施工受阻",
    )
    assert counter(baiyin.get("/desk").text, "待审核") == 1
    assert counter(gansu.get("/desk").text, "待审核") == 0  # not gansu's to decide
    act(
        screens,
        "baiyin",
        "leader",
        mid,
        "deny-extension",
        reason="不符合条件",
        assignee="pingchuan",
    )
    assert counter(baiyin.get("/desk").text, "待审核") == 0

    act(screens, "baiyin", "clerk", mid, "report-progress", text="督促区县办理", percent=50)
    act(screens, "pingchuan", "clerk", low, "report-completion", text="初步办结")
    act(screens, "baiyin", "leader", mid, "return-completion", reason="不实", assignee="pingchuan")
    pingchuan = screens.signed_in("pingchuan", "clerk")
    assert counter(pingchuan.get("/desk").text, "被退回") == 1
    assert counter(baiyin.get("/desk").text, "被退回") == 0  # baiyin returned it: not its own
    act(screens, "pingchuan", "clerk", low, "report-completion", text="已办结")
    assert counter(pingchuan.get("/desk").text, "被退回") == 0
    assert counter(baiyin.get("/desk").text, "待审核") == 1
    assert titles(baiyin.get("/desk?show=awaiting").text) == ["层层交办"]
    act(screens, "baiyin", "leader", mid, "accept-completion", assignee="pingchuan")
    assert counter(baiyin.get("/desk").text, "待审核") == 0  # decided: the county's task is done
    assert counter(gansu.get("/desk").text, "待审核") == 0  # baiyin has not reported up yet


def test_an_item_own_extension_and_rectification_wait_on_its_office(screens: Screens) -> None:
    s = screens.api.platform.supervision
    gansu = person("gansu", "supervisor")
    asked = str(s.register_item(gansu, "gansu", new_item("自请延期")).id)
    rectified = str(s.register_item(gansu, "gansu", new_item("整改事项")).id)
    s.register_item(gansu, "gansu", new_item("无事可审"))
    act(
        screens,
        "gansu",
        "clerk",
        asked,
        "request-extension",
        new_deadline=date(2026, 5, 29),
        reason="工程量大",
    )
    act(screens, "gansu", "leader", rectified, "order-rectification", requirements="限期整改")
    leader = screens.signed_in("gansu", "leader")
    assert counter(leader.get("/desk").text, "待审核") == 1  # ordered, not yet reported
    act(screens, "gansu", "clerk", rectified, "report-rectification", text="已整改")
    assert counter(leader.get("/desk").text, "待审核") == 2
    assert sorted(titles(leader.get("/desk?show=awaiting").text)) == ["整改事项", "自请延期"]
    act(screens, "gansu", "leader", rectified, "accept-rectification")
    act(screens, "gansu", "leader", asked, "grant-extension")
    assert counter(leader.get("/desk").text, "待审核") == 0


def test_urges_are_one_line_per_matter_in_china_time(screens: Screens) -> None:
    s = screens.api.platform.supervision
    item = str(s.register_item(person("gansu", "supervisor"), "gansu", new_item("催办的事项")).id)
    s.register_item(person("gansu", "supervisor"), "gansu", new_item("未催办的事项"))
    assign_down(screens.api, "gansu", item, "baiyin")
    for day in ("2026-03-03", "2026-03-04", "2026-03-05"):
        screens.api.clock.set(day)
        act(screens, "gansu", "supervisor", item, "urge", message="请加快进度")
    page = screens.signed_in("gansu", "clerk").get("/desk").text
    assert page.count("催办 3 次，最近 2026-03-05") == 1
    assert "催办 1 次" not in page and "催办 2 次" not in page  # never one line per urge
    below = screens.signed_in("baiyin", "clerk").get("/desk").text  # relayed to the task
    assert "催办 3 次，最近 2026-03-05" in below


def test_records_are_sorted_by_light_then_working_days_left(screens: Screens) -> None:
    s = screens.api.platform.supervision
    gansu = person("gansu", "supervisor")
    screens.api.clock.set("2026-09-29")  # National Day follows: 3 working days span a week
    for title, deadline in (
        ("十月十日到期", date(2026, 10, 10)),  # a make-up working Saturday (调休)
        ("十月九日到期", date(2026, 10, 9)),
        ("十月八日到期", date(2026, 10, 8)),
        ("九月三十日到期", date(2026, 9, 30)),
        ("九月二十八日到期", date(2026, 9, 28)),
    ):
        s.register_item(
            gansu, "gansu", new_item(title, issued_on=date(2026, 9, 1), deadline=deadline)
        )
    page = screens.signed_in("gansu", "clerk").get("/desk").text
    assert titles(page) == [
        "九月二十八日到期",
        "九月三十日到期",
        "十月八日到期",
        "十月九日到期",
        "十月十日到期",
    ]
    assert "逾期 1 个工作日" in page and "剩余 1 个工作日" in page
    assert "剩余 2 个工作日" in page and "剩余 3 个工作日" in page  # Oct 8 and 9: after the holiday
    assert "剩余 4 个工作日" in page
    assert counter(page, "临期") == 3 and counter(page, "逾期") == 1  # Oct 10 is green


def test_each_counter_leads_to_its_list(screens: Screens) -> None:
    page = screens.signed_in("gansu", "clerk").get("/desk").text
    for label, link in (
        ("待签收", "/ledger?status=received"),
        ("待办理", "/desk?show=to_do"),
        ("临期", "/ledger?light=yellow"),
        ("逾期", "/ledger?light=red"),
        ("待审核", "/desk?show=awaiting"),
        ("被退回", "/desk?show=returned"),
    ):
        assert re.search(
            rf'<a href="{re.escape(link)}"><span class="n">\d+</span> {label}</a>', page
        )


def test_the_open_records_come_in_pages(screens: Screens) -> None:
    s = screens.api.platform.supervision
    gansu = person("gansu", "supervisor")
    for n in range(53):
        s.register_item(
            gansu, "gansu", new_item(f"事项{n:02d}", deadline=date(2026, 4, 1 + n % 28))
        )
    client = screens.signed_in("gansu", "clerk")
    first, second = client.get("/desk").text, client.get("/desk?page=2").text
    assert len(titles(first)) == 50 and len(titles(second)) == 3
    assert "第 1 页，共 2 页" in first and "/desk?show=open&amp;page=2" in first
    assert not set(titles(first)) & set(titles(second))
    assert client.get("/desk?page=0").status_code == 404
    assert client.get("/desk?show=everything").status_code == 404
    assert client.get("/desk?page=x").status_code == 404


def test_the_to_do_list_leaves_out_what_is_to_sign_for(screens: Screens) -> None:
    s = screens.api.platform.supervision
    own = str(s.register_item(person("gansu", "supervisor"), "gansu", new_item("本级事项")).id)
    above = str(
        s.register_item(
            person("state-council", "supervisor"), "state-council", new_item("上级交办")
        ).id
    )
    s.act(
        person("state-council", "supervisor"),
        "state-council",
        above,
        "assign",
        assignees=[Assignee("office", "gansu", "lead")],
    )
    client = screens.signed_in("gansu", "clerk")
    assert sorted(titles(client.get("/desk").text)) == ["上级交办", "本级事项"]
    assert titles(client.get("/desk?show=to_do").text) == ["本级事项"]
    assert counter(client.get("/desk").text, "待办理") == 1 and own


def test_deadlines_more_than_a_year_away_are_shown_as_such_and_quickly(
    screens: Screens,
) -> None:
    s = screens.api.platform.supervision
    gansu = person("gansu", "supervisor")
    for title, issued, deadline in (
        ("远期事项", date(2026, 3, 2), date(2199, 12, 31)),
        ("次年事项", date(2026, 3, 2), date(2027, 3, 1)),
        ("陈年事项", date(2001, 1, 2), date(2001, 3, 30)),
    ):
        s.register_item(gansu, "gansu", new_item(title, issued_on=issued, deadline=deadline))
    client = screens.signed_in("gansu", "clerk")
    started = time.perf_counter()
    page = client.get("/desk").text
    assert time.perf_counter() - started < 2  # no day-by-day walk to 2199
    assert titles(page) == ["陈年事项", "次年事项", "远期事项"]
    assert "逾期一年以上" in page and "剩余一年以上" in page
    assert re.search(r"剩余 2\d\d 个工作日", page)  # within the year: counted


def test_the_desk_reads_in_english_too(screens: Screens) -> None:
    s = screens.api.platform.supervision
    item = str(s.register_item(person("gansu", "supervisor"), "gansu", new_item("催办的事项")).id)
    act(screens, "gansu", "supervisor", item, "urge", message="请加快进度")
    client = screens.signed_in("gansu", "clerk")
    assert "催办 1 次，最近 2026-03-02" in client.get("/desk").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/desk").text)
    assert token
    client.post("/language", data={"language": "en", "csrf_token": token.group(1)})
    page = client.get("/desk").text
    assert counter(page, "Awaiting our decision") == 0 and counter(page, "Returned") == 0
    assert "Urges: 1, the last on 2026-03-02" in page and "30 working days left" in page
