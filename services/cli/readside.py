"""Read-side commands: the responsibility tree, roll-ups, circular rankings, audit trails
and projection maintenance.
May import: the standard library, click, ``projections`` (runner), ``services.cli`` (common,
tables) and ``services`` (errors, inputs, rebuild_jobs, users, views).
"""

from __future__ import annotations

import sys
from dataclasses import replace
from datetime import datetime
from typing import Any

import click

from projections.runner import ConsumerStatus
from services.cli.common import (
    INSTANT,
    INSTANT_FROM,
    Context,
    as_of_option,
    emit_json,
    emit_page,
    full_id,
    json_option,
    office_option,
    page_options,
    pass_ctx,
    with_options,
)
from services.cli.tables import circular_lines, rollup_lines
from services.errors import NotFoundError
from services.inputs import (
    china_time,
)
from services.rebuild_jobs import Outcome, rebuild_in_jobs
from services.users import UserDirectory
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
    item_id = full_id(c, office, item_id)
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
    """Counts for an office and all its descendants: each matter once and every record, by
    light, status, source kind and month, and each child office's subtree."""
    r = views_for(c, office, as_of).rollup(office)
    if as_json:
        emit_json(r)
        return
    for line in rollup_lines(r):
        click.echo(line)


@click.command("circular")
@office_option
@json_option
@pass_ctx
def circular_command(c: Context, office: str, as_json: bool) -> None:
    """通报: the office's subordinates ranked by their matters' on-time rate (the rule is
    printed above the ranking), commended, under rectification."""
    r = views_for(c, office, None).circular(office)
    if as_json:
        emit_json(r)
        return
    for line in circular_lines(r):
        click.echo(line)


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
    if filters.get("record_id"):
        filters["record_id"] = full_id(c, office, filters["record_id"])
    page = c.platform.views.audit(office, **filters)
    people = UserDirectory(c.platform.registry, c.platform.clock)
    page = replace(page, items=people.audit_rows(page.items))
    emit_page(
        page,
        as_json,
        lambda r: (
            f"{r['position']:>6} {r['time']} {r['type']:22} "
            f"{r['actor_name']} ({r['actor_office']}, {r['actor_role']}{via(r)}) "
            f"{r['record_id'][:8]} "
            f"{r['summary']}"
        ),
    )


def via(row: dict[str, Any]) -> str:
    """How the actor came, when known: ", cli:ops" (the operating-system user), ", api"."""
    channel, os_user = row.get("actor_channel") or "", row.get("actor_os_user") or ""
    if not channel:
        return ""
    return f", {channel}:{os_user}" if os_user else f", {channel}"


@click.group("projections")
def projections_group() -> None:
    """Read models and their consumers: status, retry after a failure, rebuild."""


@projections_group.command("rebuild")
@click.argument("name", required=False, type=click.Choice(["items", "audit", "rollup", "tlog"]))
@click.option("--office", metavar="CODE", help="Only the rows built from this office's events.")
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Processes replaying offices side by side, shares balanced by events.",
)
@pass_ctx
def projections_rebuild(c: Context, name: str | None, office: str | None, jobs: int) -> None:
    """Drop a projection (or all) and rebuild it from the event stores."""
    platform = c.platform
    if office:
        platform.registry.get(office)
        if jobs > 1:
            click.echo("note: one office is rebuilt by one process (--jobs ignored)", err=True)
            jobs = 1
    offices = [office] if office else [o.code for o in platform.registry.all()]
    total = sum(platform.backend.last_ids(offices).values())
    names = [name] if name else None
    outcome = None
    with click.progressbar(length=total, label="rebuilding", file=sys.stderr) as bar:
        if jobs == 1:
            applied = platform.runner.rebuild(names, office, bar.update)
        else:
            outcome = rebuild_in_jobs(platform, jobs, names, bar.update)
            applied = outcome.applied
    click.echo(f"rebuilt {name or 'all projections'}: {applied} events")
    stopped = [s for s in platform.runner.status(office, only_behind=True) if s.dead_letter]
    for status in stopped:
        click.echo(f"stopped: {consumer_line(status)}", err=True)
    if outcome is not None and outcome.failures:
        click.echo(f"error: {failure_line(outcome)}", err=True)
        raise click.exceptions.Exit(1)


