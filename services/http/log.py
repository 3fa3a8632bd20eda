"""The verifiable ledger over HTTP: each office's log as C2SP tlog-tiles (checkpoint, tiles,
entry bundles), proof bundles (C2SP tlog-proof), consistency proofs, and the platform's
witnesses speaking C2SP tlog-witness. May import: Flask, werkzeug, ``services.http`` (auth,
common, errors), ``services.web.common`` (the screens' session, so a signed-in person's link
from the item page works), ``services.tlog`` and ``services.tlog_serving``.

Routes (no ``/api/v1`` prefix: these are the formats' own paths, outside the OpenAPI document):

- ``GET /log/<office>/checkpoint``: the last checkpoint with its cosignatures, anyone;
- ``GET /log/<office>/tile/<L>/<N>[.p/<W>]``: hashes, anyone; full tiles cached for a year as
  immutable, partial ones briefly;
- ``GET /log/<office>/tile/entries/<N>[.p/<W>]``: leaf data, only to those who may read the
  office's audit trail (``Access.audit``), 404 for anyone else exactly as for a missing route;
- ``GET /log/<office>/proof/<notification id>``: a ``.tlog-proof`` bundle, to audit-trail
  readers for any event, to anyone for a published step of a published record, else 404;
- ``GET /log/<office>/consistency?from=M&to=N``: JSON ``{"from", "to", "proof": [base64]}``;
- ``POST /witness/office/<office>/add-checkpoint`` and ``POST /witness/public/add-checkpoint``:
  tlog-witness ``add-checkpoint`` to an office's witness (cosigning its children's logs) or
  the public site's (cosigning the offices that publish); their monitoring paths
  ``GET /witness/…/<origin hash>/checkpoint``.

A caller is a bearer token (the API's) or the screens' session; neither is needed for what
anyone may read. Every path segment is checked here: a malformed office code, tile path or
number answers 404 (what it names does not exist), a bad query 400 naming the field.
"""

from __future__ import annotations

import re
from typing import Final

from flask import Blueprint, Response, jsonify, request
from werkzeug.exceptions import NotFound

from domain.values import OFFICE_CODE
from services.errors import NotFoundError
from services.http.auth import authenticate
from services.http.common import access, platform, users
from services.http.errors import ApiError
from services.tlog.note import b64encode
from services.tlog.tiles import WIDTH, parse_path
from services.tlog.witness import Answer
from services.tlog_proofs import LedgerError
from services.tlog_serving import LogServing, SizeError
from services.users import UserView
from services.web.common import signed_in_user

log_routes = Blueprint("log", __name__)

IMMUTABLE: Final = "public, max-age=31536000, immutable"
SHORT: Final = "public, max-age=10"
NUMBER: Final = re.compile(r"[1-9][0-9]{0,18}")
HASH: Final = re.compile(r"[0-9a-f]{64}")
TEXT: Final = "text/plain; charset=utf-8"
PROOF_TYPE: Final = "application/octet-stream"


def serving() -> LogServing:
    the = platform()
    return LogServing(the.ledger, the.read, the.registry, the.backend, the.supervision)


def office_code(office: str) -> str:
    if not OFFICE_CODE.fullmatch(office):
        raise NotFoundError(f"no office '{office}'")
    return office


def reader() -> UserView | None:
    """The caller: a bearer token's user (a bad token is a 401), else the screens' session."""
    if request.headers.get("Authorization"):
        return authenticate(users())
    return signed_in_user()


def reads_audit(office: str) -> bool:
    """Whether the caller may read the office's audit trail (the audit screen's rule)."""
    user = reader()
    if user is None:
        return False
    try:
        access().audit(user, office)
    except (NotFoundError, ApiError):
        return False
    return True


def body(data: bytes, mimetype: str, cache: str) -> Response:
    response = Response(data, content_type=mimetype)
    response.headers["Cache-Control"] = cache
    return response


@log_routes.route("/log/<office>/checkpoint")
def checkpoint(office: str) -> Response:
    """The office's last checkpoint note with its cosignatures."""
    note = serving().checkpoint(office_code(office))
    return body(note, TEXT, SHORT)


