"""``ducha``: the command line. Commands translate options into one service call each.

A rule violation or bad input prints one line to stderr and exits non-zero; nothing is recorded.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any, TextIO

import click

from domain.errors import DomainError, InvalidFieldError
from domain.lights import AWAITING_WORK
from domain.policy import may, roles_for
from domain.users import USER_ROLES
from domain.values import OFFICE_LEVELS, ROLES, SOURCE_KINDS, Actor, business_date
from services.actions import assign_params, attachments, registration_warnings
from services.bootstrap import Platform, Settings, build_platform
from services.calendar import GovernmentCalendar, provisional_note
from services.errors import NotFoundError, ServiceError
from services.inputs import (
    argument_problem,
    china_time,
    day_problem,
    instant_problem,
    parse_instant,
)
from services.supervision import ACTIONS, NewItem
from services.users import UserDirectory
from services.views import CaseView, OfficeView, Page, marked_deadline, paginate, plain

USER_ERRORS = (DomainError, ServiceError, ValueError)


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

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._platform: Platform | None = None

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
    return Actor(user, office, role)


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


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="DUCHA_DATA_DIR",
    help="Where the SQLite stores live (env DUCHA_DATA_DIR, default ./var).",
)
@click.option(
    "--database-url",
    envvar="DUCHA_DATABASE_URL",
    metavar="URL",
    help="postgresql://… to use PostgreSQL, one schema per office (env DUCHA_DATABASE_URL).",
)
@click.version_option(package_name="ducha", prog_name="ducha", message="%(prog)s %(version)s")
@click.pass_context
def cli(ctx: click.Context, data_dir: Path | None, database_url: str | None) -> None:
    """Ducha (督查): supervision items, tasks and offices, one event store per office.

    Domain time is the system clock unless DUCHA_CLOCK pins it (YYYY-MM-DD or an ISO datetime).
    """
    context = Context(Settings.from_env(data_dir=data_dir, database_url=database_url))
    ctx.obj = context
    ctx.call_on_close(context.close)


# -- offices -----------------------------------------------------------------------------
@cli.group()
def offices() -> None:
    """Register offices and walk the hierarchy."""


def registry_actor(user: str) -> Actor:
    return Actor(user, "platform", "admin")


@offices.command("add")
@click.argument("code")
@click.option("--name", required=True, help="The office's Chinese name, e.g. 甘肃省人民政府办公厅.")
@click.option("--level", required=True, type=click.Choice(OFFICE_LEVELS))
@click.option("--parent", metavar="CODE", help="The superior office (none only for the root).")
@click.option("--user", default="cli", envvar="DUCHA_USER", show_default=True)
@json_option
@pass_ctx
def offices_add(
    c: Context, code: str, name: str, level: str, parent: str | None, user: str, as_json: bool
) -> None:
    """Register office CODE (2–40 lower-case letters, digits, '-') and provision its store."""
    office = c.platform.registry.register(registry_actor(user), code, name, level, parent)
    emit_json(office.to_dict()) if as_json else click.echo(office_line(office))


@offices.command("list")
@with_options(page_options)
@json_option
@pass_ctx
def offices_list(c: Context, page: int, per_page: int, as_json: bool) -> None:
    """Every office, top-down."""
    emit_page(paginate(c.platform.registry.all(), page, per_page), as_json, office_line)


@offices.command("show")
@click.argument("code")
@json_option
@pass_ctx
def offices_show(c: Context, code: str, as_json: bool) -> None:
    """One office, with its parent chain and children."""
    registry = c.platform.registry
    office = registry.get(code)
    ancestors = [o.code for o in registry.ancestors(code)]
    children = [o.code for o in registry.children(code)]
    if as_json:
        emit_json({**office.to_dict(), "ancestors": ancestors, "children": children})
        return
    click.echo(office_line(office))
    click.echo(f"  ancestors: {' → '.join(ancestors) or '-'}")
    click.echo(f"  children:  {', '.join(children) or '-'}")


def hierarchy_command(name: str, query: str, doc: str) -> None:
    @offices.command(name, help=doc)
    @click.argument("code")
    @json_option
    @pass_ctx
    def command(c: Context, code: str, as_json: bool) -> None:
        found: list[OfficeView] = getattr(c.platform.registry, query)(code)
        if as_json:
            emit_json([o.to_dict() for o in found])
        for o in [] if as_json else found:
            click.echo(office_line(o))


hierarchy_command("children", "children", "The offices directly below CODE.")
hierarchy_command("ancestors", "ancestors", "The offices above CODE, nearest first.")
hierarchy_command("descendants", "descendants", "Every office below CODE, breadth-first.")


@offices.command("rename")
@click.argument("code")
@click.option("--name", required=True)
@click.option("--user", default="cli", envvar="DUCHA_USER", show_default=True)
@pass_ctx
def offices_rename(c: Context, code: str, name: str, user: str) -> None:
    """Give office CODE a new name (its code never changes)."""
    click.echo(office_line(c.platform.registry.rename(registry_actor(user), code, name)))


@offices.command("retire")
@click.argument("code")
@click.option("--reason", required=True)
@click.option("--user", default="cli", envvar="DUCHA_USER", show_default=True)
@pass_ctx
def offices_retire(c: Context, code: str, reason: str, user: str) -> None:
    """Retire office CODE (only once every office below it is retired)."""
    click.echo(office_line(c.platform.registry.retire(registry_actor(user), code, reason)))


# -- items -------------------------------------------------------------------------------
@cli.group()
def items() -> None:
    """Register supervision items and act on items and tasks."""


@items.command("register")
@office_option
@click.option("--title", required=True)
@click.option("--source-kind", required=True, type=click.Choice(SOURCE_KINDS))
@click.option("--source-ref", required=True, help="文号 / 会议纪要号 / 批示编号.")
@click.option("--issued-on", required=True, type=DATE)
@click.option("--objective", required=True, help="目标任务.")
@click.option("--content", required=True, help="工作内容.")
@click.option("--executing-unit", required=True, help="执行单位.")
@click.option("--responsible", required=True, help="责任人.")
@click.option("--deadline", type=DATE, help="完成时限; an instruction defaults to 30 working days.")
@click.option("--importance", type=click.IntRange(1, 5), default=3, show_default=True)
@click.option("--urgency", type=click.IntRange(1, 5), default=3, show_default=True)
@actor_options
@json_option
@pass_ctx
def items_register(
    c: Context, /, office: str, user: str, role: str, as_json: bool, **f: Any
) -> None:
    """Register (立项) a supervision item with its five elements."""
    new = NewItem(
        title=f["title"],
        source_kind=f["source_kind"],
        source_ref=f["source_ref"],
        issued_on=f["issued_on"],
        objective=f["objective"],
        content=f["content"],
        executing_unit=f["executing_unit"],
        responsible_person=f["responsible"],
        deadline=f["deadline"],
        importance=f["importance"],
        urgency=f["urgency"],
    )
    platform = c.platform
    case = platform.supervision.register_item(acting(user, office, role, "register"), office, new)
    for warning in registration_warnings(case.deadline, business_date(platform.clock())):
        click.echo(f"warning: {warning}", err=True)
    emit_json(case.to_dict()) if as_json else show_case(case)


@items.command("show")
@office_option
@click.argument("item_id", metavar="ID")
@as_of_option
@json_option
@pass_ctx
def items_show(
    c: Context, office: str, item_id: str, as_of: datetime | None, as_json: bool
) -> None:
    """One item or task as it stands now (or stood at --as-of)."""
    s = c.platform.supervision
    case = s.get_as_of(office, item_id, as_of) if as_of else s.get(office, item_id)
    emit_json(case.to_dict()) if as_json else show_case(case)


@items.command("list")
@office_option
@click.option(
    "--status", type=click.Choice([*AWAITING_WORK, "completion_reported", "completed", "closed"])
)
@click.option("--light", "light_", type=click.Choice(["green", "yellow", "red"]))
@click.option("--source-kind", type=click.Choice(SOURCE_KINDS))
@click.option("--kind", type=click.Choice(["item", "task"]))
@click.option("--importance", type=click.IntRange(1, 5))
@click.option("--urgency", type=click.IntRange(1, 5))
@click.option("--assignee", metavar="CODE|UNIT", help="Assigned to this office or unit.")
@click.option("--text", help="Words in the title, objective, content or source reference.")
@with_options(page_options)
@json_option
@pass_ctx
def items_list(c: Context, /, office: str, as_json: bool, **filters: Any) -> None:
    """The office's items and tasks, oldest first, with their light ('!' marks overdue)."""
    c.platform.registry.get(office)
    page = c.platform.views.items(office, **filters)
    emit_page(page, as_json, case_line)
    years = provisional_years_of(page.items)
    if years and not as_json:
        click.echo(provisional_note(years), err=True)


