"""The item page's actions, both ways, against the API itself.

For records in several states and every role of the record's office, the page offers an
action exactly when the web accepts it and exactly when the API accepts it (each tried on a
fresh record in that state, with the same input); offices out of sight get 404 and roles
beyond the matrix 403 for a forged post, as over the API. Then: CSRF, a stale version (the
message, the new state, the input kept), errors next to their field with the input kept,
plain posts (PRG, 303) and htmx posts (200 with the page's part)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from flask.testing import FlaskClient

from domain.assignment import Assignee
from domain.tasks import Task
from services.supervision import ACTIONS
from tests.http.conftest import RELATIONS, ROLES, Api
from tests.http.test_authorization import BODIES, MATRIX, sees_items
from tests.scenario import new_item, person
from tests.web.conftest import Screens, token

BODY = {**BODIES, "assign": {"to_unit": "综合处"}}
"""The API matrix's bodies; assigning names an internal unit (an office may be assigned only
once, and some states below already assigned baiyin)."""
OFFERED = re.compile(
    r'action="/items/[^/]+/[^/]+/([a-z-]+)"[^>]*>\s*<input[^>]+>\s*'
    r'<input type="hidden" name="version" value="\d+">\s*'
    r'(?:<input type="hidden" name="assignee" value="([^"]*)">)?'
)
LINKED = re.compile(r'href="/items/[^/]+/[^/"]+/(report|extension)(?:\?kind=(\w+))?"')


def fresh(api: Api) -> tuple[str, str]:
    case = api.platform.supervision.register_item(
        person("gansu", "supervisor"), "gansu", new_item()
    )
    return "gansu", case.id


def acknowledged(api: Api) -> tuple[str, str]:
    office, item_id = fresh(api)
    api.platform.supervision.act(person("gansu"), office, item_id, "acknowledge")
    return office, item_id


def waiting(api: Api) -> tuple[str, str]:
    """Assigned to baiyin (deadline 2026-04-01), which signed for it, asked for 2026-04-08
    and reported completion: decisions wait on gansu."""
    s = api.platform.supervision
    office, item_id = fresh(api)
    lead = [Assignee("office", "baiyin", "lead")]
    s.act(
        person("gansu", "supervisor"),
        office,
        item_id,
        "assign",
        assignees=lead,
        deadline=date(2026, 4, 1),
    )
    task = str(Task.create_id("gansu", item_id, "baiyin"))
    s.act(person("baiyin"), "baiyin", task, "acknowledge")
    s.act(
        person("baiyin"),
        "baiyin",
        task,
        "request-extension",
        new_deadline=date(2026, 4, 8),
        reason="汛期施工受阻",
    )
    s.act(person("baiyin"), "baiyin", task, "report-completion", text="已办结")
    return office, item_id


def task(api: Api) -> tuple[str, str]:
    """baiyin's task in the state ``waiting`` leaves it."""
    _office, item_id = waiting(api)
    return "baiyin", str(Task.create_id("gansu", item_id, "baiyin"))


def closed(api: Api) -> tuple[str, str]:
    office, item_id = fresh(api)
    api.platform.supervision.act(
        person("gansu", "leader"), office, item_id, "close", reason="领导决定", leader_closure=True
    )
    return office, item_id


STATES: dict[str, Callable[[Api], tuple[str, str]]] = {
    "fresh": fresh,
    "acknowledged": acknowledged,
    "waiting": waiting,
    "task": task,
    "closed": closed,
}


def offered(page: str) -> set[tuple[str, str]]:
    """(action, assignee) of every action the page offers: forms and report/extension links."""
    found = {(a, who) for a, who in OFFERED.findall(page)}
    for screen, kind in LINKED.findall(page):
        if screen == "extension":
            found.add(("request-extension", ""))
        else:
            found.add(("report-completion" if kind == "completion" else "report-progress", ""))
    return found


def as_form(body: dict[str, Any]) -> dict[str, Any]:
    return {
        k: ("1" if v is True else v if isinstance(v, list) else str(v)) for k, v in body.items()
    }


def web_post(
    client: FlaskClient,
    office: str,
    item_id: str,
    action: str,
    form: dict[str, Any],
    version: int,
    **headers: str,
) -> Any:
    data = {**form, "version": str(version), "csrf_token": token(client, "/desk")}
    return client.post(f"/items/{office}/{item_id}/{action}", data=data, headers=headers)


def candidates(api: Api, office: str, item_id: str) -> list[tuple[str, str]]:
    record = api.platform.supervision.get(office, item_id)
    waiting_on = sorted(record.pending_extensions)
    return (
        [(a, "") for a in ACTIONS]
        + [(a, who) for a in ("grant-extension", "deny-extension") for who in waiting_on]
        + [(a, "baiyin") for a in ("accept-completion", "return-completion")]
    )


