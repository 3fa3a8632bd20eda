"""审计追溯 on screen: who may read which office's trail (as over the API), filters, the
channel of each event, and the CSV and JSON exports."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date

import pytest

from services.cli.common import operator
from tests.scenario import new_item, person
from tests.web.conftest import Screens


@pytest.fixture
def trail(screens: Screens) -> Screens:
    s = screens.api.platform.supervision
    s.register_item(person("gansu", "supervisor"), "gansu", new_item("关于防汛的批示"))
    screens.api.clock.set("2026-03-03")
    ops = operator("张三", "gansu", "supervisor")
    s.register_item(ops, "gansu", new_item("关于安全生产的批示", source_ref="甘政发〔2026〕8号"))
    s.register_item(person("baiyin", "supervisor"), "baiyin", new_item("白银的事项"))
    return screens


@pytest.mark.parametrize(
    ("office", "role", "target", "status"),
    [
        ("gansu", "supervisor", "gansu", 200),
        ("gansu", "leader", "gansu", 200),
        ("gansu", "clerk", "gansu", 403),
        ("gansu", "supervisor", "baiyin", 404),
        ("gansu", "auditor", "baiyin", 200),
        ("baiyin", "auditor", "gansu", 404),
        ("sichuan", "leader", "gansu", 404),
    ],
)
def test_who_reads_which_trail_is_the_apis_rule(
    trail: Screens, office: str, role: str, target: str, status: int
) -> None:
    screen = trail.signed_in(office, role).get(f"/audit?office={target}")
    api = trail.api.client.get(
        f"/api/v1/offices/{target}/audit", headers=trail.api.headers(office, role)
    )
    assert screen.status_code == api.status_code == status


def test_the_trail_shows_people_offices_and_channels_and_filters_by_day(trail: Screens) -> None:
    client = trail.signed_in("gansu", "supervisor")
    page = client.get("/audit").text
    assert "关于防汛的批示" in page and "关于安全生产的批示" in page  # the summaries
    assert "命令行" in page and "张三" in page  # the CLI operator, by channel
    day = client.get("/audit?from=2026-03-03&to=2026-03-03").text
    assert "共 1 条事件" in day
    wrong = client.get("/audit?from=someday")
    assert wrong.status_code == 422 and 'id="a-from-error"' in wrong.text


def test_exports_hold_every_matching_event(trail: Screens) -> None:
    client = trail.signed_in("gansu", "auditor")
    got = client.get("/audit.csv?office=gansu")
    assert got.status_code == 200 and got.mimetype == "text/csv"
    text = got.data.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert len(rows) == 2 and {r["actor_channel"] for r in rows} == {"", "cli"}
    assert all(r["time"].endswith("+08:00") for r in rows)
    as_json = json.loads(client.get("/audit.json?office=gansu&from=2026-03-03").data)
    assert [r["actor_name"] for r in as_json] == ["张三"]
    assert as_json[0]["actor_os_user"] == operator("x", "gansu", "clerk").os_user
    assert client.get("/audit.xml?office=gansu").status_code == 404
    assert trail.signed_in("gansu", "clerk").get("/audit.csv").status_code == 403
    assert date.fromisoformat(as_json[0]["time"][:10]) == date(2026, 3, 3)


def test_each_event_opens_its_record_as_it_stood_then(trail: Screens) -> None:
    client = trail.signed_in("gansu", "supervisor")
    page = client.get("/audit?from=2026-03-03").text
    link = re.search(r'href="(/items/gansu/[^"?]+\?as_of=[^"]+)"', page)
    assert link, "no as-of link"
    then = client.get(link.group(1).replace("&amp;", "&"))
    assert then.status_code == 200 and 'id="as-of-note"' in then.text
    assert "关于安全生产的批示" in then.text
