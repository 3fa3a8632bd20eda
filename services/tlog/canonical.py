"""Canonical JSON (RFC 8785, the JSON Canonicalization Scheme) for what ledger leaves hold. May
import: the standard library only.

Leaves are hashed, so the same value must always give the same bytes, in any language: objects
with their keys sorted by UTF-16 code units, strings escaped exactly as ECMAScript's
``JSON.stringify`` does (only ``"``, ``\\`` and the controls below U+0020; everything else is
written as UTF-8), no whitespace. Numbers are restricted to integers within ±(2⁵³ − 1), the
I-JSON safe range (leaves never need fractions, and floats are where implementations disagree):
a float, NaN, infinity or a larger integer is a ``ValueError`` naming the value, as is a string
that is not valid Unicode (a lone surrogate) or a key that is not a string.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Final, TypeAlias

Json: TypeAlias = "bool | int | str | Sequence[Json] | Mapping[str, Json] | None"

LIMIT: Final = 2**53 - 1  # I-JSON (RFC 7493) safe integers: exact as IEEE doubles
_ESCAPED: Final = re.compile(r'[\x00-\x1f"\\]')
"""What a string must escape: a quote, a backslash, a control character."""
_SHORT: Final = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
}


def canonical(value: Json) -> bytes:
    """The RFC 8785 serialisation of ``value`` as UTF-8 bytes."""
    parts: list[str] = []
    _write(value, parts)
    return "".join(parts).encode("utf-8")


def _write(value: Json, out: list[str]) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        out.append(_integer(value))
    elif isinstance(value, str):
        out.append(_string(value))
    elif isinstance(value, Mapping):
        _object(value, out)
    elif isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        out.append("[")
        for position, item in enumerate(value):
            if position:
                out.append(",")
            _write(item, out)
        out.append("]")
    else:
        raise ValueError(f"canonical JSON holds no {type(value).__name__} ({value!r})")


def _object(value: Mapping[str, Json], out: list[str]) -> None:
    for key in value:
        if not isinstance(key, str):
            raise ValueError(f"canonical JSON object keys must be strings, not {key!r}")
    out.append("{")
    for position, key in enumerate(sorted(value, key=_utf16)):
        if position:
            out.append(",")
        out.append(_string(key))
        out.append(":")
        _write(value[key], out)
    out.append("}")


def _utf16(key: str) -> bytes:
    """RFC 8785 §3.2.3: keys sort by their UTF-16 code units (big-endian bytes sort the same)."""
    return _checked(key).encode("utf-16-be")


def _integer(value: int) -> str:
    if not -LIMIT <= value <= LIMIT:
        raise ValueError(
            f"integer {value} is beyond ±(2**53 - 1): JSON numbers cannot hold it exactly"
        )
    return str(value)


def _string(value: str) -> str:
    _checked(value)
    if not _ESCAPED.search(value):  # the common case: nothing to escape
        return '"' + value + '"'
    escaped = []
    for char in value:
        if char in _SHORT:
            escaped.append(_SHORT[char])
        elif char < " ":
            escaped.append(f"\\u{ord(char):04x}")
        else:
            escaped.append(char)
    return '"' + "".join(escaped) + '"'


def _checked(value: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as e:
        raise ValueError(f"string {value!r} is not valid Unicode (a lone surrogate)") from e
    return value
