"""One error shape for every failure: ``{"code", "message", "errors": {field: [...]}}``. May import:
Flask, marshmallow, werkzeug, the database drivers' error classes (psycopg, sqlite3, the
library's), the domain's errors, ``services.errors``, ``services.http.guard`` and, for its one
error class, ``projections.timetravel``.
"""

from __future__ import annotations

import dataclasses
import logging
import sqlite3
from collections.abc import Mapping
from typing import Any

import marshmallow as ma
import psycopg
from eventsourcing.persistence import OperationalError as StoreOperationalError
from flask import Response, jsonify
from werkzeug.exceptions import HTTPException

from domain.errors import DomainError, InvalidFieldError
from projections.timetravel import ReplayBusyError
from services.duplicates import DuplicateSourceError
from services.errors import (
    AlreadyExistsError,
    ConflictError,
    NotFoundError,
    OfficeRetiredError,
    RegistryRuleError,
    StoreUnavailableError,
)
from services.exports.documents import NotAssignedError
from services.exports.ledger import ExportTooLargeError
from services.http.guard import BadInput

DATABASE_BUSY = (psycopg.OperationalError, sqlite3.OperationalError, StoreOperationalError)
"""No connection free in the pool in time, a lock or the server gone: no fault of the request."""

log = logging.getLogger(__name__)

CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    412: "precondition_failed",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    428: "precondition_required",
    429: "too_many_requests",
    500: "internal",
    503: "unavailable",
}


class ErrorSchema(ma.Schema):
    """Every error response."""

    code = ma.fields.String(required=True, metadata={"description": "Machine-readable code"})
    message = ma.fields.String(required=True, metadata={"description": "In plain words"})
    errors = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.List(ma.fields.String()),
        required=True,
        metadata={"description": "Messages per input field (may be empty)"},
    )
    existing = ma.fields.List(
        ma.fields.Dict(),
        metadata={
            "description": "duplicate_source only: the office's items that already carry the "
            "source reference (id, title, registered_at)"
        },
    )


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        errors: Mapping[str, list[str]] | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = dict(errors or {})
        self.code = code or CODES.get(status, "error")


def respond(
    status: int,
    message: str,
    errors: Mapping[str, list[str]] | None = None,
    code: str | None = None,
    headers: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Response:
    body = {
        "code": code or CODES.get(status, "error"),
        "message": message,
        "errors": dict(errors or {}),
        **(extra or {}),
    }
    response = jsonify(body)
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def flatten(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """webargs nests messages by location and index ({"json": {"co": {0: [...]}}}): flatten
    them to ``{"co.0": [...]}``; locations are dropped (the field names are unambiguous)."""
    out: dict[str, list[str]] = {}
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            name = str(key)
            if not prefix and name in ("json", "query", "path", "headers", "form", "files"):
                out.update(flatten(value, ""))
                continue
            if name == "_schema":
                name = ""
            out.update(flatten(value, f"{prefix}.{name}" if prefix and name else prefix or name))
    elif isinstance(messages, list | tuple):
        if all(isinstance(m, str) for m in messages):
            out.setdefault(prefix or "body", []).extend(messages)
        else:
            for value in messages:
                out.update(flatten(value, prefix))
    else:
        out.setdefault(prefix or "body", []).append(str(messages))
    return out


def from_http_exception(error: HTTPException) -> Response:
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    errors = flatten(data.get("messages", data.get("errors", {})))
    if status == 422:
        message = "invalid input: " + "; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items())
    elif status == 500:
        message = "internal error"
    else:
        message = data.get("message") or error.description or error.name
    headers = dict(data.get("headers") or {})
    if status == 413:  # the body was not read: the connection cannot carry another request
        headers["Connection"] = "close"
    return respond(status, message, errors, headers=headers)


def from_exception(error: Exception) -> Response:
    """Map the services' and the domain's errors; anything else is logged and answered 500."""
    if isinstance(error, ApiError):
        return respond(error.status, error.message, error.errors, error.code)
    if isinstance(error, BadInput):
        return respond(422, f"invalid input: {error}", {error.field: [error.message]})
    if isinstance(error, ReplayBusyError):
        return respond(
            429, str(error), code="busy", headers={"Retry-After": str(error.retry_after_seconds)}
        )
    if isinstance(error, DuplicateSourceError):
        existing = [dataclasses.asdict(e) for e in error.existing]
        return respond(409, str(error), code="duplicate_source", extra={"existing": existing})
    if isinstance(error, ExportTooLargeError):
        return respond(422, str(error), {"filters": [str(error)]}, code="export_too_large")
    if isinstance(error, NotAssignedError):
        return respond(409, str(error), code="not_assigned")
    if isinstance(error, OfficeRetiredError):
        return respond(409, str(error), code="office_retired")
    if isinstance(error, InvalidFieldError):
        return respond(422, str(error), {error.field: [error.message]})
    if isinstance(error, DomainError):
        return respond(409, str(error), code="rule")
    if isinstance(error, NotFoundError):
        return respond(404, str(error))
    if isinstance(error, AlreadyExistsError):
        return respond(409, str(error), code="exists")
    if isinstance(error, ConflictError):
        return respond(412, str(error))
    if isinstance(error, RegistryRuleError):
        return respond(409, str(error), code="rule")
    if isinstance(error, StoreUnavailableError):
        return respond(503, str(error))
    if isinstance(error, DATABASE_BUSY):
        log.warning("the database did not answer in time: %r", error)
        return respond(
            503,
            "the database is busy or unreachable; try again shortly",
            code="database_busy",
            headers={"Retry-After": "5"},
        )
    if isinstance(error, HTTPException):
        return from_http_exception(error)
    log.exception("unhandled error", exc_info=error)
    return respond(500, "internal error; it has been logged")
