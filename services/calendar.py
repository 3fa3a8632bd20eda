"""The Chinese government working-day calendar (statutory holidays and 调休 make-up days).

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

import json
import logging
import os
import stat
import tempfile
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

import chinese_calendar
from holidays.countries.china import China

log = logging.getLogger(__name__)

LIBRARY_YEARS: Final = range(2004, 2027)
DEFAULT_DATA_FILE: Final = Path(__file__).parent / "data" / "holidays.json"
MAX_STEPS: Final = 3660  # ten years of days: far beyond any real deadline
STATUTORY_NAMES: Final = frozenset(
    {"元旦", "农历除夕", "春节", "清明节", "劳动节", "端午节", "中秋节", "国庆节"}
)
"""The ``holidays`` package's (zh_CN) names of the statutory holidays. Its other entries
(``休息日（由 … 调休）``: a known year's make-up arrangement; ``春节延长假期``: 2020's extension)
come from published notices, never from the law, and are left out."""
NOTICE_KEYS: Final = frozenset({"published", "source", "holidays", "workdays"})


class NoticeError(ValueError):
    """A year's holiday notice cannot be added; ``problems`` says every reason."""

    def __init__(self, year: int, problems: list[str]) -> None:
        super().__init__(f"the {year} holiday notice cannot be added: " + "; ".join(problems))
        self.year = year
        self.problems = problems


class HolidayFileError(ValueError):
    """The holiday data file cannot be written (a read-only mount, a missing folder)."""

    def __init__(self, path: Path, error: OSError) -> None:
        super().__init__(
            f"cannot write the holiday data file {path}: {error.strerror or error}; "
            "it must be a writable file (DUCHA_HOLIDAYS_FILE names it)"
        )
        self.path = path


@dataclass(frozen=True)
class YearData:
    """A published notice: every day off, every weekend day worked (调休上班), its citation."""

    holidays: frozenset[date] = field(default_factory=frozenset)
    workdays: frozenset[date] = field(default_factory=frozenset)
    source: str = ""


def load_year_data(path: Path | None = None) -> dict[int, YearData]:
    """Read the published years from the data file; unpublished years are left out. A file
    that does not exist yet (a fresh volume: ``add-year`` creates it) publishes no year."""
    path = path or DEFAULT_DATA_FILE
    if not path.exists():
        log.warning("holiday data file %s does not exist: no notice after 2026 is known", path)
        return {}
    text = path.read_text("utf-8")
    years: dict[int, YearData] = {}
    for key, entry in json.loads(text).items():
        if key.startswith("_") or not entry.get("published"):
            continue
        year = int(key)
        years[year] = YearData(
            holidays=frozenset(_dates(year, entry.get("holidays", []))),
            workdays=frozenset(_dates(year, entry.get("workdays", []))),
            source=str(entry.get("source", "")),
        )
    return years


def _dates(year: int, values: list[str]) -> list[date]:
    days = [date.fromisoformat(v) for v in values]
    for d in days:
        if d.year != year:
            raise ValueError(f"holiday data for {year} lists {d}, which is in another year")
    return days


