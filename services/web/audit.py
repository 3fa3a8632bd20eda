"""审计追溯, the audit trail on screen: every event of an office, filtered by time (China days),
person, event type or record, with each event's person, office, role, channel and summary;
and the same rows as CSV or JSON for an auditor's own files.

Who may read it is the API's rule (``Access.audit``: supervisors and leaders their own office,
auditors the subtree they were granted); the filters are loaded by the API's ``AuditQuery``.
Exports hold every matching row up to ``MAX_EXPORT`` (more asks to narrow the filters). May
import: the standard library, Flask, Flask-Babel, marshmallow, the API's schemas and
``services.web``'s modules.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any
from urllib.parse import urlencode

import marshmallow as ma
from flask import Response, request
from flask_babel import lazy_gettext as _l

from domain.policy import AUDIT_READERS
from services.http.schemas.readside import AuditQuery
from services.web.common import context, me, page, signed_in, signed_in_user, web
from services.web.register import field_errors

PER_PAGE = 50
MAX_EXPORT = 50_000
EXPORT_PAGE = 500
COLUMNS = (
    "time",
    "office",
    "actor_name",
    "actor_user",
    "actor_office",
    "actor_role",
    "actor_channel",
    "actor_os_user",
    "type",
    "record_id",
    "version",
    "summary",
)
"""The columns of an export, in order (names as the API's audit entries have them)."""


def wanted() -> tuple[str, dict[str, str]]:
    """The office asked for (default: the person's own) and the other filters given."""
    args = {k: v for k, v in request.args.items() if v.strip() != ""}
    return args.pop("office", me().office), args


def loaded(args: dict[str, str], page_size: int) -> dict[str, Any]:
    return dict(AuditQuery().load({"per_page": str(page_size), **args}))


def rows_of(code: str, query: dict[str, Any], page_no: int, per_page: int) -> Any:
    item = query.get("item")
    found = context().platform.views.audit(
        code,
        record_id=str(item) if item else None,
        start=query.get("from_"),
        end=query.get("to"),
        actor=query.get("actor"),
        type_=query.get("type"),
        page=page_no,
        per_page=per_page,
    )
    return found, context().users.audit_rows(found.to_dict()["items"])


def audit_offices(code: str) -> list[tuple[str, str]]:
    """The offices the person may read the trail of: their own, and (auditors) below it."""
    user = me()
    registry = context().platform.registry
    codes = [user.office]
    if user.role == "auditor":
        codes += [o.code for o in registry.descendants(user.office)]
    return [(c, registry.get(c).name) for c in codes]


@web.route("/audit")
@signed_in
def audit_page() -> Any:
    user = me()
    code, args = wanted()
    context().access.audit(user, code)
    errors: dict[str, str] = {}
    found, rows = None, []
    try:
        query = loaded({k: v for k, v in args.items() if k != "page"}, PER_PAGE)
        found, rows = rows_of(code, query, max(1, int(args.get("page", "1") or 1)), PER_PAGE)
    except (ma.ValidationError, ValueError) as e:
        messages = e.messages if isinstance(e, ma.ValidationError) else {"page": [str(e)]}
        errors = field_errors(messages if isinstance(messages, dict) else {})
    keep = {**args, "office": code}
    keep.pop("page", None)
    return page(
        "audit.html",
        422 if errors else 200,
        shown=context().platform.registry.get(code),
        offices=audit_offices(code),
        args=args,
        errors=errors,
        found=found,
        rows=rows,
        keep=urlencode(keep),
    )


@web.route("/audit.<kind>")
@signed_in
def audit_export(kind: str) -> Any:
    """The filtered trail (every page) as CSV (Excel and WPS open it: UTF-8 with a BOM) or
    JSON."""
    if kind not in ("csv", "json"):
        return page("error.html", 404, title=_l("Not found"), message=_l("There is nothing here."))
    user = me()
    code, args = wanted()
    context().access.audit(user, code)
    try:
        query = loaded({k: v for k, v in args.items() if k not in ("page", "per_page")}, 1)
    except ma.ValidationError:
        return page("error.html", 422, title=_l("Cannot export"), message=_l("Check the filters."))
    first, _ = rows_of(code, query, 1, 1)
    if first.total > MAX_EXPORT:
        message = _l(
            "%(total)s records match; one export holds at most %(most)s: narrow the filters.",
            total=first.total,
            most=MAX_EXPORT,
        )
        return page("error.html", 422, title=_l("Cannot export"), message=message)
    every: list[dict[str, Any]] = []
    for n in range(1, -(-first.total // EXPORT_PAGE) + 1):
        every += rows_of(code, query, n, EXPORT_PAGE)[1]
    name = f"audit-{code}"
    if kind == "json":
        body = json.dumps([{c: r.get(c) for c in COLUMNS} for r in every], ensure_ascii=False)
        return Response(body, mimetype="application/json", headers=attachment(f"{name}.json"))
    out = io.StringIO()
    out.write("\ufeff")  # Excel and WPS read UTF-8 only with it
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    writer.writerows([[r.get(c, "") for c in COLUMNS] for r in every])
    return Response(out.getvalue(), mimetype="text/csv", headers=attachment(f"{name}.csv"))


@web.app_template_global()
def may_audit() -> bool:
    """Whether the signed-in person's role reads audit trails (the nav's link)."""
    user = signed_in_user()
    return user is not None and user.role in AUDIT_READERS


def attachment(filename: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{filename}"'}
