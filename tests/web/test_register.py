"""立项: who may register (the API's rule), the form loaded through the API's schema with errors
next to their fields and the input kept, the duplicate-source flow, the deadline preview with
and without htmx, similar items, CSRF, and the notice after registering."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.http.conftest import ROLES
from tests.scenario import new_item, person
from tests.web.conftest import Screens, post

FORM = {
    "title": "关于加强黄河流域生态保护的批示",
    "source_kind": "instruction",
    "source_ref": "甘政办督〔2026〕8号",
    "issued_on": "2026-03-02",
    "objective": "落实生态保护责任",
    "content": "开展沿黄生态排查",
    "executing_unit": "生态环境厅",
    "responsible_person": "李明",
    "deadline": "",
    "importance": "4",
    "urgency": "2",
}
MAY_REGISTER = ("supervisor", "leader")


def submit(client: FlaskClient, **changes: Any) -> Any:
    return post(client, "/register", {**FORM, **changes}, page="/register")


def flashes(client: FlaskClient) -> list[tuple[str, str]]:
    with client.session_transaction() as session:
        found: list[tuple[str, str]] = session.get("_flashes", [])
    return found


def error_of(page: str, field: str) -> str:
    found = re.search(rf'<p class="error" id="r-{field}-error">([^<]+)</p>', page)
    assert found, f"no error next to {field}"
    return found.group(1)


def test_a_supervisor_registers_an_item_and_lands_on_its_page(screens: Screens) -> None:
    client = screens.signed_in("gansu", "supervisor")
    form = client.get("/register")
    assert form.status_code == 200 and "五要素" in form.text and "目标任务" in form.text
    done = submit(client)
    assert done.status_code == 302
    office, item_id = re.fullmatch(r"/items/([^/]+)/([^/]+)", done.headers["Location"]).groups()  # type: ignore[union-attr]
    assert office == "gansu"
    case = screens.api.platform.supervision.get("gansu", item_id)
    assert (case.title, case.executing_unit, case.importance, case.urgency) == (
        FORM["title"],
        "生态环境厅",
        4,
        2,
    )
    assert case.deadline.isoformat() == "2026-04-14"  # 30 working days after 2 March
    actor = screens.api.platform.supervision.history("gansu", item_id)[0].to_dict()["actor"]
    assert (actor["channel"], actor["role"], actor["office"]) == ("web", "supervisor", "gansu")
    assert flashes(client) == [("notice", f"已立项：{FORM['title']}")]


@pytest.mark.parametrize("role", ROLES)
def test_only_the_roles_that_may_register_see_and_use_the_form(screens: Screens, role: str) -> None:
    client = screens.signed_in("gansu", role)
    allowed = role in MAY_REGISTER
    assert client.get("/register").status_code == (200 if allowed else 403)
    desk = client.get("/desk").text
    assert ('href="/register"' in desk) == allowed
    token = re.search(r'name="csrf_token" value="([^"]+)"', desk)
    assert token
    answer = client.post("/register", data={**FORM, "csrf_token": token.group(1)})
    assert answer.status_code == (302 if allowed else 403)
    listed = screens.api.platform.views.items("gansu").total
    assert listed == (1 if allowed else 0)
    if not allowed:
        assert "您的角色不能立项" in answer.text


def test_a_post_without_the_form_token_is_refused(screens: Screens) -> None:
    client = screens.signed_in("gansu", "supervisor")
    refused = client.post("/register", data=FORM)
    assert refused.status_code == 400 and "<form" not in refused.text.split("<main")[1]
    forged = client.post("/register", data={**FORM, "csrf_token": "forged"})
    assert forged.status_code == 400
    assert screens.api.platform.views.items("gansu").total == 0


def test_schema_errors_stand_next_to_their_fields_with_the_input_kept(screens: Screens) -> None:
    client = screens.signed_in("gansu", "supervisor")
    page = submit(client, title="", issued_on="2026-13-40", source_kind="rumour").text
    assert error_of(page, "title") == "此项必填。"
    assert error_of(page, "issued_on") == "请按 YYYY-MM-DD 填写日期。"
    assert error_of(page, "source_kind") == "请从所列选项中选择。"
    assert 'id="r-title"' in page and 'aria-invalid="true"' in page
    assert f'value="{FORM["source_ref"]}"' in page and FORM["objective"] in page
    assert 'value="2026-13-40"' in page and '<option value="4" selected>' in page
    assert screens.api.platform.views.items("gansu").total == 0
    status = submit(client, title="").status_code
    assert status == 422
    scale = submit(client, importance="-1", urgency="高").text
    assert error_of(scale, "importance") == "数值超出允许范围。"
    assert error_of(scale, "urgency") == "请填写整数。"


def test_domain_errors_stand_next_to_their_fields(screens: Screens) -> None:
    client = screens.signed_in("gansu", "supervisor")
    early = submit(client, deadline="2026-03-01")
    assert early.status_code == 422
    assert error_of(early.text, "deadline") == "完成时限早于印发日期。"
    missing = submit(client, source_kind="document")
    assert missing.status_code == 422
    assert error_of(missing.text, "deadline") == "此类来源须填写完成时限。"
    long = submit(client, title="长" * 2001)
    assert long.status_code == 422 and error_of(long.text, "title") == "内容过长。"
    assert screens.api.platform.views.items("gansu").total == 0


def test_a_duplicate_reference_stops_until_registered_anyway(screens: Screens) -> None:
    s = screens.api.platform.supervision
    first = s.register_item(
        person("gansu", "supervisor"),
        "gansu",
        new_item("先前的事项", source_ref="甘政办督[2026]8 号"),  # written differently
    )
    client = screens.signed_in("gansu", "supervisor")
    stopped = submit(client)
    assert stopped.status_code == 409
    assert error_of(stopped.text, "source_ref") == "本机关已有该文号的事项。"
    assert f'<a href="/items/gansu/{first.id}">先前的事项</a>' in stopped.text
    assert 'name="allow_duplicate"' in stopped.text and FORM["content"] in stopped.text
    assert screens.api.platform.views.items("gansu").total == 1
    anyway = submit(client, allow_duplicate="on")
    assert anyway.status_code == 302
    assert screens.api.platform.views.items("gansu").total == 2
    elsewhere = screens.signed_in("sichuan", "supervisor")
    assert submit(elsewhere).status_code == 302  # another office's references are its own


def test_the_deadline_preview_without_javascript(screens: Screens) -> None:
    client = screens.signed_in("gansu", "supervisor")
    preview = submit(client, action="preview")
    assert preview.status_code == 200
    assert "完成时限为 2026-04-14" in preview.text and "印发后第 30 个工作日" in preview.text
    assert "暂定" not in preview.text.split('id="deadline-preview"')[1].split("</div>")[0]
    assert screens.api.platform.views.items("gansu").total == 0  # previewing registers nothing
    assert f'value="{FORM["title"]}"' in preview.text
    far = submit(client, action="preview", issued_on="2031-11-20")
    part = far.text.split('id="deadline-preview"')[1].split("</div>")[0]
    assert "（暂定）" in part and "完成时限为 2032-01-" in part
    given = submit(client, action="preview", deadline="2026-06-30", source_kind="meeting")
    assert (
        "完成时限为 2026-06-30" in given.text
        and "工作日" not in given.text.split('id="deadline-preview"')[1].split("</div>")[0]
    )


def test_the_deadline_preview_as_an_htmx_fragment(screens: Screens) -> None:
    client = screens.signed_in("gansu", "clerk")  # a preview changes nothing: any role may ask
    query = "/register/deadline?source_kind=instruction&issued_on=2026-03-02&deadline="
    part = client.get(query, headers={"HX-Request": "true"})
    assert part.status_code == 200 and "<html" not in part.text
    assert "完成时限为 2026-04-14" in part.text
    document = client.get("/register/deadline?source_kind=document&issued_on=2026-03-02")
    assert "此类来源须填写完成时限" in document.text
    bad = client.get("/register/deadline?source_kind=instruction&issued_on=someday")
    assert bad.status_code == 200 and "请按 YYYY-MM-DD 填写日期" in bad.text
    empty = client.get("/register/deadline")
    assert "选择来源类型和印发日期后显示完成时限" in empty.text
    assert screens.client().get(query).status_code == 302  # signed-in people only


def test_similar_items_are_hinted_by_title_and_reference(screens: Screens) -> None:
    s = screens.api.platform.supervision
    same = s.register_item(person("gansu", "supervisor"), "gansu", new_item("黄河流域生态保护"))
    s.register_item(person("sichuan", "supervisor"), "sichuan", new_item("黄河流域生态保护"))
    client = screens.signed_in("gansu", "supervisor")
    hint = client.get(
        "/register/similar?title=黄河流域&source_ref=国办督〔2026〕37号",
        headers={"HX-Request": "true"},
    ).text
    assert "<html" not in hint and "本机关名称相近的事项" in hint and "本机关文号相同的事项" in hint
    assert hint.count(f'href="/items/gansu/{same.id}"') == 2 and "sichuan" not in hint
    preview = submit(client, action="preview", title="黄河流域").text
    assert f'href="/items/gansu/{same.id}"' in preview
    none = client.get("/register/similar?title=不相干&source_ref=无").text
    assert "本机关" not in none


def test_a_past_deadline_is_registered_with_a_warning(screens: Screens) -> None:
    client = screens.signed_in("gansu", "leader")
    done = submit(client, issued_on="2026-02-02", deadline="2026-02-27")
    assert done.status_code == 302
    assert ("warning", "完成时限 2026-02-27 已过：该事项立项即逾期。") in flashes(client)


def test_english_speakers_read_the_form_in_english(screens: Screens) -> None:
    client = screens.signed_in("gansu", "supervisor")
    post(client, "/language", {"language": "en", "next": "/register"}, page="/register")
    page = submit(client, title="").text
    assert "Register an item" in page and error_of(page, "title") == "This field is required."


def test_the_next_page_shows_what_happened(screens: Screens) -> None:
    client = screens.signed_in("gansu", "supervisor")
    assert submit(client, issued_on="2026-02-02", deadline="2026-02-27").status_code == 302
    page = client.get("/desk").text  # whichever page comes next shows the messages once
    assert '<div role="status"><ul class="flashes">' in page and "已立项：" in page
    assert "flash-warning" in page
    assert 'class="flashes"' not in client.get("/desk").text