# -- a year's notice --------------------------------------------------------------------
def parse_notice(year: int, notice: object) -> YearData:
    """Validate a year's notice, shaped like its entry in the data file (optionally wrapped in
    ``{"2027": {...}}``): every listed day inside ``year``, no day both off and worked, only
    weekend days worked, ``source`` cited. Raises ``NoticeError`` naming every problem."""
    if year in LIBRARY_YEARS:
        raise NoticeError(year, [f"{year} comes from chinese-calendar; the file holds later years"])
    if not LIBRARY_YEARS.stop <= year <= 9999:
        raise NoticeError(year, [f"the year must be from {LIBRARY_YEARS.stop} to 9999"])
    entry = _unwrap(year, notice)
    problems = [f"unknown field '{k}'" for k in sorted(entry) if k not in NOTICE_KEYS]
    if entry.get("published", True) is not True:
        problems.append("'published' must be true (or left out): this adds a published notice")
    source = entry.get("source")
    if not isinstance(source, str) or not source.strip():
        problems.append("'source' must cite the notice (for example 国办发明电〔2026〕N号)")
    off = _notice_days(year, entry, "holidays", problems)
    worked = _notice_days(year, entry, "workdays", problems)
    if entry.get("holidays") == []:
        problems.append("'holidays' lists no day")
    problems += [
        f"{d} is listed both as a day off and as a working day" for d in sorted(off & worked)
    ]
    problems += [
        f"{d} is a {d.strftime('%A')}: 'workdays' lists only weekend days that are worked"
        for d in sorted(worked)
        if d.weekday() < 5
    ]
    if problems:
        raise NoticeError(year, problems)
    return YearData(frozenset(off), frozenset(worked), str(source).strip())


def _unwrap(year: int, notice: object) -> dict[str, Any]:
    if not isinstance(notice, Mapping):
        raise NoticeError(year, ["the notice must be a JSON object"])
    years = [k for k in notice if isinstance(k, str) and k.isdigit()]
    if years:  # the data file's own shape: take the year's entry
        if str(year) not in years:
            raise NoticeError(year, [f"the file is for {', '.join(years)}, not {year}"])
        notice = notice[str(year)]
        if not isinstance(notice, Mapping):
            raise NoticeError(year, [f"'{year}' must be a JSON object"])
    return dict(notice)


def _notice_days(year: int, entry: Mapping[str, Any], key: str, problems: list[str]) -> set[date]:
    values = entry.get(key)
    if values is None:
        problems.append(f"'{key}' is missing (a list of dates, YYYY-MM-DD)")
        return set()
    if not isinstance(values, list):
        problems.append(f"'{key}' must be a list of dates (YYYY-MM-DD)")
        return set()
    days: set[date] = set()
    for value in values:
        try:
            day = date.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            day = None
        if day is None or len(value) != 10:
            problems.append(f"'{key}' lists {value!r}, which is not a date (YYYY-MM-DD)")
        elif day.year != year:
            problems.append(f"'{key}' lists {day}, which is not in {year}")
        else:
            days.add(day)
    return days


def write_year(path: Path | None, year: int, data: YearData) -> bool:
    """Write ``year``'s notice into the data file (other entries kept), atomically.

    Returns whether the file changed. A file that cannot be read or written (a read-only
    mount) raises ``HolidayFileError`` naming it."""
    path = path or DEFAULT_DATA_FILE
    try:
        return _write_year(path, year, data)
    except OSError as e:
        raise HolidayFileError(path, e) from None


def _write_year(path: Path, year: int, data: YearData) -> bool:
    document: dict[str, Any] = json.loads(path.read_text("utf-8")) if path.exists() else {}
    entry = {
        "published": True,
        "source": data.source,
        "holidays": [d.isoformat() for d in sorted(data.holidays)],
        "workdays": [d.isoformat() for d in sorted(data.workdays)],
    }
    if document.get(str(year)) == entry:
        return False
    document[str(year)] = entry
    keys = sorted(document, key=lambda k: (not k.startswith("_"), k))
    text = json.dumps({k: document[k] for k in keys}, ensure_ascii=False, indent=2) + "\n"
    target = path.resolve()
    try:
        _replace(target, text)
    except OSError:
        # A file mounted on its own (a bind mount) cannot be replaced, nor a temporary made
        # beside it in a read-only folder: write it in place (not atomic, still complete).
        target.write_text(text, "utf-8")
    return True


def _replace(target: Path, text: str) -> None:
    """Write ``text`` beside ``target`` and rename it over: readers see old or new, whole."""
    handle, temporary = tempfile.mkstemp(prefix=".holidays-", dir=target.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(temporary, stat.S_IMODE(target.stat().st_mode) if target.exists() else 0o644)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


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