@log_routes.route("/log/<office>/tile/<path:rest>")
def tile(office: str, rest: str) -> Response:
    """A hash tile (anyone) or an entry bundle (audit-trail readers), C2SP tlog-tiles."""
    office_code(office)
    try:
        found, entries = parse_path(f"tile/{rest}")
    except ValueError as e:
        raise NotFoundError(f"no such tile: {e}") from e
    cache = IMMUTABLE if found.width == WIDTH else SHORT
    if not entries:
        return body(serving().tile(office, found), PROOF_TYPE, cache)
    if found.level != 0 or not reads_audit(office):
        raise NotFound()  # as a missing route: nothing says the entries exist
    response = body(
        serving().entries(office, found), PROOF_TYPE, cache.replace("public", "private")
    )
    response.headers["Vary"] = "Authorization, Cookie"
    return response


@log_routes.route("/log/<office>/proof/<notification_id>")
def proof(office: str, notification_id: str) -> Response:
    """A ``.tlog-proof`` bundle of one notification of the office's log."""
    office_code(office)
    if not NUMBER.fullmatch(notification_id):
        raise NotFound()
    number = int(notification_id)
    the = serving()
    if not reads_audit(office) and not the.published_step(office, number):
        raise NotFound()  # the same answer whether it exists or not
    try:
        bundle = the.prove(office, number)
    except LedgerError as e:
        raise ApiError(409, str(e), code="ledger_mismatch") from e
    response = body(bundle, PROOF_TYPE, "private, no-cache")
    name = f"ducha-{office}-{number}.tlog-proof"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Vary"] = "Authorization, Cookie"
    return response


@log_routes.route("/log/<office>/consistency")
def consistency(office: str) -> Response:
    """The consistency proof between two sizes of the office's log, as JSON (base64 hashes,
    in the order of RFC 9162 §2.1.4)."""
    office_code(office)
    unknown = sorted(set(request.args) - {"from", "to"})
    if unknown:
        raise ApiError(400, "unknown query parameter", {unknown[0]: ["unknown parameter"]})
    sizes = {name: size_arg(name) for name in ("from", "to")}
    try:
        proof = serving().consistency(office, sizes["from"], sizes["to"])
    except SizeError as e:
        raise ApiError(400, f"no consistency proof: {e}", {e.field: [e.message]}) from e
    response = jsonify({**sizes, "proof": [b64encode(h) for h in proof]})
    response.headers["Cache-Control"] = IMMUTABLE
    return response


def size_arg(name: str) -> int:
    given = request.args.get(name, "")
    if given != "0" and not NUMBER.fullmatch(given):
        raise ApiError(400, f"'{name}' must be a tree size", {name: ["a whole number, 0 to 2⁶³−1"]})
    return int(given)


# -- the witnesses (C2SP tlog-witness) -------------------------------------------------------
def keep_witness_body() -> None:
    """Read an ``add-checkpoint`` body before anything else looks at the request: the spec
    names no content type, and a client's default (a form's) would have it parsed and lost."""
    if request.method == "POST" and request.path.startswith("/witness/"):
        request.get_data(cache=True)


@log_routes.route("/witness/office/<office>/add-checkpoint", methods=["POST"])
def office_add_checkpoint(office: str) -> Response:
    """An office's witness (key ``ducha-witness/<office>``) asked to cosign a child's log."""
    return witness_answer(serving().add_checkpoint(office_code(office), request.get_data()))


@log_routes.route("/witness/public/add-checkpoint", methods=["POST"])
def public_add_checkpoint() -> Response:
    """The public site's witness (key ``public-witness``) asked to cosign a publishing
    office's log."""
    return witness_answer(serving().add_checkpoint(None, request.get_data()))


def witness_answer(answer: Answer) -> Response:
    response = Response(answer.body, status=answer.status, content_type=answer.content_type)
    response.headers["Cache-Control"] = "no-store"
    return response


@log_routes.route("/witness/office/<office>/<hashed>/checkpoint")
def office_witnessed(office: str, hashed: str) -> Response:
    """What the office's witness last cosigned for a log (monitoring path)."""
    return witnessed(office_code(office), hashed)


@log_routes.route("/witness/public/<hashed>/checkpoint")
def public_witnessed(hashed: str) -> Response:
    """What the public site's witness last cosigned for a log (monitoring path)."""
    return witnessed(None, hashed)


def witnessed(witness: str | None, hashed: str) -> Response:
    if not HASH.fullmatch(hashed):
        raise NotFound()
    return body(serving().witnessed(witness, hashed), TEXT, SHORT)
