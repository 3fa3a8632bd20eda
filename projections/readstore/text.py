"""Text no database here can hold as it is (NUL, which PostgreSQL refuses in text and SQLite's
JSON cuts short at; lone surrogates, which are not UTF-8), made storable as U+FFFD, and rows
handed to a bulk write as one JSON array. May import: the standard library and ``orjson``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import orjson

UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
"""What no database here stores as text: NUL and lone surrogates."""
REPLACEMENT = "\ufffd"


def storable(value: Any) -> Any:
    """``value`` with NUL and lone surrogates replaced by U+FFFD if it is text."""
    if isinstance(value, str) and UNSTORABLE.search(value):
        return UNSTORABLE.sub(REPLACEMENT, value)
    return value


def storable_params(params: Sequence[Any]) -> Sequence[Any]:
    if any(isinstance(v, str) and UNSTORABLE.search(v) for v in params):
        return [storable(v) for v in params]
    return params


def rows_as_json(rows: Sequence[Sequence[Any]]) -> bytes | None:
    """The rows as one JSON array, or None if some text in them must be made storable first
    (a NUL shows as an escape in the JSON; a lone surrogate cannot be encoded). One pass in C,
    so that the common case costs no per-value work in Python."""
    try:
        dumped = orjson.dumps(rows)
    except orjson.JSONEncodeError:
        return None
    return None if b"\\u0000" in dumped else dumped


def storable_rows(rows: Sequence[Sequence[Any]]) -> list[list[Any]]:
    return [[storable(v) for v in row] for row in rows]
