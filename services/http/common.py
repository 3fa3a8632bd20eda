"""What every blueprint of the HTTP API shares: the platform and directory of the app at hand
(``ApiContext``, kept in ``app.extensions``), the caller and the actor they record, how a
record is shown, and the OpenAPI pieces (bearer security, If-Match, Idempotency-Key).
May import: the standard library, flask, flask_smorest, webargs, ``domain`` (lights, values),
``services`` (bootstrap, inputs, users, views) and ``services.http`` (auth, errors,
idempotency).

Imports the services and the HTTP helpers (auth, errors, idempotency); no blueprint.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID, uuid5

from flask import current_app, request
from flask_smorest import Blueprint
from webargs.flaskparser import FlaskParser

from domain.lights import light
from domain.values import Actor, business_date
from services.bootstrap import Platform
from services.http.auth import Access, authenticate
from services.http.errors import ApiError
from services.http.idempotency import MAX_KEY, IdempotencyKeys
from services.inputs import china_time
from services.signin import SignIn
from services.users import UserDirectory, UserView
from services.views import CaseView

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
BUSY = "Too many time-travel replays at once; try again after Retry-After seconds"
IDEMPOTENT_IDS = UUID("5b0d4a52-0b7e-4c41-9d6a-8f2f3c1e7a10")


class StrictQueryParser(FlaskParser):
    """Unknown query parameters are refused like unknown body fields (the schema decides)."""

    DEFAULT_UNKNOWN_BY_LOCATION: dict[str, str | None] = {  # noqa: RUF012 - as webargs declares it
        **FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION,
        "query": None,
        "querystring": None,
    }


class DuchaBlueprint(Blueprint):  # type: ignore[misc]
    ARGUMENTS_PARSER = StrictQueryParser()


@dataclass(frozen=True)
class ApiContext:
    """What the views of one app work with; built by ``create_app``."""

    platform: Platform
    users: UserDirectory
    access: Access
    keys: IdempotencyKeys
    sign_in: SignIn


def context() -> ApiContext:
    found: ApiContext = current_app.extensions["ducha"]
    return found


def platform() -> Platform:
    return context().platform


def users() -> UserDirectory:
    return context().users


def access() -> Access:
    return context().access


def caller() -> UserView:
    return authenticate(users())


def actor(user: UserView) -> Actor:
    return Actor(user.id, user.office, user.role, channel="api")


def etag(version: int) -> str:
    return f'"{version}"'


def subtree_codes(code: str) -> list[str]:
    """The codes of every office below ``code``."""
    return [o.code for o in platform().registry.descendants(code)]


def recorded_by(user: UserView, code: str, item_id: str, version: int) -> bool:
    """Whether ``version`` of the record exists and was recorded by ``user``: with the
    If-Match of a retried request, only that request's first attempt can have done it."""
    history = platform().supervision.history(code, item_id)
    return any(e.version == version and e.actor["user_id"] == user.id for e in history)


def shown(case: CaseView, until: datetime | None = None) -> dict[str, Any]:
    """The record as the API returns it: the view plus its light on that day, times in
    China time, and the deadline in words when it is provisional."""
    the = platform()
    out = case.to_dict()
    for moment in ("registered_at", "modified_at"):
        out[moment] = china_time(out[moment])
    today = business_date(until or the.clock())
    out["light"] = light(case.status, case.deadline, today, the.calendar)
    out["deadline_note"] = the.calendar.deadline_note(
        case.issued_on, case.deadline, case.deadline_provisional
    )
    return out


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