@items.command("history")
@office_option
@click.argument("item_id", metavar="ID")
@json_option
@pass_ctx
def items_history(c: Context, office: str, item_id: str, as_json: bool) -> None:
    """Every event of an item or task: type, time, actor and data."""
    events = c.platform.supervision.history(office, item_id)
    if as_json:
        emit_json([e.to_dict() for e in events])
        return
    for e in events:
        actor = f"{e.actor['user_id']}@{e.actor['office']}/{e.actor['role']}"
        data = json.dumps(e.to_dict()["data"], ensure_ascii=False)
        click.echo(f"v{e.version:<3} {china_time(e.time)} {e.type:22} {actor}")
        click.echo(f"     {data}")


def assign_options(o: dict[str, Any]) -> dict[str, Any]:
    try:
        return assign_params(
            o["to"], o["to_unit"], o["co"], o["co_unit"], o["deadline"], o["responsible"]
        )
    except InvalidFieldError:
        raise click.UsageError(
            "name the lead with exactly one of --to CODE or --to-unit NAME"
        ) from None


def required(name: str, *more: str, **kw: Any) -> Callable[[Any], Any]:
    return click.option(name, *more, required=True, **kw)


ASSIGNEE_HELP = "Decide a subordinate office's request (its task is told), not this record's own."
assignee_option = click.option("--assignee", default="", metavar="CODE", help=ASSIGNEE_HELP)
ACTION_SPECS: dict[str, tuple[str, list[Any], Callable[[dict[str, Any]], dict[str, Any]]]] = {
    "assign": (
        "交办: assign to a subordinate office or an internal unit (one lead, any co-executors).",
        [
            click.option("--to", metavar="CODE", help="Lead office (a descendant office)."),
            click.option("--to-unit", metavar="NAME", help="Lead internal unit."),
            click.option("--co", metavar="CODE", multiple=True, help="Co-executing office."),
            click.option("--co-unit", metavar="NAME", multiple=True, help="Co-executing unit."),
            click.option("--deadline", type=DATE, help="Defaults to the item's deadline."),
            click.option("--responsible", help="The assignee's responsible person."),
        ],
        assign_options,
    ),
    "acknowledge": ("签收: acknowledge receipt (once).", [], lambda o: {}),
    "report-progress": (
        "进展报告: report progress.",
        [
            required("--text"),
            click.option("--percent", type=click.IntRange(0, 100), required=True),
            click.option("--attachment", multiple=True, metavar="NAME"),
        ],
        lambda o: {
            "text": o["text"],
            "percent": o["percent"],
            "attachments": attachments(o["attachment"]),
        },
    ),
    "report-completion": (
        "办结报告: report completion.",
        [required("--text"), click.option("--attachment", multiple=True)],
        lambda o: {"text": o["text"], "attachments": attachments(o["attachment"])},
    ),
    "accept-completion": (
        "审核通过: the assigning office accepts the completion.",
        [
            click.option("--comment", default=""),
            assignee_option,
        ],
        lambda o: dict(o),
    ),
    "return-completion": (
        "退回: the assigning office returns the completion for more work.",
        [
            required("--reason"),
            assignee_option,
        ],
        lambda o: dict(o),
    ),
    "request-extension": (
        "申请延期: on or before the deadline, with a reason.",
        [
            click.option("--new-deadline", type=DATE, required=True),
            required("--reason"),
            click.option("--progress", default="", help="Progress so far."),
        ],
        lambda o: {
            "new_deadline": o["new_deadline"],
            "reason": o["reason"],
            "progress": o["progress"],
        },
    ),
    "grant-extension": (
        "批准延期: the assigning office moves the deadline later.",
        [
            click.option("--new-deadline", type=DATE, help="Defaults to the date asked for."),
            click.option("--comment", default=""),
            assignee_option,
        ],
        lambda o: dict(o),
    ),
    "deny-extension": (
        "不予延期: the deadline stays.",
        [
            required("--reason"),
            assignee_option,
        ],
        lambda o: dict(o),
    ),
    "urge": ("催办: urge.", [required("--message")], lambda o: dict(o)),
    "escalate": (
        "督办: escalate to a higher level or a leader.",
        [required("--to", "to", help="Whom to."), required("--reason")],
        lambda o: {"to": o["to"], "reason": o["reason"]},
    ),
    "commend": ("表彰: commend.", [required("--reason")], lambda o: dict(o)),
    "order-rectification": (
        "督促整改: the assigning office orders rectification.",
        [required("--requirements"), click.option("--deadline", type=DATE)],
        lambda o: {"requirements": o["requirements"], "deadline": o["deadline"]},
    ),
    "report-rectification": (
        "整改报告: report the rectification.",
        [required("--text")],
        lambda o: dict(o),
    ),
    "accept-rectification": (
        "整改验收: the assigning office accepts the rectification.",
        [click.option("--comment", default="")],
        lambda o: dict(o),
    ),
    "close": (
        "销号: close after an accepted completion, or by a leader's decision with a reason.",
        [
            click.option("--reason", default=""),
            click.option(
                "--leader-closure", is_flag=True, help="A leader closes it (needs --role leader)."
            ),
        ],
        lambda o: {"reason": o["reason"], "leader_closure": o["leader_closure"]},
    ),
    "reopen": ("重新打开: reopen a closed item.", [required("--reason")], dict),
    "publish": (
        "公开: publish a summary on the public page.",
        [required("--summary")],
        lambda o: dict(o),
    ),
    "unpublish": ("撤回公开: withdraw it.", [required("--reason")], lambda o: dict(o)),
    "record-finding": (
        "经验与问题: record a typical experience or problem, with a recommendation.",
        [
            click.option("--kind", type=click.Choice(["experience", "problem"]), required=True),
            required("--text"),
            click.option("--recommendation", default=""),
        ],
        lambda o: {"kind": o["kind"], "text": o["text"], "recommendation": o["recommendation"]},
    ),
}
assert set(ACTION_SPECS) == set(ACTIONS), "every domain action has a CLI command"


