"""``ducha migrate`` before a projection's new version is switched in: version 2 of the items adds
a column and an index on it, which the live (version 1) table cannot take. Migrate records that
DDL without running it, the restricted role's processes of version 2 start, and the owner's
``projections upgrade`` switches the new tables in, index and all. The runtime role running the
upgrade is told, in one line, to run it as the owner. PostgreSQL (real roles) and SQLite."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import psycopg
import pytest

from services.bootstrap import Platform, Settings, build_platform
from services.provision import migrate
from services.upgrade import outdated, upgrade_projections
from tests.backends.test_least_privilege import Roles, ducha, roles  # noqa: F401 - fixture
from tests.conftest import FixedClock
from tests.projections.test_upgrade import ItemsVersion2, items_rows, register
from tests.scenario import build_hierarchy

INDEX = "items_by_title_length"


class ItemsIndexed(ItemsVersion2):
    """Version 2 of the items, with an index on the column it adds."""

    ddl = ItemsVersion2.ddl + f";CREATE INDEX IF NOT EXISTS {INDEX} ON items (title_length)"


@contextmanager
def platform_of(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, version_2: bool = False
) -> Iterator[Platform]:
    with monkeypatch.context() as patched:
        if version_2:
            patched.setattr("services.bootstrap.ItemsProjection", ItemsIndexed)
        built = build_platform(settings, clock=FixedClock())
    try:
        yield built
    finally:
        built.close()


def test_migrate_holds_version_2_ddl_until_the_upgrade_switches_it_in(
    roles: Roles,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    owner = Settings(data_dir=tmp_path / "var", database_url=roles.owner)
    app = Settings(data_dir=tmp_path / "var", database_url=roles.app)
    migrate(owner, [roles.app_name])
    with platform_of(app, monkeypatch) as old:
        build_hierarchy(old)
        register(old, "gansu", "关于煤矿安全事故的批示")
        old.runner.catch_up_all()

    with monkeypatch.context() as patched:  # the next version's migrate
        patched.setattr("services.bootstrap.ItemsProjection", ItemsIndexed)
        said = migrate(owner, [roles.app_name])
    assert said[-1].startswith("schema version")
    with platform_of(app, monkeypatch, version_2=True) as new:  # no "run migrate"
        assert outdated(new) == ["items"]
        assert "title_length" not in items_rows(new)[0]

    refused = ducha(roles.app, "projections", "upgrade", "items")
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    lines = [line for line in refused.stderr.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1 and lines[0].startswith("error: permission denied"), refused.stderr
    assert refused.stderr.strip().endswith(lines[0])  # after the progress bar's label only
    assert (
        "run it as the owner role" in lines[0]
        and "run --rm migrate projections upgrade" in lines[0]
    )

    with platform_of(owner, monkeypatch, version_2=True) as upgrading:
        assert upgrade_projections(upgrading, ["items"]).versions == {"items": 2}
    with platform_of(app, monkeypatch, version_2=True) as new:  # as it restarts
        assert outdated(new) == []
        rows = items_rows(new)
        assert [r["title_length"] for r in rows] == [len("关于煤矿安全事故的批示")]
    with psycopg.connect(roles.owner) as conn:
        found = conn.execute(
            "SELECT indexdef FROM pg_indexes WHERE schemaname = 'ducha_read' AND indexname = %s",
            (INDEX,),
        ).fetchall()
    assert len(found) == 1 and "title_length" in found[0][0]


def test_a_version_2_process_starts_on_sqlite_and_the_upgrade_brings_its_index(
    sqlite_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    with platform_of(sqlite_settings, monkeypatch) as old:  # version 1
        build_hierarchy(old)
        register(old, "gansu", "春耕")
        old.runner.catch_up_all()
    migrate(sqlite_settings)  # version 1's
    with monkeypatch.context() as patched:  # version 2's: its items DDL is not run
        patched.setattr("services.bootstrap.ItemsProjection", ItemsIndexed)
        said = migrate(sqlite_settings)
    assert said[0].endswith("nothing to do (every table was there; SQLite has no roles)")
    with platform_of(sqlite_settings, monkeypatch, version_2=True) as new:
        assert outdated(new) == ["items"]
        assert upgrade_projections(new, ["items"]).versions == {"items": 2}
        assert [r["title_length"] for r in items_rows(new)] == [2]
    path = sqlite_settings.data_dir / "read.sqlite"
    with closing(sqlite3.connect(path)) as conn:
        found = conn.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?", (INDEX,)
        ).fetchall()
    assert len(found) == 1 and "title_length" in found[0][0]
