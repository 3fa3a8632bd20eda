"""``back_up`` and ``restore``: the steps of a backup and of a restore, whatever the backend. May
import: the standard library, ``services.bootstrap`` (the restored platform), ``services.
rebuild_jobs`` (the read models rebuilt in several processes), ``services.provision`` (what
``ducha migrate`` runs), ``services.errors`` and ``services.backup``' modules.

A backup, into a directory made 0700 and written under umask 077 (nothing in it readable by
others): the stores (with the registry and the read store, consistently: see ``sqlite`` and
``postgres``), then the ledger's subject keys read again (``subjects``), the holiday data file,
the ledger's keys, then ``MANIFEST.json`` (written last: a backup without one is unfinished).

A restore: the manifest and every checksum checked, the target proven empty, the stores
restored, the backup's subject keys added to the restored read store, then the holiday data
and the keys put back (only now: a restore of the stores that fails leaves nothing beside
them, and the retry is not refused), on PostgreSQL what ``ducha migrate`` provisions
(``provision``), every read model rebuilt from the restored stores, and each office's last id
compared with the manifest.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from services.backup.manifest import (
    HOLIDAYS,
    KEYS,
    BackupError,
    Manifest,
    copy_holidays,
    copy_keys,
    is_empty,
)
from services.backup.postgres import back_up_postgres, check_empty_database, restore_postgres
from services.backup.sqlite import READ_STORE, back_up_sqlite, check_empty_data_dir, restore_sqlite
from services.backup.subjects import live_keys, restore_keys, write_keys
from services.bootstrap import Platform, Settings, build_platform
from services.errors import StoreUnavailableError
from services.provision import migrate_postgres
from services.rebuild_jobs import rebuild_in_jobs
from services.stores import PLATFORM


@dataclass
class Progress:
    """What a command shows: ``offices(n)`` before the offices, ``office(code)`` after each
    one (said once per office), ``events(n)`` as a rebuild replays."""

    offices: Callable[[int], None] = lambda n: None
    office: Callable[[str], None] = lambda code: None
    events: Callable[[int], None] = lambda n: None

    def once(self) -> Callable[[str], None]:
        seen: set[str] = set()

        def told(code: str) -> None:
            if code not in seen:
                seen.add(code)
                self.office(code)

        return told


def keys_dir(settings: Settings) -> Path:
    return settings.keys_dir or settings.data_dir / "keys"


def back_up(settings: Settings, target: Path, progress: Progress | None = None) -> Manifest:
    """Write a backup into ``target`` (absent or empty): its manifest."""
    progress = progress or Progress()
    if not is_empty(target):
        raise BackupError(f"{target} is not empty: back up into a new or empty directory")
    began = time.monotonic()
    target.mkdir(mode=0o700, parents=True, exist_ok=True)
    target.chmod(0o700)  # given empty, with a mode of its own
    umask = os.umask(0o077)  # every file and directory written (pg_dump's too): ours only
    try:
        manifest = copied(settings, target, progress)
        manifest.seconds = round(time.monotonic() - began, 3)
        manifest.write(target)
    finally:
        os.umask(umask)
    return manifest


def copied(settings: Settings, target: Path, progress: Progress) -> Manifest:
    """The stores, the subject keys read again after them, the holiday data and the keys."""
    manifest = Manifest.begun("postgres" if settings.database_url else "sqlite")
    if settings.database_url:
        registry, offices = back_up_postgres(
            settings.database_url, target, progress.offices, progress.once()
        )
    else:
        registry, offices = back_up_sqlite(
            settings.data_dir, target, progress.offices, progress.once()
        )
    manifest.registry, manifest.offices = registry, offices
    write_keys(live_keys(settings.database_url, settings.data_dir / READ_STORE), target)
    manifest.holidays = copy_holidays(settings.holidays_file, target)
    copy_keys(keys_dir(settings), target / KEYS)  # last: see ``sqlite``
    return manifest


def restored_settings(settings: Settings, manifest: Manifest) -> Settings:
    """Where the holiday data goes: ``DUCHA_HOLIDAYS_FILE`` if set, else beside the data."""
    if manifest.holidays is None or settings.holidays_file is not None:
        return settings
    return replace(settings, holidays_file=settings.data_dir / HOLIDAYS / manifest.holidays)


def check_target(settings: Settings, manifest: Manifest) -> None:
    backend = "postgres" if settings.database_url else "sqlite"
    if manifest.backend != backend:
        raise BackupError(
            f"the backup is of {manifest.backend}; this Ducha is set up for {backend}"
        )
    if settings.database_url:
        check_empty_database(settings.database_url)
    else:
        check_empty_data_dir(settings.data_dir)
    if not is_empty(keys_dir(settings)):
        raise BackupError(f"keys directory {keys_dir(settings)} is not empty")
    holidays = settings.holidays_file
    if manifest.holidays and holidays is not None and holidays.exists():
        raise BackupError(f"holiday data file {holidays} exists: restore only into an empty setup")


def restore(
    settings: Settings, source: Path, jobs: int = 1, progress: Progress | None = None
) -> tuple[Manifest, Settings]:
    """Restore the backup in ``source`` into an empty database or data directory, rebuild
    every read model, and check each office's last id: the manifest, and the settings to run
    with (the holiday data file's place)."""
    progress = progress or Progress()
    manifest = Manifest.read(source)
    manifest.verify(source)
    check_target(settings, manifest)
    settings = restored_settings(settings, manifest)
    progress.offices(len(manifest.offices))
    if settings.database_url:
        restore_postgres(settings.database_url, source, list(manifest.offices), progress.once())
    else:
        restore_sqlite(source, settings.data_dir, progress.once())
    restore_keys(settings.database_url, settings.data_dir / READ_STORE, source)
    if manifest.holidays and settings.holidays_file is not None:  # only now: see the docstring
        settings.holidays_file.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / HOLIDAYS / manifest.holidays, settings.holidays_file)
    copy_keys(source / KEYS, keys_dir(settings))
    if settings.database_url:
        provision(settings)
    platform = build_platform(settings, catch_up=False)
    try:
        rebuild(platform, jobs, progress.events)
        check_last_ids(platform, manifest)
    finally:
        platform.close()
    return manifest, settings