def action_command(action: str) -> None:
    doc, options, to_params = ACTION_SPECS[action]

    @items.command(action, help=doc)
    @office_option
    @click.argument("item_id", metavar="ID")
    @with_options(options)
    @click.option(
        "--expected-version",
        type=int,
        help="Refuse (conflict) unless the item is still at this version.",
    )
    @actor_options
    @json_option
    @pass_ctx
    def command(
        c: Context,
        /,
        office: str,
        item_id: str,
        expected_version: int | None,
        user: str,
        role: str,
        as_json: bool,
        **options: Any,
    ) -> None:
        case = c.platform.supervision.act(
            acting(user, office, role, action),
            office,
            item_id,
            action,
            expected_version,
            **to_params(options),
        )
        emit_json(case.to_dict()) if as_json else click.echo(case_line(case))


for _action in ACTION_SPECS:
    action_command(_action)


# -- circulars ---------------------------------------------------------------------------
@cli.group()
def circulars() -> None:
    """Issue circulars (通报)."""


@circulars.command("issue")
@office_option
@click.option("--title", required=True)
@click.option("--scope", required=True, help="Who it is circulated to.")
@click.option("--text", required=True)
@click.option("--commend", "commended", multiple=True, metavar="UNIT")
@click.option("--criticise", "criticised", multiple=True, metavar="UNIT")
@actor_options
@json_option
@pass_ctx
def circulars_issue(
    c: Context, /, office: str, user: str, role: str, as_json: bool, **f: Any
) -> None:
    """Issue a circular naming commended and criticised units."""
    issued = c.platform.supervision.issue_circular(
        acting(user, office, role, "issue-circular"),
        office,
        f["title"],
        f["scope"],
        f["text"],
        list(f["commended"]),
        list(f["criticised"]),
    )
    emit_json(issued) if as_json else click.echo(f"{issued['id']} {issued['title']}")


