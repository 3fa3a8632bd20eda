"""``ducha backup`` and ``ducha restore`` as an operator meets them, once per backend: one line
and a non-zero exit for what they refuse (a backup directory in use, a target that is not
empty, a damaged backup), nothing written when they do, ``--help`` that says what they do, and the
progress they report."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import psycopg
import pytest

from services.backup import Progress, back_up, restore
from services.bootstrap import Settings, build_platform
from tests.backends.test_backup_drill import ducha
from tests.conftest import FixedClock, fresh_database
from tests.scenario import HIERARCHY, build_hierarchy

CODES = [code for code, *_ in HIERARCHY]


@pytest.fixture
def backed_up(settings: Settings, tmp_path: Path) -> Path:
    platform = build_platform(settings, clock=FixedClock())
    try:
        build_hierarchy(platform)
    finally:
        platform.close()
    done = ducha(settings, "backup", "--to", str(tmp_path / "backup"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"backed up {len(CODES)} offices")
    return tmp_path / "backup"


@contextmanager
def empty_target(settings: Settings, request: pytest.FixtureRequest) -> Iterator[Settings]:
    data_dir = settings.data_dir.parent / "restored"
    if not settings.database_url:
        yield replace(settings, data_dir=data_dir)
        return
    with fresh_database(request.getfixturevalue("pg_server_url")) as url:
        yield replace(settings, data_dir=data_dir, database_url=url)


def schemas(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'ducha%' OR nspname LIKE 'office%'"
        ).fetchall()
    return sorted(str(r[0]) for r in rows)


def one_line_error(done: object, *words: str) -> None:
    assert done.returncode == 1, done.stdout  # type: ignore[attr-defined]
    err: str = done.stderr  # type: ignore[attr-defined]
    lines = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, err
    for word in words:
        assert word in lines[0], lines[0]


def test_a_restore_into_the_live_store_is_refused(settings: Settings, backed_up: Path) -> None:
    one_line_error(ducha(settings, "restore", "--from", str(backed_up)), "not empty")
    platform = build_platform(settings, clock=FixedClock())
    try:
        assert [o.code for o in platform.registry.all()] == CODES  # untouched
    finally:
        platform.close()


def test_a_second_backup_into_the_same_directory_is_refused(
    settings: Settings, backed_up: Path
) -> None:
    manifest = (backed_up / "MANIFEST.json").read_bytes()
    one_line_error(ducha(settings, "backup", "--to", str(backed_up)), "not empty")
    assert (backed_up / "MANIFEST.json").read_bytes() == manifest


def test_a_damaged_backup_is_refused_and_the_target_stays_empty(
    settings: Settings, backed_up: Path, request: pytest.FixtureRequest
) -> None:
    stores = sorted(p for p in backed_up.rglob("*") if p.suffix in (".dump", ".sqlite"))
    data = bytearray(stores[0].read_bytes())
    data[len(data) // 2] ^= 0xFF
    stores[0].write_bytes(bytes(data))
    with empty_target(settings, request) as target:
        one_line_error(ducha(target, "restore", "--from", str(backed_up)), "checksum")
        assert not target.data_dir.exists()
        if target.database_url:
            assert schemas(target.database_url) == []


def test_the_commands_say_what_they_do(settings: Settings) -> None:
    backup = ducha(settings, "backup", "--help").stdout
    assert "--to" in backup and "MANIFEST.json" in backup and "0600" in backup
    restore = ducha(settings, "restore", "--help").stdout
    assert "--from" in restore and "--jobs" in restore and "EMPTY" in restore


def test_progress_names_each_office_once_as_its_store_is_copied_and_restored(
    settings: Settings, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    platform = build_platform(settings, clock=FixedClock())
    try:
        build_hierarchy(platform)
    finally:
        platform.close()
    said: list[object] = []
    progress = Progress(offices=said.append, office=said.append)
    back_up(settings, tmp_path / "backup", progress)
    assert said[0] == len(CODES) and sorted(said[1:]) == sorted(CODES)  # type: ignore[type-var]
    said.clear()
    with empty_target(settings, request) as target:
        restore(target, tmp_path / "backup", progress=progress)
    assert said[0] == len(CODES) and sorted(said[1:]) == sorted(CODES)  # type: ignore[type-var]
