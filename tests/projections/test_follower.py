"""The read side catches up with what other processes recorded and did not apply (issue 15 §1–2):
``ducha serve``'s follower looks at every office once as it starts; on PostgreSQL it is then
told which offices commit and catches up those still behind, looking at every office again
only on its slow safety poll. ``ducha projections catch-up`` does the look on demand."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from services.bootstrap import Platform, Settings, build_platform
from services.cli import main
from services.follower import Follower
from services.kafka import wait_for
from tests.backends.test_heads_and_signals import record
from tests.conftest import FixedClock
from tests.scenario import build_hierarchy


def crashed_writes(settings: Settings, office: str, count: int = 1) -> list[str]:
    """Commands of another process whose read side never ran (its pump died)."""
    other = build_platform(settings, clock=FixedClock())
    try:
        other.supervision.listeners.clear()
        return record(other, office, count)
    finally:
        other.close()


def counting(platform: Platform, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    looks: list[int] = []
    catch_up_all = platform.runner.catch_up_all

    def counted() -> Any:
        looks.append(1)
        return catch_up_all()

    monkeypatch.setattr(platform.runner, "catch_up_all", counted)
    return looks


@pytest.mark.postgres
def test_a_commit_in_another_process_is_applied_on_its_signal(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(database_url=pg_url)
    server = build_platform(settings, clock=FixedClock())
    build_hierarchy(server)
    looks = counting(server, monkeypatch)
    follower = Follower(server.runner, server.backend, safety_poll=3600, settle=0.1)
    follower.start()
    try:
        assert follower.caught_up.wait(30)
        item = crashed_writes(settings, "gansu")[0]
        assert wait_for(lambda: server.views.item("gansu", item) is not None, 10)
        assert server.views.rollup("state-council")["records"]["total"] == 1
        assert looks == [1]  # told, not looking at every office again
    finally:
        follower.stop()
        follower.join(10)
        server.close()
    assert not follower.is_alive()


def test_on_sqlite_the_follower_looks_once_and_ends(
    sqlite_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = build_platform(sqlite_settings, clock=FixedClock())
    build_hierarchy(first)
    first.close()
    item = crashed_writes(sqlite_settings, "sichuan")[0]
    server = build_platform(sqlite_settings, clock=FixedClock())
    looks = counting(server, monkeypatch)
    try:
        follower = Follower(server.runner, server.backend)
        follower.start()
        follower.join(30)
        assert not follower.is_alive() and follower.caught_up.is_set()
        assert looks == [1]
        assert server.views.item("sichuan", item) is not None
    finally:
        server.close()


def test_projections_catch_up_applies_what_no_process_applied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(data_dir=tmp_path / "var")
    first = build_platform(settings, clock=FixedClock())
    build_hierarchy(first)
    first.close()
    crashed_writes(settings, "gansu", 2)
    monkeypatch.setenv("DUCHA_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("DUCHA_CLOCK", "2026-03-02")
    assert main(["projections", "status", "--behind"]) == 0
    assert "gansu" in capsys.readouterr().out
    assert main(["projections", "catch-up"]) == 0
    assert capsys.readouterr().out == "applied 2 events\n"
    assert main(["projections", "catch-up", "--office", "gansu"]) == 0
    assert capsys.readouterr().out == "applied 0 events\n"
    assert main(["projections", "catch-up", "--office", "nowhere"]) != 0
    assert capsys.readouterr().err.strip() == "error: no office 'nowhere'"


def test_a_look_at_every_office_leaves_commands_of_the_process_free_meanwhile(
    sqlite_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    platform = build_platform(sqlite_settings, clock=FixedClock())
    build_hierarchy(platform)
    looking, go_on = threading.Event(), threading.Event()
    behind = platform.runner._behind

    def slow(offices: list[str]) -> list[str]:
        looking.set()
        assert go_on.wait(10)
        return behind(offices)

    monkeypatch.setattr(platform.runner, "_behind", slow)
    look = threading.Thread(target=platform.runner.catch_up_all)
    look.start()
    try:
        assert looking.wait(10)
        item = record(platform, "gansu")[0]  # its pump is not kept waiting by the look
        assert platform.views.item("gansu", item) is not None
    finally:
        go_on.set()
        look.join(10)
        platform.close()


def test_a_workers_follower_catches_up_only_offices_stuck_behind(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    worker = build_platform(settings, clock=FixedClock())
    build_hierarchy(worker)
    item = crashed_writes(settings, "baiyin")[0]  # lost on its way to this worker, say
    caught_up: list[list[str]] = []
    catch_up = worker.runner.catch_up_offices

    def counted(offices: list[str]) -> int:
        caught_up.append(offices)
        return catch_up(offices)

    monkeypatch.setattr(worker.runner, "catch_up_offices", counted)
    follower = Follower(worker.runner, worker.backend, safety_poll=0.3, listen=False)
    follower.start()
    try:
        assert follower.caught_up.wait(30)  # the first look only notes who is behind
        assert worker.views.item("baiyin", item) is None and caught_up == []
        assert wait_for(lambda: worker.views.item("baiyin", item) is not None, 10)
        assert caught_up[0] == ["baiyin"]  # behind twice at the same place: stuck
    finally:
        follower.stop()
        follower.join(10)
        worker.close()