# -- calendar ----------------------------------------------------------------------------
@cli.group()
def calendar() -> None:
    """The Chinese government working-day calendar (holidays and 调休 make-up days)."""


def government_calendar() -> GovernmentCalendar:
    return GovernmentCalendar.from_file(Settings.from_env().holidays_file)


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


# -- demo and run ------------------------------------------------------------------------
@cli.command("demo")
@pass_ctx
def demo_command(c: Context) -> None:
    """Seed the realistic demo (offices, items at every stage); seeding twice adds nothing."""
    from services.demo import seed

    summary = seed(c.platform, progress=True)
    click.echo(f"demo: {summary.offices} offices, {summary.items} items and tasks")


@cli.command("run")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, type=int, show_default=True)
@pass_ctx
def run_command(c: Context, host: str, port: int) -> None:
    """Seed the demo into an empty store, print the demo users' tokens, and serve the API."""
    from services.demo import seed, seed_users

    platform = c.platform
    if not platform.registry.all():
        seed(platform, progress=True)
    tokens = seed_users(UserDirectory(platform.registry, platform.clock), demo_tokens_file(c))
    click.echo(f"demo users (tokens kept in {demo_tokens_file(c)}):")
    for t in tokens:
        click.echo(f"  {t['office']:14} {t['role']:10} {t['name']}\n      {t['token']}")
    click.echo(
        f"try: curl -H 'Authorization: Bearer {tokens[1]['token']}' "
        f"http://{host}:{port}/api/v1/offices/state-council/items"
    )
    serve(c, host, port, workers=1)


