"""The Chinese government working-day calendar (statutory holidays and 调休 make-up days):
counting working days, and saying which years were counted provisionally; the holiday
notices it reads (the data file, a notice's checks) are ``services.holiday_notices``, whose
names are importable from here as before. May import: the standard library,
``chinese-calendar``, ``holidays`` and ``services.holiday_notices``.

Each year comes from one of three sources:

- 2004–2026: ``chinese-calendar`` (the State Council's published notices);
- a later year whose notice is in the holiday data file (``services/data/holidays.json``, or
  the file named by ``DUCHA_HOLIDAYS_FILE``) with ``"published": true``: that notice;
- any other year: the **provisional calendar**, weekends plus the statutory holidays of the
  全国年节及纪念日放假办法 (as amended in 2024: 元旦 1 day, 春节 4 days from 除夕, 清明 1,
  劳动节 2, 端午 1, 中秋 1, 国庆 3) as computed from the lunisolar calendar by the ``holidays``
  package, with no make-up working days.

Nothing fails for lack of data: a date counted on the provisional calendar is *provisional*
(``provisional_years_between`` says which years made it so), and is recomputed, as an event,
when the year's notice is added (``services.deadlines.DeadlineEngine.add_year``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Final

import chinese_calendar
from holidays.countries.china import China

from services.holiday_notices import (
    DEFAULT_DATA_FILE,
    LIBRARY_YEARS,
    HolidayFileError,
    NoticeError,
    YearData,
    load_year_data,
    parse_notice,
    write_year,
)

__all__ = [
    "DEFAULT_DATA_FILE",
    "LIBRARY_YEARS",
    "MAX_STEPS",
    "STATUTORY_NAMES",
    "GovernmentCalendar",
    "HolidayFileError",
    "NoticeError",
    "YearData",
    "load_year_data",
    "parse_notice",
    "provisional_note",
    "statutory_holidays",
    "write_year",
]

MAX_STEPS: Final = 3660  # ten years of days: far beyond any real deadline
STATUTORY_NAMES: Final = frozenset(
    {"元旦", "农历除夕", "春节", "清明节", "劳动节", "端午节", "中秋节", "国庆节"}
)
"""The ``holidays`` package's (zh_CN) names of the statutory holidays. Its other entries
(``休息日（由 … 调休）``: a known year's make-up arrangement; ``春节延长假期``: 2020's extension)
come from published notices, never from the law, and are left out."""


# -- the provisional calendar -----------------------------------------------------------
@lru_cache(maxsize=256)
def statutory_holidays(year: int) -> frozenset[date]:
    """The statutory holidays of ``year`` by law alone (for 2025 on, as amended in 2024), from
    the ``holidays`` package: no in-lieu days, no make-up arrangement. Empty for a year the
    package does not cover (before 1950, after 2100): such a year counts weekends only."""
    found = China(years=year, observed=False, language="zh_CN")  # type: ignore[no-untyped-call]
    return frozenset(
        day
        for day, name in found.items()
        if any(part.split("（")[0].strip() in STATUTORY_NAMES for part in name.split(";"))
    )


def provisional_note(years: Iterable[int]) -> str:
    """'provisional: the 2027 holiday notice is not yet published' (for lists and messages)."""
    listed = sorted(set(years))
    if not listed:
        return ""
    names = ", ".join(map(str, listed[:-1])) + " and " if len(listed) > 1 else ""
    notices = "notice is" if len(listed) == 1 else "notices are"
    names += str(listed[-1])
    return f"provisional: the {names} holiday {notices} not yet published"


class _Days:
    """One version of the holiday data, with its own cache of the days looked up: a refresh
    replaces it whole, so a computation that holds one never mixes two versions."""

    def __init__(self, extra_years: dict[int, YearData]) -> None:
        self.extra_years = extra_years
        self.is_working_day = lru_cache(maxsize=8192)(self._lookup)

    def covers(self, year: int) -> bool:
        return year in LIBRARY_YEARS or year in self.extra_years

    def _lookup(self, day: date) -> bool:
        if day.year in LIBRARY_YEARS:
            return bool(chinese_calendar.is_workday(day))
        data = self.extra_years.get(day.year)
        if data is None:
            return day.weekday() < 5 and day not in statutory_holidays(day.year)
        if day in data.workdays:
            return True
        return day.weekday() < 5 and day not in data.holidays

    def provisional_years_between(self, a: date, b: date) -> tuple[int, ...]:
        if a == b:
            return ()
        first, last = (a, b) if a < b else (b, a)
        after = first.year if (first.month, first.day) != (12, 31) else first.year + 1
        return tuple(y for y in range(after, last.year + 1) if not self.covers(y))


class GovernmentCalendar:
    """``add_working_days``, ``working_days_between``, ``is_working_day`` and ``reckon``; never
    fails for lack of data (see the module's docstring), and says which years it counted
    provisionally.

    Built on a data file (``from_file``, or no arguments for the shipped one), it follows the
    file: it looks for a change at most every ``FOLLOW_SECONDS`` (and at once on ``refresh``),
    so a year added by another process (``ducha calendar add-year``) is counted on its notice
    without a restart. Each call works on one version of the data from start to end."""

    FOLLOW_SECONDS: Final = 5.0

    def __init__(
        self, extra_years: dict[int, YearData] | None = None, *, path: Path | None = None
    ) -> None:
        self.path = path if extra_years is not None else (path or DEFAULT_DATA_FILE)
        self._stamp = self._file_stamp()
        self._days = _Days(load_year_data(self.path) if extra_years is None else extra_years)
        self._lock = threading.Lock()
        self._next_look = time.monotonic() + self.FOLLOW_SECONDS

    @classmethod
    def from_file(cls, path: Path | None = None) -> GovernmentCalendar:
        """The calendar of a data file (default: the shipped one), following its changes."""
        return cls(path=path or DEFAULT_DATA_FILE)

    # -- the data -----------------------------------------------------------------------
    @property
    def extra_years(self) -> dict[int, YearData]:
        """The published notices of years after chinese-calendar's."""
        return self._current().extra_years

    def refresh(self) -> bool:
        """Reload the data file now if it changed since it was read; True if it did. A
        calendar built from data in memory (no ``path``) has nothing to follow."""
        if self.path is None:
            return False
        with self._lock:
            self._next_look = time.monotonic() + self.FOLLOW_SECONDS
            stamp = self._file_stamp()
            if stamp == self._stamp:
                return False
            self._days = _Days(load_year_data(self.path))
            self._stamp = stamp
        return True

    def publish(self, year: int, data: YearData) -> None:
        """Count ``year`` on its notice from now on (the file is written by ``write_year``)."""
        with self._lock:
            self._days = _Days({**self._days.extra_years, year: data})
            self._stamp = self._file_stamp()

    def _current(self) -> _Days:
        if self.path is not None and time.monotonic() >= self._next_look:
            self.refresh()
        return self._days

    def _file_stamp(self) -> tuple[int, int] | None:
        try:
            found = self.path.stat() if self.path else None
        except OSError:
            return None
        return (found.st_mtime_ns, found.st_size) if found else None

    def covers(self, year: int) -> bool:
        """Published data (chinese-calendar or a notice) is known for ``year``."""
        return self._current().covers(year)

    def is_provisional(self, year: int) -> bool:
        return not self.covers(year)

    def source_of(self, year: int) -> str:
        """Where ``year``'s working days come from, in words."""
        if year in LIBRARY_YEARS:
            return "chinese-calendar"
        data = self.extra_years.get(year)
        if data is not None:
            return f"notice {data.source}".strip()
        return "provisional (statutory holidays only, no make-up working days)"

    def provisional_years_between(self, a: date, b: date) -> tuple[int, ...]:
        """The years counted provisionally for the days after ``a`` up to ``b`` (either order)."""
        return self._current().provisional_years_between(a, b)

    def deadline_note(self, issued_on: date, deadline: date, provisional: bool) -> str:
        """The words shown with a provisional deadline ('' for one that is not)."""
        if not provisional:
            return ""
        years = self.provisional_years_between(issued_on, deadline)
        return provisional_note(years) or (
            "provisional: to be recomputed on the holiday notice now published"
        )

    # -- working days -------------------------------------------------------------------
    def is_working_day(self, day: date) -> bool:
        return self._current().is_working_day(day)

    def reckon(self, start: date, n: int) -> tuple[date, tuple[int, ...]]:
        """The n-th working day after ``start`` (``start`` itself does not count), and the
        years counted on the provisional calendar on the way (empty: the day is certain)."""
        if n < 0:
            raise ValueError("n must not be negative")
        days = self._current()
        day, counted = start, 0
        for _ in range(MAX_STEPS):
            if counted == n:
                return day, days.provisional_years_between(start, day)
            if day == date.max:
                break
            day += timedelta(days=1)
            if days.is_working_day(day):
                counted += 1
        raise ValueError(f"{n} working days after {start} reach beyond the calendar")

    def add_working_days(self, start: date, n: int) -> date:
        """The n-th working day after ``start`` (``start`` itself does not count)."""
        return self.reckon(start, n)[0]

    def working_days_between(self, a: date, b: date) -> int:
        """Working days d with a < d <= b; negative when b is before a."""
        if b < a:
            return -self.working_days_between(b, a)
        days = self._current()
        return sum(
            1 for k in range(1, (b - a).days + 1) if days.is_working_day(a + timedelta(days=k))
        )
