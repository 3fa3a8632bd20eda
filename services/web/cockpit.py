"""领导驾驶舱, the cockpit: an office's matters at a glance, for its leaders and supervisors.

Tiles (in hand, in progress, completed, overdue, the honest on-time rate, mean working days to
completion), a donut of lights, bars by source kind, a weekly trend of new and completed
matters (the roll-up's daily changes, twelve weeks), the office's most overdue records by
working days late, and "my instructions" (the office's own items from leaders' 批示). Every
figure counts matters once (the roll-up's ``matters``). Each chart is drawn by ECharts
(vendored, its own Chinese or English locale, ``aria`` on so that screen readers get a
description) from the same numbers that stand in a table under it (``<details>``), which is
all a browser without JavaScript shows. Who may read it is the API's rule for roll-ups
(``Access.subtree``); the lists of records are shown for one's own office only (records are
their office's to see, as over the API). May import: the standard library, Flask, Flask-Babel,
``projections.ledger``, ``services.exports.words`` and ``services.web``'s modules.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l

from projections.ledger import LedgerQuery, ledger
from services.web.common import context, me, office_below, page, signed_in, signed_in_user, web
from services.web.names import LIGHTS
from services.web.register import SOURCE_NAMES

WEEKS = 12
LISTED = 10
ENDED = ("completed", "closed", "concluded")
AT_WORK = ("acknowledged", "in_progress")


def tiles(matters: dict[str, Any], own: bool) -> list[tuple[Any, str, str, str | None]]:
    """(label, value as shown, tone, link) of each tile; overdue leads to one's own overdue
    records in the ledger."""
    by_status = matters["by_status"]
    ended = sum(by_status.get(s, 0) for s in ENDED)
    rate = matters["on_time_rate"]
    days = matters["mean_working_days_to_completion"]
    return [
        (_l("In hand"), str(matters["total"] - ended), "", None),
        (_l("In progress"), str(sum(by_status.get(s, 0) for s in AT_WORK)), "", None),
        (_l("Completed"), str(matters["completed"]), "", None),
        (_l("Overdue"), str(matters["overdue"]), "red", "/ledger?light=red" if own else None),
        (_l("On-time rate"), "—" if rate is None else f"{rate:.0%}", "", None),
        (
            _l("Mean working days to completion"),
            "—" if days is None else f"{days:.1f}",
            "",
            None,
        ),
    ]


def weekly(code: str, today: date) -> list[tuple[str, int, int]]:
    """(week's Monday, new matters, completed matters) for the last ``WEEKS`` weeks."""
    monday = today - timedelta(days=today.weekday())
    first = monday - timedelta(weeks=WEEKS - 1)
    weeks = {first + timedelta(weeks=n): [0, 0] for n in range(WEEKS)}
    changes = context().platform.views.rollup_changes(code, first, today)
    for day, counters in changes.items():
        d = date.fromisoformat(day)
        week = weeks[d - timedelta(days=d.weekday())]
        week[0] += counters.get("m.total|all", 0)
        week[1] += counters.get("m.completion|count", 0)
    return [(w.isoformat(), new, done) for w, (new, done) in weeks.items()]


def charts(matters: dict[str, Any], trend: list[tuple[str, int, int]]) -> dict[str, Any]:
    """Each chart's ECharts option (without its locale and aria, added in the browser)."""
    lights = [{"name": str(LIGHTS[k]), "value": matters["by_light"][k]} for k in LIGHTS]
    sources = matters["by_source_kind"]
    names = [str(SOURCE_NAMES.get(k, k)) for k in sources]
    new, done = str(_l("New matters")), str(_l("Completed"))
    return {
        "lights": {
            "color": ["#b42318", "#8a5a00", "#1a7f37"],
            "series": [{"type": "pie", "radius": ["45%", "70%"], "data": lights}],
        },
        "sources": {
            "xAxis": {"type": "category", "data": names},
            "yAxis": {"type": "value", "minInterval": 1},
            "series": [{"type": "bar", "data": [v["count"] for v in sources.values()]}],
        },
        "trend": {
            "legend": {"data": [new, done]},
            "xAxis": {"type": "category", "data": [w for w, _, _ in trend]},
            "yAxis": {"type": "value", "minInterval": 1},
            "series": [
                {"name": new, "type": "line", "data": [n for _, n, _ in trend]},
                {"name": done, "type": "line", "data": [d for _, _, d in trend]},
            ],
        },
    }


def records(code: str, **filters: Any) -> list[dict[str, Any]]:
    query = LedgerQuery(sort="deadline", per_page=LISTED, **filters)
    return list(ledger(context().platform.views, code, query).items)


@web.route("/cockpit")
@signed_in
def cockpit() -> Any:
    user = me()
    code = office_below()
    platform = context().platform
    figures = platform.views.rollup(code)
    matters = figures["matters"]
    today = platform.views.today()
    trend = weekly(code, today)
    own = code == user.office
    overdue = records(code, light="red") if own else []
    for r in overdue:
        r["late"] = platform.calendar.working_days_between(date.fromisoformat(r["deadline"]), today)
    return page(
        "cockpit.html",
        shown=platform.registry.get(code),
        own=own,
        tiles=tiles(matters, own),
        matters=matters,
        trend=trend,
        charts={k: json.dumps(v, ensure_ascii=False) for k, v in charts(matters, trend).items()},
        overdue=overdue,
        instructions=records(code, source_kind="instruction", kind="item") if own else [],
        source_names={k: str(v) for k, v in SOURCE_NAMES.items()},
    )


@web.app_template_global()
def may_cockpit() -> bool:
    """Leaders and supervisors have a cockpit (the nav's link)."""
    user = signed_in_user()
    return user is not None and user.role in ("leader", "supervisor")
