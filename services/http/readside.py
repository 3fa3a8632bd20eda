"""The read side of an office and its subtree: roll-ups, the audit trail, circulars
(issuing one, the ranking, and one as issued as a Word document).
May import: the standard library, flask, ``services`` (exports, http) and ``services.http``
(common, errors).

Views only translate. Imports the read models through the platform and
``services.http.common``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Response

from services.exports.documents import DOCX, circular_export
from services.http import schemas as s
from services.http.common import (
    BASE,
    BEARER,
    BUSY,
    IDEMPOTENCY_KEY,
    DuchaBlueprint,
    access,
    actor,
    caller,
    platform,
    subtree_codes,
    users,
)
from services.http.errors import ErrorSchema

# -- read side ----------------------------------------------------------------------
reads = DuchaBlueprint("reads", "reads", url_prefix=BASE, description="Roll-ups, audit, public")


@reads.route("/offices/<code>/rollup")
@reads.arguments(s.AsOf, location="query")
@reads.response(200, s.Rollup)
@reads.doc(security=BEARER)
@reads.alt_response(429, schema=ErrorSchema, description=BUSY)
def rollup(args: dict[str, Any], code: str) -> Any:
    """Counts for the office and all its descendants: each matter once (with its record
    nearest to the office), every record, and each child office's subtree (by_office);
    with as_of, as they stood then.

    Any role, for their own office and below (admin: all)."""
    access().subtree(caller(), code)
    platform().registry.get(code)
    until: datetime | None = args["as_of"]
    if until is None:
        return platform().views.rollup(code)
    return platform().as_of(until, [code, *subtree_codes(code)]).rollup(code)


@reads.route("/offices/<code>/audit")
@reads.arguments(s.AuditQuery, location="query")
@reads.response(200, s.AuditPage)
@reads.doc(security=BEARER)
def audit(args: dict[str, Any], code: str) -> Any:
    """Every event of the office, filtered and paginated.

    Roles: supervisor, leader (their office); auditor (the subtree granted)."""
    access().audit(caller(), code)  # passing it means the office exists
    item = args.get("item")
    found = platform().views.audit(
        code,
        record_id=str(item) if item else None,
        start=args.get("from_"),
        end=args.get("to"),
        actor=args.get("actor"),
        type_=args.get("type"),
        page=args["page"],
        per_page=args["per_page"],
    )
    page = found.to_dict()
    page["items"] = users().audit_rows(page["items"])
    return page


@reads.route("/offices/<code>/circulars", methods=["POST"])
@reads.arguments(s.CircularIn)
@reads.arguments(s.NoQuery, location="query")
@reads.response(201, s.CircularIssued)
@reads.doc(security=BEARER, parameters=[IDEMPOTENCY_KEY])
def issue_circular(data: dict[str, Any], _query: dict[str, Any], code: str) -> Any:
    """Issue a circular (通报) naming the units commended and criticised. Roles: leader."""
    user = caller()
    access().command(user, code, "issue-circular")
    issued = platform().supervision.issue_circular(
        actor(user),
        code,
        data["title"],
        data["scope"],
        data["text"],
        data["commend"],
        data["criticise"],
    )
    return issued, 201


@reads.route("/offices/<code>/circular")
@reads.arguments(s.NoQuery, location="query")
@reads.response(200, s.Circular)
@reads.doc(security=BEARER)
def circular(_query: dict[str, Any], code: str) -> Any:
    """The office's subordinates ranked by their matters' on-time rate (on-time completions
    ÷ matters due), then fewer overdue, then name; those with nothing due last, unranked.
    The rule comes with the ranking (rule).

    Any role, for their own office and below (admin: all)."""
    access().subtree(caller(), code)
    platform().registry.get(code)
    return platform().views.circular(code)


@reads.route("/offices/<code>/circulars/<circular_id>.docx")
@reads.arguments(s.NoQuery, location="query")
@reads.doc(
    security=BEARER,
    responses={
        "200": {
            "description": "通报 as issued (Word, GB/T 9704)",
            "content": {DOCX: {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
def circular_docx(_query: dict[str, Any], code: str, circular_id: str) -> Any:
    """A circular (通报) the office issued, as a Word document: its title, scope, text,
    the units commended and criticised, the office and the day.

    Any role, for their own office and below (admin: all)."""
    access().subtree(caller(), code)
    export = circular_export(platform(), code, circular_id)
    return Response(
        export.content,
        mimetype=export.media_type,
        headers={"Content-Disposition": export.disposition()},
    )
