"""工作台, the desk: what the signed-in person's office has to do, most urgent first.

Counters (to sign for, to do, due soon, overdue) come from the items read model as counts;
below them, the office's open records sorted by light, then deadline. May import: Flask,
Flask-Babel and ``services.web.common``.
"""

from __future__ import annotations

from typing import Any

from services.web.common import context, me, page, signed_in, web

TO_DO = ("registered", "acknowledged", "in_progress")
LIGHT_ORDER = {"red": 0, "yellow": 1, "green": 2}
SHOWN = 50


@web.route("/desk")
@signed_in
def desk() -> Any:
    user = me()
    views = context().platform.views
    office = context().platform.registry.get(user.office)

    def count(**filters: Any) -> int:
        return views.items(user.office, per_page=1, **filters).total

    counters = {
        "received": count(status="received"),
        "to_do": sum(count(status=s) for s in TO_DO),
        "due_soon": count(light_="yellow"),
        "overdue": count(light_="red"),
    }
    open_rows = [
        row
        for status in ("received", *TO_DO)
        for row in views.items(user.office, status=status, per_page=SHOWN).items
    ]
    open_rows.sort(key=lambda r: (LIGHT_ORDER.get(r["light"], 3), r["deadline"], r["title"]))
    return page("desk.html", user=user, office=office, counters=counters, rows=open_rows[:SHOWN])
