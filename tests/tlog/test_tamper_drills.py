"""Tamper drills, on both backends: someone with database access changes one byte of a stored
event, deletes one, swaps two, truncates the tail, or rewrites history (and then rebuilds the
log and re-signs it with the office's own key). ``ducha ledger audit`` names the first index
that differs, and the superior office, as witness, refuses the next checkpoint, raises an alert
and keeps its state. 200 random tampers are all detected."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest

from services.bootstrap import Platform, Settings, build_platform
from services.cli import main
from services.ledger_keys import witness_name
from services.tlog.checkpoint import origin_for
from services.tlog.witness import WitnessState
from tests.conftest import FixedClock
from tests.scenario import build_hierarchy
from tests.tlog.drills import Raw, populate

KINDS = ("byte", "delete", "swap", "truncate", "rewrite")


@pytest.fixture
def cosigned(settings: Settings) -> Iterator[tuple[Platform, Raw]]:
    """gansu's log of a dozen events, checkpointed and cosigned by state-council."""
    clock = FixedClock("2026-03-02")
    p = build_platform(settings, clock=clock)
    build_hierarchy(p)
    populate(p, clock, items=4)
    _, witnessed = p.ledger.checkpoints.checkpoint_witnessed("gansu")
    assert witnessed is not None and witnessed.cosigned
    raw = Raw(p, "gansu")
    yield p, raw
    raw.close()
    p.close()


def tamper(raw: Raw, kind: str, rng: random.Random) -> int:
    """Do it; returns the first index (leaf) it changes."""
    ids = raw.ids()
    if kind == "byte":
        target = rng.choice(ids)
        raw.flip_byte(target, rng.randrange(1 << 16), rng.randrange(1, 256))
        return target - 1
    if kind == "delete":
        target = rng.choice(ids)
        raw.delete(target)
        return target - 1
    if kind == "swap":
        a, b = sorted(rng.sample(ids, 2))
        raw.swap(a, b)
        return a - 1
    if kind == "truncate":
        keep = rng.randrange(len(ids))
        raw.truncate(ids[keep - 1] if keep else 0)
        return keep
    target = rng.choice(ids)
    raw.rewrite(target)
    return target - 1


def state(p: Platform) -> WitnessState | None:
    return p.ledger.checkpoints.state(witness_name("state-council"), origin_for("gansu"))


def detected(p: Platform, raw: Raw, kind: str, rng: random.Random) -> bool:
    """One drill: tamper; the audit names the index; the tamperer rebuilds the log from the
    store and re-signs it with the office's key; the witness refuses, raises an alert and
    keeps its state; the audit still fails (against the cosigned checkpoint)."""
    kept, alerts = state(p), len(p.ledger.checkpoints.alerts("state-council"))
    first = tamper(raw, kind, rng)
    audit = p.ledger.proofs.audit("gansu")
    named = not audit.ok and audit.first_bad == first
    p.runner.rebuild(["tlog"], "gansu")
    _, witnessed = p.ledger.checkpoints.checkpoint_witnessed("gansu")
    assert witnessed is not None
    refused = not witnessed.cosigned and witnessed.alert is not None
    alerted = len(p.ledger.checkpoints.alerts("state-council")) == alerts + 1
    still = not p.ledger.proofs.audit("gansu").ok
    return named and refused and alerted and still and state(p) == kept


def restore(p: Platform, raw: Raw, rows: list[tuple[int, str, int, str, bytes]]) -> None:
    """Put the true history back: the log rebuilds to what was cosigned, and is cosigned."""
    raw.restore(rows)
    p.runner.rebuild(["tlog"], "gansu")
    _, witnessed = p.ledger.checkpoints.checkpoint_witnessed("gansu")
    assert witnessed is not None and witnessed.cosigned, witnessed
    assert p.ledger.proofs.audit("gansu").ok


@pytest.mark.parametrize("kind", KINDS)
def test_each_tamper_is_detected_by_the_audit_and_the_witness(
    cosigned: tuple[Platform, Raw], kind: str
) -> None:
    p, raw = cosigned
    assert p.ledger.proofs.audit("gansu").ok
    assert detected(p, raw, kind, random.Random(kind))
    alert = p.ledger.checkpoints.alerts("state-council")[0]
    assert alert.origin == "ducha/gansu" and alert.status in (400, 409, 422)


def test_the_audit_command_exits_1_naming_the_first_index(
    cosigned: tuple[Platform, Raw], capsys: pytest.CaptureFixture[str]
) -> None:
    p, raw = cosigned
    where = ["--data-dir", str(p.settings.data_dir)]
    if p.settings.database_url:
        where += ["--database-url", p.settings.database_url]
    assert main([*where, "ledger", "audit", "--office", "gansu"]) == 0
    assert "ok: gansu:" in capsys.readouterr().out
    raw.flip_byte(4, 30)
    assert main([*where, "ledger", "audit", "--office", "gansu"]) == 1
    assert "entry 3 (notification 4) differs" in capsys.readouterr().err
    p.runner.rebuild(["tlog"], "gansu")
    assert main([*where, "ledger", "checkpoint", "--office", "gansu"]) == 1
    out = capsys.readouterr().out  # (the changed event no longer decodes: the log shrank)
    assert "ducha-witness/state-council REFUSED (400)" in out and "ALERT: smaller tree" in out
    assert main([*where, "ledger", "alerts"]) == 0
    assert "ducha-witness/state-council refused ducha/gansu (400)" in capsys.readouterr().out


def test_a_shrunk_or_forked_log_is_refused_after_new_events_too(
    cosigned: tuple[Platform, Raw],
) -> None:
    """A fork that grew since (no longer the same size) fails the consistency proof."""
    p, raw = cosigned
    kept = state(p)
    raw.rewrite(2)
    p.runner.rebuild(["tlog"], "gansu")
    populate(p, FixedClock("2026-03-05"), items=1)
    _, witnessed = p.ledger.checkpoints.checkpoint_witnessed("gansu")
    assert witnessed is not None and witnessed.status == 422
    assert witnessed.alert and witnessed.alert.startswith("inconsistent")
    assert state(p) == kept


def test_200_random_tampers_are_all_detected(cosigned: tuple[Platform, Raw]) -> None:
    p, raw = cosigned
    rows = raw.rows()
    rng = random.Random(16)
    trials = 200
    found = 0
    for _ in range(trials):
        found += detected(p, raw, rng.choice(KINDS), rng)
        restore(p, raw, rows)
    print(f"tamper drills: {found}/{trials} detected")
    assert found == trials