def provision(settings: Settings) -> None:
    """What ``ducha migrate`` provisions, without grants (the same functions): the platform's
    tables and the office function (``PUBLIC`` without ``EXECUTE``), this version's read-side
    DDL recorded and its marker written, whatever version made the backup. Without it a
    backup of an older version would stop the rebuild with "run ``ducha migrate`` first", and
    the half-restored database would then be refused as not empty."""
    try:
        migrate_postgres(settings, ())
    except StoreUnavailableError as e:
        raise BackupError(f"restored, but not provisioned: {e}") from None


def rebuild(platform: Platform, jobs: int, progress: Callable[[int], None]) -> None:
    """Every read model from the restored stores (``ducha projections rebuild --jobs N``)."""
    if jobs == 1:
        platform.runner.rebuild(None, None, progress)
        return
    outcome = rebuild_in_jobs(platform, jobs, None, progress)
    if outcome.failures or outcome.not_rebuilt:
        why = "; ".join(sorted(outcome.failures.values()))
        raise BackupError(
            f"restored, but the read models of {len(outcome.not_rebuilt)} office(s) were not "
            f"rebuilt ({why}): run ducha projections rebuild"
        )


def check_last_ids(platform: Platform, manifest: Manifest) -> None:
    """Each office's last id, and the registry's, as the manifest says."""
    found = platform.backend.last_ids([PLATFORM, *manifest.offices])
    wrong = [
        f"{code}: {found.get(code)} (manifest {want})"
        for code, want in [(PLATFORM, manifest.registry), *manifest.offices.items()]
        if found.get(code) != want
    ]
    if wrong:
        raise BackupError(f"restored stores differ from the manifest: {'; '.join(wrong[:5])}")
    listed = {o.code for o in platform.registry.all()}
    if listed != set(manifest.offices):
        raise BackupError("the restored registry does not list the manifest's offices")