def demo_tokens_file(c: Context) -> Path:
    return c.settings.data_dir / "demo-tokens.json"


@cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, type=int, show_default=True)
@click.option(
    "--workers",
    default=1,
    type=click.IntRange(1, 64),
    show_default=True,
    help="Processes (each with --threads threads).",
)
@click.option("--threads", default=8, type=click.IntRange(1, 256), show_default=True)
@pass_ctx
def serve_command(c: Context, host: str, port: int, workers: int, threads: int) -> None:
    """Serve the HTTP API (/api/v1, docs at /api/v1/docs) under gunicorn."""
    serve(c, host, port, workers, threads)


def serve(c: Context, host: str, port: int, workers: int, threads: int = 8) -> None:
    from services.http.server import run_server

    c.close()  # each worker builds its own platform
    click.echo(f"serving on http://{host}:{port}/api/v1 (docs: http://{host}:{port}/api/v1/docs)")
    run_server(c.settings, host, port, workers, threads)


# -- users -------------------------------------------------------------------------------
@cli.group()
def users() -> None:
    """API users and their tokens (only a hash of each token is kept)."""


def directory(c: Context) -> UserDirectory:
    return UserDirectory(c.platform.registry, c.platform.clock)


@users.command("add")
@office_option
@click.option("--role", required=True, type=click.Choice(USER_ROLES))
@click.option("--name", required=True, help="The person's name, e.g. 张三.")
@click.option("--by", "by_user", default="cli", show_default=True, help="Who grants it.")
@pass_ctx
def users_add(c: Context, office: str, role: str, name: str, by_user: str) -> None:
    """Grant access: prints the new token alone on stdout, once (the id goes to stderr)."""
    user, token = directory(c).add(Actor(by_user, office, "admin"), office, role, name)
    click.echo(f"user {user.id} ({user.office} {user.role} {user.name}); its token:", err=True)
    click.echo(token)


@users.command("revoke")
@click.argument("user_id", metavar="ID")
@click.option("--reason", required=True)
@click.option("--by", "by_user", default="cli", show_default=True)
@pass_ctx
def users_revoke(c: Context, user_id: str, reason: str, by_user: str) -> None:
    """Revoke a user's access at once, in every process."""
    d = directory(c)
    user = d.get(user_id)
    d.revoke(Actor(by_user, user.office, "admin"), user_id, reason)
    click.echo(f"revoked {user.id} ({user.office} {user.role} {user.name})")


