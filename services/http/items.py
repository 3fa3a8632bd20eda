"""Items and tasks: register (立项), list, read, time travel, history, the tree, and the
twenty actions (each with If-Match); the ledger and a record's notice and urge slip as files.
May import: the standard library, flask, ``domain`` (policy, values), ``services`` (actions,
duplicates, errors, exports, http, inputs, supervision, views) and ``services.http`` (common,
errors).

Views only translate. Imports the services, ``services.http.common`` and the list's query
(``projections.ledger``, shared with the ledger screen); never a store."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Response, g

from domain.policy import roles_for
from domain.values import business_date
from projections.ledger import LedgerQuery, ledger
from services.actions import domain_params, registration_warnings
from services.duplicates import check_source
from services.errors import NotFoundError
from services.exports.documents import DOCX, notice_export, urge_slip_export
from services.exports.ledger import XLSX, Export, ledger_export
from services.http import schemas as s
from services.http.common import (
    BASE,
    BEARER,
    BUSY,
    ETAG_HEADER,
    IDEMPOTENCY_KEY,
    IF_MATCH,
    DuchaBlueprint,
    access,
    actor,
    caller,
    etag,
    find_node,
    idempotent_id,
    if_match,
    platform,
    recorded_by,
    shown,
    subtree_codes,
)
from services.http.errors import ErrorSchema
from services.inputs import china_time
from services.supervision import ACTIONS, NewItem
from services.views import paginate

# -- items --------------------------------------------------------------------------
items = DuchaBlueprint("items", "items", url_prefix=BASE, description="Items and tasks")


@items.route("/offices/<code>/items", methods=["POST"])
@items.arguments(s.ItemIn)
@items.arguments(s.NoQuery, location="query")
@items.response(201, s.ItemOut, headers=ETAG_HEADER)
@items.doc(security=BEARER, parameters=[IDEMPOTENCY_KEY])
def register_item(data: dict[str, Any], _query: dict[str, Any], code: str) -> Any:
    """Register (立项) an item: its source and the five elements.

    Roles: supervisor, leader. With an Idempotency-Key the new item's id comes from the
    user and the key, so that a retry after a crash finds the item instead of registering
    it twice. A source_ref the office has registered before answers 409 duplicate_source
    with the existing items, unless allow_duplicate is true."""
    user = caller()
    access().command(user, code, "register")
    allow_duplicate = data.pop("allow_duplicate")
    item_id = idempotent_id(user.id, g.idempotency[1]) if "idempotency" in g else None
    supervision = platform().supervision
    replayed = item_id is not None and supervision.exists(code, item_id)
    if item_id is not None and replayed:
        case = supervision.get(code, str(item_id))
    else:
        way_out = "send allow_duplicate: true to register it"
        check_source(platform().read, code, data["source_ref"], allow_duplicate, way_out)
        case = supervision.register_item(actor(user), code, NewItem(**data), item_id)
    headers = {"Location": f"{BASE}/offices/{code}/items/{case.id}", "ETag": etag(case.version)}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    today = business_date(platform().clock())
    return (
        {**shown(case), "warnings": registration_warnings(case.deadline, today)},
        201,
        headers,
    )


@items.route("/offices/<code>/items", methods=["GET"])
@items.arguments(s.ItemQuery, location="query")
@items.response(200, s.ItemPage)
@items.doc(security=BEARER)
def list_items(args: dict[str, Any], code: str) -> Any:
    """The office's items and tasks, filtered, sorted and paginated, with their lights (the
    same query as the ledger screen).

    Any role of the office; an auditor across the subtree granted."""
    access().items(caller(), code)  # passing it means the office exists
    return ledger(platform().views, code, LedgerQuery.of(args)).to_dict()


@items.route("/offices/<code>/items.xlsx", methods=["GET"])
@items.arguments(s.ItemQuery, location="query")
@items.doc(
    security=BEARER,
    responses={
        "200": {
            "description": "督查台账: the matching records (every page) as an Excel workbook",
            "content": {XLSX: {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
def export_items(args: dict[str, Any], code: str) -> Any:
    """The office's ledger as an Excel workbook (督查台账), with the list's filters and sort;
    page and per_page are ignored. More than 20,000 matching records answer 422.

    Any role of the office; an auditor across the subtree granted."""
    access().items(caller(), code)
    export = ledger_export(platform(), code, LedgerQuery.of(args))
    return Response(
        export.content,
        mimetype=export.media_type,
        headers={"Content-Disposition": export.disposition()},
    )


@items.route("/offices/<code>/items/<item_id>", methods=["GET"])
@items.arguments(s.AsOf, location="query")
@items.response(200, s.ItemOut, headers=ETAG_HEADER)
@items.doc(security=BEARER)
def get_item(args: dict[str, Any], code: str, item_id: str) -> Any:
    """One item or task with its ETag; with as_of, as it stood then.

    Any role of the office; an auditor across the subtree granted."""
    access().items(caller(), code)
    until: datetime | None = args["as_of"]
    supervision = platform().supervision
    case = (
        supervision.get(code, item_id)
        if until is None
        else supervision.get_as_of(code, item_id, until)
    )
    return shown(case, until), 200, {"ETag": etag(case.version)}


def docx_response(description: str, conflict: bool = False) -> dict[str, Any]:
    """How a Word document's route is documented in the OpenAPI (binary 200)."""
    found: dict[str, Any] = {
        "200": {
            "description": description,
            "content": {DOCX: {"schema": {"type": "string", "format": "binary"}}},
        }
    }
    if conflict:
        found["409"] = {
            "description": "not_assigned: the record has not been assigned",
            "content": {"application/json": {"schema": ErrorSchema}},
        }
    return found


