"""The Chinese government working-day calendar (statutory holidays and 调休 make-up days).

2004–2026 come from ``chinese-calendar``; later years from ``services/data/holidays.json``
(or the file named by ``DUCHA_HOLIDAYS_FILE``), which operators extend when the annual notice
is published. A date in a year with no data raises ``CalendarDataMissingError``: a deadline is
never silently guessed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

import chinese_calendar

LIBRARY_YEARS = range(2004, 2027)
DEFAULT_DATA_FILE = Path(__file__).parent / "data" / "holidays.json"
MAX_STEPS = 3660  # ten years of days: far beyond any real deadline


class CalendarDataMissingError(Exception):
    """No holiday data is known for the year of a date."""

    def __init__(self, year: int) -> None:
        super().__init__(
            f"no holiday data for {year}: working days cannot be counted in that year; "
            "give an explicit date, or add the year to the holiday data file (see README)"
        )
        self.year = year


@dataclass(frozen=True)
class YearData:
    holidays: frozenset[date] = field(default_factory=frozenset)
    workdays: frozenset[date] = field(default_factory=frozenset)


def load_year_data(path: Path | None = None) -> dict[int, YearData]:
    """Read the published years from the data file; unpublished years are left out."""
    text = (path or DEFAULT_DATA_FILE).read_text("utf-8")
    years: dict[int, YearData] = {}
    for key, entry in json.loads(text).items():
        if key.startswith("_") or not entry.get("published"):
            continue
        year = int(key)
        years[year] = YearData(
            holidays=frozenset(_dates(year, entry.get("holidays", []))),
            workdays=frozenset(_dates(year, entry.get("workdays", []))),
        )
    return years


def _dates(year: int, values: list[str]) -> list[date]:
    days = [date.fromisoformat(v) for v in values]
    for d in days:
        if d.year != year:
            raise ValueError(f"holiday data for {year} lists {d}, which is in another year")
    return days


class GovernmentCalendar:
    """``add_working_days``, ``working_days_between`` and ``is_working_day``."""

    def __init__(self, extra_years: dict[int, YearData] | None = None) -> None:
        self.extra_years = load_year_data() if extra_years is None else extra_years
        self._is_working_day = lru_cache(maxsize=8192)(self._lookup)

    def covers(self, year: int) -> bool:
        return year in LIBRARY_YEARS or year in self.extra_years

    def is_working_day(self, day: date) -> bool:
        return self._is_working_day(day)

    def _lookup(self, day: date) -> bool:
        if day.year in LIBRARY_YEARS:
            return bool(chinese_calendar.is_workday(day))
        data = self.extra_years.get(day.year)
        if data is None:
            raise CalendarDataMissingError(day.year)
        if day in data.workdays:
            return True
        return day.weekday() < 5 and day not in data.holidays

    def add_working_days(self, start: date, n: int) -> date:
        """The n-th working day after ``start`` (``start`` itself does not count)."""
        if n < 0:
            raise ValueError("n must not be negative")
        day, counted = start, 0
        for _ in range(MAX_STEPS):
            if counted == n:
                return day
            day += timedelta(days=1)
            if self.is_working_day(day):
                counted += 1
        raise ValueError(f"{n} working days reach beyond ten years")

    def working_days_between(self, a: date, b: date) -> int:
        """Working days d with a < d <= b; negative when b is before a."""
        if b < a:
            return -self.working_days_between(b, a)
        return sum(
            1 for k in range(1, (b - a).days + 1) if self.is_working_day(a + timedelta(days=k))
        )
