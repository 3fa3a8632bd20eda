"""Input that no part of the platform could store or parse is refused before a view runs. May
import: the standard library, Flask and the domain's values.

Every path segment, query parameter, form field (the screens) and JSON body is checked once,
whatever the route: text must be storable everywhere (no NUL, no other C0 control but tab,
newline and carriage return, no lone surrogate: ``domain.values.text_problem``), JSON may not
nest deeper than ``MAX_DEPTH`` nor hold integers beyond 64 bits. Each problem is answered 422
naming the field. The schemas then check meaning (types, ranges, choices) as before.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from flask import Request

from domain.values import UNSTORABLE, text_problem

MAX_DEPTH = 32
"""Deeper JSON is refused: no request of ours nests more than three levels."""
MAX_INTEGER = 2**63 - 1
STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
BRACKETS = re.compile(rb"[\[\]{}]")


class BadInput(Exception):
    """One field's problem, found before any view ran."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def check_request(request: Request) -> None:
    """Raise ``BadInput`` for the first unstorable value of the request."""
    for name, value in (request.view_args or {}).items():
        _check_text(name, str(value))
    for name, values in request.args.lists():
        _check_text(name, name)
        for value in values:
            _check_text(name, value)
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        for name, values in request.form.lists():
            _check_text(name, name)
            for value in values:
                _check_text(name, value)
    if request.is_json and request.content_length != 0:
        for field, value in _leaves(load_body(request.get_data()), ""):
            if isinstance(value, str):
                _check_text(field, value)
            elif (
                isinstance(value, int)
                and not isinstance(value, bool)
                and (abs(value) > MAX_INTEGER)
            ):
                raise BadInput(field, "is far too large a number")


def load_body(raw: bytes) -> Any:
    """The JSON body, parsed only if it is UTF-8 and not too deeply nested."""
    if not raw.strip():
        return None
    depth = deepest = 0
    for bracket in BRACKETS.findall(STRINGS.sub(b"", raw)):
        depth += 1 if bracket in (b"[", b"{") else -1
        deepest = max(deepest, depth)
    if deepest > MAX_DEPTH:
        raise BadInput("body", f"JSON nested deeper than {MAX_DEPTH} levels")
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise BadInput("body", "is not UTF-8") from None
    except RecursionError:
        raise BadInput("body", f"JSON nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as e:
        if "integer string conversion" in str(e):
            raise BadInput("body", "holds a number of thousands of digits") from None
        raise BadInput("body", f"is not valid JSON ({str(e).split(':')[0]})") from None


def _leaves(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    """Every key and scalar of a JSON document, named as the error messages name fields."""
    if isinstance(value, dict):
        for key, inner in value.items():
            name = f"{path}.{key}" if path else str(key)
            yield name, key
            yield from _leaves(inner, name)
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from _leaves(inner, f"{path}.{index}" if path else str(index))
    else:
        yield path or "body", value


def _check_text(field: str, value: str) -> None:
    problem = text_problem(value)
    if problem:
        raise BadInput(_printable(field), problem)


def _printable(field: str) -> str:
    """A field name that can itself be shown (its bad characters replaced)."""
    return UNSTORABLE.sub("?", field)