def attachment(export: Export) -> Response:
    return Response(
        export.content,
        mimetype=export.media_type,
        headers={"Content-Disposition": export.disposition()},
    )


@items.route("/offices/<code>/items/<item_id>/notice.docx", methods=["GET"])
@items.arguments(s.NoQuery, location="query")
@items.doc(security=BEARER, responses=docx_response("督办通知单 (Word, GB/T 9704)", True))
def item_notice(_query: dict[str, Any], code: str, item_id: str) -> Any:
    """The record's assignment notice (督办通知单) as a Word document, to its assignees; a
    record not assigned answers 409 not_assigned.

    Any role of the office; an auditor across the subtree granted."""
    access().items(caller(), code)
    return attachment(notice_export(platform(), code, item_id))


@items.route("/offices/<code>/items/<item_id>/urge-slip.docx", methods=["GET"])
@items.arguments(s.NoQuery, location="query")
@items.doc(security=BEARER, responses=docx_response("催办单 (Word, GB/T 9704)"))
def item_urge_slip(_query: dict[str, Any], code: str, item_id: str) -> Any:
    """The record's urging slip (催办单) as a Word document: its deadline, the working days
    left or overdue, the urges so far and the requirement.

    Any role of the office; an auditor across the subtree granted."""
    access().items(caller(), code)
    return attachment(urge_slip_export(platform(), code, item_id))


@items.route("/offices/<code>/items/<item_id>/history")
@items.arguments(s.Paging, location="query")
@items.response(200, s.History)
@items.doc(security=BEARER)
def item_history(args: dict[str, Any], code: str, item_id: str) -> Any:
    """The record's events, oldest first (per_page defaults to 50, at most 500).

    Any role of the office; an auditor across the subtree granted."""
    access().items(caller(), code)
    events = [
        {**e.to_dict(), "time": china_time(e.time)}
        for e in platform().supervision.history(code, item_id)
    ]
    return paginate(events, args["page"], args["per_page"]).to_dict()


@items.route("/offices/<code>/items/<item_id>/tree")
@items.arguments(s.AsOf, location="query")
@items.response(200, s.TreeNode)
@items.doc(security=BEARER)
@items.alt_response(429, schema=ErrorSchema, description=BUSY)
def item_tree(args: dict[str, Any], code: str, item_id: str) -> Any:
    """The responsibility tree below this item or task, across offices; with as_of, as it
    stood then.

    Any role of the office."""
    access().items(caller(), code)
    platform().supervision.get(code, item_id)  # 404 if there is no such record
    views = platform().views
    until: datetime | None = args["as_of"]
    found = views.item(code, item_id)
    if until is not None and found is not None:
        top = found["root"]["office"]
        views = platform().as_of(until, [top, *subtree_codes(top)])
    whole = views.tree(code, item_id)
    node = find_node(whole, code, item_id) if whole else None
    if node is None:
        raise NotFoundError(f"no item '{item_id}' in office '{code}'")
    return node


def action_view(action: str) -> Any:
    def act(data: dict[str, Any], _query: dict[str, Any], code: str, item_id: str) -> Any:
        user = caller()
        access().command(user, code, action)
        expected = if_match()
        if g.get("resumed") and recorded_by(user, code, item_id, expected + 1):
            case = platform().supervision.get(code, item_id)  # the crashed attempt's outcome
            return shown(case), 200, {"ETag": etag(case.version), "Idempotent-Replayed": "true"}
        case = platform().supervision.act(
            actor(user), code, item_id, action, expected, **domain_params(action, data)
        )
        return shown(case), 200, {"ETag": etag(case.version)}

    act.__name__ = f"act_{action.replace('-', '_')}"
    act.__doc__ = (
        f"{action.replace('-', ' ').capitalize()} (If-Match required).\n\n"
        f"Roles: {', '.join(roles_for(action))}, in their own office."
    )
    return act


for action in ACTIONS:
    view = action_view(action)
    view = items.doc(security=BEARER, parameters=[IF_MATCH, IDEMPOTENCY_KEY])(view)
    view = items.response(200, s.ItemOut, headers=ETAG_HEADER)(view)
    view = items.arguments(s.NoQuery, location="query")(view)
    view = items.arguments(s.ACTION_BODIES[action])(view)
    items.route(f"/offices/<code>/items/<item_id>/{action}", methods=["POST"])(view)
