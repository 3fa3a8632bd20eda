"""Shared by every command group: option types, output helpers, the lazily built
platform (``Context``) and the actor a command records. Imports the services only.
May import: the standard library, click, psycopg and its pool (their errors, to say them in one
line), ``domain`` (errors, policy, values) and ``services`` (bootstrap, calendar, errors,
inputs, views).
"""

from __future__ import annotations

import getpass
import json
import os
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any
from uuid import UUID

import click
import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import PoolTimeout

from domain.errors import DomainError
from domain.policy import may, roles_for
from domain.values import ROLES, Actor
from services.bootstrap import Platform, Settings, build_platform
from services.calendar import GovernmentCalendar, provisional_note
from services.errors import NotFoundError, ServiceError
from services.inputs import (
    day_problem,
    instant_problem,
    parse_instant,
)
from services.views import CaseView, OfficeView, Page, marked_deadline

USER_ERRORS = (DomainError, ServiceError, ValueError)
DATABASE_ERRORS = (psycopg.Error, PoolTimeout)
"""Said in one line by ``database_problem``: a wrong host, port, password or right."""


class DateType(click.ParamType):  # type: ignore[type-arg]
    name = "DATE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> date:
        if isinstance(value, date):
            return value
        try:
            day = date.fromisoformat(str(value))
        except ValueError:
            self.fail(f"'{value}' is not a date in the form YYYY-MM-DD", param, ctx)
        problem = day_problem(day)
        if problem:
            self.fail(f"'{value}' {problem}", param, ctx)
        return day


DATE = DateType()


class InstantType(click.ParamType):  # type: ignore[type-arg]
    """YYYY-MM-DD (the end of that day in China, or its start for the first day of a range)
    or an ISO datetime (China time if naive)."""

    name = "DATETIME"

    def __init__(self, day_starts: bool = False) -> None:
        self.day_starts = day_starts

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> datetime:
        if isinstance(value, datetime):
            return value
        try:
            instant = parse_instant(str(value), self.day_starts)
        except ValueError as e:
            self.fail(str(e), param, ctx)
        problem = instant_problem(instant)
        if problem:
            self.fail(f"'{value}' {problem}", param, ctx)
        return instant


INSTANT = InstantType()
INSTANT_FROM = InstantType(day_starts=True)
as_of_option = click.option(
    "--as-of", type=INSTANT, help="Show it as it stood then (replayed from the stores)."
)


# -- output ------------------------------------------------------------------------------
def emit_json(value: Any) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2))


def show_case(case: CaseView) -> None:
    flags = [f for f, on in (("overdue", case.overdue), ("published", case.published)) if on]
    rows = [
        ("id", case.id),
        ("office", case.office),
        ("kind", case.kind),
        ("title", case.title),
        ("source", f"{case.source_kind} {case.source_ref} (issued {case.issued_on})"),
        ("objective", case.objective),
        ("content", case.content),
        ("executing unit", case.executing_unit),
        ("responsible", case.responsible_person),
        (
            "deadline",
            marked_deadline(case.deadline, case.deadline_provisional)
            + (f"  [{', '.join(flags)}]" if flags else ""),
        ),
        ("status", f"{case.status} ({case.progress_percent}%)"),
        ("rectification", case.rectification),
        ("version", str(case.version)),
    ]
    if case.pending_extension:
        rows.append(("extension asked", str(case.pending_extension)))
    for a in case.assignments:
        rows.append(("assigned", f"{a['role']} {a['kind']} {a['target']} by {a['deadline']}"))
    if case.parent:
        rows.append(("from", f"{case.parent['office']} {case.parent['id']}"))
    if case.deadline_provisional:
        rows.append(("", provisional_note(provisional_years_of([case.to_dict()]))))
    for label, value in rows:
        click.echo(f"{label:>15}: {value}")


def provisional_years_of(rows: list[dict[str, Any]]) -> set[int]:
    """The years (after the issue date, up to the deadline) of records marked provisional that
    the calendar counts provisionally: what a 'provisional: …' note names."""
    calendar = government_calendar()
    years: set[int] = set()
    for r in rows:
        if r.get("deadline_provisional"):
            issued, deadline = (date.fromisoformat(str(r[k])) for k in ("issued_on", "deadline"))
            years.update(calendar.provisional_years_between(issued, deadline) or (deadline.year,))
    return years


def case_line(case: CaseView | dict[str, Any]) -> str:
    c = case.to_dict() if isinstance(case, CaseView) else case
    mark = "!" if c["overdue"] else " "
    light = f"{c['light']:6} " if "light" in c else ""
    return (
        f"{c['id'][:8]} {c['kind']:4} {c['status']:19} {light}"
        f"{marked_deadline(c['deadline'], c.get('deadline_provisional', False))}{mark} "
        f"v{c['version']:<3} {c['title']}"
    )


def office_line(office: OfficeView) -> str:
    retired = " (retired)" if office.retired else ""
    return f"{office.code:24} {office.level:10} {office.parent or '-':24} {office.name}{retired}"


