"""事项详情: who sees the item page (exactly whom the API's item route answers) and what it
shows: the five elements, status, light and working days left, the provisional mark, the
assignees with their tasks' state, the timeline in China time with names, offices and
channels, and the chain up and down, linked only where the person may read."""

from __future__ import annotations

import re
from datetime import date

import pytest

from domain.tasks import Task
from tests.http.conftest import RELATIONS, ROLES, assign_down
from tests.http.test_authorization import sees_items
from tests.scenario import new_item, person
from tests.web.conftest import Screens, token
from tests.web.test_actions import fresh, web_post


@pytest.mark.parametrize("who", list(RELATIONS))
def test_the_page_answers_exactly_whom_the_api_answers(screens: Screens, who: str) -> None:
    api = screens.api
    office, item_id = fresh(api)
    for role in ROLES:
        page = screens.signed_in(RELATIONS[who], role).get(f"/items/{office}/{item_id}")
        over_api = api.client.get(
            f"/api/v1/offices/{office}/items/{item_id}", headers=api.headers(RELATIONS[who], role)
        )
        assert page.status_code == over_api.status_code == (200 if sees_items(who, role) else 404)
        assert ("查明事故原因" in page.text) == (page.status_code == 200)


def test_a_stranger_is_sent_to_sign_in_and_a_missing_record_is_not_found(screens: Screens) -> None:
    office, item_id = fresh(screens.api)
    away = screens.client().get(f"/items/{office}/{item_id}")
    assert away.status_code == 302 and "/signin?next=/items/gansu/" in away.headers["Location"]
    client = screens.signed_in("gansu", "clerk")
    for path in ("/items/gansu/not-an-id", "/items/gansu/" + "0" * 32, "/items/nowhere/x"):
        assert client.get(path).status_code == 404, path


def test_the_header_shows_the_five_elements_light_and_working_days(screens: Screens) -> None:
    office, item_id = fresh(screens.api)
    page = screens.signed_in("gansu", "clerk").get(f"/items/{office}/{item_id}").text
    for shown in ("关于煤矿安全事故的批示", "查明事故原因", "开展事故调查", "督查室", "王建国"):
        assert shown in page
    assert "2026-04-14" in page and "国办督〔2026〕37号" in page
    assert "绿灯" in page and "已立项" in page
    assert "剩余 30 个工作日" in page  # a leader's instruction: 30 working days from issue

    s = screens.api.platform.supervision
    late = s.register_item(
        person("gansu", "supervisor"),
        "gansu",
        new_item("逾期的事项", issued_on=date(2026, 2, 2), deadline=date(2026, 2, 27)),
    )
    page = screens.signed_in("gansu", "leader").get(f"/items/gansu/{late.id}").text
    # Friday 27 February → Monday 2 March, over Saturday the 28th, a make-up working day (调休)
    assert "红灯：逾期" in page and "已逾期 2 个工作日" in page

    later = s.register_item(
        person("gansu", "supervisor"), "gansu", new_item("跨年的事项", issued_on=date(2026, 12, 21))
    )
    page = screens.signed_in("gansu", "supervisor").get(f"/items/gansu/{later.id}").text
    assert later.deadline_provisional and "（暂定）" in page


def test_the_timeline_says_when_who_from_where_and_what(screens: Screens) -> None:
    office, item_id = fresh(screens.api)
    client = screens.signed_in("gansu", "supervisor")
    assert (
        web_post(client, office, item_id, "urge", {"message": "请于本周内报送"}, 1).status_code
        == 303
    )
    page = client.get(f"/items/{office}/{item_id}").text
    timeline = page.split('id="h-timeline"')[1]
    entries = re.findall(r"<li><time>([^<]+)</time> <strong>([^<]+)</strong>", timeline)
    assert entries == [("2026-03-02 12:00", "已立项"), ("2026-03-02 12:00", "已催办")]  # China time
    assert "gansu的supervisor · 甘肃省人民政府办公厅 · 网页" in timeline  # name, office, channel
    assert "请于本周内报送" in timeline and "完成时限 2026-04-14" in timeline


