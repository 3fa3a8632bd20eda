"""``ducha items`` and ``ducha circulars``: register (立项), read and act on items and tasks.

May import: the standard library, click, ``domain`` (errors, lights, values), ``services``
(actions, calendar, duplicates, inputs, supervision) and ``services.cli`` (common).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

import click

from domain.errors import InvalidFieldError
from domain.lights import AWAITING_WORK
from domain.values import SOURCE_KINDS, business_date
from services.actions import assign_params, attachments, registration_warnings
from services.calendar import provisional_note
from services.cli.common import (
    DATE,
    Context,
    acting,
    actor_options,
    as_of_option,
    case_line,
    emit_json,
    emit_page,
    full_id,
    json_option,
    office_option,
    page_options,
    pass_ctx,
    provisional_years_of,
    show_case,
    with_options,
)
from services.duplicates import check_source
from services.inputs import (
    china_time,
)
from services.supervision import ACTIONS, NewItem


# -- items -------------------------------------------------------------------------------
@click.group()
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
@click.option(
    "--allow-duplicate",
    is_flag=True,
    help="Register although the office already has an item with this --source-ref.",
)
@actor_options
@json_option
@pass_ctx
def items_register(
    c: Context,
    /,
    office: str,
    user: str,
    role: str,
    as_json: bool,
    allow_duplicate: bool,
    **f: Any,
) -> None:
    """Register (立项) a supervision item with its five elements.

    The same --source-ref twice in one office is refused, listing the item that has it
    (brackets and spaces do not matter: 国办发〔2026〕12号 = 国办发[2026]12号); give
    --allow-duplicate when it really is a second item from the same source."""
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
    actor = acting(user, office, role, "register")
    check_source(
        platform.read, office, new.source_ref, allow_duplicate, "--allow-duplicate registers it"
    )
    case = platform.supervision.register_item(actor, office, new)
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
    item_id = full_id(c, office, item_id)
    case = s.get_as_of(office, item_id, as_of) if as_of else s.get(office, item_id)
    emit_json(case.to_dict()) if as_json else show_case(case)


@items.command("list")
@office_option
@click.option(
    "--status",
    type=click.Choice([*AWAITING_WORK, "completion_reported", "completed", "closed", "concluded"]),
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
    events = c.platform.supervision.history(office, full_id(c, office, item_id))
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


ASSIGNEE_HELP = (
    "Decide a subordinate office's request (its task is told), not this record's own "
    "(default: the one request waiting)."
)
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
        params = to_params(options)  # a malformed command line is refused first
        case = c.platform.supervision.act(
            acting(user, office, role, action),
            office,
            full_id(c, office, item_id),
            action,
            expected_version,
            **params,
        )
        emit_json(case.to_dict()) if as_json else click.echo(case_line(case))


for _action in ACTION_SPECS:
    action_command(_action)


# -- circulars ---------------------------------------------------------------------------
@click.group()
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


COMMANDS = [items, circulars]
