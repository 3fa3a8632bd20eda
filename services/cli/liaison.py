"""The cross-office process manager's commands (工作联系): what it could not carry out. May
import: click and ``services.cli`` (common, ops: the relay group keeps a deprecated alias).
"""

from __future__ import annotations

import click

from services.cli.common import Context, emit_json, json_option, office_option, pass_ctx
from services.cli.ops import relay_group


@click.group("liaison")
def liaison_group() -> None:
    """The cross-office process manager (工作联系): what it could not carry out."""


def print_skipped(c: Context, office: str, as_json: bool) -> None:
    c.platform.registry.get(office)
    rows = c.platform.skipped.list(office)
    if as_json:
        emit_json(rows)
        return
    for r in rows:
        record = r["target_record"][:8] or "-"
        click.echo(
            f"{r['at'][:19] or '-':19}  {r['side']:13}  {r['office']}#{r['position']} "
            f"{r['event_type']} → {r['target']} {record}: {r['reason']}"
        )


@liaison_group.command("skipped")
@office_option
@json_option
@pass_ctx
def liaison_skipped(c: Context, office: str, as_json: bool) -> None:
    """Relayed commands that did not apply, kept for review, at either end of OFFICE: its own
    events not carried out on another office's record ('ours to relay'), and other offices'
    events not carried out on its own ('waiting on us')."""
    print_skipped(c, office, as_json)


@relay_group.command("skipped", hidden=True)
@office_option
@json_option
@pass_ctx
def relay_skipped(c: Context, office: str, as_json: bool) -> None:
    """Deprecated: use ducha liaison skipped."""
    click.echo("warning: 'ducha relay skipped' is now 'ducha liaison skipped'", err=True)
    print_skipped(c, office, as_json)


COMMANDS = [liaison_group]