@users.command("list")
@click.option("--office", default=None, help="Only this office's users.")
@json_option
@pass_ctx
def users_list(c: Context, office: str | None, as_json: bool) -> None:
    """Users (never their tokens)."""
    found = directory(c).list(office)
    if as_json:
        emit_json([u.to_dict() for u in found])
        return
    for u in found:
        click.echo(
            f"{u.id}  {u.office:14} {u.role:10} {u.name}" + ("  (revoked)" if u.revoked else "")
        )


# -- read side ---------------------------------------------------------------------------
def views_for(c: Context, office: str, as_of: datetime | None, root: str | None = None) -> Any:
    """The live read models, or those of ``root``'s subtree replayed up to ``as_of``."""
    platform = c.platform
    platform.registry.get(office)
    if as_of is None:
        return platform.views
    top = root or office
    offices = [top, *[o.code for o in platform.registry.descendants(top)]]
    return platform.as_of(as_of, offices)


def print_tree(node: dict[str, Any], depth: int = 0) -> None:
    click.echo(
        f"{'  ' * depth}{node['office']} {node['id'][:8]} {node['status']} {node['light']} "
        f"{marked_deadline(node['deadline'], node.get('deadline_provisional', False))} "
        f"{node['unit']} / {node['responsible_person']}"
        + (f" — {node['last_report']}" if node["last_report"] else "")
    )
    for child in node["children"]:
        print_tree(child, depth + 1)


@cli.command("tree")
@office_option
@click.argument("item_id", metavar="ID")
@as_of_option
@json_option
@pass_ctx
def tree_command(
    c: Context, office: str, item_id: str, as_of: datetime | None, as_json: bool
) -> None:
    """The responsibility tree of an item or task, across offices, from its root item."""
    found = c.platform.views.item(office, item_id)
    if found is None:
        raise NotFoundError(f"no item '{item_id}' in office '{office}'")
    views = views_for(c, office, as_of, root=found["root"]["office"])
    tree = views.tree(office, item_id)
    if tree is None:
        raise NotFoundError(f"no item '{item_id}' in office '{office}' at that time")
    emit_json(tree) if as_json else print_tree(tree)


@cli.command("rollup")
@office_option
@as_of_option
@json_option
@pass_ctx
def rollup_command(c: Context, office: str, as_of: datetime | None, as_json: bool) -> None:
    """Counts for an office and all its descendants: status, light, on-time rate, …"""
    r = views_for(c, office, as_of).rollup(office)
    if as_json:
        emit_json(r)
        return
    rate = "-" if r["on_time_rate"] is None else f"{r['on_time_rate']:.0%}"
    click.echo(f"{office} on {r['on']}: {r['total']} records, {r['overdue']} overdue")
    click.echo(f"  lights:    {r['by_light']}")
    click.echo(f"  status:    {r['by_status']}")
    click.echo(
        f"  completed: {r['completed']} (on time {rate}, mean "
        f"{r['mean_working_days_to_completion']} working days)"
    )
    click.echo(f"  by source: {r['by_source_kind']}")
    click.echo(f"  by month:  {r['by_month']}")


@cli.command("circular")
@office_option
@json_option
@pass_ctx
def circular_command(c: Context, office: str, as_json: bool) -> None:
    """通报: the office's subordinates ranked by on-time rate, commended, under rectification."""
    r = views_for(c, office, None).circular(office)
    if as_json:
        emit_json(r)
        return
    for e in r["ranking"]:
        rate = "-" if e["on_time_rate"] is None else f"{e['on_time_rate']:.0%}"
        flags = " 表彰" * bool(e["commended"]) + " 整改中" * bool(e["under_rectification"])
        click.echo(
            f"{e['rank']:>3}. {e['name']} ({e['office']}) on time {rate}, "
            f"{e['overdue']} overdue{flags}"
        )


