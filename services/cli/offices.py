"""``ducha offices``: the office registry (机关) and each office's deadline policy. May import:
click, ``services.cli.common``, ``services.views`` and the domain's values.
"""

from __future__ import annotations

import click

from domain.values import OFFICE_LEVELS, Actor
from services.cli.common import (
    Context,
    emit_json,
    emit_page,
    json_option,
    office_line,
    operator,
    page_options,
    pass_ctx,
    with_options,
)
from services.views import OfficeView, paginate


# -- offices -----------------------------------------------------------------------------
@click.group()
def offices() -> None:
    """Register offices and walk the hierarchy."""


def registry_actor(user: str) -> Actor:
    return operator(user, "platform", "admin")


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


COMMANDS = [offices]
