"""事项详情, the item page: one record of the person's office as the API's
``GET /api/v1/offices/<office>/items/<id>`` shows it to them, and what they may do with it.

Visible exactly when that route is (``Access.items``: one's own office; an auditor's subtree);
otherwise 404, as for a record that does not exist. The page shows the five elements, status,
light and working days left (the platform calendar), the assignees with the state of their
tasks (the responsibility tree read model, as the API's ``/tree``), the record's timeline (its
events, China time, who in words, from which office and channel), the records up and down the
chain with a link where the person may read them, the verifiable ledger's badge for its latest
event (``verified``: the checkpoint that covers it, who cosigned, the proof bundle's link), and
the actions ``offers`` finds, each a small form (``actions``). May import: Flask,
Flask-Babel, the domain's lights and policy, the services, ``services.http.common.find_node`` and
``services.web``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from flask import get_flashed_messages, request
from flask_babel import lazy_gettext as _l

from domain.lights import ENDED, light
from domain.policy import AUDIT_READERS
from domain.values import business_date
from projections.queries import ReadModels
from services.errors import NotFoundError
from services.http.common import find_node
from services.inputs import china_time, day_problem, parse_instant
from services.users import UserView
from services.views import CaseView, paginate
from services.web.common import context, me, page, signed_in, web
from services.web.offers import assignable, offers
from services.web.verified import ledger_badge
from services.web.wording import actor_name, event_summary

if TYPE_CHECKING:
    from services.web.actions import Attempt

TIMELINE_PAGE = 50
LINKED = ("report-progress", "report-completion", "request-extension")
"""Actions with a screen of their own (进展反馈, 延期): the page links there."""


@dataclass(frozen=True)
class Field:
    name: str
    label: Any
    kind: str = "area"  # area, text, date, number, check, offices, co-offices, finding
    required: bool = True


FORMS: dict[str, list[Field]] = {
    "assign": [
        Field("to", _l("Lead office"), "offices", False),
        Field("to_unit", _l("Or a lead internal unit"), "text", False),
        Field("co", _l("Co-executing offices"), "co-offices", False),
        Field("co_unit", _l("Co-executing internal units (separated by commas)"), "text", False),
        Field("deadline", _l("Deadline (default: this record's)"), "date", False),
        Field("responsible", _l("Responsible person"), "text", False),
    ],
    "acknowledge": [],
    "accept-completion": [Field("comment", _l("Comment"), required=False)],
    "return-completion": [Field("reason", _l("Reason"))],
    "grant-extension": [
        Field("new_deadline", _l("New deadline (default: the date asked for)"), "date", False),
        Field("comment", _l("Comment"), required=False),
    ],
    "deny-extension": [Field("reason", _l("Reason"))],
    "urge": [Field("message", _l("Message"))],
    "escalate": [
        Field("to", _l("To whom (a higher level or a leader)"), "text"),
        Field("reason", _l("Reason")),
    ],
    "commend": [Field("reason", _l("Reason"))],
    "order-rectification": [
        Field("requirements", _l("Requirements")),
        Field("deadline", _l("Rectification deadline"), "date", False),
    ],
    "report-rectification": [Field("text", _l("What was rectified"))],
    "accept-rectification": [Field("comment", _l("Comment"), required=False)],
    "close": [
        Field("reason", _l("Reason"), required=False),
        Field(
            "leader_closure", _l("Close by a leader's decision without completion"), "check", False
        ),
    ],
    "reopen": [Field("reason", _l("Reason"))],
    "publish": [Field("summary", _l("Public summary"))],
    "unpublish": [Field("reason", _l("Reason"))],
    "record-finding": [
        Field("kind", _l("Kind"), "finding"),
        Field("text", _l("Experience or problem")),
        Field("recommendation", _l("Policy recommendation"), required=False),
    ],
}


@web.route("/items/<office>/<item_id>")
@signed_in
def item(office: str, item_id: str) -> Any:
    """The record now, or with ``?as_of=DAY`` (the end of that day in China, or an instant)
    as it stood then: read-only, its assignees' tasks as they stood, its timeline up to then."""
    given = request.args.get("as_of", "").strip()
    if not given:
        return render_item(me(), office, item_id)
    context().access.items(me(), office)
    try:
        until = parse_instant(given)
        problem = day_problem(until.date())
    except ValueError as e:
        problem = str(e)
    if problem:
        title = _l("Please check your input")
        return page("error.html", 422, title=title, message=f"as_of: {problem}")
    return render_past(me(), office, item_id, until)


