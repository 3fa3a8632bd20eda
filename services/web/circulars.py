"""通报, circulars: the office's ranking of its subordinates, with the rule it follows, and a
draft circular from it that a leader edits and issues.

Who sees what is the API's: the ranking (``GET /api/v1/offices/{code}/circular``) for one's
own office and those below it (``?office=CODE``; admins any), issuing (``POST
…/circulars``) for a leader in their own office (any other role 403, another office 404).
The form is loaded through the API's schema (``CircularIn``); units are written one a line.
The draft names the subordinates the read model counts as commended and as under
rectification. Issued circulars are listed from the office's audit trail, for those who may
read it. May import: Flask, Flask-Babel, marshmallow, the domain's errors and values, the
API's schemas and errors (``ApiError``, which ``Access`` raises), ``services.errors``,
``services.users`` and ``services.web`` modules.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import abort, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from domain.errors import DomainError, InvalidFieldError
from domain.values import Actor
from services.errors import NotFoundError
from services.http.errors import ApiError
from services.http.schemas.readside import CircularIn
from services.users import UserView
from services.web.common import context, me, office_below, page, signed_in, web
from services.web.names import language

FIELDS = ("title", "scope", "text", "commend", "criticise")
DOMAIN_FIELDS = {"commended": "commend", "criticised": "criticise"}
"""The domain names the lists by what they hold; the form, as the API's body does."""
MESSAGES = {
    "Missing data for required field.": _l("This field is required."),
    "Shorter than minimum length 1.": _l("This field is required."),
    "a circular names at least one unit": _l("Name at least one unit to commend or criticise."),
    "a unit cannot be commended and criticised": _l(
        "A unit cannot be both commended and criticised."
    ),
}
"""The schema's and the domain's words, as people read them (others are shown as they are)."""
ISSUED_SHOWN = 20


@web.route("/circulars")
@signed_in
def circulars() -> Any:
    user = me()
    code = office_below()
    context().platform.registry.get(code)
    ranking = context().platform.views.circular(code)
    return show(user, code, draft(code, ranking), {}, ranking=ranking)


@web.route("/circulars", methods=["POST"])
@signed_in
def issue() -> Any:
    """Issue the circular as edited; errors come back next to their fields, input kept."""
    user = me()
    code = request.form.get("office", user.office)
    try:
        context().access.command(user, code, "issue-circular")
    except ApiError as e:  # beyond the role (another office's is not found, as over the API)
        abort(e.status, description=_("Only a leader of the office may issue its circulars."))
    form = {name: request.form.get(name, "") for name in FIELDS}
    try:
        data = CircularIn().load(body(form))
    except ma.ValidationError as e:
        return show(user, code, form, field_errors(e.messages), 422)
    actor = Actor(user.id, user.office, user.role, channel="web")
    try:
        context().platform.supervision.issue_circular(
            actor,
            code,
            data["title"],
            data["scope"],
            data["text"],
            data["commend"],
            data["criticise"],
        )
    except InvalidFieldError as e:
        field = DOMAIN_FIELDS.get(e.field, e.field)
        return show(
            user, code, form, {field if field in FIELDS else "form": [words(e.message)]}, 409
        )
    except DomainError as e:
        return show(user, code, form, {"form": [words(str(e))]}, 409)
    return redirect(url_for("web.circulars", issued=1))


def body(form: dict[str, str]) -> dict[str, Any]:
    """The form as the API's JSON body: units one a line."""
    lists = {
        name: [u.strip() for u in form[name].splitlines() if u.strip()]
        for name in ("commend", "criticise")
    }
    return {"title": form["title"], "scope": form["scope"], "text": form["text"], **lists}


def field_errors(messages: Any) -> dict[str, list[str]]:
    """The schema's messages by form field (``commend.0`` belongs to ``commend``)."""
    found: dict[str, list[str]] = {}
    for key, value in dict(messages).items():
        field = str(key).split(".")[0]
        texts = value.values() if isinstance(value, dict) else value
        for text in texts:
            for line in text if isinstance(text, list) else [text]:
                found.setdefault(field if field in FIELDS else "form", []).append(words(line))
    return found


