"""A year's holiday notice (放假通知) as the platform keeps it: the holiday data file
(``services/data/holidays.json``, or the file ``DUCHA_HOLIDAYS_FILE`` names) read
(``load_year_data``), a notice checked before it is added (``parse_notice``, ``NoticeError``
naming every problem) and written into the file atomically (``write_year``,
``HolidayFileError``). ``services.calendar`` counts working days from what it reads. May
import: the standard library only.
"""

from __future__ import annotations

import json
import logging
import os
import stat
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Final

log = logging.getLogger("services.calendar")

LIBRARY_YEARS: Final = range(2004, 2027)
DEFAULT_DATA_FILE: Final = Path(__file__).parent / "data" / "holidays.json"
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
