"""RFC 8785 canonical JSON: the RFC's own examples, an independent implementation (the
``rfc8785`` package) as an oracle, and the values leaves refuse."""

from __future__ import annotations

import math

import pytest
import rfc8785
from hypothesis import given
from hypothesis import strategies as st

from services.tlog.canonical import canonical


def test_the_rfc_sorting_example() -> None:
    """RFC 8785 §3.2.3: keys sort by UTF-16 code units (the emoji's surrogates before U+FB33)."""
    value = {
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\U0001f600": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis",
    }
    keys = ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"]
    expected = "{" + ",".join(f'"{k}":"{value[k]}"' for k in keys).replace("\r", "\\r") + "}"
    assert canonical(value) == expected.encode()


def test_the_rfc_string_and_literal_example() -> None:
    """RFC 8785 §3.2.2, without its numbers (leaves hold integers only)."""
    value = {
        "string": "\u20ac$\u000f\u000aA'\u0042\u0022\u005c\\\"/",
        "literals": [None, True, False],
    }
    expected = '{"literals":[null,true,false],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    assert canonical(value) == expected.encode()


def test_escapes_are_the_short_ones_then_lowercase_u_escapes() -> None:
    assert (
        canonical("\b\t\n\f\r\x00\x1f\x7f\u2028")
        == b'"\\b\\t\\n\\f\\r\\u0000\\u001f\x7f\xe2\x80\xa8"'
    )
    assert canonical("督查 \U0001f600") == '"督查 \U0001f600"'.encode()


def test_nesting_and_whitespace() -> None:
    value = {"b": [1, {"z": None, "a": -0}], "a": {}, "c": []}
    assert canonical(value) == b'{"a":{},"b":[1,{"a":0,"z":null}],"c":[]}'


@pytest.mark.parametrize(
    ("value", "named"),
    [
        (1.5, "float"),
        (math.nan, "float"),
        (math.inf, "float"),
        (2**53, "beyond"),
        (-(2**53), "beyond"),
        ({"a": [1.0]}, "float"),
        ({1: "x"}, "keys must be strings"),
        ("\ud800", "lone surrogate"),
        ({"\udfff": 1}, "lone surrogate"),
        (b"bytes", "bytes"),
        ({"a"}, "set"),
    ],
)
def test_what_leaves_cannot_hold_is_a_clear_value_error(value: object, named: str) -> None:
    with pytest.raises(ValueError, match=named):
        canonical(value)  # type: ignore[arg-type]


def test_the_safe_integer_range_is_held_exactly() -> None:
    assert canonical([2**53 - 1, -(2**53 - 1), True, False]) == (
        b"[9007199254740991,-9007199254740991,true,false]"
    )


_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
_json = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53 - 1), 2**53 - 1) | _text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_text, inner, max_size=4),
    max_leaves=20,
)


@given(_json)
def test_agrees_with_an_independent_implementation(value: object) -> None:
    assert canonical(value) == rfc8785.dumps(value)  # type: ignore[arg-type]
