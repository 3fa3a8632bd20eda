"""进展反馈, the report screen: a progress or completion report in the shape of a 办理情况报告
(落实过程, 进展, 存在问题, 下步打算, 联系人), sent as the API's report-progress or
report-completion.

The parts are composed into the one report text the API takes, under fixed headings
(``【落实过程】`` …) so the assigning office reads every report alike and the parts can be read
back: "reuse my last report" fills the form from this office's last report on the record, as a
draft. The percent travels as the schema's own field. The same checks as the item page's
actions (``actions.carry_out``). May import: Flask, Flask-Babel, werkzeug, the services and
``services.web``.
"""

from __future__ import annotations

import re
from typing import Any

from flask import flash, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict

from services.users import UserView
from services.web.actions import Attempt, carry_out, check_command, item_redirect
from services.web.common import context, me, page, signed_in, web
from services.web.offers import offers
from services.web.wording import action_name

KINDS = {"progress": "report-progress", "completion": "report-completion"}
PARTS = [
    ("process", "落实过程", _l("What was done (落实过程)")),
    ("progress", "进展", _l("Progress (进展)")),
    ("problems", "存在问题", _l("Problems (存在问题)")),
    ("next_steps", "下步打算", _l("Next steps (下步打算)")),
]
CONTACT = "联系人"
HEADING = re.compile(r"^【([^】]+)】$", re.MULTILINE)
MAX_PART = 4000


def compose(form: MultiDict[str, str]) -> str:
    """The report text: each part given under its heading, then the contact."""
    blocks = [
        f"【{heading}】\n{form.get(name, '').strip()[:MAX_PART]}"
        for name, heading, _label in PARTS
        if form.get(name, "").strip()
    ]
    contact = "，".join(
        p for p in (form.get("contact", "").strip()[:100], form.get("phone", "").strip()[:40]) if p
    )
    if contact:
        blocks.append(f"【{CONTACT}】\n{contact}")
    return "\n\n".join(blocks)


def parts_of(text: str) -> dict[str, str]:
    """A composed report read back into its parts (a text without headings: all of it is
    落实过程)."""
    found = HEADING.split(text)
    if len(found) < 3:
        return {"process": text.strip()}
    by_heading = {found[i]: found[i + 1].strip() for i in range(1, len(found) - 1, 2)}
    parts = {name: by_heading.get(heading, "") for name, heading, _label in PARTS}
    contact, _sep, phone = by_heading.get(CONTACT, "").partition("，")
    return {**parts, "contact": contact, "phone": phone}


def last_report(office: str, item_id: str) -> dict[str, Any]:
    """This office's last progress or completion report on the record, as form values."""
    history = context().platform.supervision.history(office, item_id)
    for event in reversed(history):
        if event.type in ("ProgressReported", "CompletionReported"):
            values: dict[str, Any] = parts_of(event.data.get("text", ""))
            if "percent" in event.data:
                values["percent"] = str(event.data["percent"])
            return values
    return {}


def chosen_kind() -> str:
    kind = request.values.get("kind", "progress")
    return kind if kind in KINDS else "progress"


@web.route("/items/<office>/<item_id>/report", methods=["GET"])
@signed_in
def report(office: str, item_id: str) -> Any:
    user, kind = me(), chosen_kind()
    check_command(user, office, KINDS[kind])
    values: dict[str, Any] = {}
    notice = None
    if request.args.get("reuse"):
        values = last_report(office, item_id)
        notice = (
            _("Your last report is filled in as a draft.")
            if values
            else _("There is no earlier report to reuse.")
        )
    return render_report(user, office, item_id, kind, Attempt(KINDS[kind], "", values), notice)


@web.route("/items/<office>/<item_id>/report", methods=["POST"])
@signed_in
def send_report(office: str, item_id: str) -> Any:
    user, kind = me(), chosen_kind()
    action = KINDS[kind]
    check_command(user, office, action)
    form = MultiDict({"text": compose(request.form), "version": request.form.get("version", "")})
    if kind == "progress":
        form["percent"] = request.form.get("percent", "")
    attempt = carry_out(user, office, item_id, action, form)
    if attempt is None:
        flash(_("Done: %(action)s.", action=action_name(action)))
        return item_redirect(office, item_id)
    attempt.values = {k: v for k, v in request.form.items() if k != "csrf_token"}
    if "text" in attempt.errors:
        attempt.errors["process"] = attempt.errors.pop("text")
    status = 409 if attempt.stale or attempt.message else 422
    return render_report(user, office, item_id, kind, attempt, None, status)


def render_report(
    user: UserView,
    office: str,
    item_id: str,
    kind: str,
    attempt: Attempt,
    notice: str | None,
    status: int = 200,
) -> Any:
    record = context().platform.supervision.get(office, item_id)
    open_now = any(o.action == KINDS[kind] for o in offers(user, office, item_id))
    if not open_now and status == 200:
        status = 409
    if request.headers.get("HX-Request") == "true":
        status = 200
    return page(
        "report.html",
        status,
        record=record,
        kind=kind,
        parts=PARTS,
        attempt=attempt,
        open_now=open_now,
        notice=notice,
    )
