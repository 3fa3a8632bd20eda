"""Read-side commands: the responsibility tree, roll-ups, circular rankings, audit trails
and projection maintenance."""

from __future__ import annotations

import sys
from datetime import datetime
from typing import Any

import click

from services.cli.common import (
    INSTANT,
    INSTANT_FROM,
    Context,
    as_of_option,
    emit_json,
    emit_page,
    json_option,
    office_option,
    page_options,
    pass_ctx,
    with_options,
)
from services.errors import NotFoundError
from services.inputs import (
    china_time,
)
from services.views import marked_deadline


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


@click.command("tree")
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


@click.command("rollup")
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


@click.command("circular")
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


@click.group("audit")
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


@click.group("projections")
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


COMMANDS = [tree_command, rollup_command, circular_command, audit, projections_group]
