"""督查台账: filters, sort, pages, saved views and the deadline range on the screen and over the
API (one query), and who may see which office's ledger (the API's list rule, both ways)."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest

from tests.http.conftest import RELATIONS, ROLES, SUBJECT, assign_down
from tests.scenario import new_item, person
from tests.web.conftest import Screens

ROW = re.compile(r'<a href="/items/([^/"]+)/([^"]+)">([^<]+)</a>')


def titles(page: str) -> list[str]:
    return [title for _office, _id, title in ROW.findall(page)]


def register(screens: Screens, title: str, office: str = "gansu", **fields: Any) -> str:
    case = screens.api.platform.supervision.register_item(
        person(office, "supervisor"), office, new_item(title, **fields)
    )
    return str(case.id)


@pytest.fixture
def ledger(screens: Screens) -> Screens:
    """Five items of gansu (today is 2026-03-02), one of sichuan."""
    register(screens, "逾期甲", issued_on=date(2026, 2, 2), deadline=date(2026, 2, 27))
    register(screens, "临期乙", deadline=date(2026, 3, 4), importance=5)
    register(screens, "本月丙", deadline=date(2026, 3, 20), importance=5, source_kind="meeting")
    register(screens, "下月丁", deadline=date(2026, 4, 30))
    later = register(screens, "年底戊", deadline=date(2026, 12, 31), urgency=1)
    assign_down(screens.api, "gansu", later, "baiyin")
    register(screens, "四川的事项", office="sichuan")
    return screens


def test_the_ledger_lists_the_office_by_deadline_with_lights_as_words(ledger: Screens) -> None:
    client = ledger.signed_in("gansu", "clerk")
    page = client.get("/ledger")
    assert page.status_code == 200 and "督查台账" in page.text
    assert titles(page.text) == ["逾期甲", "临期乙", "本月丙", "下月丁", "年底戊"]
    assert "红灯：逾期" in page.text and "黄灯：临期" in page.text and "四川的事项" not in page.text
    assert "共 5 条" in page.text
    assert all(office == "gansu" for office, _id, _t in ROW.findall(page.text))


def test_filters_narrow_the_list(ledger: Screens) -> None:
    client = ledger.signed_in("gansu", "clerk")

    def shown(query: str) -> list[str]:
        response = client.get("/ledger?" + query)
        assert response.status_code == 200, response.text
        return titles(response.text)

    assert shown("light=red") == ["逾期甲"]
    assert shown("light=yellow") == ["临期乙"]
    assert shown("importance=5") == ["临期乙", "本月丙"]
    assert shown("source_kind=meeting") == ["本月丙"]
    assert shown("urgency=1") == ["年底戊"]
    assert shown("status=in_progress&text=") == []  # an empty field means "any"
    assert shown("assignee=baiyin") == ["年底戊"]
    assert shown("text=下月") == ["下月丁"]
    assert shown("kind=task") == []
    assert shown("deadline_from=2026-03-04&deadline_to=2026-04-30") == [
        "临期乙",
        "本月丙",
        "下月丁",
    ]
    assert shown("deadline_from=2026-04-01") == ["下月丁", "年底戊"]


def test_columns_sort_both_ways_and_keep_the_filters(ledger: Screens) -> None:
    client = ledger.signed_in("gansu", "clerk")
    newest = client.get("/ledger?sort=-deadline&importance=5").text
    assert titles(newest) == ["本月丙", "临期乙"]
    heading = re.search(r'aria-sort="descending"><a href="([^"]+)"', newest)
    assert heading and "importance=5" in heading.group(1) and "sort=deadline" in heading.group(1)
    by_title = titles(client.get("/ledger?sort=title").text)
    assert by_title == sorted(by_title)
    by_urgency = titles(client.get("/ledger?sort=urgency").text)
    assert by_urgency[0] == "年底戊"


def test_pages_are_links_that_keep_the_filters(ledger: Screens) -> None:
    client = ledger.signed_in("gansu", "clerk")
    first = client.get("/ledger?per_page=2&text=月").text
    assert titles(first) == ["本月丙", "下月丁"] and 'rel="next"' not in first
    page = client.get("/ledger?per_page=2").text
    assert titles(page) == ["逾期甲", "临期乙"] and "第 1 / 3 页" in page
    following = re.search(r'<a href="([^"]+)" rel="next">', page)
    assert following and "per_page=2" in following.group(1) and "page=2" in following.group(1)
    second = client.get(following.group(1).replace("&amp;", "&")).text
    assert titles(second) == ["本月丙", "下月丁"] and 'rel="prev"' in second
    last = client.get("/ledger?per_page=2&page=3").text
    assert titles(last) == ["年底戊"] and 'rel="next"' not in last
    beyond = client.get("/ledger?per_page=2&page=9")
    assert beyond.status_code == 200 and titles(beyond.text) == []


def test_saved_views_are_plain_links_in_the_url(ledger: Screens) -> None:
    client = ledger.signed_in("gansu", "clerk")
    page = client.get("/ledger").text
    links = dict(
        (name, href.replace("&amp;", "&"))
        for href, name in re.findall(r'<li><a href="(/ledger[^"]*)"[^>]*>([^<]+)</a></li>', page)
    )
    month = links["本月到期"]
    assert "deadline_from=2026-03-01" in month and "deadline_to=2026-03-31" in month
    assert titles(client.get(month).text) == ["临期乙", "本月丙"]
    assert titles(client.get(links["红灯"]).text) == ["逾期甲"]
    assert titles(client.get(links["黄灯"]).text) == ["临期乙"]
    assert titles(client.get(links["待签收"]).text) == []
    baiyin = ledger.signed_in("baiyin", "clerk").get(links["待签收"])
    assert titles(baiyin.text) == ["年底戊"]  # the task received from gansu


def test_the_month_follows_china_time(ledger: Screens) -> None:
    ledger.api.clock.set("2026-04-30")
    page = ledger.signed_in("gansu", "clerk").get("/ledger").text
    assert "deadline_from=2026-04-01&amp;deadline_to=2026-04-30" in page


def test_bad_filters_are_refused_next_to_the_field_in_chinese(ledger: Screens) -> None:
    client = ledger.signed_in("gansu", "clerk")
    for query, field in (
        ("light=purple", "light"),
        ("importance=9", "importance"),
        ("deadline_from=2026-02-30", "deadline_from"),
        ("deadline_from=2026-03-10&deadline_to=2026-03-01", "deadline_to"),
        ("per_page=501", "per_page"),
    ):
        response = client.get("/ledger?" + query)
        assert response.status_code == 422, query
        assert f'id="f-{field}-error"' in response.text, query
        assert "请检查筛选条件" in response.text and titles(response.text) == []
    for query in ("page=0", "sort=doc", "frobnicate=1"):
        response = client.get("/ledger?" + query)
        assert response.status_code == 422 and 'role="alert"' in response.text, query


def test_htmx_swaps_the_results_only(ledger: Screens) -> None:
    client = ledger.signed_in("gansu", "clerk")
    part = client.get(
        "/ledger?light=red", headers={"HX-Request": "true", "HX-Target": "ledger-results"}
    )
    assert part.status_code == 200 and "<html" not in part.text and "<form" not in part.text
    assert titles(part.text) == ["逾期甲"]
    assert part.headers["HX-Push-Url"] == "/ledger?light=red"  # the address without empty fields
    restored = client.get("/ledger?light=red", headers={"HX-Request": "true"})
    assert "<html" in restored.text  # a history restore gets the whole page


def test_the_api_list_takes_the_same_sort_and_range(ledger: Screens) -> None:
    api = ledger.api
    h = api.headers("gansu", "clerk")
    query = "sort=-deadline&deadline_from=2026-03-01&deadline_to=2026-12-31&per_page=3"
    listed = api.client.get(f"/api/v1/offices/gansu/items?{query}", headers=h).json
    assert [i["title"] for i in listed["items"]] == ["年底戊", "下月丁", "本月丙"]
    assert listed["total"] == 4
    screen = ledger.signed_in("gansu", "clerk").get(f"/ledger?{query}").text
    assert titles(screen) == [i["title"] for i in listed["items"]]
    backwards = api.client.get(
        "/api/v1/offices/gansu/items?deadline_from=2026-03-10&deadline_to=2026-03-01", headers=h
    )
    assert backwards.status_code == 422 and "deadline_to" in backwards.json["errors"]
    unknown = api.client.get("/api/v1/offices/gansu/items?sort=doc", headers=h)
    assert unknown.status_code == 422 and "sort" in unknown.json["errors"]
    register(ledger, "补登己", deadline=date(2026, 3, 3))
    default = api.client.get("/api/v1/offices/gansu/items", headers=h).json
    assert [i["title"] for i in default["items"]] == [  # the API's default: registration order
        "逾期甲",
        "临期乙",
        "本月丙",
        "下月丁",
        "年底戊",
        "补登己",
    ]
    screen_default = titles(ledger.signed_in("gansu", "leader").get("/ledger").text)
    assert screen_default[:3] == ["逾期甲", "补登己", "临期乙"]  # the screen's: by deadline


def sees_items(who: str, role: str) -> bool:
    """The API's list rule (tests/http/test_authorization.py): one's own office; an auditor,
    the offices below."""
    return who == "same" or (role == "auditor" and who == "parent")


def test_who_sees_which_ledger_mirrors_the_api(screens: Screens) -> None:
    secret = register(screens, "甘肃的事项")
    wrong = []
    for who, office in RELATIONS.items():
        for role in ROLES:
            client = screens.signed_in(office, role)
            screen = client.get(f"/ledger?office={SUBJECT}")
            api = screens.api.client.get(
                f"/api/v1/offices/{SUBJECT}/items", headers=screens.api.headers(office, role)
            )
            expected = 200 if sees_items(who, role) else 404
            shows = secret in screen.text
            if (screen.status_code, api.status_code, shows) != (
                expected,
                expected,
                expected == 200,
            ):
                wrong.append((who, role, screen.status_code, api.status_code, shows))
            own = client.get("/ledger")
            if own.status_code != 200 or (secret in own.text) != (office == SUBJECT):
                wrong.append((who, role, "own", own.status_code))
    assert wrong == []


def test_another_office_s_ledger_keeps_the_office_in_every_link(screens: Screens) -> None:
    register(screens, "白银的事项", office="baiyin")
    client = screens.signed_in("gansu", "auditor")
    page = client.get("/ledger?office=baiyin&light=green").text
    assert titles(page) == ["白银的事项"] and "<small>白银市人民政府办公室</small>" in page
    sort_links = re.findall(r'aria-sort="[a-z]+"><a href="([^"]+)"', page)
    assert sort_links and all("office=baiyin" in s for s in sort_links)
    assert 'name="office" value="baiyin"' in page
    assert client.get("/ledger?office=nowhere").status_code == 404
    assert client.get("/ledger?office=sichuan").status_code == 404


def test_a_stranger_is_sent_to_sign_in(screens: Screens) -> None:
    response = screens.client().get("/ledger?light=red")
    assert response.status_code == 302 and "/signin" in response.headers["Location"]


def test_the_nav_links_the_ledger(screens: Screens) -> None:
    page = screens.signed_in("gansu", "auditor").get("/desk").text
    assert '<a href="/ledger"' in page and "督查台账" in page
