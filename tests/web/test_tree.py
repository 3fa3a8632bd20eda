"""责任树: the tree below a record, as the API's ``…/items/{id}/tree`` lets each person see it
(every role × relation, both ways), one level at a time: htmx fragments, and without
JavaScript links to the tree page rooted at a node."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from flask.testing import FlaskClient

from domain.tasks import Task
from tests.http.conftest import RELATIONS, ROLES, assign_down, make_api
from tests.scenario import new_item, person
from tests.web.conftest import PASSWORD, Screens, post

HTMX = {"HX-Request": "true"}


@dataclass
class Chain:
    """gansu's item → baiyin's task → pingchuan's task."""

    screens: Screens
    item: str
    mid: str
    low: str
    people: set[tuple[str, str]] = field(default_factory=set)

    def signed_in(self, office: str, role: str) -> FlaskClient:
        """A client signed in as the office's person in that role (made once per module)."""
        if (office, role) not in self.people:
            self.screens.person(office, role)
            self.people.add((office, role))
        client = self.screens.client()
        login = {"login": f"{office}-{role}", "password": PASSWORD}
        assert post(client, "/signin", login).status_code == 302
        return client


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chain]:
    for api in make_api(tmp_path_factory.mktemp("tree")):
        s = api.platform.supervision
        item = str(s.register_item(person("gansu", "supervisor"), "gansu", new_item("黄河治理")).id)
        assign_down(api, "gansu", item, "baiyin")
        mid = str(Task.create_id("gansu", item, "baiyin"))
        s.act(person("baiyin", "clerk"), "baiyin", mid, "acknowledge")
        assign_down(api, "baiyin", mid, "pingchuan")
        low = str(Task.create_id("baiyin", mid, "pingchuan"))
        s.act(person("pingchuan", "clerk"), "pingchuan", low, "acknowledge")
        s.act(
            person("pingchuan", "clerk"),
            "pingchuan",
            low,
            "report-progress",
            text="已排查四十六个排污口",
            percent=30,
        )
        yield Chain(Screens(api), item, mid, low)


def sees_items(who: str, role: str) -> bool:
    """As ``tests/http/test_authorization.py`` states the API's rule for the tree."""
    return who == "same" or (role == "auditor" and who == "parent")


def test_the_tree_follows_the_api_isolation_rules_both_ways(chain: Chain) -> None:
    wrong = []
    for who, office in RELATIONS.items():
        for role in ROLES:
            client = chain.signed_in(office, role)
            api = chain.screens.api.client.get(
                f"/api/v1/offices/gansu/items/{chain.item}/tree",
                headers=chain.screens.api.headers(office, role),
            ).status_code
            page = client.get(f"/items/gansu/{chain.item}/tree").status_code
            part = client.get(
                f"/items/gansu/{chain.item}/tree/children?node=baiyin:{chain.mid}", headers=HTMX
            ).status_code
            want = 200 if sees_items(who, role) else 404
            if not page == part == api == want:
                wrong.append((who, role, page, part, api, want))
    assert not wrong, wrong


def test_a_node_shows_office_unit_person_status_light_deadline_and_last_report(
    chain: Chain,
) -> None:
    page = chain.signed_in("gansu", "clerk").get(f"/items/gansu/{chain.item}/tree").text
    assert "黄河治理" in page and "甘肃省人民政府办公厅" in page and "白银市人民政府办公室" in page
    assert "督查室" in page and "王建国" in page and "已签收" in page
    assert "绿灯" in page and 'class="light light-green"' in page  # colour and words
    assert "2026-04-14" in page
    assert '<span class="tree-role">牵头</span>' in page  # baiyin leads
    # one level at a time: the county is not in the page until baiyin is opened
    assert "白银市平川区人民政府办公室" not in page
    assert "办理中" in page and "已排查四十六个排污口" in page  # baiyin follows its lead's report
    below = f"/items/gansu/{chain.item}/tree/children?node=baiyin:{chain.mid}"
    assert f'hx-get="{below.replace("&", "&amp;")}"' in page
    assert 'hx-trigger="toggle once"' in page
    assert f'href="/items/gansu/{chain.item}/tree?node=baiyin:{chain.mid}"' in page  # no JS


