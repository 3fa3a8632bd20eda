"""``create_app``: the Flask application of the HTTP API (``/api/v1``).

Views only translate: authenticate, check access (``auth.Access``), validate (``schemas``),
call the services or the read models, and shape the answer. Every error goes through
``errors.from_exception`` so that it has one JSON shape and never a stack trace.
"""

from __future__ import annotations

import logging
import os
from datetime import datetime
from typing import Any
from uuid import UUID, uuid5

from flask import Flask, Response, g, request, send_from_directory
from flask_smorest import Api, Blueprint
from swagger_ui_bundle import swagger_ui_path
from webargs.flaskparser import FlaskParser
from werkzeug.exceptions import HTTPException

from domain.lights import light
from domain.policy import roles_for
from domain.values import Actor, business_date
from services.actions import domain_params, registration_warnings
from services.bootstrap import Platform
from services.errors import NotFoundError
from services.http import schemas as s
from services.http.auth import Access, authenticate
from services.http.errors import ApiError, ErrorSchema, from_exception, respond
from services.http.guard import check_request
from services.http.idempotency import (
    LEASE_SECONDS,
    MAX_KEY,
    Claim,
    IdempotencyKeys,
    fingerprint,
)
from services.inputs import china_time
from services.supervision import ACTIONS, NewItem
from services.users import UserDirectory, UserView
from services.views import CaseView, paginate

log = logging.getLogger(__name__)

BASE = "/api/v1"
BEARER: list[dict[str, list[str]]] = [{"bearer": []}]
IF_MATCH = {
    "in": "header",
    "name": "If-Match",
    "required": True,
    "schema": {"type": "string"},
    "description": "The item's ETag as last read (missing: 428; stale: 412)",
}
IDEMPOTENCY_KEY = {
    "in": "header",
    "name": "Idempotency-Key",
    "required": False,
    "schema": {"type": "string", "maxLength": MAX_KEY},
    "description": "A retry with the same key and body returns the first response",
}
MAX_BODY_BYTES = 1_000_000
MAX_VERSION_DIGITS = 18
ETAG_HEADER = {"ETag": {"schema": {"type": "string"}, "description": "The item's version"}}


class DuchaApi(Api):  # type: ignore[misc]
    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error: HTTPException) -> Response:
        return from_exception(error)


class StrictQueryParser(FlaskParser):
    """Unknown query parameters are refused like unknown body fields (the schema decides)."""

    DEFAULT_UNKNOWN_BY_LOCATION: dict[str, str | None] = {  # noqa: RUF012 - as webargs declares it
        **FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION,
        "query": None,
        "querystring": None,
    }


class DuchaBlueprint(Blueprint):  # type: ignore[misc]
    ARGUMENTS_PARSER = StrictQueryParser()


def etag(version: int) -> str:
    return f'"{version}"'


