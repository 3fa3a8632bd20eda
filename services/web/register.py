"""立项, registering an item: the five elements, its source, importance and urgency.

The form is loaded through the API's own schema (``ItemIn``) and registered by the same service
call with the same duplicate-source check (``services.duplicates``): a source reference the
office already holds stops the form, naming the items, until the person ticks "register
anyway" (the API's ``allow_duplicate``). The deadline that will apply is previewed (30 working
days after issue for an instruction without one, marked provisional when counted on a year
whose holiday notice is not out) by an htmx fragment, or by a "preview" submit without
JavaScript; items with the same title or source are shown as links. Errors stand next to
their fields, in the person's language, with the input kept. May import: Flask, Flask-Babel,
marshmallow, the domain's rules, the services, ``projections.ledger``, the API's schemas and
auth errors, and ``services.web.common``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any
from urllib.parse import quote

import marshmallow as ma
from flask import flash, redirect, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from domain.errors import InvalidFieldError
from domain.items import default_deadline
from domain.values import SOURCE_KINDS, Actor, ComputedDeadline, business_date
from projections.ledger import same_title
from services.actions import registration_warnings
from services.duplicates import DuplicateSourceError, check_source, items_with_source
from services.http.errors import ApiError
from services.http.schemas.fields import Day
from services.http.schemas.items import ItemIn
from services.supervision import NewItem
from services.users import UserView
from services.web.common import context, me, page, signed_in, signed_in_user, web

FIELDS = (
    "title",
    "source_kind",
    "source_ref",
    "issued_on",
    "objective",
    "content",
    "executing_unit",
    "responsible_person",
    "deadline",
    "importance",
    "urgency",
)
SOURCE_NAMES = {
    "decision": _l("major decision"),
    "document": _l("government document"),
    "meeting": _l("meeting decision"),
    "instruction": _l("leader's instruction"),
}
KIND_NAMES = {"item": _l("item"), "task": _l("task")}
WHOLE = re.compile(r"-?[0-9]{1,6}")
EMPTY_FORM = {name: "" for name in FIELDS} | {"importance": "3", "urgency": "3"}

MESSAGES = (
    ("Missing data for required field", _l("This field is required.")),
    ("Shorter than minimum length", _l("This field is required.")),
    ("Not a valid date", _l("Enter a date as YYYY-MM-DD.")),
    ("must be a date from", _l("Enter a date between 2000 and 2199.")),
    ("Must be one of", _l("Choose one of the listed values.")),
    ("Not a valid integer", _l("Enter a whole number.")),
    ("Must be greater than or equal", _l("The value is out of range.")),
    ("Unknown field", _l("This parameter is not known.")),
    ("must not be before deadline_from", _l("The end of the range is before its start.")),
    ("the deadline is before the issue date", _l("The deadline is before the issue date.")),
    (
        "a deadline is required for source kind",
        _l("A deadline is required for this kind of source."),
    ),
    ("is longer than", _l("This text is too long.")),
    ("is required", _l("This field is required.")),
)


def explain(message: str) -> str:
    """A schema's or the domain's message about a field, in the person's language."""
    for start, text in MESSAGES:
        if start in message:
            return str(text)
    return str(_("This value is not accepted: %(reason)s", reason=message))


def field_errors(messages: Mapping[str, Any]) -> dict[str, str]:
    """marshmallow's ``{"field": ["message", …]}`` as one sentence per field."""
    shown = {}
    for name, found in messages.items():
        first = found[0] if isinstance(found, list) and found else found
        shown[name] = explain(str(first))
    return shown


@web.app_context_processor
def registering() -> dict[str, Any]:
    """``may_register``: whether the signed-in person's role may register (the nav's link)."""
    user = signed_in_user()
    return {"may_register_items": user is not None and may_register(user)}


def may_register(user: UserView) -> bool:
    try:
        context().access.command(user, user.office, "register")
    except ApiError:
        return False
    return True


def form_data(form: Mapping[str, str]) -> dict[str, Any]:
    """The form as the JSON body the API takes: whole numbers as numbers, no empty deadline."""
    data: dict[str, Any] = {name: form.get(name, "") for name in FIELDS}
    if not data["deadline"]:
        data["deadline"] = None
    for name in ("importance", "urgency"):
        value = data[name].strip()
        data[name] = int(value) if WHOLE.fullmatch(value) else value  # else the schema says
    data["allow_duplicate"] = form.get("allow_duplicate") == "on"
    return data


