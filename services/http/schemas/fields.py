"""Field types and building blocks every schema uses: storable text (NFC), dates and instants within
the accepted range, whole numbers, pages, and strictness (unknown fields and query parameters
refused). May import: marshmallow, the domain's errors and values, and ``services.inputs``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import marshmallow as ma
from marshmallow import fields as f
from marshmallow import validate as v

from domain.errors import InvalidFieldError
from domain.values import clean_text
from services.inputs import (
    DATE_RANGE,
    INSTANT_FORMAT,
    day_problem,
    instant_problem,
    parse_instant,
)


class Text(f.String):
    """Input text, storable everywhere (``domain.values.clean_text``) and in NFC."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            return clean_text(attr or "text", text)
        except InvalidFieldError as e:
            raise ma.ValidationError(e.message) from None


class Day(f.Date):
    """A calendar date in the accepted range (``services.inputs``)."""

    default_error_messages: ma.types.ErrorMessages = {  # noqa: RUF012 - as marshmallow has it
        "invalid": f"Not a valid date: give {DATE_RANGE}."
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> date:
        day: date = super()._deserialize(value, attr, data, **kwargs)
        problem = day_problem(day)
        if problem:
            raise ma.ValidationError(problem)
        return day


class Instant(f.Field):  # type: ignore[type-arg]
    """``YYYY-MM-DD`` (the end of that day in China; its start with ``day_starts``) or an ISO
    datetime (China time without an offset), on a day in the accepted range."""

    def __init__(self, day_starts: bool = False, **kw: Any) -> None:
        metadata = {"type": "string", "format": "date-time", **kw.pop("metadata", {})}
        metadata.setdefault("description", INSTANT_FORMAT)
        super().__init__(metadata=metadata, **kw)
        self.day_starts = day_starts

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        if not isinstance(value, str):
            raise ma.ValidationError(f"must be {INSTANT_FORMAT}")
        try:
            instant = parse_instant(value, self.day_starts)
        except ValueError:
            raise ma.ValidationError(f"must be {INSTANT_FORMAT}") from None
        problem = instant_problem(instant)
        if problem:
            raise ma.ValidationError(problem)
        return instant


def whole(**kw: Any) -> f.Integer:
    """A whole number in a JSON body: 50.5 is refused, never truncated."""
    return f.Integer(strict=True, **kw)


def words(required: bool = True, **kw: Any) -> Text:
    """A non-blank string (the domain trims and checks length)."""
    if required:
        return Text(required=True, validate=v.Length(min=1), **kw)
    return Text(load_default="", **kw)


def iso_date(**kw: Any) -> f.String:
    return f.String(metadata={"format": "date"}, **kw)


def iso_time(**kw: Any) -> f.String:
    return f.String(metadata={"format": "date-time"}, **kw)


def page_of(item: type[ma.Schema], name: str) -> type[ma.Schema]:
    """A page of a list: ``{"items": [...], "page", "per_page", "total"}``."""
    return ma.Schema.from_dict(
        {
            "items": f.List(f.Nested(item), required=True),
            "page": f.Integer(required=True),
            "per_page": f.Integer(required=True),
            "total": f.Integer(required=True),
        },
        name=name,
    )


class Strict(ma.Schema):
    """Unknown fields are refused (422 naming them)."""

    class Meta:
        unknown = ma.RAISE


class NoQuery(Strict):
    """Routes that take no query parameters refuse any (422), as bodies refuse unknown fields."""


class Paging(Strict):
    page = f.Integer(load_default=1, validate=v.Range(min=1, max=1_000_000))
    per_page = f.Integer(load_default=50, validate=v.Range(1, 500))


class AsOf(Strict):
    as_of = Instant(
        load_default=None,
        metadata={"description": f"Time travel: the state at this instant: {INSTANT_FORMAT}"},
    )