def create_app(platform: Platform, users: UserDirectory | None = None) -> Flask:
    app = Flask("ducha")
    app.config.update(
        API_TITLE="Ducha 督查 API",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX=BASE,
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL=f"{BASE}/docs/assets/",
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
    )
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]
    api = DuchaApi(
        app,
        spec_kwargs={
            "components": {
                "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            }
        },
    )
    users = users or UserDirectory(platform.registry, platform.clock)
    access = Access(platform.registry)
    keys = IdempotencyKeys(
        platform.read, float(os.environ.get("DUCHA_IDEMPOTENCY_LEASE_SECONDS", LEASE_SECONDS))
    )
    app.register_error_handler(Exception, from_exception)
    app.register_error_handler(HTTPException, from_exception)

    @app.get(f"{BASE}/docs/assets/<path:name>")
    def swagger_assets(name: str) -> Response:
        """Swagger UI's files, served from the package: the docs page needs no internet."""
        return send_from_directory(str(swagger_ui_path), name)

    @app.before_request
    def refuse_unstorable_input() -> None:
        """First of all: nothing a store could not hold goes further (422 naming the field)."""
        check_request(request)

    # -- idempotency ----------------------------------------------------------------------
    @app.before_request
    def replay_if_repeated() -> Response | None:
        key = request.headers.get("Idempotency-Key")
        if request.method != "POST" or key is None:
            return None
        if not key.strip() or len(key) > MAX_KEY:
            return respond(
                422, "invalid Idempotency-Key", {"Idempotency-Key": [f"1 to {MAX_KEY} characters"]}
            )
        try:
            user = authenticate(users)
        except ApiError as e:
            return respond(e.status, e.message)
        print_ = fingerprint(request.method, request.path, request.get_data())
        stored = keys.claim(user.id, key, print_)
        if isinstance(stored, Claim):
            g.idempotency = (user.id, key)
            g.resumed = stored.resumed_from is not None
            return None
        if stored.fingerprint != print_:
            return respond(
                422,
                "this Idempotency-Key was used with a different request",
                {"Idempotency-Key": ["already used with another body or path"]},
                code="idempotency_key_reused",
            )
        if stored.status == 0:
            return respond(409, "the first request with this Idempotency-Key is still running")
        replay = Response(stored.body, status=stored.status, headers=stored.headers)
        replay.headers["Idempotent-Replayed"] = "true"
        return replay

    @app.after_request
    def remember_response(response: Response) -> Response:
        claimed: tuple[str, str] | None = g.pop("idempotency", None)
        if claimed:
            user_id, key = claimed
            if response.status_code >= 500:
                keys.release(user_id, key)
            else:
                keys.store(user_id, key, response)
        return response

    @app.teardown_request
    def free_key(error: BaseException | None) -> None:
        claimed: tuple[str, str] | None = g.pop("idempotency", None)
        if claimed:
            keys.release(*claimed)

    # -- helpers ------------------------------------------------------------------------
    def caller() -> UserView:
        return authenticate(users)

    def actor(user: UserView) -> Actor:
        return Actor(user.id, user.office, user.role)

    def subtree_codes(code: str) -> list[str]:
        return [o.code for o in platform.registry.descendants(code)]

    def recorded_by(user: UserView, code: str, item_id: str, version: int) -> bool:
        """Whether ``version`` of the record exists and was recorded by ``user``: with the
        If-Match of a retried request, only that request's first attempt can have done it."""
        history = platform.supervision.history(code, item_id)
        return any(e.version == version and e.actor["user_id"] == user.id for e in history)

    def shown(case: CaseView, until: datetime | None = None) -> dict[str, Any]:
        """The record as the API returns it: the view plus its light on that day."""
        out = case.to_dict()
        for moment in ("registered_at", "modified_at"):
            out[moment] = china_time(out[moment])
        today = business_date(until or platform.clock())
        out["light"] = light(case.status, case.deadline, today, platform.calendar)
        out["deadline_note"] = platform.calendar.deadline_note(
            case.issued_on, case.deadline, case.deadline_provisional
        )
        return out

    # -- health -------------------------------------------------------------------------
    health = DuchaBlueprint("health", "health", description="Liveness of the stores")

    @health.route("/healthz")
    @health.arguments(s.NoQuery, location="query")
    @health.response(200, s.Health)
    @health.alt_response(503, schema=ErrorSchema)
    def healthz(_query: dict[str, Any]) -> Any:
        """Whether the stores answer (200) or not (503). No token needed."""
        try:
            platform.registry.refresh()
            platform.read.all("SELECT 1 AS ok")
        except Exception as e:  # any failure of a store is "not healthy"
            log.warning("health check failed: %s", e)
            return respond(503, "a store does not answer")
        return {"status": "ok"}

    # -- offices ------------------------------------------------------------------------
    offices = DuchaBlueprint("offices", "offices", url_prefix=BASE, description="Offices (机关)")

    @offices.route("/offices", methods=["POST"])
    @offices.arguments(s.OfficeIn)
    @offices.arguments(s.NoQuery, location="query")
    @offices.response(201, s.OfficeOut)
    @offices.doc(security=BEARER, parameters=[IDEMPOTENCY_KEY])
    def register_office(data: dict[str, Any], _query: dict[str, Any]) -> Any:
        """Register an office under an active parent; its event store is provisioned.

        Roles: admin."""
        user = caller()
        access.admin(user)
        office = platform.registry.register(
            actor(user), data["code"], data["name"], data["level"], data["parent"]
        )
        return office.to_dict(), 201, {"Location": f"{BASE}/offices/{office.code}"}

    @offices.route("/offices", methods=["GET"])
    @offices.arguments(s.Paging, location="query")
    @offices.response(200, s.OfficeList)
    @offices.doc(security=BEARER)
    def list_offices(args: dict[str, Any]) -> Any:
        """The offices the user may see: their own, its superiors and its subordinates (an
        admin: every office), top-down. Any role."""
        user = caller()
        shown = [o for o in platform.registry.all() if access.visible(user, o.code)]
        return paginate(shown, args["page"], args["per_page"]).to_dict()

    @offices.route("/offices/<code>/policy", methods=["PUT"])
    @offices.arguments(s.PolicyIn)
    @offices.arguments(s.NoQuery, location="query")
    @offices.response(200, s.OfficeOut)
    @offices.doc(security=BEARER)
    def set_policy(data: dict[str, Any], _query: dict[str, Any], code: str) -> Any:
        """How the deadline engine treats the office's overdue records: escalate or not, and
        after how many working days. Roles: admin."""
        user = caller()
        access.admin(user, "set-deadline-policy")
        office = platform.registry.set_deadline_policy(
            actor(user), code, data["escalate"], data["grace_working_days"]
        )
        return office.to_dict()

    @offices.route("/offices/<code>/users", methods=["GET"])
    @offices.arguments(s.Paging, location="query")
    @offices.response(200, s.UserList)
    @offices.doc(security=BEARER)
    def office_users(args: dict[str, Any], code: str) -> Any:
        """The office's users (tokens are never shown). Roles: admin."""
        user = caller()
        access.admin(user, "manage-users")
        platform.registry.get(code)
        found = [u.to_dict() for u in users.list(code)]
        return paginate(found, args["page"], args["per_page"]).to_dict()

    @offices.route("/offices/<code>/users", methods=["POST"])
    @offices.arguments(s.UserIn)
    @offices.arguments(s.NoQuery, location="query")
    @offices.response(201, s.UserCreated)
    @offices.doc(security=BEARER, parameters=[IDEMPOTENCY_KEY])
    def add_user(data: dict[str, Any], _query: dict[str, Any], code: str) -> Any:
        """A new user of the office; the answer carries the token, this once. Roles: admin."""
        user = caller()
        access.admin(user, "manage-users")
        platform.registry.get(code)
        added, token = users.add(actor(user), code, data["role"], data["name"])
        return {**added.to_dict(), "token": token}, 201

    @offices.route("/users/<user_id>/revoke", methods=["POST"])
    @offices.arguments(s.Reason)
    @offices.arguments(s.NoQuery, location="query")
    @offices.response(200, s.UserOut)
    @offices.doc(security=BEARER)
    def revoke_user(data: dict[str, Any], _query: dict[str, Any], user_id: str) -> Any:
        """Revoke a user: their token is refused from the next request on. Roles: admin."""
        user = caller()
        access.admin(user, "manage-users")
        return users.revoke(actor(user), user_id, data["reason"]).to_dict()

    @offices.route("/offices/<code>")
    @offices.arguments(s.NoQuery, location="query")
    @offices.response(200, s.OfficeOut)
    @offices.doc(security=BEARER)
    def get_office(_query: dict[str, Any], code: str) -> Any:
        """An office's record.

        Any role, for their own office, its superiors and its subordinates (admin: all)."""
        access.office(caller(), code)
        return platform.registry.get(code).to_dict()

    @offices.route("/offices/<code>/children")
    @offices.arguments(s.Paging, location="query")
    @offices.response(200, s.OfficeList)
    @offices.doc(security=BEARER)
    def office_children(args: dict[str, Any], code: str) -> Any:
        """The office's direct subordinates, paginated.

        Any role, for their own office and below (admin: all)."""
        access.subtree(caller(), code)
        children = platform.registry.children(code)
        return paginate(children, args["page"], args["per_page"]).to_dict()

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
        it twice."""
        user = caller()
        access.command(user, code, "register")
        item_id = idempotent_id(user.id, g.idempotency[1]) if "idempotency" in g else None
        supervision = platform.supervision
        replayed = item_id is not None and supervision.exists(code, item_id)
        if item_id is not None and replayed:
            case = supervision.get(code, str(item_id))
        else:
            case = supervision.register_item(actor(user), code, NewItem(**data), item_id)
        headers = {"Location": f"{BASE}/offices/{code}/items/{case.id}", "ETag": etag(case.version)}
        if replayed:
            headers["Idempotent-Replayed"] = "true"
        today = business_date(platform.clock())
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
        """The office's items and tasks, filtered and paginated, with their lights.

        Any role of the office; an auditor across the subtree granted."""
        access.items(caller(), code)  # passing it means the office exists
        found = platform.views.items(
            code,
            status=args.get("status"),
            light_=args.get("light"),
            source_kind=args.get("source_kind"),
            kind=args.get("kind"),
            importance=args.get("importance"),
            urgency=args.get("urgency"),
            assignee=args.get("assignee"),
            text=args.get("text"),
            page=args["page"],
            per_page=args["per_page"],
        )
        return found.to_dict()

    @items.route("/offices/<code>/items/<item_id>", methods=["GET"])
    @items.arguments(s.AsOf, location="query")
    @items.response(200, s.ItemOut, headers=ETAG_HEADER)
    @items.doc(security=BEARER)
    def get_item(args: dict[str, Any], code: str, item_id: str) -> Any:
        """One item or task with its ETag; with as_of, as it stood then.

        Any role of the office; an auditor across the subtree granted."""
        access.items(caller(), code)
        until: datetime | None = args["as_of"]
        supervision = platform.supervision
        case = (
            supervision.get(code, item_id)
            if until is None
            else supervision.get_as_of(code, item_id, until)
        )
        return shown(case, until), 200, {"ETag": etag(case.version)}

    @items.route("/offices/<code>/items/<item_id>/history")
    @items.arguments(s.Paging, location="query")
    @items.response(200, s.History)
    @items.doc(security=BEARER)
    def item_history(args: dict[str, Any], code: str, item_id: str) -> Any:
        """The record's events, oldest first (per_page defaults to 50, at most 500).

        Any role of the office; an auditor across the subtree granted."""
        access.items(caller(), code)
        events = [
            {**e.to_dict(), "time": china_time(e.time)}
            for e in platform.supervision.history(code, item_id)
        ]
        return paginate(events, args["page"], args["per_page"]).to_dict()

    @items.route("/offices/<code>/items/<item_id>/tree")
    @items.arguments(s.AsOf, location="query")
    @items.response(200, s.TreeNode)
    @items.doc(security=BEARER)
    def item_tree(args: dict[str, Any], code: str, item_id: str) -> Any:
        """The responsibility tree below this item or task, across offices; with as_of, as it
        stood then.

        Any role of the office."""
        access.items(caller(), code)
        platform.supervision.get(code, item_id)  # 404 if there is no such record
        views = platform.views
        until: datetime | None = args["as_of"]
        found = views.item(code, item_id)
        if until is not None and found is not None:
            top = found["root"]["office"]
            views = platform.as_of(until, [top, *subtree_codes(top)])
        whole = views.tree(code, item_id)
        node = find_node(whole, code, item_id) if whole else None
        if node is None:
            raise NotFoundError(f"no item '{item_id}' in office '{code}'")
        return node

    def action_view(action: str) -> Any:
        def act(data: dict[str, Any], _query: dict[str, Any], code: str, item_id: str) -> Any:
            user = caller()
            access.command(user, code, action)
            expected = if_match()
            if g.get("resumed") and recorded_by(user, code, item_id, expected + 1):
                case = platform.supervision.get(code, item_id)  # the crashed attempt's outcome
                return shown(case), 200, {"ETag": etag(case.version), "Idempotent-Replayed": "true"}
            case = platform.supervision.act(
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

    # -- read side ----------------------------------------------------------------------
    reads = DuchaBlueprint("reads", "reads", url_prefix=BASE, description="Roll-ups, audit, public")

    @reads.route("/offices/<code>/rollup")
    @reads.arguments(s.AsOf, location="query")
    @reads.response(200, s.Rollup)
    @reads.doc(security=BEARER)
    def rollup(args: dict[str, Any], code: str) -> Any:
        """Counts for the office and all its descendants; with as_of, as they stood then.

        Any role, for their own office and below (admin: all)."""
        access.subtree(caller(), code)
        platform.registry.get(code)
        until: datetime | None = args["as_of"]
        if until is None:
            return platform.views.rollup(code)
        return platform.as_of(until, [code, *subtree_codes(code)]).rollup(code)

    @reads.route("/offices/<code>/audit")
    @reads.arguments(s.AuditQuery, location="query")
    @reads.response(200, s.AuditPage)
    @reads.doc(security=BEARER)
    def audit(args: dict[str, Any], code: str) -> Any:
        """Every event of the office, filtered and paginated.

        Roles: supervisor, leader (their office); auditor (the subtree granted)."""
        access.audit(caller(), code)  # passing it means the office exists
        item = args.get("item")
        found = platform.views.audit(
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
        page["items"] = [{**row, "time": china_time(row["time"])} for row in page["items"]]
        return page

    @reads.route("/offices/<code>/circulars", methods=["POST"])
    @reads.arguments(s.CircularIn)
    @reads.arguments(s.NoQuery, location="query")
    @reads.response(201, s.CircularIssued)
    @reads.doc(security=BEARER, parameters=[IDEMPOTENCY_KEY])
    def issue_circular(data: dict[str, Any], _query: dict[str, Any], code: str) -> Any:
        """Issue a circular (通报) naming the units commended and criticised. Roles: leader."""
        user = caller()
        access.command(user, code, "issue-circular")
        issued = platform.supervision.issue_circular(
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
        """The office's subordinates ranked by on-time rate, commended, under rectification.

        Any role, for their own office and below (admin: all)."""
        access.subtree(caller(), code)
        platform.registry.get(code)
        return platform.views.circular(code)

    @reads.route("/public/items")
    @reads.arguments(s.Paging, location="query")
    @reads.response(200, s.PublicPage)
    def public_items(args: dict[str, Any]) -> Any:
        """Published items with their progress, nothing else. No token needed."""
        return platform.views.public(args["page"], args["per_page"]).to_dict()

    for blueprint in (health, offices, items, reads):
        api.register_blueprint(blueprint)
    return app


IDEMPOTENT_IDS = UUID("5b0d4a52-0b7e-4c41-9d6a-8f2f3c1e7a10")


def idempotent_id(user_id: str, key: str) -> UUID:
    """The id of an item registered with an ``Idempotency-Key``: the same for every retry."""
    return uuid5(IDEMPOTENT_IDS, f"{user_id}\n{key}")


def if_match() -> int:
    header = request.headers.get("If-Match")
    if header is None or not header.strip():
        raise ApiError(428, "send If-Match with the item's ETag (read it first)")
    value = header.strip().removeprefix("W/").strip('"')
    if not (value.isascii() and value.isdigit() and len(value) <= MAX_VERSION_DIGITS):
        raise ApiError(
            412,
            "If-Match does not match the item's ETag; read it again",
            {"If-Match": ['an ETag as the API sends it: "N", N in ASCII digits']},
        )
    return int(value)


def find_node(node: dict[str, Any], office: str, item_id: str) -> dict[str, Any] | None:
    if node["office"] == office and node["id"] == item_id:
        return node
    for child in node["children"]:
        found = find_node(child, office, item_id)
        if found:
            return found
    return None
