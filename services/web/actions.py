"""The item page's actions: each a small form posted to ``/items/<office>/<id>/<action>``.

A form is read into the shape of the API's JSON body and loaded by the API's own schema
(``services.http.schemas.ACTION_BODIES``); the record's version travels in a hidden field as
the API's If-Match does. Then the one service call, as the API makes it
(``SupervisionService.act`` with ``domain_params``), by ``Actor(..., channel="web")``. Success
redirects back to the item page with a notice (PRG); a refusal re-renders the page with the
person's input kept and the reason next to its field (or at the form): a stale version says
"该事项已被他人更新" and shows the record as it now is. Plain posts get 409/422; htmx posts get
200, so that htmx swaps the answer in. May import: Flask, Flask-Babel, marshmallow, the
domain's errors, the services, ``services.http`` (schemas and errors) and ``services.web``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import marshmallow as ma
from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from domain import errors
from services.actions import domain_params
from services.errors import ConflictError, NotFoundError, OfficeRetiredError
from services.http.errors import ApiError
from services.http.schemas import ACTION_BODIES
from services.supervision import ACTIONS
from services.users import UserView
from services.web.common import context, me, page, signed_in, web
from services.web.item import render_item
from services.web.offers import web_actor
from services.web.wording import action_name

MAX_VERSION_DIGITS = 18
SCHEMA_MESSAGES = {
    "Missing data for required field.": _l("Required."),
    "Shorter than minimum length 1.": _l("Required."),
    "Not a valid integer.": _l("Enter a whole number."),
    "Must be greater than or equal to 0 and less than or equal to 100.": _l("From 0 to 100."),
    "Must be one of: experience, problem.": _l("Choose one."),
}
DOMAIN_MESSAGES: dict[type[Exception], tuple[str, Any]] = {
    errors.ItemClosedError: ("", _l("The item is closed.")),
    errors.TaskConcludedError: ("", _l("The matter was closed above: this task has ended.")),
    errors.AlreadyAcknowledgedError: ("", _l("It has already been signed for.")),
    errors.NotAcknowledgedError: ("", _l("Sign for it first.")),
    errors.NotOpenForReportsError: ("", _l("Reports are not taken in this state.")),
    errors.NoCompletionPendingError: ("", _l("No completion report is waiting.")),
    errors.NotAssigningOfficeError: ("", _l("Only the assigning office may decide this.")),
    errors.AssignmentDeadlineError: (
        "deadline",
        _l("The assignment's deadline may not be later than this record's."),
    ),
    errors.CompletionAlreadyAcceptedError: ("", _l("The completion has been accepted.")),
    errors.ExtensionAfterDeadlineError: (
        "new_deadline",
        _l("An extension is requested before the deadline, not after it."),
    ),
    errors.ExtensionNotLaterError: (
        "new_deadline",
        _l("The new deadline must be later than the current one."),
    ),
    errors.ExtensionPendingError: ("", _l("A request for an extension is already waiting.")),
    errors.NoExtensionPendingError: ("", _l("No request for an extension is waiting.")),
    errors.ExtensionBeyondOwnDeadlineError: (
        "new_deadline",
        _l("This date is past your office's own deadline; ask for your own extension first."),
    ),
    errors.RectificationStateError: ("", _l("Rectification is not at that step.")),
    errors.NotClosedError: ("", _l("Only a closed item is reopened.")),
    errors.PublicationStateError: ("", _l("The item is not in that publication state.")),
}
"""Domain refusals in the person's language, with the form field they concern."""
FIELD_ALIASES = {"attachments": "attachment", "assignees": "to", "assignee.target": "to"}


@dataclass
class Attempt:
    """A form that was refused: what the person entered and why, to show it again."""

    action: str
    assignee: str
    values: dict[str, Any]
    errors: dict[str, list[str]] = field(default_factory=dict)
    message: str = ""
    stale: bool = False

    @property
    def key(self) -> str:
        return f"{self.action}:{self.assignee}" if self.assignee else self.action


