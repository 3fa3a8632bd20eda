"""工作台: the counters and open records of the signed-in person's office, and only theirs."""

from __future__ import annotations

import re
from datetime import date

from tests.http.conftest import assign_down
from tests.scenario import new_item, person
from tests.web.conftest import Screens


def counter(page: str, label: str) -> int:
    found = re.search(rf'<span class="n">(\d+)</span> {label}<', page)
    assert found, label
    return int(found.group(1))


def test_the_desk_counts_what_the_office_has_to_do(screens: Screens) -> None:
    s = screens.api.platform.supervision
    gansu = person("gansu", "supervisor")
    late = s.register_item(
        gansu,
        "gansu",
        new_item("逾期的事项", issued_on=date(2026, 2, 2), deadline=date(2026, 2, 27)),
    )
    soon = s.register_item(gansu, "gansu", new_item("临期的事项", deadline=date(2026, 3, 4)))
    later = s.register_item(gansu, "gansu", new_item("从容的事项", deadline=date(2026, 6, 30)))
    assign_down(screens.api, "gansu", str(later.id), "baiyin")
    s.register_item(person("sichuan", "supervisor"), "sichuan", new_item("四川的事项"))

    page = screens.signed_in("gansu", "clerk").get("/desk").text
    assert counter(page, "逾期") == 1 and counter(page, "临期") == 1
    assert counter(page, "待办理") == 3 and counter(page, "待签收") == 0
    rows = re.findall(r"<td>([^<]+)<br>", page)
    assert rows == ["逾期的事项", "临期的事项", "从容的事项"]  # red, then yellow, then green
    assert "红灯：逾期" in page and "黄灯：临期" in page  # colour and words
    shown = re.sub(r'href="[^"]*"', "", page)  # ids only in the links to each record
    assert "四川的事项" not in page and str(late.id) not in shown and soon.title in page

    baiyin = screens.signed_in("baiyin", "clerk").get("/desk").text
    assert counter(baiyin, "待签收") == 1 and "从容的事项" in baiyin
    assert "逾期的事项" not in baiyin


def test_every_person_sees_only_their_own_office_on_the_desk(screens: Screens) -> None:
    """The desk has no office to choose: each role of each office related to gansu sees
    gansu's records only when it is gansu's (as the API lists an office's items)."""
    from tests.http.conftest import RELATIONS, ROLES

    s = screens.api.platform.supervision
    for office in RELATIONS.values():
        s.register_item(person(office, "supervisor"), office, new_item(f"{office}的事项"))
    wrong = []
    for office in RELATIONS.values():
        for role in ROLES:
            page = screens.signed_in(office, role).get("/desk")
            seen = {o for o in RELATIONS.values() if f"{o}的事项" in page.text}
            if page.status_code != 200 or seen != {office}:
                wrong.append((office, role, page.status_code, seen))
    assert not wrong, wrong
    assert screens.client().get("/desk").status_code == 302  # signed out: to sign in
