"""``ducha``: the command line. Commands translate options into one service call each. May import:
click, ``services.bootstrap`` (the platform), ``services.inputs`` and the command-group modules.

A rule violation or bad input prints one line to stderr and exits non-zero; nothing is recorded.
So does a database that cannot be reached or refuses (where, as whom and why; never the
password).
The group and the entry point live here; each area's commands live in a module of their own
(``offices``, ``items``, ``calendar``, ``readside``, ``ops``, ``users``), sharing ``common``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import click

from services.bootstrap import Settings
from services.cli import (
    backup,
    calendar,
    items,
    ledger,
    liaison,
    offices,
    ops,
    readside,
    setup,
    users,
)
from services.cli.common import DATABASE_ERRORS, USER_ERRORS, Context, database_problem
from services.inputs import argument_problem


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


for _module in (setup, offices, items, calendar, readside, ops, liaison, users, ledger, backup):
    for _command in _module.COMMANDS:
        cli.add_command(_command)


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
    except DATABASE_ERRORS as e:  # a wrong host, password or right: no stack trace
        url = Context.current.settings.database_url if Context.current else None
        click.echo(f"error: {database_problem(url, e)}", err=True)
        return 1
    return result if isinstance(result, int) else 0