def emit_page(page: Page, as_json: bool, line: Callable[[Any], str]) -> None:
    if as_json:
        emit_json(page.to_dict())
        return
    for row in page.items:
        click.echo(line(row))
    shown = len(page.items)
    first = (page.page - 1) * page.per_page + 1 if shown else 0
    click.echo(f"-- {first}–{first + shown - 1 if shown else 0} of {page.total}", err=True)


# -- context -----------------------------------------------------------------------------
class Context:
    """Builds the platform on first use, so ``--help`` and ``calendar`` touch no store."""

    current: Context | None = None
    """The command's context, for the entry point to say which database failed it."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._platform: Platform | None = None
        Context.current = self

    @property
    def platform(self) -> Platform:
        if self._platform is None:
            self._platform = build_platform(self.settings)
        return self._platform

    def close(self) -> None:
        if self._platform is not None:
            self._platform.close()


pass_ctx = click.make_pass_decorator(Context)

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON.")
office_option = click.option(
    "--office", required=True, metavar="CODE", help="The office (tenant) acting or asked."
)
page_options = [
    click.option("--page", type=click.IntRange(min=1), default=1, show_default=True),
    click.option("--per-page", type=click.IntRange(1, 500), default=50, show_default=True),
]


def with_options(options: Sequence[Callable[[Any], Any]]) -> Callable[[Any], Any]:
    def decorate(f: Any) -> Any:
        for option in reversed(options):
            f = option(f)
        return f

    return decorate


class RoleError(click.UsageError):
    """The role claimed may not give this command (the same matrix as the HTTP API's)."""

    exit_code = 1


def acting(user: str, office: str, role: str, action: str) -> Actor:
    """The actor of a command, if its role may give it (``domain.policy``, as over HTTP)."""
    if not may(role, action):
        allowed = ", ".join(roles_for(action)) or "no role"
        raise RoleError(f"a {role} may not {action} (allowed: {allowed}; give --role)")
    return operator(user, office, role)


def operator(user: str, office: str, role: str) -> Actor:
    """An actor of the command line: the user it claims, and the operating-system account
    that really ran the command (``channel`` "cli")."""
    return Actor(user, office, role, channel="cli", os_user=os_user())


def os_user() -> str:
    """The operating-system account running this process (its uid where it has no name)."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no name for the uid, as in some containers
        return f"uid {os.getuid()}"


def actor_options(f: Any) -> Any:
    f = click.option(
        "--role",
        type=click.Choice(ROLES),
        default="supervisor",
        show_default=True,
        envvar="DUCHA_ROLE",
        help="Role the user acts in (env DUCHA_ROLE).",
    )(f)
    return click.option(
        "--user",
        default="cli",
        show_default=True,
        envvar="DUCHA_USER",
        help="User id recorded as the actor (env DUCHA_USER).",
    )(f)


def government_calendar() -> GovernmentCalendar:
    return GovernmentCalendar.from_file(Settings.from_env().holidays_file)


SHORT_ID = 6


def full_id(c: Context, office: str, given: str) -> str:
    """An id as given, or the one id of the office's records that begins with it (at least
    ``SHORT_ID`` characters, as ``items list`` prints them); an ambiguous prefix lists its
    matches."""
    try:
        return str(UUID(given))
    except ValueError:
        pass
    c.platform.registry.get(office)  # an unknown office is said so first
    if len(given) < SHORT_ID:
        raise NotFoundError(
            f"no item '{given}' in office '{office}' (give at least {SHORT_ID} characters)"
        )
    found = c.platform.views.ids_starting(office, given.lower())
    if not found:
        raise NotFoundError(f"no item '{given}' in office '{office}'")
    if len(found) > 1:
        raise ValueError(f"'{given}' is ambiguous in office '{office}': {', '.join(found)}")
    return found[0]


# -- database errors ---------------------------------------------------------------------
def database_problem(url: str | None, error: Exception) -> str:
    """One line for a database error: where, as whom (never the password) and why. A pool
    that timed out says no why: one direct connection is tried for it."""
    where = database_where(url)
    if isinstance(error, PoolTimeout | psycopg.OperationalError):
        why = connect_problem(url) if isinstance(error, PoolTimeout) else first_line(error)
        return f"cannot reach the database at {where}: {redacted(why or str(error), url)}"
    diag = getattr(error, "diag", None)
    said = getattr(diag, "message_primary", None) or first_line(error)
    return f"the database at {where} refused: {redacted(said, url)}"


def database_where(url: str | None) -> str:
    try:
        info = conninfo_to_dict(url or "")
    except psycopg.Error:
        return "(an unreadable DUCHA_DATABASE_URL)"
    host = str(info.get("host") or os.environ.get("PGHOST") or "localhost")
    port = str(info.get("port") or os.environ.get("PGPORT") or "5432")
    role = str(info.get("user") or os.environ.get("PGUSER") or os_user())
    return f"{host}:{port} as {role}"


def connect_problem(url: str | None) -> str | None:
    """Why one direct connection fails (None: it does not; the pool was only busy)."""
    try:
        psycopg.connect(url or "", connect_timeout=3).close()
    except psycopg.Error as e:
        return first_line(e)
    return None


def first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def redacted(text: str, url: str | None) -> str:
    try:
        password = str(conninfo_to_dict(url or "").get("password") or "")
    except psycopg.Error:
        password = ""
    return text.replace(password, "***") if password else text
