"""``create_app``: the Flask application of the HTTP API (``/api/v1``).

Views only translate: authenticate, check access (``auth.Access``), validate (``schemas``),
call the services or the read models, and shape the answer. Every error goes through
``errors.from_exception`` so that it has one JSON shape and never a stack trace.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from flask import Flask, Response, g, request, send_from_directory
from flask_smorest import Api, Blueprint
from swagger_ui_bundle import swagger_ui_path
from werkzeug.exceptions import HTTPException

from domain.lights import light
from domain.values import Actor, business_date
from services.actions import domain_params
from services.bootstrap import Platform
from services.errors import NotFoundError
from services.http import schemas as s
from services.http.auth import Access, authenticate
from services.http.errors import ApiError, ErrorSchema, from_exception, respond
from services.http.idempotency import MAX_KEY, IdempotencyKeys, fingerprint
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
ETAG_HEADER = {"ETag": {"schema": {"type": "string"}, "description": "The item's version"}}


class DuchaApi(Api):  # type: ignore[misc]
    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error: HTTPException) -> Response:
        return from_exception(error)


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
        MAX_CONTENT_LENGTH=1_000_000,
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
    keys = IdempotencyKeys(platform.read)
    app.register_error_handler(Exception, from_exception)
    app.register_error_handler(HTTPException, from_exception)

    @app.get(f"{BASE}/docs/assets/<path:name>")
    def swagger_assets(name: str) -> Response:
        """Swagger UI's files, served from the package: the docs page needs no internet."""
        return send_from_directory(str(swagger_ui_path), name)

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
        if stored is None:
            g.idempotency = (user.id, key)
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

    def shown(case: CaseView, until: datetime | None = None) -> dict[str, Any]:
        """The record as the API returns it: the view plus its light on that day."""
        out = case.to_dict()
        today = business_date(until or platform.clock())
        out["light"] = light(case.status, case.deadline, today, platform.calendar)
        return out

    # -- health -------------------------------------------------------------------------
    health = Blueprint("health", "health", description="Liveness of the stores")

    @health.route("/healthz")
    @health.response(200, s.Health)
    @health.alt_response(503, schema=ErrorSchema)
    def healthz() -> Any:
        try:
            platform.registry.refresh()
            platform.read.all("SELECT 1 AS ok")
        except Exception as e:  # any failure of a store is "not healthy"
            log.warning("health check failed: %s", e)
            return respond(503, "a store does not answer")
        return {"status": "ok"}

    # -- offices ------------------------------------------------------------------------
    offices = Blueprint("offices", "offices", url_prefix=BASE, description="Offices (机关)")

    @offices.route("/offices", methods=["POST"])
    @offices.arguments(s.OfficeIn)
    @offices.response(201, s.OfficeOut)
    @offices.doc(security=BEARER, parameters=[IDEMPOTENCY_KEY])
    def register_office(data: dict[str, Any]) -> Any:
        user = caller()
        access.admin(user)
        office = platform.registry.register(
            actor(user), data["code"], data["name"], data["level"], data["parent"]
        )
        return office.to_dict(), 201, {"Location": f"{BASE}/offices/{office.code}"}

    @offices.route("/offices/<code>")
    @offices.response(200, s.OfficeOut)
    @offices.doc(security=BEARER)
    def get_office(code: str) -> Any:
        access.office(caller(), code)
        return platform.registry.get(code).to_dict()

    @offices.route("/offices/<code>/children")
    @offices.arguments(s.Paging, location="query")
    @offices.response(200, s.OfficeList)
    @offices.doc(security=BEARER)
    def office_children(args: dict[str, Any], code: str) -> Any:
        access.subtree(caller(), code)
        children = platform.registry.children(code)
        return paginate(children, args["page"], args["per_page"]).to_dict()

    # -- items --------------------------------------------------------------------------
    items = Blueprint("items", "items", url_prefix=BASE, description="Items and tasks")

    @items.route("/offices/<code>/items", methods=["POST"])
    @items.arguments(s.ItemIn)
    @items.response(201, s.ItemOut, headers=ETAG_HEADER)
    @items.doc(security=BEARER, parameters=[IDEMPOTENCY_KEY])
    def register_item(data: dict[str, Any], code: str) -> Any:
        user = caller()
        access.command(user, code, "register")
        case = platform.supervision.register_item(actor(user), code, NewItem(**data))
        return (
            shown(case),
            201,
            {"Location": f"{BASE}/offices/{code}/items/{case.id}", "ETag": etag(case.version)},
        )

    @items.route("/offices/<code>/items", methods=["GET"])
    @items.arguments(s.ItemQuery, location="query")
    @items.response(200, s.ItemPage)
    @items.doc(security=BEARER)
    def list_items(args: dict[str, Any], code: str) -> Any:
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
        """Its events, oldest first (``per_page`` defaults to 50, at most 500)."""
        access.items(caller(), code)
        events = platform.supervision.history(code, item_id)
        return paginate(events, args["page"], args["per_page"]).to_dict()

    @items.route("/offices/<code>/items/<item_id>/tree")
    @items.response(200, s.TreeNode)
    @items.doc(security=BEARER)
    def item_tree(code: str, item_id: str) -> Any:
        """The responsibility tree below this item or task, across offices."""
        access.items(caller(), code)
        platform.supervision.get(code, item_id)  # 404 if there is no such record
        whole = platform.views.tree(code, item_id)
        node = find_node(whole, code, item_id) if whole else None
        if node is None:
            raise NotFoundError(f"no item '{item_id}' in office '{code}'")
        return node

    def action_view(action: str) -> Any:
        def act(data: dict[str, Any], code: str, item_id: str) -> Any:
            user = caller()
            access.command(user, code, action)
            expected = if_match()
            case = platform.supervision.act(
                actor(user), code, item_id, action, expected, **domain_params(action, data)
            )
            return shown(case), 200, {"ETag": etag(case.version)}

        act.__name__ = f"act_{action.replace('-', '_')}"
        act.__doc__ = f"``{action}`` (If-Match required)."
        return act

    for action in ACTIONS:
        view = action_view(action)
        view = items.doc(security=BEARER, parameters=[IF_MATCH, IDEMPOTENCY_KEY])(view)
        view = items.response(200, s.ItemOut, headers=ETAG_HEADER)(view)
        view = items.arguments(s.ACTION_BODIES[action])(view)
        items.route(f"/offices/<code>/items/<item_id>/{action}", methods=["POST"])(view)

    # -- read side ----------------------------------------------------------------------
    reads = Blueprint("reads", "reads", url_prefix=BASE, description="Roll-ups, audit, public")

    @reads.route("/offices/<code>/rollup")
    @reads.arguments(s.AsOf, location="query")
    @reads.response(200, s.Rollup)
    @reads.doc(security=BEARER)
    def rollup(args: dict[str, Any], code: str) -> Any:
        access.subtree(caller(), code)
        platform.registry.get(code)
        until: datetime | None = args["as_of"]
        if until is None:
            return platform.views.rollup(code)
        offices = [code, *[o.code for o in platform.registry.descendants(code)]]
        return platform.as_of(until, offices).rollup(code)

    @reads.route("/offices/<code>/audit")
    @reads.arguments(s.AuditQuery, location="query")
    @reads.response(200, s.AuditPage)
    @reads.doc(security=BEARER)
    def audit(args: dict[str, Any], code: str) -> Any:
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
        return found.to_dict()

    @reads.route("/offices/<code>/circular")
    @reads.response(200, s.Circular)
    @reads.doc(security=BEARER)
    def circular(code: str) -> Any:
        access.subtree(caller(), code)
        platform.registry.get(code)
        return platform.views.circular(code)

    @reads.route("/public/items")
    @reads.arguments(s.Paging, location="query")
    @reads.response(200, s.PublicPage)
    def public_items(args: dict[str, Any]) -> Any:
        """Published items with their progress, nothing else (no token needed)."""
        return platform.views.public(args["page"], args["per_page"]).to_dict()

    for blueprint in (health, offices, items, reads):
        api.register_blueprint(blueprint)
    return app


def if_match() -> int:
    header = request.headers.get("If-Match")
    if header is None or not header.strip():
        raise ApiError(428, "send If-Match with the item's ETag (read it first)")
    value = header.strip()
    value = value.removeprefix("W/").strip('"')
    if not value.isdigit():
        raise ApiError(412, "If-Match does not match the item's ETag; read it again")
    return int(value)


def find_node(node: dict[str, Any], office: str, item_id: str) -> dict[str, Any] | None:
    if node["office"] == office and node["id"] == item_id:
        return node
    for child in node["children"]:
        found = find_node(child, office, item_id)
        if found:
            return found
    return None
