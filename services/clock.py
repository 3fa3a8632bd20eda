"""Domain time. ``DUCHA_CLOCK`` pins it for demos, tests and backfills. May import: the standard
library and the domain's values.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time

from domain.values import CHINA_TZ

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(tz=CHINA_TZ)


def parse_clock(value: str) -> Clock:
    """``YYYY-MM-DD``: that day in China, at the current time of day (so successive commands
    stay in order). An ISO datetime: exactly that instant (China time when no offset is given).
    """
    value = value.strip()
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return lambda: datetime.combine(day, system_clock().timetz())
        instant = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"DUCHA_CLOCK must be YYYY-MM-DD or an ISO datetime (got '{value}')"
        ) from None
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=CHINA_TZ)
    return lambda: instant


def clock_from_env(value: str | None) -> Clock:
    return parse_clock(value) if value else system_clock


def at_noon(day: date) -> datetime:
    """Noon in China on a given day: the demo's and tests' instant for 'on that day'."""
    return datetime.combine(day, time(12, 0), tzinfo=CHINA_TZ)
