"""红黄绿灯看板: child offices × lights in matters, links to the rows the person may open,
the board as it stood at the end of a past day, and who may read it (the API's rule)."""

from __future__ import annotations

import re
from datetime import date

from tests.http.conftest import assign_down
from tests.scenario import new_item, person
from tests.web.conftest import Screens


def cells(page: str, office: str) -> list[str]:
    found = re.search(rf"<th scope=\"row\"><a [^>]+>{office}</a></th>(.*?)</tr>", page, re.S)
    assert found, office
    return [
        re.sub(r"<[^>]+>", "", c).strip()
        for c in re.findall(r"<td>(.*?)</td>", found.group(1), re.S)
    ]


def test_the_board_counts_matters_per_child_and_links_to_our_rows(screens: Screens) -> None:
    s = screens.api.platform.supervision
    gansu = person("gansu", "supervisor")
    late = s.register_item(
        gansu,
        "gansu",
        new_item("逾期的事项", issued_on=date(2026, 2, 2), deadline=date(2026, 2, 27)),
    )
    assign_down(screens.api, "gansu", str(late.id), "baiyin")
    soon = s.register_item(gansu, "gansu", new_item("临期的事项", deadline=date(2026, 3, 4)))
    assign_down(screens.api, "gansu", str(soon.id), "baiyin")
    leader = screens.signed_in("gansu", "leader")
    page = leader.get("/board").text
    assert cells(page, "白银市人民政府办公室") == [
        "2",
        "1",
        "1",
        "0%",
    ]  # in hand, yellow, red, rate
    assert 'href="/ledger?assignee=baiyin&amp;light=red"' in page
    assert 'href="/board?office=baiyin"' in page  # the child's own summary
    assert "按时办结率＝按时办结数÷应办结数" in page  # the rule, in words
    below = leader.get("/board?office=baiyin").text
    assert cells(below, "白银市平川区人民政府办公室") == [
        "0",
        "0",
        "0",
        "—",
    ]  # nothing due: no rate
    assert "/ledger?" not in below  # another office's board: its rows are not ours to open


def test_a_past_day_shows_the_board_as_it_stood(screens: Screens) -> None:
    s = screens.api.platform.supervision
    item = s.register_item(person("gansu", "supervisor"), "gansu", new_item("交办的事项"))
    screens.api.clock.set("2026-03-03")
    assign_down(screens.api, "gansu", str(item.id), "baiyin")
    client = screens.signed_in("gansu", "leader")
    then = client.get("/board?on=2026-03-02").text
    assert cells(then, "白银市人民政府办公室")[0] == "0"  # assigned only the next day
    now = client.get("/board").text
    assert cells(now, "白银市人民政府办公室")[0] == "1"
    bad = client.get("/board?on=2026-13-01")
    assert bad.status_code == 422 and 'id="b-on-error"' in bad.text


def test_who_may_read_a_board_is_the_apis_rule_for_roll_ups(screens: Screens) -> None:
    for office, role, target in [
        ("gansu", "leader", "sichuan"),
        ("baiyin", "leader", "gansu"),
        ("gansu", "clerk", "gansu"),
        ("state-council", "supervisor", "gansu"),
    ]:
        screen = screens.signed_in(office, role).get(f"/board?office={target}")
        api = screens.api.client.get(
            f"/api/v1/offices/{target}/rollup", headers=screens.api.headers(office, role)
        )
        assert screen.status_code == api.status_code, (office, role, target)