@pytest.mark.parametrize("state", STATES)
def test_offered_exactly_when_the_web_and_the_api_accept(screens: Screens, state: str) -> None:
    api = screens.api
    office, item_id = STATES[state](api)
    wrong = []
    every: set[tuple[str, str, str]] = set()
    for role in ("clerk", "supervisor", "leader"):
        client = screens.signed_in(office, role)
        shown = offered(client.get(f"/items/{office}/{item_id}").text)
        every |= {(role, a, who) for a, who in shown}
        for action, who in candidates(api, office, item_id):
            body = {**BODY[action], **({"assignee": who} if who else {})}
            on_web, on_api = STATES[state](api), STATES[state](api)
            version = api.platform.supervision.get(*on_web).version
            web = web_post(client, *on_web, action, as_form(body), version).status_code
            got = api.client.post(
                f"/api/v1/offices/{on_api[0]}/items/{on_api[1]}/{action}",
                json=body,
                headers=api.headers(office, role, **{"If-Match": f'"{version}"'}),
            ).status_code
            is_offered = (action, who) in shown
            if not (is_offered == (web == 303) == (got == 200)):
                wrong.append((role, action, who, is_offered, web, got))
            if action not in MATRIX[role]:
                assert not is_offered and web == got == 403, (role, action, web, got)
    assert not wrong, f"(role, action, assignee, offered, web, api): {wrong}"
    expected = {
        "fresh": {
            ("clerk", "acknowledge", ""),
            ("supervisor", "assign", ""),
            ("leader", "close", ""),
        },
        "acknowledged": {("clerk", "report-progress", ""), ("clerk", "request-extension", "")},
        "waiting": {
            ("leader", "grant-extension", "baiyin"),
            ("leader", "accept-completion", "baiyin"),
            ("leader", "accept-completion", ""),
        },
        "task": {("supervisor", "urge", ""), ("leader", "record-finding", "")},
        "closed": {("leader", "reopen", ""), ("supervisor", "record-finding", "")},
    }[state]
    assert expected <= every, expected - every  # the equality above is not vacuous
    if state == "closed":
        assert ("clerk", "acknowledge", "") not in every and ("leader", "close", "") not in every
    if state == "task":  # baiyin's own request waits, and is gansu's to decide, not baiyin's
        assert ("clerk", "request-extension", "") not in every
        assert not {
            (r, a, w) for r, a, w in every if a.endswith("-extension") and a != "request-extension"
        }


@pytest.mark.parametrize("who", list(RELATIONS))
def test_others_see_nothing_and_forged_posts_are_refused_as_over_the_api(
    screens: Screens, who: str
) -> None:
    api = screens.api
    office, item_id = fresh(api)
    version = api.platform.supervision.get(office, item_id).version
    for role in ROLES:
        client = screens.signed_in(RELATIONS[who], role)
        page = client.get(f"/items/{office}/{item_id}")
        assert page.status_code == (200 if sees_items(who, role) else 404), (who, role)
        if page.status_code == 404:
            assert "关于煤矿安全事故的批示" not in page.text and "五要素" not in page.text
        for action in ACTIONS:
            got = web_post(client, office, item_id, action, as_form(BODY[action]), version)
            want = (
                404
                if not sees_items(who, role)
                else 403
                if (who != "same" or action not in MATRIX[role])
                else got.status_code
            )
            assert got.status_code == want, (who, role, action, got.status_code)
            if role in ("auditor", "admin") or who != "same":
                assert got.status_code in (403, 404)
    if who != "same":  # (the same office's allowed posts were carried out)
        assert api.platform.supervision.get(office, item_id).version == version


def test_a_post_without_the_csrf_token_is_refused(screens: Screens) -> None:
    office, item_id = fresh(screens.api)
    client = screens.signed_in("gansu", "supervisor")
    got = client.post(
        f"/items/{office}/{item_id}/urge", data={"message": "请加快进度", "version": "1"}
    )
    assert got.status_code == 400 and "表单已过期" in got.text
    assert screens.api.platform.supervision.get(office, item_id).urge_count == 0


def test_a_plain_post_redirects_back_with_a_notice(screens: Screens) -> None:
    office, item_id = fresh(screens.api)
    client = screens.signed_in("gansu", "supervisor")
    done = web_post(client, office, item_id, "urge", {"message": "请加快进度"}, 1)
    assert done.status_code == 303 and done.headers["Location"] == f"/items/{office}/{item_id}"
    page = client.get(done.headers["Location"]).text
    assert "已完成：催办" in page and "请加快进度" in page  # the notice, and the timeline
    record = screens.api.platform.supervision.get(office, item_id)
    assert record.urge_count == 1
    history = screens.api.platform.supervision.history(office, item_id)
    assert history[-1].actor["channel"] == "web"


