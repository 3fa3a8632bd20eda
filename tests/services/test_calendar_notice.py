"""Adding a year's holiday notice: validated, written into the data file, followed by readers."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from services.calendar import (
    DEFAULT_DATA_FILE,
    GovernmentCalendar,
    HolidayFileError,
    NoticeError,
    YearData,
    load_year_data,
    parse_notice,
    write_year,
)
from services.views import marked_deadline

NOTICE: dict[str, Any] = {
    "source": "国办发明电〔2026〕9号",
    "holidays": ["2027-01-01", "2027-02-05", "2027-02-06", "2027-02-07", "2027-02-08"],
    "workdays": ["2027-02-20"],
}


def problems(year: int, notice: object) -> list[str]:
    with pytest.raises(NoticeError) as raised:
        parse_notice(year, notice)
    assert str(year) in str(raised.value)
    return raised.value.problems


def test_a_notice_parses_bare_or_as_the_data_files_entry() -> None:
    data = parse_notice(2027, NOTICE)
    assert data == parse_notice(2027, {"2027": {"published": True, **NOTICE}})
    assert data == parse_notice(2027, {"_comment": "…", "2026": {}, "2027": NOTICE})
    assert date(2027, 2, 20) in data.workdays and len(data.holidays) == 5
    assert data.source == "国办发明电〔2026〕9号"


@pytest.mark.parametrize(
    ("notice", "expected"),
    [
        (
            {**NOTICE, "holidays": ["2028-01-01"]},
            "'holidays' lists 2028-01-01, which is not in 2027",
        ),
        ({**NOTICE, "workdays": ["2027-02-06"], "holidays": ["2027-02-06"]}, "both as a day off"),
        ({**NOTICE, "source": "  "}, "'source' must cite the notice"),
        ({k: v for k, v in NOTICE.items() if k != "source"}, "'source' must cite the notice"),
        ({**NOTICE, "workdays": ["2027-02-17"]}, "2027-02-17 is a Wednesday"),
        ({**NOTICE, "holidays": ["2027-2-5"]}, "'2027-2-5', which is not a date"),
        ({**NOTICE, "holidays": "2027-02-05"}, "'holidays' must be a list"),
        ({**NOTICE, "holidays": []}, "'holidays' lists no day"),
        ({**NOTICE, "published": False}, "'published' must be true"),
        ({**NOTICE, "holiday": []}, "unknown field 'holiday'"),
        ({"2028": NOTICE}, "the file is for 2028, not 2027"),
        ([NOTICE], "must be a JSON object"),
    ],
)
def test_a_bad_notice_is_refused_naming_what_is_wrong(notice: object, expected: str) -> None:
    assert any(expected in p for p in problems(2027, notice)), problems(2027, notice)


def test_every_problem_is_named_at_once_and_years_of_the_library_are_refused() -> None:
    found = problems(2027, {"holidays": ["2026-12-31"], "workdays": ["2027-02-17"]})
    assert len(found) == 3  # the source, the other year's day, the weekday "worked"
    assert "chinese-calendar" in problems(2026, NOTICE)[0]


def test_writing_a_year_keeps_the_rest_of_the_file_and_is_idempotent(tmp_path: Path) -> None:
    path = tmp_path / "holidays.json"
    shutil.copy(DEFAULT_DATA_FILE, path)
    data = parse_notice(2027, NOTICE)
    assert write_year(path, 2027, data) is True
    assert write_year(path, 2027, data) is False  # the same notice again: nothing to write
    document = json.loads(path.read_text("utf-8"))
    assert "_comment" in document and document["2027"]["published"] is True
    assert load_year_data(path) == {2027: data}
    assert [p.name for p in tmp_path.iterdir()] == ["holidays.json"]  # no temporary left


def test_a_calendar_following_its_file_sees_a_year_added_by_another_process(
    tmp_path: Path,
) -> None:
    path = tmp_path / "holidays.json"
    shutil.copy(DEFAULT_DATA_FILE, path)
    calendar = GovernmentCalendar.from_file(path)
    assert calendar.add_working_days(date(2027, 1, 20), 30) == date(2027, 3, 5)
    assert calendar.refresh() is False
    write_year(path, 2027, parse_notice(2027, NOTICE))  # as ``ducha calendar add-year`` would
    assert calendar.refresh() is True
    assert calendar.add_working_days(date(2027, 1, 20), 30) == date(2027, 3, 4)
    assert calendar.provisional_years_between(date(2027, 1, 20), date(2027, 3, 4)) == ()


def test_publishing_a_year_in_memory_clears_what_was_counted_before() -> None:
    calendar = GovernmentCalendar({})
    assert calendar.is_working_day(date(2027, 2, 20)) is False
    calendar.publish(2027, YearData(frozenset(), frozenset({date(2027, 2, 20)}), "test"))
    assert calendar.is_working_day(date(2027, 2, 20)) is True
    assert calendar.covers(2027)


def test_a_data_file_that_cannot_be_written_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-folder" / "holidays.json"
    with pytest.raises(HolidayFileError, match="no-such-folder"):
        write_year(missing, 2027, parse_notice(2027, NOTICE))


def test_the_words_shown_with_a_provisional_deadline() -> None:
    calendar = GovernmentCalendar({})
    assert calendar.deadline_note(date(2026, 12, 1), date(2027, 1, 13), True) == (
        "provisional: the 2027 holiday notice is not yet published"
    )
    assert calendar.deadline_note(date(2026, 12, 1), date(2027, 1, 13), False) == ""
    assert marked_deadline(date(2027, 1, 13), True) == "2027-01-13*"
    assert marked_deadline("2027-01-13", False) == "2027-01-13"
