"""What a backup holds and what a restore refuses, on SQLite (the drill, once per backend, is in
``tests/backends/test_backup_drill.py``): the manifest, the ledger's keys kept 0600, the holiday
data file, the progress reported, Chinese names end to end, and the client tools' check."""

from __future__ import annotations

import json
import shutil
import stat
from dataclasses import replace
from pathlib import Path

import pytest

from services.backup import BackupError, Manifest, Progress, back_up, restore
from services.backup.postgres import pg_tool
from services.bootstrap import Settings, build_platform
from services.calendar import DEFAULT_DATA_FILE
from services.cli import main
from services.stores import PLATFORM
from tests.conftest import FixedClock
from tests.scenario import HIERARCHY, build_hierarchy, new_item, person

CODES = [code for code, *_ in HIERARCHY]


@pytest.fixture
def source(tmp_path: Path) -> Settings:
    """Offices with items, a checkpoint (so keys exist), a holiday data file of its own."""
    holidays = tmp_path / "etc" / "节假日.json"
    holidays.parent.mkdir()
    shutil.copyfile(DEFAULT_DATA_FILE, holidays)
    settings = Settings(data_dir=tmp_path / "var", holidays_file=holidays)
    platform = build_platform(settings, clock=FixedClock())
    try:
        build_hierarchy(platform)
        for code in CODES[:3]:
            platform.supervision.register_item(person(code, "supervisor"), code, new_item())
        platform.ledger.checkpoints.checkpoint("gansu")  # its log key, its parent's witness key
    finally:
        platform.close()
    return settings


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_manifest_names_each_office_its_last_id_and_every_file(
    source: Settings, tmp_path: Path
) -> None:
    manifest = back_up(source, tmp_path / "backup")
    written = json.loads((tmp_path / "backup" / "MANIFEST.json").read_text(encoding="utf-8"))
    platform = build_platform(source, clock=FixedClock())
    try:
        assert written["offices"] == platform.backend.last_ids(CODES) == manifest.offices
        assert written["registry"] == platform.backend.last_ids([PLATFORM])[PLATFORM] > 0
    finally:
        platform.close()
    assert list(manifest.offices) == CODES  # in the order they were registered
    assert written["backend"] == "sqlite" and written["ducha_version"]
    assert written["created_at"].endswith("+08:00")  # China time
    assert written["holidays"] == "节假日.json"
    assert set(written["files"]) == {
        "sqlite/read.sqlite",
        "sqlite/platform.sqlite",
        *(f"sqlite/offices/{code}.sqlite" for code in CODES),
        "holidays/节假日.json",
        "keys/gansu.log.key",
        "keys/state-council.witness.key",
        "subject-keys.json",
    }
    Manifest.read(tmp_path / "backup").verify(tmp_path / "backup")


def test_private_keys_stay_0600_in_the_backup_and_once_restored(
    source: Settings, tmp_path: Path
) -> None:
    back_up(source, tmp_path / "backup")
    target = Settings(data_dir=tmp_path / "restored", holidays_file=tmp_path / "h.json")
    restore(target, tmp_path / "backup")
    for keys in (tmp_path / "backup" / "keys", tmp_path / "restored" / "keys"):
        assert mode(keys) == 0o700
        for name in ("gansu.log.key", "state-council.witness.key"):
            assert mode(keys / name) == 0o600
            assert (keys / name).read_bytes() == (source.data_dir / "keys" / name).read_bytes()


def test_a_restore_puts_everything_back_and_reports_its_progress(
    source: Settings, tmp_path: Path
) -> None:
    said: list[tuple[str, object]] = []
    progress = Progress(
        offices=lambda n: said.append(("offices", n)),
        office=lambda code: said.append(("office", code)),
        events=lambda n: said.append(("events", n)),
    )
    manifest = back_up(source, tmp_path / "backup", progress)
    assert said == [("offices", len(CODES)), *(("office", code) for code in CODES)]
    said.clear()
    target = Settings(data_dir=tmp_path / "restored")  # no DUCHA_HOLIDAYS_FILE: beside the data
    _, used = restore(target, tmp_path / "backup", progress=progress)
    assert used.holidays_file == tmp_path / "restored" / "holidays" / "节假日.json"
    assert used.holidays_file.read_bytes() == source.holidays_file.read_bytes()
    assert said[0] == ("offices", len(CODES))
    assert sorted(v for k, v in said if k == "office") == sorted(CODES)
    assert sum(v for k, v in said if k == "events") == sum(manifest.offices.values())
    platform = build_platform(used, clock=FixedClock())
    try:
        assert [(o.code, o.name) for o in platform.registry.all()] == [
            (code, name) for code, name, *_ in HIERARCHY
        ]
        assert platform.views.items("gansu").items[0]["title"] == new_item().title
        assert platform.ledger.proofs.audit("gansu").ok  # the restored log and its checkpoint
    finally:
        platform.close()


