"""``ducha ledger`` on the platform: checkpoint, witness, prove, verify, policy, then the offline
verifier with the printed policy; checkpoints every N events; the witness's compare-and-set."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from unittest.mock import patch

import pytest

from services.bootstrap import Platform, Settings, build_platform
from services.cli import main
from services.errors import ConflictError
from services.tlog.checkpoint import Checkpoint
from services.tlog.note import Note
from tests.conftest import FixedClock
from tests.scenario import build_hierarchy
from tests.tlog.drills import populate


@pytest.fixture
def platform(settings: Settings) -> Iterator[tuple[Platform, FixedClock]]:
    clock = FixedClock("2026-03-02")
    p = build_platform(settings, clock=clock)
    build_hierarchy(p)
    populate(p, clock, "baiyin", items=2)
    yield p, clock
    p.close()


def where(p: Platform) -> list[str]:
    found = ["--data-dir", str(p.settings.data_dir)]
    return found + (["--database-url", p.settings.database_url] if p.settings.database_url else [])


def test_prove_then_verify_online_and_offline(
    platform: tuple[Platform, FixedClock], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    p, _ = platform
    at = where(p)
    assert main([*at, "ledger", "checkpoint", "--office", "baiyin"]) == 0
    note = capsys.readouterr().out.encode()
    assert Checkpoint.parse(Note.parse(note).text).origin == "ducha/baiyin"
    assert b"ducha-witness/gansu" in note  # cosigned by the superior office
    bundle, policy = tmp_path / "3.tlog-proof", tmp_path / "baiyin.policy"
    assert (
        main([*at, "ledger", "prove", "--office", "baiyin", "--id", "3", "--out", str(bundle)]) == 0
    )
    assert main([*at, "ledger", "verify", str(bundle)]) == 0
    assert "verified: entry 2 of ducha/baiyin" in capsys.readouterr().out
    assert main([*at, "ledger", "policy", "--office", "baiyin"]) == 0
    policy.write_text(capsys.readouterr().out, encoding="utf-8")
    assert "quorum 1" in policy.read_text(encoding="utf-8")
    assert main(["ledger", "verify-bundle", str(bundle), "--policy", str(policy)]) == 0
    assert "cosigned by gansu" in capsys.readouterr().out
    bundle.write_bytes(bundle.read_bytes().replace(b"index 2", b"index 3"))
    assert main(["ledger", "verify-bundle", str(bundle), "--policy", str(policy)]) == 1


def test_witness_cosigns_the_children_and_unknown_ids_are_clear_errors(
    platform: tuple[Platform, FixedClock], capsys: pytest.CaptureFixture[str]
) -> None:
    p, clock = platform
    at = where(p)
    p.ledger.checkpoints.checkpoint("baiyin")
    populate(p, clock, "baiyin", items=1)
    assert main([*at, "ledger", "checkpoint", "--office", "baiyin"]) == 0
    assert main([*at, "ledger", "witness", "--office", "gansu"]) == 0
    assert "baiyin: size 10 cosigned" in capsys.readouterr().out
    assert main([*at, "ledger", "prove", "--office", "baiyin", "--id", "99"]) == 1
    assert "notification 99 of baiyin is not logged yet" in capsys.readouterr().err
    assert main([*at, "ledger", "policy", "--office", "nowhere"]) == 1
    assert "no office 'nowhere'" in capsys.readouterr().err


def test_a_checkpoint_every_n_events(settings: Settings) -> None:
    clock = FixedClock("2026-03-02")
    p = build_platform(replace(settings, checkpoint_every=5), clock=clock)
    try:
        build_hierarchy(p)
        populate(p, clock, "gansu", items=3)  # 3 × (register, acknowledge, progress) + 1 urge
        rows = p.read.all("SELECT size, note FROM tlog_checkpoints WHERE office = 'gansu'")
        assert sorted(int(r["size"]) for r in rows) == [5, 10]  # after the 5th and 10th events
        assert all(b"ducha-witness/state-council" in bytes(r["note"]) for r in rows)
    finally:
        p.close()


def test_the_witness_stores_its_state_only_if_nobody_cosigned_meanwhile(
    platform: tuple[Platform, FixedClock],
) -> None:
    p, clock = platform
    checkpoints = p.ledger.checkpoints
    checkpoints.checkpoint("baiyin")
    populate(p, clock, "baiyin", items=1)
    stale = checkpoints.state("ducha-witness/gansu", "ducha/baiyin")
    newer = checkpoints.checkpoint_witnessed("baiyin")[1]
    assert newer is not None and newer.cosigned
    with patch.object(checkpoints, "state", return_value=stale), pytest.raises(ConflictError):
        checkpoints.witness("gansu", "baiyin")  # decided on a state that moved on
