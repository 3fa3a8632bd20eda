"""延期: asking for a later deadline with the working days it adds, and deciding the requests
that wait on one's office (the item page's forms, listed on /extensions)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from flask.testing import FlaskClient

from domain.assignment import Assignee
from domain.tasks import Task
from tests.http.conftest import RELATIONS, ROLES, Api
from tests.http.test_authorization import sees_items
from tests.scenario import person
from tests.web.conftest import Screens, token
from tests.web.test_actions import acknowledged, fresh, offered, web_post


def ask(client: FlaskClient, office: str, item_id: str, form: dict[str, Any], **more: str) -> Any:
    data = {**form, "csrf_token": token(client, "/desk")}
    return client.post(f"/items/{office}/{item_id}/extension", data=data, headers=more)


def baiyin_task(api: Api) -> tuple[str, str]:
    """gansu's item assigned to baiyin with deadline 2026-04-01; baiyin signed for it."""
    _office, item_id = fresh(api)
    lead = [Assignee("office", "baiyin", "lead")]
    api.platform.supervision.act(
        person("gansu", "supervisor"),
        "gansu",
        item_id,
        "assign",
        assignees=lead,
        deadline=date(2026, 4, 1),
    )
    task = str(Task.create_id("gansu", item_id, "baiyin"))
    api.platform.supervision.act(person("baiyin"), "baiyin", task, "acknowledge")
    return item_id, task


def test_the_working_days_a_new_date_adds_without_and_with_javascript(screens: Screens) -> None:
    office, item_id = acknowledged(screens.api)
    client = screens.signed_in("gansu", "clerk")
    page = client.get(f"/items/{office}/{item_id}/extension")
    assert page.status_code == 200 and "2026-04-14" in page.text
    counted = ask(
        client, office, item_id, {"new_deadline": "2026-04-21", "reason": "汛期", "count": "1"}
    )
    # 15, 16, 17, 20 and 21 April; the reason typed is kept, nothing is requested yet
    assert counted.status_code == 200 and "比 2026-04-14 延后 5 个工作日" in counted.text
    assert "汛期</textarea>" in counted.text
    assert screens.api.platform.supervision.get(office, item_id).pending_extension is None
    days = client.get(f"/items/{office}/{item_id}/extension/days?new_deadline=2026-05-06")
    # 15 April to 6 May: 16 weekdays less the Labour Day holiday (1 and 4–5 May)
    assert days.text == "比 2026-04-14 延后 13 个工作日。"
    early = client.get(f"/items/{office}/{item_id}/extension/days?new_deadline=2026-04-01")
    assert early.text == "2026-04-01 不晚于现完成时限 2026-04-14。"
    assert client.get(f"/items/{office}/{item_id}/extension/days?new_deadline=x").text == ""
    later = client.get(f"/items/{office}/{item_id}/extension/days?new_deadline=2027-03-01").text
    assert "按暂定日历计算" in later


def test_a_request_is_recorded_and_errors_sit_by_their_field(screens: Screens) -> None:
    office, item_id = acknowledged(screens.api)
    client = screens.signed_in("gansu", "clerk")
    not_later = ask(
        client, office, item_id, {"new_deadline": "2026-04-10", "reason": "汛期", "version": "2"}
    )
    assert not_later.status_code == 422
    assert 'id="x-new_deadline-error">新的完成时限须晚于现完成时限。' in not_later.text
    assert 'value="2026-04-10"' in not_later.text and "汛期</textarea>" in not_later.text
    no_reason = ask(client, office, item_id, {"new_deadline": "2026-04-30", "version": "2"})
    assert no_reason.status_code == 422 and 'id="x-reason-error">必填。' in no_reason.text
    done = ask(
        client,
        office,
        item_id,
        {
            "new_deadline": "2026-04-30",
            "reason": "汛期施工受阻",
            "progress": "完成六成",
            "version": "2",
        },
    )
    assert done.status_code == 303 and done.headers["Location"] == f"/items/{office}/{item_id}"
    record = screens.api.platform.supervision.get(office, item_id)
    assert record.pending_extension == date(2026, 4, 30)
    page = client.get(done.headers["Location"]).text
    assert "已完成：申请延期" in page and "已申请延期至 2026-04-30" in page
    again = client.get(f"/items/{office}/{item_id}/extension")
    assert again.status_code == 409 and "该事项目前不能申请延期" in again.text


def test_the_office_above_decides_what_waits_on_it(screens: Screens) -> None:
    api = screens.api
    item_id, task = baiyin_task(api)
    clerk = screens.signed_in("baiyin", "clerk")
    version = str(api.platform.supervision.get("baiyin", task).version)
    form = {"new_deadline": "2026-04-08", "reason": "汛期施工受阻", "version": version}
    assert ask(clerk, "baiyin", task, form).status_code == 303

    leader = screens.signed_in("gansu", "leader")
    listed = leader.get("/extensions").text
    assert "白银市人民政府办公室" in listed and "2026-04-08" in listed
    assert f'href="/items/gansu/{item_id}#h-actions"' in listed
    assert (
        "没有待本单位审批的延期申请"
        in screens.signed_in("baiyin", "leader").get("/extensions").text
    )
    assert "2026-04-08" not in screens.signed_in("sichuan", "leader").get("/extensions").text

    page = leader.get(f"/items/gansu/{item_id}").text
    assert {("grant-extension", "baiyin"), ("deny-extension", "baiyin")} <= offered(page)
    assert "申请延至 2026-04-08" in page
    version_above = api.platform.supervision.get("gansu", item_id).version
    granted = web_post(
        leader, "gansu", item_id, "grant-extension", {"assignee": "baiyin"}, version_above
    )
    assert granted.status_code == 303
    assert api.platform.supervision.get("baiyin", task).deadline == date(2026, 4, 8)
    assert "同意延期" in leader.get(f"/items/gansu/{item_id}").text
    assert "没有待本单位审批的延期申请" in leader.get("/extensions").text
    below = clerk.get(f"/items/baiyin/{task}").text
    assert "2026-04-08" in below and "同意延期" in below  # baiyin sees the decision


@pytest.mark.parametrize("who", list(RELATIONS))
def test_who_may_ask_as_over_the_api(screens: Screens, who: str) -> None:
    office, item_id = acknowledged(screens.api)
    for role in ROLES:
        client = screens.signed_in(RELATIONS[who], role)
        page = client.get(f"/items/{office}/{item_id}/extension")
        forged = ask(
            client, office, item_id, {"new_deadline": "2026-04-30", "reason": "x", "version": "2"}
        )
        if not sees_items(who, role):
            assert page.status_code == forged.status_code == 404
        elif who != "same" or role in ("auditor", "admin"):
            assert page.status_code == forged.status_code == 403
        else:  # the first request is taken; the next ones find it waiting (and a stale version)
            assert page.status_code == (200 if role == "clerk" else 409)
            assert forged.status_code == (303 if role == "clerk" else 409)
        if who == "same" and role == "clerk":
            bare = client.post(
                f"/items/{office}/{item_id}/extension", data={"new_deadline": "2026-05-01"}
            )
            assert bare.status_code == 400
    pending = screens.api.platform.supervision.get(office, item_id).pending_extension
    assert pending == (date(2026, 4, 30) if who == "same" else None)