@cli.group("audit")
def audit() -> None:
    """Audit trails."""


@audit.command("trail")
@office_option
@click.option("--item", "record_id", metavar="ID", help="Only this item or task.")
@click.option(
    "--from", "start", type=INSTANT_FROM, help="From this instant (or the start of this day)."
)
@click.option("--to", "end", type=INSTANT, help="Up to this instant (or the end of this day).")
@click.option("--actor", metavar="USER", help="Only this user's events.")
@click.option("--type", "type_", metavar="TYPE", help="Only this event type, e.g. Urged.")
@with_options(page_options)
@json_option
@pass_ctx
def audit_trail(c: Context, /, office: str, as_json: bool, **filters: Any) -> None:
    """Every event of an office: when, who, what, in order."""
    c.platform.registry.get(office)
    page = c.platform.views.audit(office, **filters)
    emit_page(
        page,
        as_json,
        lambda r: (
            f"{r['position']:>6} {china_time(r['time'])} {r['type']:22} "
            f"{r['actor_user']}/{r['actor_role']} {r['record_id'][:8]} {r['summary']}"
        ),
    )


@cli.group("projections")
def projections_group() -> None:
    """Read models: rebuild them from the stores."""


@projections_group.command("rebuild")
@click.argument("name", required=False, type=click.Choice(["items", "audit", "rollup"]))
@click.option("--office", metavar="CODE", help="Only the rows built from this office's events.")
@pass_ctx
def projections_rebuild(c: Context, name: str | None, office: str | None) -> None:
    """Drop a projection (or all) and rebuild it from the event stores."""
    platform = c.platform
    if office:
        platform.registry.get(office)
    offices = [office] if office else [o.code for o in platform.registry.all()]
    total = sum(platform.backend.store(o).recorder.max_notification_id() or 0 for o in offices)
    with click.progressbar(length=total, label="rebuilding", file=sys.stderr) as bar:
        applied = platform.runner.rebuild([name] if name else None, office, bar.update)
    click.echo(f"rebuilt {name or 'all projections'}: {applied} events")


@offices.command("policy")
@click.argument("code")
@click.option(
    "--escalate/--no-escalate", default=True, show_default=True, help="Escalate when overdue."
)
@click.option(
    "--grace",
    type=click.IntRange(0, 60),
    default=0,
    show_default=True,
    help="Working days overdue before escalating.",
)
@click.option("--user", default="cli", envvar="DUCHA_USER", show_default=True)
@json_option
@pass_ctx
def offices_policy(
    c: Context, code: str, escalate: bool, grace: int, user: str, as_json: bool
) -> None:
    """Set how the deadline engine treats office CODE's overdue records."""
    office = c.platform.registry.set_deadline_policy(registry_actor(user), code, escalate, grace)
    if as_json:
        emit_json(office.to_dict())
        return
    click.echo(f"{code}: escalate {'on' if escalate else 'off'}, grace {grace} working days")


@cli.group("deadlines")
def deadlines() -> None:
    """The deadline engine: urge at yellow, escalate at red (once each)."""


@deadlines.command("run")
@click.option("--on", "day", type=DATE, help="Check as of this day (default: today).")
@click.option("--office", metavar="CODE", help="Only this office.")
@json_option
@pass_ctx
def deadlines_run(c: Context, day: date | None, office: str | None, as_json: bool) -> None:
    """Urge records with ≤ 3 working days left; escalate overdue ones to the assigning office."""
    if office:
        c.platform.registry.get(office)
    report = c.platform.deadlines.run(day, office)
    if as_json:
        emit_json(plain(report))
        return
    extra = f" ({report.provisional} on the provisional calendar)" if report.provisional else ""
    if report.recomputed:
        extra += f", recomputed {report.recomputed} deadlines"
    click.echo(
        f"{report.on}: checked {report.checked}, urged {report.urged}, "
        f"escalated {report.escalated}{extra}"
    )


@cli.group("relay")
def relay_group() -> None:
    """Kafka relay (``run``) and the cross-tenant process manager's dead letters."""