def deadline_preview(source_kind: str, issued: str, given: str) -> dict[str, Any]:
    """What the deadline will be for these inputs: ``{"day", "provisional", "working_days"}``,
    or ``{"error"}``, or ``{}`` while too little is known."""
    if not issued or source_kind not in SOURCE_KINDS:
        return {}
    try:
        issued_on = Day().deserialize(issued)
        deadline = Day().deserialize(given) if given else None
        computed: ComputedDeadline = default_deadline(
            source_kind, issued_on, deadline, context().platform.calendar
        )
    except ma.ValidationError as e:
        return {"error": explain(str(e.messages[0] if isinstance(e.messages, list) else e))}
    except InvalidFieldError as e:
        return {"error": explain(e.message)}
    return {
        "day": computed.day.isoformat(),
        "provisional": computed.provisional,
        "working_days": computed.working_days,
    }


def similar(office: str, title: str, source_ref: str) -> dict[str, list[Any]]:
    views = context().platform.views
    return {
        "same_source": items_with_source(views.read, office, source_ref) if source_ref else [],
        "same_title": same_title(views, office, title),
    }


def form_page(status: int = 200, **values: Any) -> Any:
    form = values.pop("form", EMPTY_FORM)
    values.setdefault("errors", {})
    values.setdefault("similar", {"same_source": [], "same_title": []})
    values.setdefault(
        "preview", deadline_preview(form["source_kind"], form["issued_on"], form["deadline"])
    )
    return page(
        "register.html",
        status,
        form=form,
        source_kinds=SOURCE_KINDS,
        source_names=SOURCE_NAMES,
        item_path=item_path,
        **values,
    )


@web.route("/register", methods=["GET"])
@signed_in
def register_page() -> Any:
    if not may_register(me()):
        return forbidden()
    return form_page(preview={})


@web.route("/register", methods=["POST"])
@signed_in
def register() -> Any:
    user = me()
    if not may_register(user):
        return forbidden()
    form = {name: request.form.get(name, "") for name in FIELDS}
    found = similar(user.office, form["title"], form["source_ref"])
    if request.form.get("action") == "preview":
        return form_page(form=form, similar=found)
    try:
        data = ItemIn().load(form_data(request.form))
    except ma.ValidationError as e:
        errors = field_errors(e.messages if isinstance(e.messages, dict) else {})
        return form_page(422, form=form, errors=errors, similar=found)
    return registered(user, form, data, found)


def registered(
    user: UserView, form: dict[str, str], data: dict[str, Any], found: dict[str, list[Any]]
) -> Any:
    platform = context().platform
    allow_duplicate = data.pop("allow_duplicate")
    try:
        check_source(platform.read, user.office, data["source_ref"], allow_duplicate, "web")
        actor = Actor(user.id, user.office, user.role, channel="web")
        case = platform.supervision.register_item(actor, user.office, NewItem(**data))
    except DuplicateSourceError:
        errors = {"source_ref": _("This office already has an item with this reference.")}
        return form_page(409, form=form, errors=errors, similar=found, duplicate=True)
    except InvalidFieldError as e:
        errors = {e.field if e.field in FIELDS else "title": explain(e.message)}
        return form_page(422, form=form, errors=errors, similar=found)
    flash(_("Registered: %(title)s", title=case.title), "notice")
    today: date = business_date(platform.clock())
    if registration_warnings(case.deadline, today):
        flash(
            _(
                "The deadline %(deadline)s has already passed: the item is overdue from the start.",
                deadline=case.deadline.isoformat(),
            ),
            "warning",
        )
    return redirect(item_path(user.office, str(case.id)))


@web.route("/register/deadline")
@signed_in
def register_deadline() -> Any:
    """The deadline preview, as a fragment (htmx) or a page of its own."""
    args = request.args
    preview = deadline_preview(
        args.get("source_kind", ""), args.get("issued_on", ""), args.get("deadline", "")
    )
    return page("parts/register_deadline.html", preview=preview)


@web.route("/register/similar")
@signed_in
def register_similar() -> Any:
    """Items of the office with the same source reference or a like title (a fragment)."""
    user = me()
    found = similar(user.office, request.args.get("title", ""), request.args.get("source_ref", ""))
    return page("parts/register_similar.html", similar=found, item_path=item_path)


def item_path(office: str, item_id: str) -> str:
    """The item page's address (``/items/<office>/<id>``)."""
    return f"/items/{quote(office)}/{quote(item_id)}"


def forbidden() -> Any:
    message = _("Your role may not register items.")
    return page("error.html", 403, title=_("Not allowed"), message=message)