def words(message: str) -> str:
    """A schema's or the domain's message in the person's language, when it is a known one."""
    return str(MESSAGES.get(message.strip().rstrip("."), MESSAGES.get(message.strip(), message)))


def draft(code: str, ranking: dict[str, Any]) -> dict[str, str]:
    """Title and text pre-filled from the ranking: each office's place, the commended and
    those under rectification named (the leader edits before issuing)."""
    names = {e["office"]: e["name"] for e in ranking["ranking"]}
    commended = [names.get(c, c) for c in ranking["commended"]]
    rectifying = [names.get(c, c) for c in ranking["under_rectification"]]
    office = context().platform.registry.get(code).name
    lines = [
        _("Ranking of the offices below by on-time completion, as of %(on)s.", on=ranking["on"])
    ]
    for entry in map(figures, ranking["ranking"]):
        rate = entry["on_time_rate"]
        lines.append(
            _(
                "%(rank)s. %(name)s: on-time rate %(rate)s, %(overdue)s overdue.",
                rank=entry["rank"] if entry["rank"] is not None else "—",
                name=entry["name"],
                rate=f"{rate:.0%}" if rate is not None else _("nothing due"),
                overdue=entry["overdue"],
            )
        )
    if commended:
        lines.append(_("Commended: %(units)s.", units="、".join(commended)))
    if rectifying:
        lines.append(_("Under rectification: %(units)s.", units="、".join(rectifying)))
    return {
        "title": _("%(office)s circular on the supervision of assigned work", office=office),
        "scope": _("The offices below"),
        "text": "\n".join(lines),
        "commend": "\n".join(commended),
        "criticise": "\n".join(rectifying),
    }


def show(
    user: UserView,
    code: str,
    form: dict[str, str],
    errors: dict[str, list[str]],
    status: int = 200,
    ranking: dict[str, Any] | None = None,
) -> Any:
    ranking = ranking or context().platform.views.circular(code)
    return page(
        "circulars.html",
        status,
        code=code,
        shown_office=context().platform.registry.get(code),
        ranking=[figures(e) for e in ranking["ranking"]],
        on=ranking["on"],
        rule=rule_text(ranking.get("rule")),
        form=form,
        errors=errors,
        may_issue=may_issue(user, code),
        issued=issued(user, code),
        just_issued=request.args.get("issued") == "1",
    )


def figures(entry: dict[str, Any]) -> dict[str, Any]:
    """A ranking entry's figures: its matters' where the read model counts matters, else the
    entry's own (the shape the read model had before)."""
    counted = entry.get("matters", entry)
    return {
        **entry,
        "total": counted.get("total", 0),
        "completed": counted.get("completed", 0),
        "overdue": counted.get("overdue", 0),
        "on_time_rate": counted.get("on_time_rate"),
    }


def rule_text(rule: Any) -> str:
    """The ranking rule in the person's language, when the read model gives it."""
    if isinstance(rule, dict):
        chosen = rule.get("en" if language() == "en" else "zh") or next(iter(rule.values()), "")
        return str(chosen)
    return str(rule) if rule else ""


def may_issue(user: UserView, code: str) -> bool:
    try:
        context().access.command(user, code, "issue-circular")
    except (ApiError, NotFoundError):
        return False
    return True


def issued(user: UserView, code: str) -> list[dict[str, Any]] | None:
    """The office's last issued circulars (newest first) from its audit trail, for those who
    may read that trail (None for others)."""
    try:
        context().access.audit(user, code)
    except (ApiError, NotFoundError):
        return None
    views = context().platform.views
    total = views.audit(code, type_="Issued", per_page=1).total
    last = max(1, -(-total // ISSUED_SHOWN))
    rows = [
        r
        for number in sorted({max(1, last - 1), last})
        for r in views.audit(code, type_="Issued", page=number, per_page=ISSUED_SHOWN).items
        if r["record_type"] == "Circular"
    ][-ISSUED_SHOWN:]
    return [
        {
            "id": r["record_id"],
            "title": r["summary"],
            "time": r["time"][:16].replace("T", " "),
            "by": r["actor_name"],
        }
        for r in reversed(context().users.audit_rows(rows))
    ]
