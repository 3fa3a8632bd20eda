"""The government calendar across Spring Festival, National Day and make-up working days."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import chinese_calendar
import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.calendar import (
    GovernmentCalendar,
    load_year_data,
    provisional_note,
    statutory_holidays,
)

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


def test_a_year_without_a_notice_is_counted_provisionally_never_an_error() -> None:
    # 2027 has no published notice: weekends and the statutory holidays, no make-up days.
    assert CAL.is_working_day(date(2027, 3, 1)) is True  # an ordinary Monday
    assert CAL.is_working_day(date(2027, 2, 5)) is False  # 除夕, a Friday
    assert CAL.is_working_day(date(2027, 2, 8)) is False  # 初三, a Monday
    assert CAL.is_working_day(date(2027, 2, 9)) is True  # no in-lieu day is guessed
    assert CAL.is_working_day(date(2027, 2, 20)) is False  # nor a make-up Saturday
    assert CAL.add_working_days(date(2026, 12, 1), 30) == date(2027, 1, 13)  # 元旦 skipped
    assert CAL.provisional_years_between(date(2026, 12, 1), date(2027, 1, 13)) == (2027,)
    assert CAL.working_days_between(date(2026, 12, 31), date(2027, 1, 4)) == 1
    assert CAL.is_working_day(date(2003, 6, 2)) is True  # before chinese-calendar too


def test_only_the_days_counted_make_a_result_provisional() -> None:
    assert CAL.provisional_years_between(date(2026, 3, 2), date(2026, 4, 14)) == ()
    assert CAL.provisional_years_between(date(2026, 12, 31), date(2026, 12, 31)) == ()
    assert CAL.provisional_years_between(date(2026, 12, 31), date(2027, 1, 1)) == (2027,)
    assert CAL.provisional_years_between(date(2027, 1, 4), date(2026, 12, 30)) == (2027,)
    assert CAL.provisional_years_between(date(2026, 12, 1), date(2028, 1, 3)) == (2027, 2028)
    assert CAL.is_provisional(2027) and not CAL.is_provisional(2026)
    assert "provisional" in CAL.source_of(2027) and CAL.source_of(2026) == "chinese-calendar"


def test_the_note_says_which_notices_are_awaited() -> None:
    assert provisional_note([2027]) == "provisional: the 2027 holiday notice is not yet published"
    assert provisional_note([2028, 2027, 2028]) == (
        "provisional: the 2027 and 2028 holiday notices are not yet published"
    )
    assert provisional_note([]) == ""


def test_the_provisional_holidays_of_2027_are_the_statutory_ones() -> None:
    """元旦 1, 春节 4 from 除夕, 清明 1, 劳动节 2, 端午 1, 中秋 1, 国庆 3: nothing in lieu."""
    assert sorted(statutory_holidays(2027)) == [
        date(2027, 1, 1),
        *(date(2027, 2, d) for d in (5, 6, 7, 8)),  # 除夕 and 初一–初三
        date(2027, 4, 5),
        date(2027, 5, 1),
        date(2027, 5, 2),
        date(2027, 6, 9),
        date(2027, 9, 15),
        *(date(2027, 10, d) for d in (1, 2, 3)),
    ]


@pytest.mark.parametrize("year", range(2025, 2101))
def test_the_statutory_holidays_follow_the_2024_rules(year: int) -> None:
    days = statutory_holidays(year)

    def within(a: date, b: date) -> list[date]:
        return sorted(d for d in days if a <= d <= b)

    assert {date(year, 1, 1), date(year, 5, 1), date(year, 5, 2)} <= days
    assert {date(year, 10, d) for d in (1, 2, 3)} <= days
    festival = within(date(year, 1, 20), date(year, 2, 21))
    assert len(festival) == 4 and (festival[-1] - festival[0]).days == 3  # 除夕 + 3
    assert len(within(date(year, 4, 4), date(year, 4, 6))) == 1  # 清明
    assert len(within(date(year, 5, 25), date(year, 6, 25))) == 1  # 端午
    mid_autumn = within(date(year, 9, 7), date(year, 10, 8))
    assert len(mid_autumn) in (3, 4)  # 中秋 may fall within 国庆
    assert len(days) == 13 - (len(mid_autumn) == 3)


@pytest.mark.parametrize("year", [2025, 2026])
def test_the_statutory_holidays_are_days_off_in_every_published_notice(year: int) -> None:
    """Checked against the notices themselves (chinese-calendar) for the years under the 2024
    amendment: each statutory holiday is a day off; the notices only add to them."""
    days = statutory_holidays(year)
    assert len(days) == 13
    assert all(chinese_calendar.is_holiday(d) for d in days)
    assert not any(CAL.is_working_day(d) for d in days)


def test_years_beyond_the_lunisolar_tables_count_weekends_and_never_fail() -> None:
    assert statutory_holidays(2101) == frozenset()
    assert CAL.is_working_day(date(2101, 1, 3)) is True  # a Monday
    assert CAL.add_working_days(date(9999, 12, 24), 4) == date(9999, 12, 30)
    with pytest.raises(ValueError, match="beyond the calendar"):
        CAL.add_working_days(date(9999, 12, 30), 5)


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
    assert cal.provisional_years_between(date(2026, 12, 31), date(2027, 12, 31)) == ()
    assert cal.source_of(2027) == "notice test notice"
    assert cal.is_working_day(date(2028, 1, 3)) is True  # 2028: provisional, a Monday
    assert cal.provisional_years_between(date(2027, 12, 31), date(2028, 1, 3)) == (2028,)


def test_the_shipped_data_file_loads_and_leaves_unpublished_years_unknown() -> None:
    years = load_year_data()
    assert all(year >= 2027 for year in years)
    assert GovernmentCalendar(years).covers(2026)


def test_a_data_file_listing_a_date_of_another_year_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"2027": {"published": True, "holidays": ["2028-01-01"]}}), "utf-8")
    with pytest.raises(ValueError, match="another year"):
        load_year_data(path)