def kafka_options(f: Callable[..., Any]) -> Callable[..., Any]:
    f = click.option(
        "--topic", envvar="DUCHA_KAFKA_TOPIC", default="ducha.events", show_default=True
    )(f)
    f = click.option(
        "--bootstrap",
        envvar="DUCHA_KAFKA_BOOTSTRAP",
        default="127.0.0.1:9092",
        show_default=True,
        help="Kafka bootstrap servers (env DUCHA_KAFKA_BOOTSTRAP).",
    )(f)
    return f


def stop_on_sigterm(stopped: Any) -> None:
    import signal

    def stop(signum: int, frame: Any) -> None:
        stopped.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)


@relay_group.command("run")
@kafka_options
@click.option("--once", is_flag=True, help="Publish what is pending, then exit.")
@pass_ctx
def relay_run(c: Context, bootstrap: str, topic: str, once: bool) -> None:
    """Publish every office's events to Kafka (key = office), from each office's checkpoint.

    A checkpoint moves only after the broker acknowledges; on failure the relay backs off and
    retries from the checkpoints (it never skips). New offices are picked up as they come.
    """
    from services.bus import KafkaRelay, KafkaSettings

    relay = KafkaRelay(c.platform, KafkaSettings(bootstrap, topic))
    stop_on_sigterm(relay.stopped)
    click.echo(f"relay: publishing to {topic} on {bootstrap}", err=True)
    total = relay.run(once=once)
    click.echo(f"relay: published {total} events", err=True)


@cli.group("worker")
def worker_group() -> None:
    """Kafka consumer-group workers running the read side and the process managers."""


@worker_group.command("run")
@click.option("--group", required=True, help="Consumer group name, e.g. ducha-read.")
@kafka_options
@click.option("--max-poll-interval-ms", default=3000, show_default=True, type=int)
@click.option(
    "--deadlines/--no-deadlines",
    default=False,
    show_default=True,
    help="Also run the daily deadline pass (one place is enough: the HTTP server runs it too).",
)
@pass_ctx
def worker_run(
    c: Context,
    group: str,
    bootstrap: str,
    topic: str,
    max_poll_interval_ms: int,
    deadlines: bool,
) -> None:
    """Consume the topic in GROUP and apply each office's events (deduped by notification id;
    gaps filled from the office's store). Stops cleanly on SIGTERM."""
    from services.bus import KafkaSettings, Worker
    from services.http.server import DeadlineDaily

    platform = c.platform
    platform.supervision.listeners.clear()  # effects in other offices come back via Kafka
    worker = Worker(platform.runner, KafkaSettings(bootstrap, topic), group, max_poll_interval_ms)
    stop_on_sigterm(worker.stopped)
    daily = DeadlineDaily(platform)
    if deadlines:
        daily.start()
    click.echo(f"worker {group}: consuming {topic} on {bootstrap}", err=True)
    worker.run()
    daily.stopped.set()
    click.echo(f"worker {group}: applied {worker.applied} of {worker.received} received", err=True)


@relay_group.command("skipped")
@office_option
@json_option
@pass_ctx
def relay_skipped(c: Context, office: str, as_json: bool) -> None:
    """Decisions of OFFICE that did not apply to a subordinate's task (kept for review)."""
    c.platform.registry.get(office)
    rows = c.platform.skipped.list(office)
    if as_json:
        emit_json(rows)
        return
    for r in rows:
        click.echo(f"{r['position']:>6} {r['event_type']:22} → {r['target']}: {r['reason']}")


# -- entry point -------------------------------------------------------------------------
def main(args: Sequence[str] | None = None) -> int:
    """Run the CLI; turn every user error into one line on stderr and a non-zero exit."""
    problem = argument_problem(sys.argv[1:] if args is None else args)
    if problem:  # text no store could hold: refused before anything runs
        click.echo(f"error: {problem}", err=True)
        return 2
    try:
        result = cli.main(args=args, prog_name="ducha", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("error: aborted", err=True)
        return 1
    except click.ClickException as e:
        click.echo(f"error: {e.format_message()}", err=True)
        return e.exit_code
    except USER_ERRORS as e:
        click.echo(f"error: {e}", err=True)
        return 1
    return result if isinstance(result, int) else 0