@projections_group.command("upgrade")
@click.argument("names", nargs=-1, type=click.Choice(["items", "audit", "rollup", "tlog"]))
@pass_ctx
def projections_upgrade(c: Context, names: tuple[str, ...]) -> None:
    """Build projections of this version beside the live ones, then switch them in (blue/green).

    Without NAMES, the projections whose rows another version built; with NAMES, those (a
    rebuild that never takes the rows away). The live rows keep serving and moving meanwhile;
    the switch is one transaction. PostgreSQL needs the owner role (it makes a schema beside
    ducha_read); on SQLite it copies the rows into read.sqlite at the switch. The ledger (tlog)
    keeps its subjects' keys across rebuilds: rebuild it in place instead."""
    from services.upgrade import outdated, upgrade_projections

    platform = c.platform
    chosen = list(names) or outdated(platform)
    if not chosen:
        click.echo("nothing to upgrade: every projection's rows are this version's")
        return
    offices = [o.code for o in platform.registry.all()]
    total = sum(platform.backend.last_ids(offices).values())
    with click.progressbar(
        length=total, label=f"building {', '.join(chosen)} beside the live rows", file=sys.stderr
    ) as bar:
        done = upgrade_projections(platform, chosen, bar.update)
    versions = ", ".join(f"{n} version {v}" for n, v in done.versions.items())
    click.echo(
        f"switched in {versions}: {done.replayed} events replayed, {done.caught_up} caught up "
        "while building"
    )


def failure_line(outcome: Outcome) -> str:
    """One line: which jobs failed and why, and the offices left without their rows."""
    failed = "; ".join(f"job {n + 1}: {why}" for n, why in sorted(outcome.failures.items()))
    offices = outcome.not_rebuilt
    return (
        f"{failed}; {len(offices)} office(s) not rebuilt (rebuild each with --office CODE, "
        f"or all again): {', '.join(offices)}"
    )


def consumer_line(s: ConsumerStatus) -> str:
    """One consumer in one office: where it stands, and the dead letter that stopped it."""
    unknown = "?"
    line = (
        f"{s.office:24} {s.consumer:16} {s.kind:15} {s.position:>8} "
        f"{unknown if s.last is None else s.last:>8} {unknown if s.lag is None else s.lag:>6}"
    )
    letter = s.dead_letter
    if letter is None:
        return line
    return (
        f"{line}  #{letter.position} {letter.event_type.rsplit('.', 1)[-1]} "
        f"{letter.originator_id}@v{letter.originator_version}: {letter.error}: "
        f"{letter.message} (attempts {letter.attempts} since "
        f"{china_time(letter.first_failed_at)})"
    )


@projections_group.command("status")
@click.option("--office", metavar="CODE", help="Only this office.")
@click.option("--behind", is_flag=True, help="Only consumers that lag or are stopped.")
@json_option
@pass_ctx
def projections_status(c: Context, office: str | None, behind: bool, as_json: bool) -> None:
    """Every consumer's position, the office's last event, lag and dead letter, per office.
    Exits 1 when a consumer is stopped (for monitoring)."""
    if office:
        c.platform.registry.get(office)
    found = c.platform.runner.status(office, only_behind=behind)
    if as_json:
        emit_json([s.as_dict() for s in found])
    else:
        click.echo(
            f"{'office':24} {'consumer':16} {'kind':15} {'position':>8} {'last':>8} {'lag':>6}"
            "  dead letter"
        )
        for status in found:
            click.echo(consumer_line(status))
    if any(s.dead_letter for s in found):
        raise click.exceptions.Exit(1)


@projections_group.command("retry")
@click.option("--office", metavar="CODE", help="Only this office's stopped consumers.")
@click.option(
    "--consumer", metavar="NAME", help="Only this consumer (items, audit, rollup, relay)."
)
@pass_ctx
def projections_retry(c: Context, office: str | None, consumer: str | None) -> None:
    """Resume stopped consumers from the event that stopped them (once its cause is fixed).
    Exits 1 when any is still stopped."""
    if office:
        c.platform.registry.get(office)
    resumed = c.platform.runner.retry(office, consumer)
    click.echo(f"resumed {resumed} consumer(s)")
    still = [s for s in c.platform.runner.status(office, only_behind=True) if s.dead_letter]
    for status in still:
        click.echo(f"still stopped: {consumer_line(status)}", err=True)
    if still:
        raise click.exceptions.Exit(1)


@projections_group.command("catch-up")
@click.option("--office", metavar="CODE", help="Only this office.")
@pass_ctx
def projections_catch_up(c: Context, office: str | None) -> None:
    """Apply what was recorded while no consumer ran (``ducha serve`` does it as it starts).
    Reads every office's last event id once and catches up only the offices behind."""
    runner = c.platform.runner
    if office:
        c.platform.registry.get(office)
    applied = runner.catch_up_offices([office]) if office else runner.catch_up_all()
    click.echo(f"applied {applied} events")


COMMANDS = [tree_command, rollup_command, circular_command, audit, projections_group]