def render_past(user: UserView, office: str, item_id: str, until: datetime) -> Any:
    platform = context().platform
    record = platform.supervision.get_as_of(office, item_id, until)
    codes = [office, *(o.code for o in platform.registry.descendants(office))]
    then = platform.as_of(until, codes)
    return page(
        "item.html",
        record=record,
        header=header(record, business_date(until)),
        assignees=assignees(user, record, then),
        up=up_chain(user, record),
        timeline=timeline(office, item_id, until),
        offers=[],
        proof=None,  # the badge speaks of the log now, not as it stood
        linked=LINKED,
        forms=FORMS,
        offices=[],
        attempt=None,
        notices=[],
        as_of=until,
        as_of_text=china_time(until)[:16].replace("T", " "),
    )


def render_item(
    user: UserView, office: str, item_id: str, attempt: Attempt | None = None, status: int = 200
) -> Any:
    """The page, or (htmx) its ``#item`` part; a refused attempt's input shown again."""
    context().access.items(user, office)  # the API's check: 404 out of sight
    record = context().platform.supervision.get(office, item_id)
    if attempt is not None and request.headers.get("HX-Request") == "true":
        status = 200  # htmx swaps only successful answers in; the words say what went wrong
    return page(
        "item.html",
        status,
        record=record,
        header=header(record),
        assignees=assignees(user, record),
        up=up_chain(user, record),
        timeline=timeline(office, item_id),
        offers=offers(user, office, item_id),
        proof=ledger_badge(office, item_id, linked=user.role in AUDIT_READERS),
        linked=LINKED,
        forms=FORMS,
        offices=assignable(user),
        attempt=attempt,
        # a whole page shows the flashed messages in its frame (base.html); an htmx swap of
        # the record's part shows them in the part
        notices=get_flashed_messages() if request.headers.get("HX-Request") == "true" else [],
    )


def header(record: CaseView, day: date | None = None) -> dict[str, Any]:
    """Light, working days left (negative: overdue by; None once the record has ended) and
    the provisional-deadline note, as of ``day`` (today by default)."""
    platform = context().platform
    today = day or business_date(platform.clock())
    return {
        "light": light(record.status, record.deadline, today, platform.calendar),
        "days_left": (
            None
            if record.status in ENDED
            else platform.calendar.working_days_between(today, record.deadline)
        ),
        "deadline_note": platform.calendar.deadline_note(
            record.issued_on, record.deadline, record.deadline_provisional
        ),
        "today": today,
    }


def may_read(user: UserView, office: str) -> bool:
    try:
        context().access.items(user, office)
    except NotFoundError:  # out of sight
        return False
    return True


def assignees(
    user: UserView, record: CaseView, views: ReadModels | None = None
) -> list[dict[str, Any]]:
    """Each assignment with, for an office, its task as the tree (of ``views``: now, by
    default) shows it and what it last reported here; ``link`` only when the person may read
    that office's records."""
    whole = (views or context().platform.views).tree(record.office, record.id)
    node = find_node(whole, record.office, record.id) if whole else None
    tasks = {c["office"]: c for c in (node or {}).get("children", [])}
    rows = []
    for a in record.assignments:
        task = tasks.get(a["target"]) if a["kind"] == "office" else None
        rows.append(
            {
                **a,
                "task": task,
                "report": received(record.received_reports.get(a["target"])),
                "pending_extension": record.pending_extensions.get(a["target"]),
                "link": bool(task) and may_read(user, a["target"]),
            }
        )
    return rows


def received(report: dict[str, Any] | None) -> dict[str, Any] | None:
    """A subordinate's last report as the page shows it: when it came, in China time."""
    if report is None:
        return None
    return {**report, "when": china_time(report["received_at"])[:16].replace("T", " ")}


def up_chain(user: UserView, record: CaseView) -> list[dict[str, Any]]:
    """The parent record and the matter's root (if another), linked where readable."""
    found = []
    if record.parent:
        found.append({**record.parent, "what": "parent"})
    root = record.root
    if root["id"] != record.id and (not record.parent or root["id"] != record.parent["id"]):
        found.append({**root, "what": "root"})
    return [{**r, "link": may_read(user, r["office"])} for r in found]


def timeline(office: str, item_id: str, until: datetime | None = None) -> Any:
    """One page of the record's events (up to ``until``), oldest first, as people read them."""
    shown = []
    for e in context().platform.supervision.history(office, item_id):
        if until is not None and e.time > until:
            break
        shown.append(
            {
                "kind": e.type,
                "version": e.version,
                "time": china_time(e.time)[:16].replace("T", " "),
                "actor": actor_name(e.actor),
                "office": e.actor.get("office", ""),
                "role": e.actor.get("role", ""),
                "channel": e.actor.get("channel", ""),
                "summary": event_summary(e.type, e.data),
            }
        )
    number = request.args.get("page", "1")
    wanted = int(number) if number.isascii() and number.isdigit() and 0 < len(number) < 7 else 1
    last = max(1, -(-len(shown) // TIMELINE_PAGE))
    return paginate(shown, min(max(wanted, 1), last), TIMELINE_PAGE)