def test_assignees_show_their_tasks_and_the_chain_is_linked_where_readable(
    screens: Screens,
) -> None:
    api = screens.api
    office, item_id = fresh(api)
    assign_down(api, office, item_id, "baiyin")
    task_id = str(Task.create_id("gansu", item_id, "baiyin"))
    leader = screens.signed_in("gansu", "leader")
    page = leader.get(f"/items/{office}/{item_id}").text
    assert "白银市人民政府办公室" in page and "牵头" in page and "待签收" in page
    assert f"/items/baiyin/{task_id}" not in page  # a leader does not read baiyin's records
    assert "交办给白银市人民政府办公室（牵头）" in page

    api.platform.supervision.act(person("baiyin"), "baiyin", task_id, "acknowledge")
    api.platform.supervision.act(
        person("baiyin"), "baiyin", task_id, "report-progress", text="已召开专题会", percent=40
    )
    page = leader.get(f"/items/{office}/{item_id}").text
    assignees = page.split('id="h-assignees"')[1].split("</section>")[0]
    assert "办理中" in assignees and "2026-03-02 12:00 进展 40%" in assignees
    assert "已召开专题会" in page  # the report received, in the timeline

    auditor = screens.signed_in("gansu", "auditor").get(f"/items/{office}/{item_id}").text
    assert f'href="/items/baiyin/{task_id}"' in auditor  # an auditor reads the subtree

    below = screens.signed_in("baiyin", "clerk").get(f"/items/baiyin/{task_id}").text
    up = below.split("上级交办")[1].split("</ul>")[0]
    assert "甘肃省人民政府办公厅" in up and "href" not in up  # named, not linked
    assert "来自甘肃省人民政府办公厅" in below
    assert "系统（上下级间传递） · 白银市人民政府办公室" in below  # who made the task


def test_the_page_in_english_and_as_an_htmx_part(screens: Screens) -> None:
    office, item_id = fresh(screens.api)
    client = screens.signed_in("gansu", "clerk")
    part = client.get(f"/items/{office}/{item_id}", headers={"HX-Request": "true"})
    assert part.text.lstrip().startswith('<div id="item">') and "<html" not in part.text
    client.post("/language", data={"language": "en", "csrf_token": token(client, "/desk")})
    page = client.get(f"/items/{office}/{item_id}").text
    assert '<html lang="en">' in page and "The five elements" in page and "Sign for" in page


def test_the_page_travels_back_to_a_day_before_the_assignment(screens: Screens) -> None:
    from tests.http.conftest import assign_down
    from tests.scenario import new_item, person

    s = screens.api.platform.supervision
    case = s.register_item(person("gansu", "supervisor"), "gansu", new_item("回溯的事项"))
    screens.api.clock.set("2026-03-04")
    assign_down(screens.api, "gansu", str(case.id), "baiyin")
    client = screens.signed_in("gansu", "leader")
    now = client.get(f"/items/gansu/{case.id}").text
    assert "白银市人民政府办公室" in now
    then = client.get(f"/items/gansu/{case.id}?as_of=2026-03-02")
    assert then.status_code == 200
    assert 'id="as-of-note"' in then.text and "2026-03-02 23:59" in then.text
    assert "白银市人民政府办公室" not in then.text  # not yet assigned then
    assert "data-action=" not in then.text  # no action is offered in the past
    before = client.get(f"/items/gansu/{case.id}?as_of=2026-03-01")
    assert before.status_code == 404  # it did not exist yet
    bad = client.get(f"/items/gansu/{case.id}?as_of=昨天")
    assert bad.status_code == 422 and "YYYY-MM-DD" in bad.text
    assert (
        screens.signed_in("sichuan", "leader")
        .get(f"/items/gansu/{case.id}?as_of=2026-03-02")
        .status_code
        == 404
    )