def test_htmx_gets_the_next_level_as_a_fragment(chain: Chain) -> None:
    client = chain.signed_in("gansu", "supervisor")
    part = client.get(
        f"/items/gansu/{chain.item}/tree/children?node=baiyin:{chain.mid}", headers=HTMX
    ).text
    assert "<html" not in part and '<li class="tree-node">' in part
    assert "白银市平川区人民政府办公室" in part and "已排查四十六个排污口" in part
    assert "办理中" in part
    leaf = client.get(
        f"/items/gansu/{chain.item}/tree/children?node=pingchuan:{chain.low}", headers=HTMX
    ).text
    assert "没有下级单位" in leaf


def test_without_javascript_the_link_opens_the_tree_rooted_at_the_node(chain: Chain) -> None:
    client = chain.signed_in("gansu", "leader")
    for path in (
        f"/items/gansu/{chain.item}/tree?node=baiyin:{chain.mid}",
        f"/items/gansu/{chain.item}/tree/children?node=baiyin:{chain.mid}",  # without htmx
    ):
        page = client.get(path).text
        assert "<html" in page and "白银市平川区人民政府办公室" in page
        trail = re.search(r'<ol class="tree-path">(.*?)</ol>', page, re.S)
        assert trail and "甘肃省人民政府办公厅" in trail.group(1)  # the way back up
        assert f'href="/items/gansu/{chain.item}/tree?node=gansu:{chain.item}"' in trail.group(1)


def test_a_subordinate_sees_only_below_its_own_task(chain: Chain) -> None:
    baiyin = chain.signed_in("baiyin", "clerk")
    page = baiyin.get(f"/items/baiyin/{chain.mid}/tree").text
    assert "白银市平川区人民政府办公室" in page
    assert "甘肃省人民政府办公厅" not in page  # not the parent's node
    # the parent's record, named as a node under baiyin's task, is not below it
    above = baiyin.get(f"/items/baiyin/{chain.mid}/tree?node=gansu:{chain.item}")
    assert above.status_code == 404
    # nor by its own path (another office's record)
    assert baiyin.get(f"/items/gansu/{chain.item}/tree").status_code == 404
    county = chain.signed_in("pingchuan", "clerk")
    assert county.get(f"/items/baiyin/{chain.mid}/tree").status_code == 404


def test_unknown_records_and_nodes_are_not_found(chain: Chain) -> None:
    client = chain.signed_in("gansu", "clerk")
    for path in (
        "/items/gansu/00000000-0000-0000-0000-000000000000/tree",
        "/items/nowhere/x/tree",
        f"/items/gansu/{chain.item}/tree?node=baiyin:nothing",
        f"/items/gansu/{chain.item}/tree?node=",
        f"/items/gansu/{chain.item}/tree/children?node=sichuan:{chain.mid}",
    ):
        answer = client.get(path)
        assert answer.status_code == 404, path
        assert "Traceback" not in answer.text


def test_signed_out_people_are_sent_to_sign_in(chain: Chain) -> None:
    answer = chain.screens.client().get(f"/items/gansu/{chain.item}/tree")
    assert answer.status_code == 302 and "/signin" in answer.headers["Location"]


def test_the_tree_reads_in_english_too(chain: Chain) -> None:
    client = chain.signed_in("gansu", "clerk")
    page = client.get(f"/items/gansu/{chain.item}/tree").text
    assert "<h1>责任树" in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    client.post("/language", data={"language": "en", "csrf_token": token.group(1)})
    english = client.get(f"/items/gansu/{chain.item}/tree").text
    assert "<h1>Responsibility tree" in english and "green" in english


def test_the_tree_as_it_stood_on_a_past_day(screens: Screens) -> None:
    from tests.http.conftest import assign_down
    from tests.scenario import new_item, person

    s = screens.api.platform.supervision
    case = s.register_item(person("gansu", "supervisor"), "gansu", new_item("回溯的树"))
    screens.api.clock.set("2026-03-04")
    assign_down(screens.api, "gansu", str(case.id), "baiyin")
    client = screens.signed_in("gansu", "leader")
    now = client.get(f"/items/gansu/{case.id}/tree").text
    assert "白银市人民政府办公室" in now
    then = client.get(f"/items/gansu/{case.id}/tree?as_of=2026-03-02")
    assert then.status_code == 200 and 'id="as-of-note"' in then.text
    assert "白银市人民政府办公室" not in then.text  # assigned only on the 4th
    later = client.get(f"/items/gansu/{case.id}/tree?as_of=2026-03-04").text
    assert "白银市人民政府办公室" in later and "as_of=2026-03-04" in later  # its links stay then
    bad = client.get(f"/items/gansu/{case.id}/tree?as_of=昨天")
    assert bad.status_code == 422 and "as_of" in bad.text
