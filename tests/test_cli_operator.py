"""The CLI as an operator's tool: what it records about who acted, and the same source
reference registered twice."""

from __future__ import annotations

import getpass
import json
from pathlib import Path

import pytest

from domain.values import Actor
from services.bootstrap import Settings, build_platform
from services.duplicates import normalized
from services.stores.backend import ActorAsList
from tests.conftest import FixedClock
from tests.scenario import build_hierarchy, new_item
from tests.test_cli import REGISTER, Run, three_offices


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Run:
    return three_offices(tmp_path, monkeypatch, capsys)


def test_every_event_the_cli_records_names_the_channel_and_the_os_user(run: Run) -> None:
    item = run.json(*REGISTER, "--user", "张三")
    history = run.json("items", "history", "--office", "gansu", item["id"])
    assert history[0]["actor"] == {
        "user_id": "张三",  # what the operator claimed
        "office": "gansu",
        "role": "supervisor",
        "channel": "cli",
        "os_user": getpass.getuser(),  # who really ran it
    }
    offices = run.json("audit", "trail", "--office", "gansu")
    entry = offices["items"][0]
    assert (entry["actor_user"], entry["actor_channel"]) == ("张三", "cli")
    assert entry["actor_os_user"] == getpass.getuser()
    shown = run("audit", "trail", "--office", "gansu")
    assert f"(gansu, supervisor, cli:{getpass.getuser()})" in shown  # who really ran it


def test_the_same_reference_twice_is_refused_with_the_first_item_shown(run: Run) -> None:
    first = run.json(*REGISTER)
    out = run(*REGISTER[:-2], "--responsible", "李四", "--source-ref", "甘政批[2026]21号", code=1)
    assert out == ""
    assert run.err.count("\n") == 1 and run.err.startswith("error: ")
    assert first["id"] in run.err and "--allow-duplicate" in run.err
    assert run.json("items", "list", "--office", "gansu")["total"] == 1
    second = run.json(*REGISTER, "--allow-duplicate")
    assert second["id"] != first["id"]
    assert run.json("items", "list", "--office", "gansu")["total"] == 2


def test_references_compare_as_people_write_them() -> None:
    same = [
        "国办发〔2026〕12号",
        "国办发[2026]12号",
        "国办发 (2026) 12 号",
        "国办发【２０２６】12号",
    ]
    assert len({normalized(r) for r in same}) == 1
    assert normalized("国办发〔2026〕12号") != normalized("国办发〔2026〕120号")


def test_events_stored_before_channels_were_kept_still_read(tmp_path: Path) -> None:
    transcoding = ActorAsList()
    old = transcoding.decode(["state-council-clerk", "state-council", "clerk"])
    assert old == Actor("state-council-clerk", "state-council", "clerk", "", "")
    assert transcoding.encode(old) == ["state-council-clerk", "state-council", "clerk"]
    cli = Actor("cli", "gansu", "admin", channel="cli", os_user="ops")
    assert transcoding.decode(transcoding.encode(cli)) == cli
    platform = build_platform(Settings(data_dir=tmp_path / "var"), clock=FixedClock())
    try:
        build_hierarchy(platform)
        platform.supervision.register_item(cli, "gansu", new_item())
        store = platform.backend.store("gansu")
        (stored,) = store.recorder.select_notifications(1, 1)
        assert json.loads(stored.state)["actor"] == {
            "_type_": "actor",
            "_data_": ["cli", "gansu", "admin", "cli", "ops"],
        }
        assert store.mapper.to_domain_event(stored).actor == cli
    finally:
        platform.close()
