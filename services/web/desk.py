"""工作台, the desk: what the signed-in person's office has to do, most urgent first.

Counters: 待签收 (to sign for), 待办理 (to do), 临期 (due within 3 working days), 逾期
(overdue), 待审核 (a request or report waiting on the office's decision) and 被退回 (a
completion returned from above); each links to the list it counts (the ledger where it can
filter so, else this desk). Below them, the office's open records (or the chosen counter's)
sorted by light, then working days left on the platform's calendar, paginated, with the
urges of each matter merged into one line ("催办 3 次，最近 2026-03-05"): reminders are
digested, not multiplied. The queries are ``projections.desk``'s. May import: Flask,
Flask-Babel, ``projections.desk``, ``services.inputs`` and ``services.web.common``.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import abort, request

from projections.desk import DeskQueries
from services.inputs import china_time
from services.web.common import context, me, page, signed_in, web

LIGHT_ORDER = {"red": 0, "yellow": 1, "green": 2}
PER_PAGE = 50
HORIZON = timedelta(days=366)
FAR = 10**6
LISTS = ("open", "to_do", "awaiting", "returned")
"""What the desk can list: every open record, or those of one counter."""
COUNTER_LINKS = {
    "received": "/ledger?status=received",
    "to_do": "/desk?show=to_do",
    "due_soon": "/ledger?light=yellow",
    "overdue": "/ledger?light=red",
    "awaiting": "/desk?show=awaiting",
    "returned": "/desk?show=returned",
}
"""Where each counter leads: the ledger's filter when it has one (``/ledger`` takes one status
or light); the desk's own list for what only the desk computes."""


@web.route("/desk")
@signed_in
def desk() -> Any:
    user = me()
    queries = DeskQueries.over(context().platform.views)
    office = context().platform.registry.get(user.office)
    show = request.args.get("show", "open")
    number = request.args.get("page", "1")
    if show not in LISTS or not number.isdigit() or not 1 <= int(number) <= 1_000_000:
        abort(404)
    counters = queries.counters(user.office)
    awaiting = queries.awaiting_decision(user.office)
    returned = queries.returned(user.office)
    counters.update(awaiting=len(awaiting), returned=len(returned))
    rows, total = listed(queries, user.office, show, int(number), counters, awaiting, returned)
    today = queries.today()
    left = working_days_left({date.fromisoformat(r["deadline"]) for r in rows}, today)
    urged = queries.last_urged(user.office, [r["id"] for r in rows if r["urge_count"]])
    for r in rows:
        deadline = date.fromisoformat(r["deadline"])
        r["working_days_left"] = left.get(deadline)
        r["far"] = "past" if deadline < today else "future"  # when more than a year away
        r["last_urged"] = china_time(urged[r["id"]])[:10] if r["id"] in urged else ""
    rows.sort(key=lambda r: (LIGHT_ORDER.get(r["light"], 3), sort_key(r)))
    return page(
        "desk.html",
        user=user,
        office=office,
        counters=counters,
        links=COUNTER_LINKS,
        rows=rows,
        show=show,
        page_number=int(number),
        pages=max(1, -(-total // PER_PAGE)),
    )


def working_days_left(deadlines: set[date], today: date) -> dict[date, int]:
    """Working days from today to each deadline (negative: overdue by so many), counted on
    the platform's calendar once along the way, for deadlines within a year either side (those
    further are shown as such: a count there helps no one and costs a day-by-day walk)."""
    calendar = context().platform.calendar
    left: dict[date, int] = {}
    for ahead in (True, False):
        near = sorted(
            (d for d in deadlines if (d >= today) == ahead and abs(d - today) <= HORIZON),
            reverse=not ahead,
        )
        counted, previous = 0, today
        for deadline in near:
            counted += calendar.working_days_between(previous, deadline)
            left[deadline], previous = counted, deadline
    return left


def sort_key(row: dict[str, Any]) -> int:
    found: int | None = row["working_days_left"]
    if found is not None:
        return found
    return -FAR if row["far"] == "past" else FAR


def listed(
    queries: DeskQueries,
    office: str,
    show: str,
    number: int,
    counters: dict[str, int],
    awaiting: list[dict[str, Any]],
    returned: list[dict[str, Any]],
) -> tuple[list[dict[str, Any]], int]:
    """One page of the chosen list, and how many it holds in all."""
    if show in ("open", "to_do"):
        found = queries.open_records(office, number, PER_PAGE, show == "to_do", counters)
        return found.items, found.total
    chosen = awaiting if show == "awaiting" else returned
    start = (number - 1) * PER_PAGE
    return chosen[start : start + PER_PAGE], len(chosen)