@pytest.mark.parametrize("where", ["data", "keys", "holidays"])
def test_a_restore_refuses_anything_already_there(
    source: Settings, tmp_path: Path, where: str
) -> None:
    back_up(source, tmp_path / "backup")
    target = Settings(
        data_dir=tmp_path / "restored",
        keys_dir=tmp_path / "keys",
        holidays_file=tmp_path / "holidays.json",
    )
    there = {
        "data": target.data_dir / "notes.txt",
        "keys": tmp_path / "keys" / "gansu.log.key",
        "holidays": tmp_path / "holidays.json",
    }[where]
    there.parent.mkdir(parents=True, exist_ok=True)
    there.write_text("kept", encoding="utf-8")
    with pytest.raises(BackupError, match=r"not empty|exists"):
        restore(target, tmp_path / "backup")
    assert there.read_text(encoding="utf-8") == "kept"
    assert not (target.data_dir / "platform.sqlite").exists()


def test_a_backup_refuses_a_directory_that_is_not_empty(source: Settings, tmp_path: Path) -> None:
    (tmp_path / "backup").mkdir()
    (tmp_path / "backup" / "old").write_text("kept", encoding="utf-8")
    with pytest.raises(BackupError, match="not empty"):
        back_up(source, tmp_path / "backup")
    assert [p.name for p in (tmp_path / "backup").iterdir()] == ["old"]


def test_a_damaged_or_foreign_backup_is_refused_before_anything_is_written(
    source: Settings, tmp_path: Path
) -> None:
    back_up(source, tmp_path / "backup")
    target = Settings(data_dir=tmp_path / "restored")
    as_postgres = replace(target, database_url="postgresql://nobody@localhost:1/none")
    with pytest.raises(BackupError, match="backup is of sqlite"):
        restore(as_postgres, tmp_path / "backup")
    damaged = tmp_path / "backup" / "sqlite" / "offices" / "gansu.sqlite"
    data = bytearray(damaged.read_bytes())
    data[-1] ^= 0xFF
    damaged.write_bytes(bytes(data))
    with pytest.raises(BackupError, match=r"gansu\.sqlite does not match its checksum"):
        restore(target, tmp_path / "backup")
    damaged.unlink()
    with pytest.raises(BackupError, match="incomplete: missing"):
        restore(target, tmp_path / "backup")
    (tmp_path / "backup" / "MANIFEST.json").unlink()
    with pytest.raises(BackupError, match="not a Ducha backup"):
        restore(target, tmp_path / "backup")
    assert not target.data_dir.exists()


def test_client_tools_older_than_the_server_are_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = tmp_path / "bin" / "pg_dump"
    old.parent.mkdir()
    old.write_text("#!/bin/sh\necho 'pg_dump (PostgreSQL) 9.6.24'\n", encoding="ascii")
    old.chmod(0o755)
    monkeypatch.setattr("services.backup.postgres.candidates", lambda name: [str(old)])
    with pytest.raises(BackupError, match=r"no pg_dump of PostgreSQL 18 or later.*DUCHA_PG_BIN"):
        pg_tool("pg_dump", 18)
    assert pg_tool("pg_dump", 9) == str(old)


def test_a_restore_for_the_distributed_stack_says_to_change_the_topic(
    source: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    back_up(source, tmp_path / "backup")
    monkeypatch.setenv("DUCHA_BUS", "kafka")
    monkeypatch.setenv("DUCHA_HOLIDAYS_FILE", str(tmp_path / "restored-holidays.json"))
    restored = str(tmp_path / "restored")
    assert main(["--data-dir", restored, "restore", "--from", str(tmp_path / "backup")]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"restored {len(CODES)} offices")
    assert "new DUCHA_KAFKA_TOPIC (not ducha.events)" in out
    assert (tmp_path / "restored-holidays.json").read_bytes() == source.holidays_file.read_bytes()
