"""The government calendar across Spring Festival, National Day and make-up working days."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.calendar import CalendarDataMissingError, GovernmentCalendar, load_year_data

CAL = GovernmentCalendar()


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 2, 14), True),  # Saturday worked before Spring Festival (调休)
        (date(2026, 2, 16), False),  # Spring Festival, a Monday
        (date(2026, 2, 23), False),  # last day of the holiday
        (date(2026, 2, 28), True),  # Saturday worked after Spring Festival
        (date(2026, 9, 20), True),  # Sunday worked before National Day
        (date(2026, 10, 1), False),
        (date(2026, 10, 7), False),
        (date(2026, 10, 10), True),  # Saturday worked after National Day
        (date(2026, 10, 11), False),  # an ordinary Sunday
        (date(2026, 11, 24), True),  # an ordinary Tuesday
    ],
)
def test_is_working_day(day: date, working: bool) -> None:
    assert CAL.is_working_day(day) is working


def test_adding_working_days_skips_spring_festival_and_counts_make_up_saturdays() -> None:
    # Friday 13 Feb 2026 → Saturday 14 (worked) → 24, 25 after the nine-day holiday.
    assert CAL.add_working_days(date(2026, 2, 13), 1) == date(2026, 2, 14)
    assert CAL.add_working_days(date(2026, 2, 13), 2) == date(2026, 2, 24)
    assert CAL.add_working_days(date(2026, 2, 13), 3) == date(2026, 2, 25)


def test_adding_working_days_across_national_day() -> None:
    assert CAL.add_working_days(date(2026, 9, 30), 1) == date(2026, 10, 8)
    assert CAL.add_working_days(date(2026, 10, 9), 1) == date(2026, 10, 10)
    assert CAL.add_working_days(date(2026, 9, 30), 0) == date(2026, 9, 30)


def test_an_instructions_30_working_days_across_qingming() -> None:
    # Issued Monday 2 March 2026; Qingming (4–6 April) is skipped.
    assert CAL.add_working_days(date(2026, 3, 2), 30) == date(2026, 4, 14)


def test_working_days_between() -> None:
    assert CAL.working_days_between(date(2026, 9, 30), date(2026, 10, 8)) == 1
    assert CAL.working_days_between(date(2026, 10, 8), date(2026, 9, 30)) == -1
    assert CAL.working_days_between(date(2026, 1, 1), date(2026, 1, 1)) == 0


@given(
    start=st.dates(min_value=date(2004, 1, 1), max_value=date(2026, 6, 30)),
    n=st.integers(min_value=0, max_value=120),
)
def test_between_undoes_add(start: date, n: int) -> None:
    end = CAL.add_working_days(start, n)
    assert CAL.working_days_between(start, end) == n
    assert n == 0 or CAL.is_working_day(end)


def test_a_year_without_data_is_an_error_never_a_guess() -> None:
    with pytest.raises(CalendarDataMissingError, match="2027"):
        CAL.is_working_day(date(2027, 3, 1))
    with pytest.raises(CalendarDataMissingError, match="2027"):
        CAL.add_working_days(date(2026, 12, 1), 30)
    with pytest.raises(CalendarDataMissingError, match="2003"):
        CAL.is_working_day(date(2003, 6, 1))


def test_operators_add_a_year_to_the_data_file(tmp_path: Path) -> None:
    data = {
        "2027": {
            "published": True,
            "source": "test notice",
            "holidays": ["2027-01-01", "2027-01-04"],
            "workdays": ["2027-01-09"],
        },
        "2028": {"published": False, "holidays": [], "workdays": []},
    }
    path = tmp_path / "holidays.json"
    path.write_text(json.dumps(data), "utf-8")
    cal = GovernmentCalendar(load_year_data(path))
    assert cal.is_working_day(date(2027, 1, 4)) is False  # a listed Monday off
    assert cal.is_working_day(date(2027, 1, 9)) is True  # a listed Saturday worked
    assert cal.is_working_day(date(2027, 1, 10)) is False  # a plain Sunday
    assert cal.add_working_days(date(2026, 12, 31), 1) == date(2027, 1, 5)
    with pytest.raises(CalendarDataMissingError, match="2028"):
        cal.is_working_day(date(2028, 1, 3))


def test_the_shipped_data_file_loads_and_leaves_unpublished_years_unknown() -> None:
    years = load_year_data()
    assert all(year >= 2027 for year in years)
    assert GovernmentCalendar(years).covers(2026)


def test_a_data_file_listing_a_date_of_another_year_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"2027": {"published": True, "holidays": ["2028-01-01"]}}), "utf-8")
    with pytest.raises(ValueError, match="another year"):
        load_year_data(path)
