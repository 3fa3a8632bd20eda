"""``ducha backup --to DIR`` and ``ducha restore --from DIR``. May import: the standard library,
click, psycopg (its errors), ``services.backup`` and ``services.cli.common``.
"""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path
from typing import Any

import click
import psycopg

from services.backup import BackupError, Manifest, Progress, back_up, restore
from services.cli.common import Context, pass_ctx

FAILURES = (BackupError, OSError, sqlite3.Error, psycopg.Error)


class Bar:
    """A progress bar on stderr whose length is known only once the work has begun."""

    def __init__(self, label: str) -> None:
        self.label = label
        self._bar: Any = None

    def start(self, length: int) -> None:
        self.finish()
        self._bar = click.progressbar(length=length, label=self.label, file=sys.stderr)
        self._bar.__enter__()

    def step(self, count: int = 1) -> None:
        if self._bar is not None:
            self._bar.update(count)

    def finish(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None


class RestoreBars:
    """The offices restored, then the events replayed into the read models (``total``)."""

    def __init__(self) -> None:
        self.offices = Bar("restoring offices")
        self.events = Bar("rebuilding read models")
        self.total = 0
        self._replaying = False

    def progress(self) -> Progress:
        return Progress(self.offices.start, lambda _: self.offices.step(), self.replayed)

    def replayed(self, count: int) -> None:
        if not self._replaying:
            self.offices.finish()
            self.events.start(self.total)
            self._replaying = True
        self.events.step(count)

    def finish(self) -> None:
        self.offices.finish()
        self.events.finish()


@click.command("backup")
@click.option(
    "--to",
    "target",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="A new or empty directory to write the backup into.",
)
@pass_ctx
def backup_command(c: Context, target: Path) -> None:
    """Back up every office's event store, the registry and the read store (one consistent
    point, while commands keep arriving), the ledger's per-person keys, the holiday data file
    and the ledger's keys, with a MANIFEST.json of each office's last event id and every
    file's SHA-256. The directory is made 0700, every file in it 0600.

    PostgreSQL: pg_dump in one snapshot (DUCHA_PG_BIN names the client tools' directory if
    PATH has none as new as the server). SQLite: the files copied with the online backup API.
    """
    bar = Bar("backing up offices")
    try:
        manifest = back_up(
            c.settings, target, Progress(offices=bar.start, office=lambda _: bar.step())
        )
    except FAILURES as e:
        bar.finish()
        raise click.ClickException(f"backup failed: {one_line(e)}") from None
    bar.finish()
    events = sum(manifest.offices.values())
    click.echo(
        f"backed up {len(manifest.offices)} offices ({events} events) of {manifest.backend} "
        f"into {target} at {manifest.created_at} in {manifest.seconds:.1f} s"
    )


@click.command("restore")
@click.option(
    "--from",
    "source",
    required=True,
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="A directory written by ducha backup.",
)
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Processes rebuilding the read models side by side (as projections rebuild --jobs).",
)
@pass_ctx
def restore_command(c: Context, source: Path, jobs: int) -> None:
    """Restore a backup into an EMPTY database (DUCHA_DATABASE_URL) or data directory
    (DUCHA_DATA_DIR), with an empty keys directory: checksums checked, stores, registry,
    the ledger's per-person keys, then holiday data and keys restored, every read model
    rebuilt, each office's last event id checked against the manifest. Anything already
    there is refused, never overwritten.

    PostgreSQL: run it as the database's owner role, in a database that role owns; it
    provisions as ducha migrate does (no grants: run ducha migrate --grant-to ROLE after it).
    """
    bars = RestoreBars()
    try:
        bars.total = sum(Manifest.read(source).offices.values())
        manifest, settings = restore(c.settings, source, jobs, bars.progress())
    except FAILURES as e:
        bars.finish()
        raise click.ClickException(f"restore failed: {one_line(e)}") from None
    bars.finish()
    click.echo(
        f"restored {len(manifest.offices)} offices ({sum(manifest.offices.values())} events) "
        f"backed up at {manifest.created_at}; read models rebuilt; last ids as in the manifest"
    )
    if c.settings.database_url:
        click.echo(
            "note: run ducha migrate --grant-to ROLE (as this owner role) to give the runtime "
            "role its rights on the restored schemas again"
        )
    if manifest.holidays and c.settings.holidays_file is None:
        click.echo(
            f"note: the holiday data is in {settings.holidays_file}: set DUCHA_HOLIDAYS_FILE to it"
        )
    if c.settings.bus == "kafka":
        click.echo(
            f"note: give every process a new DUCHA_KAFKA_TOPIC (not {c.settings.kafka_topic}) "
            "before starting them: the old topic holds events recorded after the backup"
        )


def one_line(e: Exception) -> str:
    return " ".join(str(e).split()) or type(e).__name__


COMMANDS = [backup_command, restore_command]
