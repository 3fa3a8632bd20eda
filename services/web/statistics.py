"""统计考评, statistics for a period: per child office (its subtree), outcome measures only,
ranked by the stated rule (``projections.statistics``), on screen and as an Excel workbook.

The period is two China days (``from``, ``to``; this month by default, up to today). Who may
read it is the API's rule for roll-ups (``Access.subtree``). May import: the standard library,
Flask, Flask-Babel, openpyxl, ``projections.statistics``, ``services.inputs`` and
``services.web``'s modules.
"""

from __future__ import annotations

import io
from datetime import date
from typing import Any
from urllib.parse import quote, urlencode

from flask import Response, request
from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from openpyxl.styles import Font

from projections.statistics import RULE, period_figures, ranked
from services.inputs import day_problem
from services.web.common import context, office_below, page, signed_in, web

HEADINGS = (
    ("rank", "排名"),
    ("name", "单位"),
    ("assigned", "交办事项"),
    ("completed", "办结"),
    ("on_time", "按时办结"),
    ("overdue", "期末逾期"),
    ("on_time_rate", "按时办结率"),
    ("mean_working_days", "平均办结工作日"),
    ("extensions", "批准延期"),
    ("returns", "退回重办"),
    ("commendations", "表彰"),
    ("rectifications", "责令整改"),
)
"""(figure, its heading in the workbook, which is always in Chinese)."""


def period() -> tuple[date, date, dict[str, str]]:
    """The days asked for (this month up to today by default) and any problem, by field."""
    today = context().platform.views.today()
    chosen = {"from": today.replace(day=1), "to": today}
    errors: dict[str, str] = {}
    for name in chosen:
        given = request.args.get(name, "").strip()
        if not given:
            continue
        try:
            day = date.fromisoformat(given)
        except ValueError:
            errors[name] = str(_l("Enter a date as YYYY-MM-DD."))
            continue
        problem = day_problem(day)
        if problem:
            errors[name] = problem
        else:
            chosen[name] = day
    if not errors and chosen["to"] < chosen["from"]:
        errors["to"] = str(_l("The end comes before the start."))
    return chosen["from"], chosen["to"], errors


def table(code: str, first: date, last: date) -> list[dict[str, Any]]:
    platform = context().platform
    rows = []
    for child in platform.registry.children(code):
        subtree = [child.code, *(o.code for o in platform.registry.descendants(child.code))]
        figures = period_figures(platform.views, child.code, subtree, first, last)
        rows.append({"office": child.code, "name": child.name, **figures})
    return ranked(rows)


@web.route("/statistics")
@signed_in
def statistics() -> Any:
    code = office_below()
    first, last, errors = period()
    rows = [] if errors else table(code, first, last)
    keep = {"office": code, "from": first.isoformat(), "to": last.isoformat()}
    return page(
        "statistics.html",
        422 if errors else 200,
        shown=context().platform.registry.get(code),
        rows=rows,
        first=first,
        last=last,
        errors=errors,
        rule=RULE,
        export=f"/statistics.xlsx?{urlencode(keep)}",
    )


@web.route("/statistics.xlsx")
@signed_in
def statistics_workbook() -> Any:
    code = office_below()
    first, last, errors = period()
    if errors:
        message = _l("Check the period.")
        return page("error.html", 422, title=_l("Cannot export"), message=message)
    office = context().platform.registry.get(code)
    content = workbook(office.name, first, last, table(code, first, last))
    filename = f"{office.name}统计考评-{first.isoformat()}至{last.isoformat()}.xlsx"
    disposition = (
        f'attachment; filename="statistics-{code}-{first.isoformat()}-{last.isoformat()}.xlsx"; '
        f"filename*=UTF-8''{quote(filename)}"
    )
    return Response(
        content,
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": disposition},
    )


def workbook(office: str, first: date, last: date, rows: list[dict[str, Any]]) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "统计考评"
    ws.append([f"{office}统计考评（{first.isoformat()}至{last.isoformat()}）"])
    ws.append([f"排名规则：{RULE['zh']}"])
    ws.append([name for _, name in HEADINGS])
    for cell in ws[3]:
        cell.font = Font(bold=True)
    for r in rows:
        values = [r[key] for key, _ in HEADINGS]
        rate = r["on_time_rate"]
        values[6] = None if rate is None else rate
        ws.append(values)
    for row in ws.iter_rows(min_row=4, min_col=7, max_col=7):
        for cell in row:
            cell.number_format = "0%"
    ws.freeze_panes = "A4"
    ws.auto_filter.ref = f"A3:L{len(rows) + 3}"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
