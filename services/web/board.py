"""红黄绿灯看板, the light board: an office's child offices × lights, for its leaders.

Each row is a child office's subtree, counted in matters (each matter once, with its record
nearest to the child: the roll-up's ``matters``): in hand, due soon (yellow), overdue (red) and
the on-time rate (on-time completions ÷ what is due; "—" when nothing is due). A number leads
to the rows behind it that the person may open: their own office's records assigned to that
child, in the ledger, filtered by the light; the child's name opens its own board (its
summary). The child's own records are that office's to see (as over the API): the board
says so instead of linking. ``?on=DAY`` shows the board as
it stood at the end of that day in China (summed from the roll-up's daily changes, no
replay); its numbers then link nowhere, since the ledger shows today. Who may read it is the
API's rule for roll-ups (``Access.subtree``). May import: the standard library, Flask,
Flask-Babel, marshmallow, the domain's lights, the API's schemas and ``services.web``'s modules.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode

from flask import request
from flask_babel import lazy_gettext as _l

from services.inputs import day_problem
from services.web.common import context, me, office_below, page, signed_in, signed_in_user, web

ENDED = ("completed", "closed", "concluded")


def row(child: dict[str, Any], figures: dict[str, Any]) -> dict[str, Any]:
    matters = figures["matters"]
    ended = sum(matters["by_status"].get(s, 0) for s in ENDED)
    return {
        "office": child["code"],
        "name": child["name"],
        "in_hand": matters["total"] - ended,
        "yellow": matters["by_light"]["yellow"],
        "red": matters["by_light"]["red"],
        "rate": matters["on_time_rate"],
        "due": matters["due"],
    }


def chosen_day() -> tuple[date | None, str | None]:
    given = request.args.get("on", "").strip()
    if not given:
        return None, None
    try:
        day = date.fromisoformat(given)
    except ValueError:
        return None, str(_l("Enter a date as YYYY-MM-DD."))
    problem = day_problem(day)
    return (None, problem) if problem else (day, None)


@web.route("/board")
@signed_in
def board() -> Any:
    user = me()
    code = office_below()
    platform = context().platform
    office = platform.registry.get(code)
    day, error = chosen_day()
    views = platform.views
    rows = []
    for child in platform.registry.children(code):
        figures = views.rollup_at_end_of(child.code, day) if day else views.rollup(child.code)
        rows.append(row({"code": child.code, "name": child.name}, figures))
    rows.sort(key=lambda r: (-r["red"], -r["yellow"], r["name"]))
    return page(
        "board.html",
        422 if error else 200,
        shown=office,
        rows=rows,
        day=day,
        error=error,
        own=code == user.office,
        ledger=lambda child, light: "/ledger?" + urlencode({"assignee": child, "light": light}),
    )


@web.app_template_global()
def may_board() -> bool:
    """Leaders and supervisors read their office's board (the nav's link)."""
    user = signed_in_user()
    return user is not None and user.role in ("leader", "supervisor")
