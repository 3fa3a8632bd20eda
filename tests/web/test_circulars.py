"""通报: the ranking of the offices below with its rule, a draft from it, and issuing it, as
the API lets each person (every role × relation, both ways); the API's schema validating the
form, errors next to their fields with the input kept, CSRF refused, no JavaScript needed."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask.testing import FlaskClient

from domain.assignment import Assignee
from tests.http.conftest import RELATIONS, ROLES, make_api
from tests.scenario import new_item, person
from tests.web.conftest import PASSWORD, Screens, post

GANSU = "甘肃省人民政府办公厅"
SICHUAN = "四川省人民政府办公厅"


@dataclass
class World:
    screens: Screens
    people: set[tuple[str, str]] = field(default_factory=set)

    def signed_in(self, office: str, role: str) -> FlaskClient:
        if (office, role) not in self.people:
            self.screens.person(office, role)
            self.people.add((office, role))
        client = self.screens.client()
        login = {"login": f"{office}-{role}", "password": PASSWORD}
        assert post(client, "/signin", login).status_code == 302
        return client


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """The State Council commends gansu's work and orders sichuan to rectify."""
    for api in make_api(tmp_path_factory.mktemp("circulars")):
        s = api.platform.supervision
        top = person("state-council", "leader")
        for office, title in (("gansu", "表彰的事项"), ("sichuan", "整改的事项")):
            item = str(s.register_item(top, "state-council", new_item(title)).id)
            s.act(
                top, "state-council", item, "assign", assignees=[Assignee("office", office, "lead")]
            )
            if office == "gansu":
                s.act(top, "state-council", item, "commend", reason="成效显著")
            else:
                s.act(top, "state-council", item, "order-rectification", requirements="限期整改")
        yield World(Screens(api))


def form_of(page: str) -> dict[str, str]:
    """The draft's fields as the browser would send them back."""
    found = {}
    for name in ("title", "scope"):
        m = re.search(rf'<input id="{name}" name="{name}" value="([^"]*)"', page)
        assert m, name
        found[name] = html.unescape(m.group(1))
    for name in ("text", "commend", "criticise"):
        m = re.search(rf'<textarea id="{name}" name="{name}"[^>]*>(.*?)</textarea>', page, re.S)
        assert m, name
        found[name] = html.unescape(m.group(1))
    return found


def sees_subtree(who: str, role: str) -> bool:
    """As ``tests/http/test_authorization.py`` states the API's rule for the ranking."""
    return role == "admin" or who in ("same", "parent")


def test_the_ranking_follows_the_api_isolation_rules_both_ways(world: World) -> None:
    wrong = []
    for who, office in RELATIONS.items():
        for role in ROLES:
            api = world.screens.api.client.get(
                "/api/v1/offices/gansu/circular", headers=world.screens.api.headers(office, role)
            ).status_code
            page = world.signed_in(office, role).get("/circulars?office=gansu").status_code
            want = 200 if sees_subtree(who, role) else 404
            if not page == api == want:
                wrong.append((who, role, page, api, want))
    assert not wrong, wrong


def issue_body(title: str) -> dict[str, Any]:
    return {
        "title": title,
        "scope": "各省",
        "text": "通报正文",
        "commend": ["白银市"],
        "criticise": [],
    }


def test_issuing_follows_the_api_role_matrix_both_ways(world: World) -> None:
    wrong = []
    for who, office in RELATIONS.items():
        for role in ROLES:
            body = issue_body(f"{who}-{role}")
            api = world.screens.api.client.post(
                "/api/v1/offices/gansu/circulars",
                json=body,
                headers=world.screens.api.headers(office, role),
            ).status_code
            client = world.signed_in(office, role)
            form = {**body, "office": "gansu", "commend": "白银市", "criticise": ""}
            page = post(client, "/circulars", form, page="/circulars").status_code
            offered = 'action="/circulars"' in client.get("/circulars?office=gansu").text
            want_api = 201 if (who, role) == ("same", "leader") else None
            if want_api == 201:
                ok = api == 201 and page == 302 and offered
            else:
                ok = api in (403, 404) and page == api and not offered
            if not ok:
                wrong.append((who, role, api, page, offered))
    assert not wrong, wrong


def test_the_draft_names_the_commended_and_those_under_rectification(world: World) -> None:
    page = world.signed_in("state-council", "leader").get("/circulars").text
    names = re.findall(r'<td>([^<]+)</td>\s*<td class="nowrap">', page)
    assert sorted(names) == sorted([GANSU, SICHUAN])
    draft = form_of(page)
    assert draft["commend"].strip() == GANSU and draft["criticise"].strip() == SICHUAN
    assert f"{GANSU}：按时办结率" in draft["text"] and f"{SICHUAN}：按时办结率" in draft["text"]
    assert f"予以表扬：{GANSU}。" in draft["text"] and f"督促整改：{SICHUAN}。" in draft["text"]
    assert "国务院办公厅" in draft["title"]