def test_a_stale_version_shows_the_new_state_and_keeps_the_input(screens: Screens) -> None:
    office, item_id = fresh(screens.api)
    client = screens.signed_in("gansu", "supervisor")
    screens.api.platform.supervision.act(
        person("gansu", "leader"), office, item_id, "urge", message="别人先催了"
    )
    got = web_post(client, office, item_id, "urge", {"message": "我的催办内容"}, 1)
    assert got.status_code == 409
    assert "该事项已被他人更新" in got.text
    assert "别人先催了" in got.text  # the new state (its timeline)
    assert ">我的催办内容</textarea>" in got.text  # the input kept, in its form
    assert 'name="version" value="2"' in got.text  # the form now carries the new version
    assert screens.api.platform.supervision.get(office, item_id).urge_count == 1


def test_errors_are_shown_next_to_their_field_with_the_input_kept(screens: Screens) -> None:
    office, item_id = fresh(screens.api)
    client = screens.signed_in("gansu", "leader")
    got = web_post(
        client,
        office,
        item_id,
        "order-rectification",
        {"requirements": "限期整改到位", "deadline": "2026-02-01"},
        1,
    )
    assert got.status_code == 422
    field = re.search(
        r'id="(a\d+-deadline)"[^>]*value="2026-02-01"[^>]*aria-invalid="true"', got.text
    )
    assert field, "the date is kept and marked"
    assert f'id="{field.group(1)}-error"' in got.text and ">限期整改到位</textarea>" in got.text
    missing = web_post(client, office, item_id, "escalate", {"to": "分管领导"}, 1)
    assert (
        missing.status_code == 422 and "必填" in missing.text and 'value="分管领导"' in missing.text
    )
    assert screens.api.platform.supervision.get(office, item_id).version == 1


def test_assigning_down_and_to_units_from_the_picker(screens: Screens) -> None:
    office, item_id = fresh(screens.api)
    client = screens.signed_in("gansu", "supervisor")
    page = client.get(f"/items/{office}/{item_id}").text
    assert '<option value="baiyin"' in page and '<option value="pingchuan"' in page
    assert 'value="sichuan"' not in page and 'value="state-council"' not in page
    form = {
        "to": "baiyin",
        "co": ["pingchuan"],
        "co_unit": "法规处，综合处",
        "deadline": "2026-04-01",
    }
    done = web_post(client, office, item_id, "assign", form, 1)
    assert done.status_code == 303, done.text
    record = screens.api.platform.supervision.get(office, item_id)
    assert [(a["target"], a["role"]) for a in record.assignments] == [
        ("baiyin", "lead"),
        ("pingchuan", "co"),
        ("法规处", "co"),
        ("综合处", "co"),
    ]
    forged = web_post(client, office, item_id, "assign", {"to": "sichuan"}, record.version)
    assert forged.status_code == 409 and "sichuan" not in forged.text.split("<main")[0]


def test_an_htmx_post_gets_the_part_to_swap(screens: Screens) -> None:
    office, item_id = fresh(screens.api)
    client = screens.signed_in("gansu", "supervisor")
    refused = web_post(client, office, item_id, "urge", {}, 1, **{"HX-Request": "true"})
    assert refused.status_code == 200 and refused.text.lstrip().startswith('<div id="item">')
    assert "必填" in refused.text and "<html" not in refused.text
    done = web_post(
        client, office, item_id, "urge", {"message": "请加快"}, 1, **{"HX-Request": "true"}
    )
    assert done.status_code == 303  # htmx follows it and swaps the page's part in
    part = client.get(done.headers["Location"], headers={"HX-Request": "true"})
    assert part.text.lstrip().startswith('<div id="item">') and "已完成：催办" in part.text


def test_input_is_kept_even_when_the_new_state_no_longer_offers_the_action(
    screens: Screens,
) -> None:
    office, item_id = fresh(screens.api)
    client = screens.signed_in("gansu", "supervisor")
    screens.api.platform.supervision.act(
        person("gansu", "leader"), office, item_id, "close", reason="领导决定", leader_closure=True
    )
    got = web_post(client, office, item_id, "urge", {"message": "我的催办内容"}, 1)
    assert got.status_code == 409 and "该事项已被他人更新" in got.text and "已销号" in got.text
    assert 'data-action="urge"' not in got.text  # not offered on a closed item
    kept = got.text.split('id="kept"')[1]
    assert "<dt>催办内容</dt><dd>我的催办内容</dd>" in kept