def form_body(action: str, form: MultiDict[str, str]) -> dict[str, Any]:
    """The form in the shape of the API's JSON body (blank fields left out, so the schema's
    defaults and required-field messages apply)."""
    body: dict[str, Any] = {}
    for name, kind in ACTION_BODIES[action]().fields.items():
        if isinstance(kind, ma.fields.List):
            values = [v for v in form.getlist(name) if v.strip()]
            listed = values if name == "co" else split(" ".join(values))
            if listed:
                body[name] = listed
        elif isinstance(kind, ma.fields.Boolean):
            if form.get(name):
                body[name] = True
        elif form.get(name, "").strip():
            raw = form[name].strip()
            is_number = isinstance(kind, ma.fields.Integer) and raw.isascii() and raw.isdigit()
            body[name] = int(raw) if is_number else form[name]
    return body


def split(text: str) -> list[str]:
    """Names given in one box, one a line or separated by commas (either kind) or 、."""
    return [p.strip() for p in re.split(r"[\n,，、;；]", text) if p.strip()]


def kept(form: MultiDict[str, str]) -> dict[str, Any]:
    """What the person entered, as the form shows it again."""
    return {
        k: (form.getlist(k) if k == "co" else form.get(k, "")) for k in form if k != "csrf_token"
    }


def schema_errors(error: ma.ValidationError) -> dict[str, list[str]]:
    messages = error.messages if isinstance(error.messages, dict) else {"": error.messages}
    out: dict[str, list[str]] = {}
    for name, said in messages.items():
        flat = said if isinstance(said, list) else [m for v in said.values() for m in v]
        out[str(name)] = [str(SCHEMA_MESSAGES.get(str(m), m)) for m in flat]
    return out


def refusal(error: Exception) -> tuple[str, str]:
    """(field or '', message) for a domain refusal."""
    if isinstance(error, errors.InvalidFieldError):
        name = FIELD_ALIASES.get(error.field, error.field)
        return name, error.message
    for kind, (name, message) in DOMAIN_MESSAGES.items():
        if isinstance(error, kind):
            return name, str(message)
    if isinstance(error, OfficeRetiredError):
        return "", _("The office is retired: it takes no more actions.")
    return "", _("This cannot be done now: %(why)s", why=str(error))


def version_of(form: MultiDict[str, str]) -> int | None:
    raw = form.get("version", "").strip()
    ok = raw.isascii() and raw.isdigit() and len(raw) <= MAX_VERSION_DIGITS
    return int(raw) if ok else None


def carry_out(
    user: UserView, office: str, item_id: str, action: str, form: MultiDict[str, str]
) -> Attempt | None:
    """Do ``action`` as the API would; None when done, else the refused attempt."""
    attempt = Attempt(action, form.get("assignee", ""), kept(form))
    try:
        data = ACTION_BODIES[action]().load(form_body(action, form))
    except ma.ValidationError as e:
        attempt.errors = schema_errors(e)
        return attempt
    expected = version_of(form)
    supervision = context().platform.supervision
    try:
        if expected is None:
            raise ConflictError("no version given")
        params = domain_params(action, data)
        supervision.act(web_actor(user), office, item_id, action, expected, **params)
    except ConflictError:
        attempt.stale = True
        attempt.message = _("It is shown as it now is; your input is kept.")
    except (errors.DomainError, OfficeRetiredError) as e:
        name, message = refusal(e)
        if name and name in attempt.values:
            attempt.errors[name] = [message]
        else:
            attempt.message = message
    else:
        return None
    return attempt


def check_command(user: UserView, office: str, action: str) -> None:
    """The API's check: 404 for a record out of sight, 403 beyond the role."""
    if action not in ACTIONS:
        raise NotFoundError(f"no action '{action}'")
    context().access.command(user, office, action)


@web.errorhandler(ApiError)
def refused(error: ApiError) -> Any:
    title = _("Not allowed") if error.status == 403 else str(error.status)
    message = _("Your role may not do this here.") if error.status == 403 else error.message
    return page("error.html", error.status, title=title, message=message)


@web.route("/items/<office>/<item_id>/<action>", methods=["POST"])
@signed_in
def act(office: str, item_id: str, action: str) -> Any:
    """One action on the record; PRG on success, the page again (409/422) on a refusal."""
    user = me()
    check_command(user, office, action)
    attempt = carry_out(user, office, item_id, action, request.form)
    if attempt is None:
        flash(_("Done: %(action)s.", action=action_name(action)))
        return item_redirect(office, item_id)
    status = 409 if attempt.stale or (attempt.message and not attempt.errors) else 422
    return render_item(user, office, item_id, attempt, status)


def item_redirect(office: str, item_id: str) -> Response:
    return redirect(url_for("web.item", office=office, item_id=item_id), 303)
