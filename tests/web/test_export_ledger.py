"""督查台账 as an Excel workbook: over the API and from the ledger screen, with the list's
filters and access rules; opened again with openpyxl to check cells and styles."""

from __future__ import annotations

import io
from datetime import date
from urllib.parse import unquote

import pytest
from openpyxl import load_workbook

from domain.assignment import Assignee
from services.exports import ledger as exporting
from services.exports.ledger_xlsx import COLUMNS
from tests.scenario import new_item, person
from tests.web.conftest import Screens

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXPORT = "/api/v1/offices/gansu/items.xlsx"


def seed(screens: Screens) -> dict[str, str]:
    s = screens.api.platform.supervision
    gansu = person("gansu", "supervisor")
    late = s.register_item(
        gansu,
        "gansu",
        new_item("逾期的事项", issued_on=date(2026, 2, 2), deadline=date(2026, 2, 27)),
    )
    assigned = s.register_item(
        gansu, "gansu", new_item("交办的事项", source_ref="甘政发〔2026〕5号")
    )
    s.act(
        gansu,
        "gansu",
        str(assigned.id),
        "assign",
        assignees=[Assignee("office", "baiyin", "lead"), Assignee("unit", "省水利厅", "co")],
    )
    return {"late": str(late.id), "assigned": str(assigned.id)}


def sheet(content: bytes):  # type: ignore[no-untyped-def]
    return load_workbook(io.BytesIO(content))["督查台账"]


def test_the_api_exports_the_ledger_with_the_columns_offices_use(screens: Screens) -> None:
    ids = seed(screens)
    api = screens.api
    got = api.client.get(EXPORT, headers=api.headers("gansu", "clerk"))
    assert got.status_code == 200 and got.mimetype == XLSX
    disposition = got.headers["Content-Disposition"]
    assert 'filename="ledger-gansu-2026-03-02.xlsx"' in disposition
    assert (
        unquote(disposition.split("UTF-8''")[1]) == "甘肃省人民政府办公厅督查台账-2026-03-02.xlsx"
    )
    ws = sheet(got.data)
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == tuple(name for name, _ in COLUMNS)
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:P3"
    assert ws["A1"].font.bold
    by_title = {r[4]: dict(zip(rows[0], r, strict=True)) for r in rows[1:]}
    late, assigned = by_title["逾期的事项"], by_title["交办的事项"]
    assert (late["序号"], late["事项编号"]) == (1, ids["late"][:8])  # sorted by deadline
    assert (late["灯号"], late["状态"], late["来源"]) == ("红灯", "已立项", "领导批示")
    assert late["剩余工作日"] == -2  # 28 Feb (a make-up working day) and 2 Mar: two days late
    assert late["办理时限"].date() == date(2026, 2, 27)  # a real date, not text
    assert (assigned["牵头单位"], assigned["协办单位"]) == ("白银市人民政府办公室", "省水利厅")
    assert (assigned["来源文号"], assigned["灯号"], assigned["进展"]) == (
        "甘政发〔2026〕5号",
        "绿灯",
        "0%",
    )
    rules = {
        rule.formula[0]: rule.dxf.fill.fgColor.rgb
        for cf in ws.conditional_formatting
        for rule in cf.rules
        if str(cf.sqref) == "N2:N3"
    }
    assert set(rules) == {'"红灯"', '"黄灯"', '"绿灯"'}
    assert rules['"红灯"'].endswith("FFC7CE")


def test_the_export_follows_the_filters_and_the_access_rules(screens: Screens) -> None:
    seed(screens)
    api = screens.api
    red = api.client.get(EXPORT + "?light=red", headers=api.headers("gansu", "leader"))
    titles = [r[4] for r in sheet(red.data).iter_rows(min_row=2, values_only=True)]
    assert titles == ["逾期的事项"]
    elsewhere = api.client.get(EXPORT, headers=api.headers("sichuan", "leader"))
    assert elsewhere.status_code == 404
    bad = api.client.get(EXPORT + "?light=purple", headers=api.headers("gansu", "leader"))
    assert bad.status_code == 422 and "light" in bad.json["errors"]


def test_too_many_rows_ask_to_narrow_the_filters(
    screens: Screens, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(screens)
    monkeypatch.setattr(exporting, "MAX_ROWS", 1)
    api = screens.api
    got = api.client.get(EXPORT, headers=api.headers("gansu", "leader"))
    assert got.status_code == 422 and got.json["code"] == "export_too_large"
    page = screens.signed_in("gansu", "clerk").get("/ledger.xlsx")
    assert page.status_code == 422 and "请缩小筛选范围" in page.text


def test_the_ledger_screen_exports_what_it_shows(screens: Screens) -> None:
    seed(screens)
    client = screens.signed_in("gansu", "clerk")
    ledger = client.get("/ledger?light=red").text
    assert 'href="/ledger.xlsx?light=red' in ledger and "导出 Excel" in ledger
    got = client.get("/ledger.xlsx?light=red")
    assert got.status_code == 200 and got.mimetype == XLSX
    assert [r[4] for r in sheet(got.data).iter_rows(min_row=2, values_only=True)] == ["逾期的事项"]
    assert screens.client().get("/ledger.xlsx").status_code == 302  # sign in first
