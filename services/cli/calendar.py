"""``ducha calendar``: the working-day calendar, provisional years and the annual notice. May
import: click, ``services.cli.common``, ``services.calendar`` and ``services.views``.
"""

from __future__ import annotations

import json
from datetime import date
from typing import TextIO

import click

from services.calendar import provisional_note
from services.cli.common import DATE, Context, emit_json, government_calendar, json_option, pass_ctx
from services.views import marked_deadline


# -- calendar ----------------------------------------------------------------------------
@click.group()
def calendar() -> None:
    """The Chinese government working-day calendar (holidays and 调休 make-up days)."""


@calendar.command("add-working-days")
@click.argument("day", metavar="DATE", type=DATE)
@click.argument("n", type=click.IntRange(min=0, max=3660))
def calendar_add(day: date, n: int) -> None:
    """Print the N-th working day after DATE (DATE itself does not count); '*' marks a day
    counted on the provisional calendar, explained on stderr."""
    result, years = government_calendar().reckon(day, n)
    click.echo(marked_deadline(result, bool(years)))
    if years:
        click.echo(provisional_note(years), err=True)


@calendar.command("is-working-day")
@click.argument("day", metavar="DATE", type=DATE)
def calendar_is_working_day(day: date) -> None:
    """Print yes or no; the exit code is 0 either way."""
    cal = government_calendar()
    click.echo("yes" if cal.is_working_day(day) else "no")
    if cal.is_provisional(day.year):
        click.echo(provisional_note([day.year]), err=True)


@calendar.command("working-days-between")
@click.argument("start", metavar="A", type=DATE)
@click.argument("end", metavar="B", type=DATE)
def calendar_between(start: date, end: date) -> None:
    """Print the number of working days after A up to and including B."""
    cal = government_calendar()
    click.echo(str(cal.working_days_between(start, end)))
    years = cal.provisional_years_between(min(start, end), max(start, end))
    if years:
        click.echo(provisional_note(years), err=True)


@calendar.command("add-year")
@click.argument("year", type=click.IntRange(2027, 2199))
@click.option(
    "--file",
    "notice_file",
    type=click.File("r", encoding="utf-8"),
    required=True,
    help='The notice as JSON (- for stdin): {"source": …, "holidays": […], "workdays": […]}.',
)
@json_option
@pass_ctx
def calendar_add_year(c: Context, year: int, notice_file: TextIO, as_json: bool) -> None:
    """Add YEAR's holiday notice and recompute, as events, the provisional deadlines it moves."""
    try:
        notice = json.load(notice_file)
    except json.JSONDecodeError as e:
        raise ValueError(f"{notice_file.name}: not JSON: {e}") from None
    added = c.platform.deadlines.add_year(year, notice, c.platform.settings.holidays_file)
    if as_json:
        emit_json(added.to_dict())
        return
    where = "written to" if added.written else "already in"
    click.echo(f"{year}: {added.source}, {where} {added.file}")
    for r in added.recomputed:
        click.echo(
            f"{r['office']:24} {r['id'][:8]} {r['kind']:4} {r['old_deadline']}* -> "
            f"{marked_deadline(r['new_deadline'], r['provisional'])} {r['title']}"
        )
    click.echo(f"recomputed {len(added.recomputed)} of {added.checked} open records checked")


@calendar.command("provisional")
@click.option("--office", metavar="CODE", help="Only this office.")
@json_option
@pass_ctx
def calendar_provisional(c: Context, office: str | None, as_json: bool) -> None:
    """Open records whose deadline is provisional (their year's notice is not yet published)."""
    if office:
        c.platform.registry.get(office)
    rows = c.platform.deadlines.provisional_records(office)
    if as_json:
        emit_json(rows)
        return
    for r in rows:
        click.echo(f"{r['office']:24} {r['id'][:8]} {r['kind']:4} {r['deadline']}* {r['title']}")
    years = {y for r in rows for y in r["provisional_years"]}
    if years:
        click.echo(provisional_note(years))


COMMANDS = [calendar]
