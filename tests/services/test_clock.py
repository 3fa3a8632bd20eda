"""DUCHA_CLOCK pins domain time for demos, tests and backfills."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from domain.values import CHINA_TZ
from services.cli import main
from services.clock import clock_from_env, parse_clock, system_clock


def test_a_date_is_that_day_in_china_at_the_current_time_of_day() -> None:
    clock = parse_clock("2026-03-02")
    first, second = clock(), clock()
    assert first.date() == date(2026, 3, 2) and first.utcoffset() == CHINA_TZ.utcoffset(None)
    assert second >= first  # successive commands stay in order


def test_a_datetime_is_exactly_that_instant_in_china_unless_an_offset_is_given() -> None:
    assert parse_clock("2026-03-02T10:30:00")() == datetime(2026, 3, 2, 10, 30, tzinfo=CHINA_TZ)
    assert parse_clock("2026-03-02T02:30:00+00:00")().astimezone(CHINA_TZ).hour == 10


def test_unset_is_the_system_clock_and_nonsense_is_refused() -> None:
    assert clock_from_env(None) is system_clock
    with pytest.raises(ValueError, match="DUCHA_CLOCK must be"):
        parse_clock("yesterday")


def test_the_cli_refuses_a_bad_clock_in_one_line(
    tmp_path: object, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DUCHA_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DUCHA_CLOCK", "2026-02-30")
    assert main(["offices", "list"]) == 1
    assert capsys.readouterr().err == (
        "error: DUCHA_CLOCK must be YYYY-MM-DD or an ISO datetime (got '2026-02-30')\n"
    )
