"""``create_app``: the Flask application of the HTTP API (``/api/v1``). May import: Flask,
flask-smorest, werkzeug, ``swagger_ui_bundle``, ``services.bootstrap`` (the platform),
``services.users`` and the API's own modules.

The factory wires one platform into one app: configuration, the OpenAPI document and its
offline docs page, error handling (``errors.from_exception``: one JSON shape, never a stack
trace), the checks every request passes first (``guard``: input no store could hold;
``idempotency``: keys and their leases), ``/metrics`` and the request log (``metrics``), and
the blueprints, one per area: ``offices``, ``items``, ``readside``, ``public``, and (outside
the OpenAPI document: C2SP's formats) ``log``. The views live there and only translate. The people's
screens (``services.web``) join the same app.
"""

from __future__ import annotations

import logging
import os

from flask import Flask, Response, g, request, send_from_directory
from flask_smorest import Api
from swagger_ui_bundle import swagger_ui_path
from werkzeug.exceptions import HTTPException

from services.bootstrap import Platform
from services.http.admin import admin
from services.http.auth import Access, authenticate
from services.http.common import BASE, MAX_BODY_BYTES, ApiContext, context
from services.http.errors import ApiError, ErrorSchema, from_exception, respond
from services.http.guard import check_request
from services.http.idempotency import (
    LEASE_SECONDS,
    MAX_KEY,
    Claim,
    IdempotencyKeys,
    fingerprint,
)
from services.http.items import items
from services.http.log import keep_witness_body, log_routes
from services.http.metrics import observe
from services.http.offices import offices
from services.http.proxy import behind_proxies, trusted_proxies
from services.http.public import health, public
from services.http.readside import reads
from services.signin import SignIn
from services.users import UserDirectory
from services.web import init_web

log = logging.getLogger(__name__)


class DuchaApi(Api):  # type: ignore[misc]
    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error: HTTPException) -> Response:
        return from_exception(error)


CONFIG = {
    "API_TITLE": "Ducha 督查 API",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": BASE,
    "OPENAPI_JSON_PATH": "openapi.json",
    "OPENAPI_SWAGGER_UI_PATH": "docs",
    "OPENAPI_SWAGGER_UI_URL": f"{BASE}/docs/assets/",
    "MAX_CONTENT_LENGTH": MAX_BODY_BYTES,
}
SPEC = {"components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}}}


def create_app(platform: Platform, users: UserDirectory | None = None) -> Flask:
    """The API over ``platform``; ``users`` defaults to the platform's own directory."""
    app = Flask("ducha")
    app.wsgi_app = behind_proxies(app.wsgi_app, trusted_proxies())  # type: ignore[method-assign]
    app.config.update(CONFIG)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]
    api = DuchaApi(app, spec_kwargs=SPEC)
    lease = float(os.environ.get("DUCHA_IDEMPOTENCY_LEASE_SECONDS", LEASE_SECONDS))
    directory = users or UserDirectory(platform.registry, platform.clock)
    app.extensions["ducha"] = ApiContext(
        platform,
        directory,
        Access(platform.registry),
        IdempotencyKeys(platform.read, lease),
        SignIn(directory, platform.read, platform.clock),
    )
    app.register_error_handler(Exception, from_exception)
    app.register_error_handler(HTTPException, from_exception)
    app.add_url_rule(f"{BASE}/docs/assets/<path:name>", view_func=swagger_assets)
    observe(app)  # /metrics; each request's id, count, time and log line: first and last
    app.before_request(keep_witness_body)  # before the guard could parse it as a form
    app.before_request(refuse_unstorable_input)
    app.before_request(replay_if_repeated)
    app.after_request(remember_response)
    app.teardown_request(free_key)
    for blueprint in (health, public, offices, items, reads, admin):
        api.register_blueprint(blueprint)
    app.register_blueprint(log_routes)  # the ledger's own formats, outside the OpenAPI document
    init_web(app, context_of(app))
    return app


def context_of(app: Flask) -> ApiContext:
    found: ApiContext = app.extensions["ducha"]
    return found


def swagger_assets(name: str) -> Response:
    """Swagger UI's files, served from the package: the docs page needs no internet."""
    return send_from_directory(str(swagger_ui_path), name)


def refuse_unstorable_input() -> None:
    """Nothing a store could not hold goes further (422 naming the field)."""
    check_request(request)


def replay_if_repeated() -> Response | None:
    """A POST with an ``Idempotency-Key``: claim the key, or answer what it already has."""
    key = request.headers.get("Idempotency-Key")
    if request.method != "POST" or key is None:
        return None
    if not key.strip() or len(key) > MAX_KEY:
        return respond(
            422, "invalid Idempotency-Key", {"Idempotency-Key": [f"1 to {MAX_KEY} characters"]}
        )
    try:
        user = authenticate(context().users)
    except ApiError as e:
        return respond(e.status, e.message)
    print_ = fingerprint(request.method, request.path, request.get_data())
    stored = context().keys.claim(user.id, key, print_)
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


def remember_response(response: Response) -> Response:
    """Keep the answer for the key's retries; a 5xx frees the key instead."""
    claimed: tuple[str, str] | None = g.pop("idempotency", None)
    if claimed:
        user_id, key = claimed
        if response.status_code >= 500:
            context().keys.release(user_id, key)
        else:
            context().keys.store(user_id, key, response)
    return response


def free_key(error: BaseException | None) -> None:
    """A request that ended without an answer (an exception escaped) frees its key."""
    claimed: tuple[str, str] | None = g.pop("idempotency", None)
    if claimed:
        context().keys.release(*claimed)
