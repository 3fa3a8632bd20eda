"""统计考评: per child office for a period, outcome measures only, ranked by the stated rule,
on screen and in Excel; who may read it is the API's rule for roll-ups."""

from __future__ import annotations

import io
import re
from datetime import date

from openpyxl import load_workbook

from domain.assignment import Assignee
from domain.tasks import Task
from tests.http.conftest import assign_down
from tests.scenario import new_item, person
from tests.web.conftest import Screens

SC = "state-council"


def matters(screens: Screens) -> None:
    """gansu completes its matter on time after an extension; sichuan's is overdue."""
    s = screens.api.platform.supervision
    done = s.register_item(
        person(SC, "supervisor"), SC, new_item("按时办结的事项", deadline=date(2026, 6, 30))
    )
    s.act(
        person(SC, "supervisor"),
        SC,
        str(done.id),
        "assign",
        assignees=[Assignee("office", "gansu", "lead")],
        deadline=date(2026, 4, 14),
    )
    task = str(Task.create_id(SC, done.id, "gansu"))
    s.act(person("gansu", "clerk"), "gansu", task, "acknowledge")
    s.act(
        person("gansu", "clerk"),
        "gansu",
        task,
        "request-extension",
        new_deadline=date(2026, 4, 30),
        reason="需要专家论证",
    )
    s.act(person(SC, "leader"), SC, str(done.id), "grant-extension", assignee="gansu")
    s.act(person("gansu", "clerk"), "gansu", task, "report-completion", text="已办结")
    s.act(person(SC, "leader"), SC, str(done.id), "accept-completion")
    late = s.register_item(
        person(SC, "supervisor"),
        SC,
        new_item("逾期的事项", issued_on=date(2026, 2, 2), deadline=date(2026, 2, 27)),
    )
    assign_down(screens.api, SC, str(late.id), "sichuan")


def row(page: str, office: str) -> list[str]:
    found = re.search(
        rf"<tr>\s*<td>([^<]*)</td>\s*<th scope=\"row\">{office}</th>(.*?)</tr>", page, re.S
    )
    assert found, office
    cells = re.findall(r"<td>(.*?)</td>", found.group(2), re.S)
    return [found.group(1).strip(), *(c.strip() for c in cells)]


def test_the_period_counts_outcomes_per_child_and_ranks_them(screens: Screens) -> None:
    matters(screens)
    page = screens.signed_in(SC, "leader").get("/statistics").text
    # rank, assigned, completed, on time, overdue, rate, mean days, ext., returns, comm., rect.
    assert row(page, "甘肃省人民政府办公厅") == [
        "1",
        "1",
        "1",
        "1",
        "0",
        "100%",
        "0.0",
        "1",
        "0",
        "0",
        "0",
    ]
    assert row(page, "四川省人民政府办公厅") == [
        "2",
        "1",
        "0",
        "0",
        "1",
        "0%",
        "—",
        "0",
        "0",
        "0",
        "0",
    ]
    assert "按期内按时办结率" in page and "不统计登录" in page  # the rule, shown
    before = screens.signed_in(SC, "supervisor").get("/statistics?from=2026-01-01&to=2026-02-28")
    assert row(before.text, "甘肃省人民政府办公厅")[:3] == ["—", "0", "0"]  # nothing due then


def test_the_table_exports_to_excel(screens: Screens) -> None:
    matters(screens)
    got = screens.signed_in(SC, "leader").get("/statistics.xlsx?from=2026-03-01&to=2026-03-31")
    assert got.status_code == 200
    ws = load_workbook(io.BytesIO(got.data))["统计考评"]
    values = list(ws.iter_rows(values_only=True))
    assert values[0][0] == "国务院办公厅统计考评（2026-03-01至2026-03-31）"
    assert values[2][:3] == ("排名", "单位", "交办事项")
    assert values[3][:7] == (1, "甘肃省人民政府办公厅", 1, 1, 1, 0, 1)
    assert ws["G4"].number_format == "0%" and ws.freeze_panes == "A4"


def test_bad_periods_and_access(screens: Screens) -> None:
    client = screens.signed_in("gansu", "leader")
    reversed_ = client.get("/statistics?from=2026-03-31&to=2026-03-01")
    assert reversed_.status_code == 422 and "截止日期早于起始日期" in reversed_.text
    assert client.get("/statistics?office=sichuan").status_code == 404
    assert client.get("/statistics?office=baiyin").status_code == 200
    assert client.get("/statistics.xlsx?from=x").status_code == 422
