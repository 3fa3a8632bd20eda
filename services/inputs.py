"""What the CLI and the HTTP API accept before anything reaches a service: one set of rules.

Text must be storable by every part of the platform (``domain.values.text_problem``); dates
must lie within ``FIRST_DAY`` … ``LAST_DAY``, so that every date computed from them (working
days later, in UTC or in China time) still exists.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Final

from domain.values import CHINA_TZ, text_problem

FIRST_DAY: Final = date(2000, 1, 1)
LAST_DAY: Final = date(2199, 12, 31)
DATE_RANGE: Final = f"a date from {FIRST_DAY} to {LAST_DAY} (YYYY-MM-DD)"


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
