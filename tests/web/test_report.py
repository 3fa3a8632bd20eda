"""进展反馈: progress and completion reports in the 办理情况报告 shape, sent as the API's
report-progress / report-completion; "reuse my last report" as a draft; who may, and when."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from domain.tasks import Task
from tests.http.conftest import RELATIONS, ROLES, Api, assign_down
from tests.http.test_authorization import sees_items
from tests.scenario import person
from tests.web.conftest import Screens, token
from tests.web.test_actions import acknowledged, fresh

PARTS = {
    "process": "召开专题会议，部署排查",
    "progress": "已完成八个乡镇的排查",
    "problems": "山区交通不便",
    "next_steps": "四月底前完成全部排查",
    "contact": "李明",
    "phone": "0943-1234567",
}


def send(client: FlaskClient, office: str, item_id: str, form: dict[str, Any], **more: str) -> Any:
    kind = more.pop("kind", "progress")
    data = {**form, "csrf_token": token(client, "/desk")}
    return client.post(f"/items/{office}/{item_id}/report?kind={kind}", data=data, headers=more)


def task_of(api: Api) -> tuple[str, str]:
    """baiyin's task, signed for."""
    _office, item_id = fresh(api)
    assign_down(api, "gansu", item_id, "baiyin")
    task = str(Task.create_id("gansu", item_id, "baiyin"))
    api.platform.supervision.act(person("baiyin"), "baiyin", task, "acknowledge")
    return "baiyin", task


def test_a_progress_report_reaches_the_assigning_office_in_its_shape(screens: Screens) -> None:
    api = screens.api
    office, task = task_of(api)
    client = screens.signed_in("baiyin", "clerk")
    page = client.get(f"/items/{office}/{task}/report")
    assert page.status_code == 200 and "落实过程" in page.text and "下步打算" in page.text
    version = str(api.platform.supervision.get(office, task).version)
    done = send(client, office, task, {**PARTS, "percent": "60", "version": version})
    assert done.status_code == 303 and done.headers["Location"] == f"/items/{office}/{task}"
    record = api.platform.supervision.get(office, task)
    assert record.progress_percent == 60 and record.status == "in_progress"
    assert record.last_report == (
        "【落实过程】\n召开专题会议，部署排查\n\n【进展】\n已完成八个乡镇的排查\n\n"
        "【存在问题】\n山区交通不便\n\n【下步打算】\n四月底前完成全部排查\n\n"
        "【联系人】\n李明，0943-1234567"
    )
    parent = api.platform.supervision.get("gansu", record.parent["id"])  # type: ignore[index]
    assert parent.received_reports["baiyin"]["text"] == record.last_report
    above = screens.signed_in("gansu", "leader").get(f"/items/gansu/{parent.id}").text
    assert "进展 60%" in above and "【存在问题】" in above


def test_reuse_my_last_report_fills_the_form_as_a_draft(screens: Screens) -> None:
    office, item_id = acknowledged(screens.api)
    client = screens.signed_in("gansu", "clerk")
    empty = client.get(f"/items/{office}/{item_id}/report?reuse=1").text
    assert "没有可以沿用的报告" in empty
    assert (
        send(client, office, item_id, {**PARTS, "percent": "35", "version": "2"}).status_code == 303
    )
    draft = client.get(f"/items/{office}/{item_id}/report?kind=completion&reuse=1").text
    assert "已按您上次的报告填好草稿" in draft
    for name, value in PARTS.items():
        assert value in draft, name
    assert "四月底前完成全部排查</textarea>" in draft
    # a completion report from the draft
    form = {**PARTS, "next_steps": "", "version": "3"}
    assert send(client, office, item_id, form, kind="completion").status_code == 303
    record = screens.api.platform.supervision.get(office, item_id)
    assert record.status == "completion_reported" and "【下步打算】" not in record.last_report


def test_errors_keep_the_input_and_sit_by_their_field(screens: Screens) -> None:
    office, item_id = acknowledged(screens.api)
    client = screens.signed_in("gansu", "clerk")
    nothing = send(client, office, item_id, {"percent": "10", "version": "2"})
    assert nothing.status_code == 422
    assert 'id="r-process-error">必填。' in nothing.text and 'aria-invalid="true"' in nothing.text
    too_much = send(client, office, item_id, {**PARTS, "percent": "150", "version": "2"})
    assert too_much.status_code == 422 and 'id="r-percent-error">请输入 0 到 100。' in too_much.text
    assert "召开专题会议，部署排查</textarea>" in too_much.text and 'value="150"' in too_much.text
    stale = send(client, office, item_id, {**PARTS, "percent": "20", "version": "1"})
    assert stale.status_code == 409 and "该事项已被他人更新" in stale.text
    assert "山区交通不便</textarea>" in stale.text and 'name="version" value="2"' in stale.text
    part = send(client, office, item_id, {"version": "2"}, **{"HX-Request": "true"})
    assert part.status_code == 200 and part.text.lstrip().startswith('<div id="report">')
    assert screens.api.platform.supervision.get(office, item_id).version == 2


def test_no_report_before_signing_for_it(screens: Screens) -> None:
    office, item_id = fresh(screens.api)
    client = screens.signed_in("gansu", "clerk")
    page = client.get(f"/items/{office}/{item_id}/report")
    assert page.status_code == 409 and "该事项目前不能报送" in page.text
    assert "报送</button>" not in page.text
    forged = send(client, office, item_id, {**PARTS, "percent": "5", "version": "1"})
    assert forged.status_code == 409 and "请先签收" in forged.text


@pytest.mark.parametrize("who", list(RELATIONS))
def test_who_may_report_as_over_the_api(screens: Screens, who: str) -> None:
    office, item_id = acknowledged(screens.api)
    for role in ROLES:
        client = screens.signed_in(RELATIONS[who], role)
        page = client.get(f"/items/{office}/{item_id}/report")
        forged = send(client, office, item_id, {**PARTS, "percent": "5", "version": "2"})
        if not sees_items(who, role):
            assert page.status_code == forged.status_code == 404
        elif who != "same" or role in ("auditor", "admin"):
            assert page.status_code == forged.status_code == 403
        else:
            # the first report (the clerk's) is taken; the next ones carry a stale version
            assert page.status_code == 200 and forged.status_code == (
                303 if role == "clerk" else 409
            )
        if who == "same" and role == "clerk":
            without_token = client.post(
                f"/items/{office}/{item_id}/report", data={**PARTS, "percent": "5", "version": "3"}
            )
            assert without_token.status_code == 400 and "表单已过期" in without_token.text
    assert screens.api.platform.supervision.get(office, item_id).version == 2 + (who == "same")
