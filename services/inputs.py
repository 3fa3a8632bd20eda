"""What the CLI and the HTTP API accept before anything reaches a service: one set of rules. May
import: the standard library and the domain's values.

Text must be storable by every part of the platform (``domain.values.text_problem``); dates
must lie within ``FIRST_DAY`` … ``LAST_DAY``, so that every date computed from them (working
days later, in UTC or in China time) still exists.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from typing import Final

from domain.values import CHINA_TZ, text_problem

FIRST_DAY: Final = date(2000, 1, 1)
LAST_DAY: Final = date(2199, 12, 31)
DATE_RANGE: Final = f"a date from {FIRST_DAY} to {LAST_DAY} (YYYY-MM-DD)"


INSTANT_FORMAT: Final = (
    "YYYY-MM-DD (that whole day in China) or an ISO datetime, e.g. 2026-09-20T12:00:00+08:00"
)


def parse_instant(text: str, day_starts: bool = False) -> datetime:
    """``YYYY-MM-DD``: the end of that day in China (its start with ``day_starts``, for the
    first day of a range); an ISO datetime: that instant, China time when it has no offset.
    Raises ``ValueError`` saying the format."""
    text = text.strip()
    try:
        if len(text) == 10:
            moment = time.min if day_starts else time.max
            return datetime.combine(date.fromisoformat(text), moment, tzinfo=CHINA_TZ)
        instant = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"'{text}' is not {INSTANT_FORMAT}") from None
    return instant if instant.tzinfo else instant.replace(tzinfo=CHINA_TZ)


def china_time(instant: datetime | str) -> str:
    """An instant as people read it: China time with its offset, to the second."""
    if isinstance(instant, str):
        instant = datetime.fromisoformat(instant)
    return instant.astimezone(CHINA_TZ).isoformat(timespec="seconds")


def day_problem(day: date) -> str | None:
    """Why ``day`` is not accepted, or None."""
    return None if FIRST_DAY <= day <= LAST_DAY else f"must be {DATE_RANGE}"


def instant_problem(instant: datetime) -> str | None:
    """Why ``instant`` (time-zone aware) is not accepted, or None."""
    try:
        days = (instant.astimezone(UTC).date(), instant.astimezone(CHINA_TZ).date())
    except OverflowError:
        days = (date.min, date.min)
    if all(FIRST_DAY <= d <= LAST_DAY for d in days):
        return None
    return f"must be on a day from {FIRST_DAY} to {LAST_DAY}"


def argument_problem(args: Sequence[str]) -> str | None:
    """The first command-line argument that cannot be stored as text, as one line naming its
    option (``--title: contains …``), or None."""
    option = "argument"
    for arg in args:
        name, equals, value = arg.partition("=") if arg.startswith("--") else ("", "", arg)
        checked = value if equals else arg
        problem = text_problem(checked)
        if problem:
            return f"{name or option}: {problem}"
        option = arg if arg.startswith("-") and not equals else "argument"
    return None
