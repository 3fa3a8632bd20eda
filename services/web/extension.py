"""延期, extensions: asking for a later deadline on a record, and the requests waiting on the
person's office.

``/items/<office>/<id>/extension`` asks (the API's request-extension, same schema and checks as
every action, ``actions.carry_out``) with a date input, and says how many working days the
new date adds on the platform calendar (and whether it is counted provisionally): a "count"
button without JavaScript, the same words fetched by htmx as the date changes. Decisions
(grant, deny) are the item page's forms; ``/extensions`` lists the office's records with a
request waiting on it: a subordinate office's (its task reported it up) or, on one of the
office's own items, its own. May import: Flask, Flask-Babel, werkzeug, the services and
``services.web``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import flash, request
from flask_babel import gettext as _
from markupsafe import escape
from werkzeug.datastructures import MultiDict

from services.users import UserView
from services.views import paginate
from services.web.actions import Attempt, carry_out, check_command, item_redirect
from services.web.common import context, me, page, signed_in, web
from services.web.offers import offers
from services.web.wording import action_name

ACTION = "request-extension"
WAITING_STATUSES = ("received", "registered", "acknowledged", "in_progress", "completion_reported")
SCAN_PAGE = 500
LIST_PAGE = 20


def adds(deadline: date, given: str) -> str:
    """In words: how many working days ``given`` (YYYY-MM-DD) adds to ``deadline``."""
    try:
        day = date.fromisoformat(given)
    except ValueError:
        return ""
    calendar = context().platform.calendar
    n = calendar.working_days_between(deadline, day)
    if n <= 0:
        return str(
            _("%(day)s is not later than the deadline %(deadline)s.", day=day, deadline=deadline)
        )
    words = str(_("%(n)s working days later than %(deadline)s.", n=n, deadline=deadline))
    if calendar.provisional_years_between(deadline, day):
        words += " " + _("Counted provisionally: the holiday notice for that year is not out yet.")
    return words


@web.route("/items/<office>/<item_id>/extension", methods=["GET"])
@signed_in
def extension(office: str, item_id: str) -> Any:
    user = me()
    check_command(user, office, ACTION)
    return render_extension(user, office, item_id, Attempt(ACTION, "", {}))


@web.route("/items/<office>/<item_id>/extension/days")
@signed_in
def extension_days(office: str, item_id: str) -> Any:
    """The working-day count alone (htmx, as the date changes)."""
    context().access.items(me(), office)
    record = context().platform.supervision.get(office, item_id)
    return str(escape(adds(record.deadline, request.args.get("new_deadline", ""))))


@web.route("/items/<office>/<item_id>/extension", methods=["POST"])
@signed_in
def request_extension(office: str, item_id: str) -> Any:
    user = me()
    check_command(user, office, ACTION)
    if request.form.get("count"):  # the no-JavaScript way to see the working days
        values = {k: v for k, v in request.form.items() if k != "csrf_token"}
        return render_extension(user, office, item_id, Attempt(ACTION, "", values))
    fields = ("new_deadline", "reason", "progress", "version")
    form = MultiDict({k: request.form.get(k, "") for k in fields})
    attempt = carry_out(user, office, item_id, ACTION, form)
    if attempt is None:
        flash(_("Done: %(action)s.", action=action_name(ACTION)))
        return item_redirect(office, item_id)
    status = 409 if attempt.stale or attempt.message else 422
    return render_extension(user, office, item_id, attempt, status)


def render_extension(
    user: UserView, office: str, item_id: str, attempt: Attempt, status: int = 200
) -> Any:
    record = context().platform.supervision.get(office, item_id)
    open_now = any(o.action == ACTION for o in offers(user, office, item_id))
    if not open_now and status == 200:
        status = 409
    if request.headers.get("HX-Request") == "true":
        status = 200
    given = str(attempt.values.get("new_deadline", ""))
    return page(
        "extension.html",
        status,
        record=record,
        attempt=attempt,
        open_now=open_now,
        days=adds(record.deadline, given) if given else "",
    )


@web.route("/extensions")
@signed_in
def extensions() -> Any:
    """The office's records with a request for an extension waiting on the office."""
    user = me()
    context().access.items(user, user.office)
    rows = [
        {**row, "waiting": waiting}
        for row in open_records(user.office)
        if (waiting := waiting_on_office(row))
    ]
    number = request.args.get("page", "1")
    wanted = int(number) if number.isascii() and number.isdigit() and len(number) < 7 else 1
    last = max(1, -(-len(rows) // LIST_PAGE))
    shown = paginate(rows, min(max(wanted, 1), last), LIST_PAGE)
    return page("extensions.html", rows=shown)


def open_records(office: str) -> list[dict[str, Any]]:
    """The office's records that may still have a request waiting (the items read model)."""
    views = context().platform.views
    found: list[dict[str, Any]] = []
    for status in WAITING_STATUSES:
        number = 1
        while True:
            batch = views.items(office, status=status, page=number, per_page=SCAN_PAGE)
            found.extend(batch.items)
            if number * SCAN_PAGE >= batch.total:
                break
            number += 1
    return found


def waiting_on_office(row: dict[str, Any]) -> list[dict[str, str]]:
    """(office, date asked) of each request this office decides on the record."""
    asked = [{"office": o, "day": d} for o, d in sorted(row["pending_extensions"].items())]
    if row["kind"] == "item" and row.get("pending_extension"):
        asked.insert(0, {"office": row["office"], "day": row["pending_extension"]})
    return asked
