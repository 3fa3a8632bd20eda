"""``ducha projections rebuild --jobs N``: offices replayed in N processes give the same read
models as one process and as the incrementally built ones, on both backends; a failing child is
reported, its offices named; a nonsense ``--jobs`` is a usage error."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from services import rebuild_jobs
from services.bootstrap import Platform, Settings, build_platform
from services.cli import main
from services.rebuild_jobs import Messages, rebuild_in_jobs, replay_share, shares
from tests.conftest import FixedClock
from tests.projections.test_golden_rebuild import OPS, attempt, dump
from tests.scenario import build_hierarchy, new_item, person

GHOST = "no-such-office"


def scenario(p: Platform, steps: int = 300, seed: int = 5) -> None:
    """A seeded mix of every kind of step across the test hierarchy (with assignments, so
    that matters span offices that different processes replay)."""
    rng = random.Random(seed)
    clock = p.clock
    assert isinstance(clock, FixedClock)
    attempt(p, clock, "register", 0, 0, 0)
    for _ in range(steps):
        op = rng.choice([*OPS, "register", "assign", "assign"])
        attempt(p, clock, op, rng.randrange(100), rng.randrange(100), rng.randrange(4))


def env_for(settings: Settings) -> dict[str, str]:
    env = {**os.environ, "DUCHA_DATA_DIR": str(settings.data_dir), "DUCHA_CLOCK": "2026-06-01"}
    env.pop("DUCHA_DATABASE_URL", None)
    if settings.database_url:
        env["DUCHA_DATABASE_URL"] = settings.database_url
    return env


def test_two_jobs_equal_one_and_the_incremental_models(busy: Platform) -> None:
    try:
        incremental = dump(busy)
        assert len(incremental["audit"]) > 50 and incremental["rollup_record_days"]
        outcome = rebuild_in_jobs(busy, 2)
        assert (outcome.failures, outcome.not_rebuilt) == ({}, [])
        assert outcome.applied == len(incremental["audit"])
        assert outcome.finished == {o.code for o in busy.registry.all()}
        assert dump(busy) == incremental
        busy.runner.rebuild()
        assert dump(busy) == incremental
        rebuild_in_jobs(busy, 3, ["rollup"])  # one projection, more jobs than it needs
        assert dump(busy) == incremental
    finally:
        busy.close()


def test_the_installed_command_rebuilds_in_two_jobs(busy: Platform) -> None:
    incremental = dump(busy)
    busy.close()
    ducha = Path(sys.executable).parent / "ducha"
    done = subprocess.run(
        [str(ducha), "projections", "rebuild", "--jobs", "2"],
        env=env_for(busy.settings),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"rebuilt all projections: {len(incremental['audit'])} events\n"
    again = build_platform(busy.settings, clock=FixedClock("2026-03-02"), catch_up=False)
    try:
        assert dump(again) == incremental
    finally:
        again.close()


def with_a_ghost(
    settings: Settings, names: list[str] | None, offices: list[str], messages: Messages, job: int
) -> None:
    """The real child, given an office with no store second in its share: it replays the
    first, then fails there."""
    replay_share(settings, names, [*offices[:1], GHOST, *offices[1:]], messages, job)


def test_a_failing_child_is_reported_and_its_offices_rebuilt_after(
    busy: Platform, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    incremental = dump(busy)
    sizes = busy.backend.last_ids([o.code for o in busy.registry.all()])
    busy.close()
    for name, value in env_for(busy.settings).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(rebuild_jobs, "JOB", with_a_ghost)
    assert main(["projections", "rebuild", "--jobs", "2"]) == 1
    err = capsys.readouterr().err.strip().splitlines()[-1]
    left = [code for share in shares(sizes, 2) for code in share[1:]]  # each after the ghost
    assert err.startswith("error: job 1: StoreUnavailableError: no event store for 'no-such-")
    assert "job 2: StoreUnavailableError" in err
    assert err.endswith(
        f"{len(left)} office(s) not rebuilt (rebuild each with --office CODE, "
        f"or all again): {', '.join(sorted(left, key=list(sizes).index))}"
    )
    monkeypatch.undo()
    p = build_platform(busy.settings, clock=FixedClock("2026-03-02"), catch_up=False)
    try:
        assert dump(p) != incremental  # those offices' rows are missing
        for code in left:
            p.runner.rebuild(None, code)
        assert dump(p) == incremental
    finally:
        p.close()


@pytest.mark.parametrize("jobs", ["0", "-2", "two"])
def test_jobs_must_be_a_whole_number_of_at_least_one(
    sqlite_settings: Settings, jobs: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["--data-dir", str(sqlite_settings.data_dir), "projections", "rebuild", "--jobs", jobs]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--jobs" in err, err


def test_one_office_is_one_process(
    busy: Platform, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    incremental = dump(busy)
    busy.close()
    for name, value in env_for(busy.settings).items():
        monkeypatch.setenv(name, value)
    args = ["projections", "rebuild", "rollup", "--office", "gansu", "--jobs", "2"]
    assert main(args) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("rebuilt rollup: ")
    assert "note: one office is rebuilt by one process (--jobs ignored)" in captured.err
    again = build_platform(busy.settings, clock=FixedClock("2026-03-02"), catch_up=False)
    try:
        assert dump(again) == incremental
    finally:
        again.close()


def test_shares_are_balanced_by_events_and_keep_the_order() -> None:
    sizes = {"root": 0, "a": 90, "b": 50, "c": 40, "d": 10, "e": 0}
    assert shares(sizes, 2) == [["a", "d"], ["root", "b", "c", "e"]]
    assert shares(sizes, 1) == [list(sizes)]
    assert shares({"a": 5}, 3) == [["a"]]  # never an empty share
    loads = [sum(sizes[c] for c in part) for part in shares(sizes, 3)]
    assert max(loads) - min(loads) <= 50


def test_the_ledgers_log_can_be_rebuilt_alone_by_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(data_dir=tmp_path / "var")
    p = build_platform(settings, clock=FixedClock())
    build_hierarchy(p)
    p.supervision.register_item(person("gansu", "supervisor"), "gansu", new_item())
    before = p.read.all("SELECT * FROM tlog_heads ORDER BY office")
    p.close()
    monkeypatch.setenv("DUCHA_DATA_DIR", str(settings.data_dir))
    assert main(["projections", "rebuild", "tlog"]) == 0
    assert "rebuilt tlog" in capsys.readouterr().out
    again = build_platform(settings, clock=FixedClock())
    try:
        assert again.read.all("SELECT * FROM tlog_heads ORDER BY office") == before != []
    finally:
        again.close()