def test_the_rule_is_shown_when_the_read_model_gives_it(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    views = world.screens.api.platform.views
    plain = views.circular
    client = world.signed_in("state-council", "leader")
    assert "排名规则" in client.get("/circulars").text  # the read model states its rule

    def without_rule(code: str) -> dict[str, Any]:
        return {k: v for k, v in plain(code).items() if k != "rule"}

    monkeypatch.setattr(views, "circular", without_rule)
    assert "排名规则" not in client.get("/circulars").text  # nothing is made up

    def with_rule(code: str) -> dict[str, Any]:
        return {**plain(code), "rule": {"zh": "按按时办结率排名", "en": "By on-time rate"}}

    monkeypatch.setattr(views, "circular", with_rule)
    page = client.get("/circulars").text
    assert "排名规则" in page and "按按时办结率排名" in page and "By on-time rate" not in page


def test_a_leader_edits_and_issues_the_draft(world: World) -> None:
    client = world.signed_in("state-council", "leader")
    draft = form_of(client.get("/circulars").text)
    draft["title"] = "关于2026年第一季度督查情况的通报"
    answer = post(client, "/circulars", draft, page="/circulars")
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/circulars?issued=1")
    page = client.get(answer.headers["Location"]).text
    assert "通报已印发" in page
    issued = re.search(r'<ul class="issued"[^>]*>(.*?)</ul>', page, re.S)
    assert issued and "关于2026年第一季度督查情况的通报" in issued.group(1)
    assert "state-council的leader" in issued.group(1)  # who issued it, by name
    # a clerk of the office sees the ranking but neither the form nor the audit trail's list
    clerk = world.signed_in("state-council", "clerk").get("/circulars").text
    assert SICHUAN in clerk and 'name="title"' not in clerk and "关于2026年第一季度" not in clerk


def test_errors_are_shown_next_to_their_fields_with_the_input_kept(world: World) -> None:
    client = world.signed_in("state-council", "leader")
    empty = {"title": "", "scope": "各省", "text": "保留的正文", "commend": "", "criticise": ""}
    answer = post(client, "/circulars", empty, page="/circulars")
    assert answer.status_code == 422
    assert re.search(r'<p class="error" id="title-error">此项必填。</p>', answer.text)
    assert 'id="title" name="title" value="" maxlength="300" required aria-invalid="true"' in (
        answer.text
    )
    assert "保留的正文</textarea>" in answer.text
    nobody = {**empty, "title": "无对象的通报"}
    answer = post(client, "/circulars", nobody, page="/circulars")
    assert answer.status_code == 409  # the domain's rule, next to the units
    assert '<p class="error" id="commend-error">请至少列出一个表扬或批评的单位。</p>' in answer.text
    assert 'value="无对象的通报"' in answer.text
    both = {**nobody, "commend": "白银市", "criticise": "白银市"}
    answer = post(client, "/circulars", both, page="/circulars")
    assert answer.status_code == 409 and "同一单位不能既受表扬又受批评" in answer.text
    control = {**nobody, "commend": "白银\x07市"}
    answer = post(client, "/circulars", control, page="/circulars")
    assert answer.status_code == 422 and "commend" in answer.text  # refused before the view


def test_a_form_without_its_token_is_refused(world: World) -> None:
    client = world.signed_in("state-council", "leader")
    before = world.screens.api.platform.views.audit("state-council", type_="Issued").total
    body = {"title": "伪造的通报", "scope": "各省", "text": "正文", "commend": "甘肃"}
    answer = client.post("/circulars", data=body)
    assert answer.status_code == 400 and "伪造的通报" not in answer.text
    forged = client.post("/circulars", data={**body, "csrf_token": "forged"})
    assert forged.status_code == 400
    assert world.screens.api.platform.views.audit("state-council", type_="Issued").total == before


def test_offices_below_and_unknown_ones(world: World) -> None:
    client = world.signed_in("state-council", "supervisor")
    assert GANSU in client.get("/circulars").text
    below = client.get("/circulars?office=gansu")
    assert below.status_code == 200 and "没有下级单位" not in below.text  # gansu has baiyin
    assert client.get("/circulars?office=nowhere").status_code == 404
    county = world.signed_in("pingchuan", "clerk").get("/circulars")
    assert county.status_code == 200 and "本单位没有下级单位" in county.text


def test_a_ranking_of_matters_with_unranked_offices_reads_the_same(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The read model may count matters apart from records and leave offices with nothing due
    unranked: the page shows the matters' figures and a dash for no rank."""
    views = world.screens.api.platform.views
    matters = {"total": 7, "completed": 3, "on_time_rate": 0.75, "overdue": 2}
    entry = {"office": "gansu", "name": GANSU, "rank": 1, "commended": 1, "under_rectification": 0}
    idle = {**entry, "office": "sichuan", "name": SICHUAN, "rank": None, "commended": 0}
    nothing = {"total": 0, "completed": 0, "on_time_rate": None, "overdue": 0}
    monkeypatch.setattr(
        views,
        "circular",
        lambda code: {
            "office": code,
            "on": "2026-03-02",
            "ranking": [
                {**entry, "records": {}, "matters": matters},
                {**idle, "records": {}, "matters": nothing},
            ],
            "commended": ["gansu"],
            "under_rectification": [],
        },
    )
    page = world.signed_in("state-council", "leader").get("/circulars").text
    assert re.search(rf"<td>1</td>\s*<td>{GANSU}</td>\s*<td[^>]*>75%</td>\s*<td>3 / 7</td>", page)
    assert re.search(rf"<td>—</td>\s*<td>{SICHUAN}</td>\s*<td[^>]*>无到期事项</td>", page)
    assert f"{GANSU}：按时办结率 75%，逾期 2 件" in form_of(page)["text"]
