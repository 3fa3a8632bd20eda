"""Blue/green upgrades (``ducha projections upgrade``): the items projection's version 2 adds a
column; it is built beside the live rows while version 1 keeps serving and moving them, then
switched in; each version leaves alone the rows the other built. SQLite and PostgreSQL."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from projections.items import DDL, TABLE, ItemsProjection
from projections.readstore import Table, Tx
from projections.runner import Batch
from services.bootstrap import Platform, Settings, build_platform
from services.errors import ServiceError
from services.upgrade import BESIDE_FILE, outdated, upgrade_projections
from tests.conftest import FixedClock
from tests.scenario import build_hierarchy, new_item, person

TABLE_2 = Table("items", (*TABLE.columns, ("title_length", "INTEGER")), TABLE.key, TABLE.nullable)
UPSERT_2 = TABLE_2.update_all(but=("created_position",))


class ItemsVersion2(ItemsProjection):
    """Version 2 of the items: each row also says how long its title is."""

    version = 2
    ddl = DDL.replace(TABLE.create(), TABLE_2.create())

    def prepare(self, batch: Batch) -> list[tuple[Any, ...]]:
        return [(*row, len(row[3])) for row in super().prepare(batch)]

    def write(self, tx: Tx, rows: list[tuple[Any, ...]]) -> None:
        tx.write(TABLE_2, rows, UPSERT_2)


class ItemsVersion2Failing(ItemsVersion2):
    def prepare(self, batch: Batch) -> list[tuple[Any, ...]]:
        if any("失败" in getattr(e.event, "title", "") for e in batch.envelopes):
            raise RuntimeError("version 2 cannot read this item")
        return super().prepare(batch)


def items_rows(platform: Platform) -> list[dict[str, Any]]:
    return platform.read.all("SELECT * FROM items ORDER BY office, id")


def positions(platform: Platform, consumer: str) -> dict[str, int]:
    rows = platform.read.all("SELECT office, position FROM tracking WHERE consumer = ?", [consumer])
    return {r["office"]: int(r["position"]) for r in rows}


def register(platform: Platform, office: str, title: str) -> str:
    return str(
        platform.supervision.register_item(person(office, "supervisor"), office, new_item(title)).id
    )


@pytest.fixture
def old(settings: Settings) -> Iterator[Platform]:
    """A process of the version running today, with a few items in three offices."""
    built = build_platform(settings, clock=FixedClock())
    build_hierarchy(built)
    for office, title in [
        ("gansu", "关于煤矿安全事故的批示"),
        ("baiyin", "防汛"),
        ("gansu", "春耕"),
    ]:
        register(built, office, title)
    yield built
    built.close()


def new_version(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, items: type = ItemsVersion2
) -> Platform:
    """A process of the next version: the same platform with version 2 of the items."""
    monkeypatch.setattr("services.bootstrap.ItemsProjection", items)
    try:
        return build_platform(settings, clock=FixedClock())
    finally:
        monkeypatch.undo()


def test_version_2_is_built_beside_and_switched_in_while_version_1_goes_on(
    old: Platform, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    new = new_version(settings, monkeypatch)
    try:
        assert outdated(new) == ["items"] and outdated(old) == []
        audit_before = positions(old, "audit")
        # the new version leaves the old rows alone; the old one still moves them
        late = register(new, "sichuan", "新版本登记的事项")
        assert late not in {r["id"] for r in items_rows(new)}
        assert positions(new, "audit")["sichuan"] == 1  # its other projections move
        old.runner.catch_up_all()
        assert late in {r["id"] for r in items_rows(old)}

        done = upgrade_projections(new, outdated(new))

        last = new.backend.last_ids([o.code for o in new.registry.all()])
        assert done.versions == {"items": 2} and done.replayed == sum(last.values()) == 4
        rows = items_rows(new)
        assert len(rows) == 4 and all(r["title_length"] == len(r["title"]) for r in rows)
        assert new.runner.stored_versions()["items"] == 2 and outdated(new) == []
        assert outdated(old) == ["items"]  # the old version now leaves them alone
        assert positions(new, "items") == {o: n for o, n in last.items() if n}
        assert {o: p for o, p in positions(new, "audit").items() if o != "sichuan"} == {
            o: p for o, p in audit_before.items() if o != "sichuan"
        }

        after = register(old, "gansu", "旧版本在切换后登记")  # old: not applied to items
        assert after not in {r["id"] for r in items_rows(old)}
        new.runner.catch_up_all()
        rows = {r["id"]: r for r in items_rows(new)}
        assert rows[after]["title_length"] == len("旧版本在切换后登记")

        switched = items_rows(new)
        new.runner.rebuild(["items"])  # the oracle: version 2 rebuilt in place
        assert items_rows(new) == switched
    finally:
        new.close()
    assert not (settings.data_dir / BESIDE_FILE).exists()


def test_a_version_that_stops_at_an_event_switches_nothing(
    old: Platform, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    register(old, "gansu", "版本二读不了的失败事项")
    before = items_rows(old)
    new = new_version(settings, monkeypatch, ItemsVersion2Failing)
    try:
        with pytest.raises(ServiceError, match=r"stopped at notification .* nothing was switched"):
            upgrade_projections(new, ["items"])
        assert items_rows(old) == before and new.runner.stored_versions()["items"] == 1
        if new.settings.database_url:
            schemas = new.read.all(
                "SELECT 1 AS one FROM information_schema.schemata "
                "WHERE schema_name = 'ducha_read_next'"
            )
            assert schemas == []
        assert not (settings.data_dir / BESIDE_FILE).exists()
    finally:
        new.close()


def test_the_ledger_is_rebuilt_in_place_not_beside(old: Platform) -> None:
    with pytest.raises(ServiceError, match=r"tlog keeps tlog_subject_keys .* rebuild it in place"):
        upgrade_projections(old, ["tlog"])


def test_the_command_says_when_there_is_nothing_to_upgrade_and_rebuilds_by_name(
    tmp_path: Path,
) -> None:
    ducha = [str(Path(sys.executable).parent / "ducha"), "--data-dir", str(tmp_path / "var")]
    env = {"PATH": "/usr/bin:/bin", "DUCHA_CLOCK": "2026-03-02"}
    subprocess.run([*ducha, "demo"], env=env, check=True, capture_output=True, timeout=300)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*ducha, "projections", *args], env=env, capture_output=True, text=True, timeout=300
        )

    nothing = run("upgrade")
    assert nothing.returncode == 0, nothing.stderr
    assert (
        nothing.stdout.strip() == "nothing to upgrade: every projection's rows are this version's"
    )

    def rows() -> list[tuple[Any, ...]]:
        with closing(sqlite3.connect(tmp_path / "var" / "read.sqlite")) as read:
            return read.execute("SELECT * FROM items ORDER BY office, id").fetchall()

    before = rows()
    again = run("upgrade", "audit", "items")
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("switched in items version 1, audit version 1: 96 events")
    assert rows() == before and len(before) == 20
    refused = run("upgrade", "tlog")
    assert refused.returncode == 1 and refused.stderr.splitlines()[-1] == (
        "error: tlog keeps tlog_subject_keys across rebuilds and cannot be built beside itself: "
        "rebuild it in place (ducha projections rebuild tlog)"
    )


def test_make_run_brings_a_kept_demos_read_models_up_to_date(tmp_path: Path) -> None:
    from services.kafka.broker import free_port
    from services.kafka.settings import wait_for

    ducha = [str(Path(sys.executable).parent / "ducha"), "--data-dir", str(tmp_path / "var")]
    env = {"PATH": "/usr/bin:/bin", "DUCHA_CLOCK": "2026-03-02"}
    subprocess.run([*ducha, "demo"], env=env, check=True, capture_output=True, timeout=300)
    read = tmp_path / "var" / "read.sqlite"
    with closing(sqlite3.connect(read)) as db, db:  # as an earlier version left it
        db.execute("UPDATE read_models SET version = 1 WHERE consumer = 'rollup'")
    port = free_port()
    server = subprocess.Popen(
        [*ducha, "run", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert server.stdout is not None
        first = server.stdout.readline()
        assert first.strip() == "upgrading the read models an earlier version built: rollup"

        def version() -> int:
            with closing(sqlite3.connect(read)) as db:
                row = db.execute("SELECT version FROM read_models WHERE consumer = 'rollup'")
                return int(row.fetchone()[0])

        assert wait_for(lambda: version() == 2, 60)
    finally:
        server.terminate()
        server.wait(timeout=30)
