"""The Merkle log as a projection, on both backends: leaves from the stored events (holes
included), tiles equal to an independent build, a rebuild identical to the incremental log,
personal fields only as commitments, keys in 0600 files registered as events, checkpoints
cosigned by the superior office and proofs the offline verifier accepts."""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import stat
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from unittest.mock import patch
from uuid import UUID

import pytest

from projections import runner
from projections.tlog import append_leaves, log_size, tile_getter, with_tiles
from services.bootstrap import Platform, Settings, build_platform
from services.tlog.bundle import Bundle
from services.tlog.checkpoint import Checkpoint
from services.tlog.envelope import hole_leaf
from services.tlog.merkle import inclusion_proof, leaf_hash, root, root_of, verify_inclusion
from services.tlog.note import Note
from services.tlog.tiles import build, tiles_for
from services.tlog.verify import Policy, verify_bundle
from tests.conftest import FixedClock
from tests.scenario import build_hierarchy
from tests.tlog.drills import Raw, populate


@pytest.fixture
def ledger(settings: Settings) -> Iterator[tuple[Platform, FixedClock]]:
    clock = FixedClock("2026-03-02")
    p = build_platform(settings, clock=clock)
    build_hierarchy(p)
    populate(p, clock)
    yield p, clock
    p.close()


def stored_tiles(p: Platform, office: str) -> dict[str, bytes]:
    """Every tile the office's log is served as, by path, read from the store."""
    get, size = tile_getter(p.read, office), log_size(p.read, office)
    return {t.path: get(t.level, t.index, t.width) for t in tiles_for(size)}


def stored_rows(p: Platform) -> list[tuple[object, ...]]:
    return [
        tuple(r.values())
        for table in ("tlog_tiles ORDER BY office, level, idx", "tlog_edge ORDER BY office, idx")
        for r in p.read.all(f"SELECT * FROM {table}")
    ]


def leaves(p: Platform, office: str) -> list[bytes]:
    found = list(p.ledger.proofs.stored_leaves(office))
    assert all(leaf is not None for leaf in found)
    return [leaf for leaf in found if leaf is not None]


def test_leaf_i_is_notification_i_plus_1_with_the_stored_body_hashed(
    ledger: tuple[Platform, FixedClock],
) -> None:
    p, _ = ledger
    raw = Raw(p, "gansu")
    rows = raw.rows()
    raw.close()
    assert log_size(p.read, "gansu") == rows[-1][0] == len(rows) > 8
    for (notification, aggregate, version, topic, state), data in zip(
        rows, leaves(p, "gansu"), strict=True
    ):
        envelope = json.loads(data)
        assert envelope["id"] == notification and envelope["office"] == "gansu"
        assert envelope["aggregate"] == str(UUID(aggregate)) and envelope["version"] == version
        assert envelope["topic"] == topic  # the stored topic
        assert envelope["body"] == hashlib.sha256(state).hexdigest()  # the bytes as stored
        assert envelope["role"] in ("clerk", "leader") and envelope["at"].endswith("Z")


def test_the_stored_tiles_are_those_of_an_independent_build(
    ledger: tuple[Platform, FixedClock],
) -> None:
    p, _ = ledger
    hashes = [leaf_hash(data) for data in leaves(p, "gansu")]
    _, expected = build(hashes)
    assert {t.path: data for t, data in expected.items()} == stored_tiles(p, "gansu")
    assert p.ledger.checkpoints.root("gansu", len(hashes)) == root_of(hashes)


def test_personal_fields_enter_only_as_commitments(ledger: tuple[Platform, FixedClock]) -> None:
    p, _ = ledger
    data = leaves(p, "gansu")
    assert not any("张".encode() in leaf for leaf in data)
    committed = [json.loads(leaf) for leaf in data if b"personal" in leaf]
    assert len(committed) == 4  # each registered item names its responsible person
    keys = {r["subject"]: bytes(r["secret"]) for r in p.read.all("SELECT * FROM tlog_subject_keys")}
    assert set(keys) == {f"张{n}" for n in range(4)} and all(len(k) == 32 for k in keys.values())
    first = committed[0]["personal"]["responsible_person"]
    message = b"responsible_person\x00" + "张0".encode()
    assert first == hmac.new(keys["张0"], message, hashlib.sha256).hexdigest()


def test_a_rebuild_gives_identical_tiles_also_in_small_batches(
    ledger: tuple[Platform, FixedClock],
) -> None:
    p, clock = ledger
    populate(p, clock, "baiyin", items=3)
    before = {o: stored_tiles(p, o) for o in ("gansu", "baiyin")}
    rows, heads = stored_rows(p), p.read.all("SELECT * FROM tlog_heads ORDER BY office")
    assert all(before.values())
    p.runner.rebuild(["tlog"])
    assert {o: stored_tiles(p, o) for o in ("gansu", "baiyin")} == before
    assert stored_rows(p) == rows
    with patch.multiple(runner, REBUILD_BATCH=3, REBUILD_STATES=2):
        p.runner.rebuild()
    assert {o: stored_tiles(p, o) for o in ("gansu", "baiyin")} == before
    assert stored_rows(p) == rows
    assert p.read.all("SELECT * FROM tlog_heads ORDER BY office") == heads


def test_an_id_the_store_skipped_is_a_hole_leaf(ledger: tuple[Platform, FixedClock]) -> None:
    """PostgreSQL skips an id when an insert fails (here: an id taken and never used); on
    SQLite the same gap is made by hand. The log keeps leaf i = notification i + 1."""
    p, clock = ledger
    raw = Raw(p, "gansu")
    last = raw.ids()[-1]
    if raw.postgres:
        raw.run(f"SELECT nextval(pg_get_serial_sequence('{raw.table}', 'notification_id'))")
    else:
        donor = raw.rows()[-1]
        raw.run(f"DELETE FROM {raw.table} WHERE rowid = ?", (last,))
        raw.insert(last + 1, donor)  # the last event moves one id on: its old id is a hole
    raw.close()
    if raw.postgres:
        populate(p, clock, items=1)
    else:
        p.runner.rebuild(["tlog"], "gansu")
    hole = last + 1 if raw.postgres else last
    data = leaves(p, "gansu")
    assert data[hole - 1] == hole_leaf("gansu", hole)
    assert json.loads(data[hole])["id"] == hole + 1
    logged = tile_getter(p.read, "gansu")(0, 0, len(data))
    assert logged[(hole - 1) * 32 : hole * 32] == leaf_hash(hole_leaf("gansu", hole))
    assert p.ledger.proofs.audit("gansu").ok


def test_keys_are_0600_files_registered_as_events_and_rotation_keeps_old_checkpoints(
    ledger: tuple[Platform, FixedClock], tmp_path: Path
) -> None:
    p, clock = ledger
    first = p.ledger.checkpoints.checkpoint("gansu")
    keys_dir = p.settings.data_dir / "keys"
    for name in ("gansu.log.key", "state-council.witness.key"):
        assert stat.S_IMODE((keys_dir / name).stat().st_mode) == 0o600
    assert stat.S_IMODE(keys_dir.stat().st_mode) == 0o700
    old_bundle = p.ledger.proofs.prove("gansu", 2)
    new_vkey = p.ledger.keys.rotate("gansu", "log")
    assert [k.vkey for k in p.registry.log_keys("gansu", "log")][-1] == new_vkey
    assert len(p.registry.log_keys("gansu", "log")) == 2
    assert list(keys_dir.glob("gansu.log.*.retired"))
    populate(p, clock, items=1)
    second = p.ledger.checkpoints.checkpoint("gansu")
    assert Note.parse(first).signatures[0].key_id != Note.parse(second).signatures[0].key_id
    policy = Policy.parse(p.ledger.proofs.policy("gansu"))
    assert verify_bundle(old_bundle, policy).ok  # signed by the key valid then
    new_bundle = p.ledger.proofs.prove("gansu", 2)
    verdict = verify_bundle(new_bundle, policy)
    assert verdict.ok and verdict.size == Checkpoint.parse(Note.parse(second).text).size
    assert verdict.witnesses == ("state-council",)


def test_a_key_file_readable_by_others_is_refused(ledger: tuple[Platform, FixedClock]) -> None:
    p, _ = ledger
    p.ledger.checkpoints.checkpoint("gansu")
    path = p.settings.data_dir / "keys" / "gansu.log.key"
    path.chmod(0o644)
    fresh = build_platform(p.settings, clock=FixedClock("2026-03-03"))
    try:
        with pytest.raises(Exception, match="chmod 600"):
            fresh.ledger.checkpoints.checkpoint("gansu")
    finally:
        fresh.close()


def test_a_proof_for_every_entry_verifies_and_says_its_index(
    ledger: tuple[Platform, FixedClock],
) -> None:
    p, _ = ledger
    size = log_size(p.read, "gansu")
    policy = Policy.parse(p.ledger.proofs.policy("gansu"))
    for notification in range(1, size + 1):
        bundle = p.ledger.proofs.prove("gansu", notification)
        verdict = verify_bundle(bundle, policy)
        assert verdict.ok, verdict.message
        assert verdict.index == notification - 1 and verdict.size == size
        assert Bundle.parse(bundle).entry == leaves(p, "gansu")[notification - 1]


def test_appends_in_any_chunks_store_the_tiles_of_one_build(settings: Settings) -> None:
    """Across full tiles (600 leaves: two full level-0 tiles, a partial one and a level-1
    partial), appends of random sizes, each in its own transaction, serve the tiles a build
    of all the leaves makes, and leave the same rows as one append of them all."""
    p = build_platform(settings)
    rng = random.Random(7)
    hashes = [hashlib.sha256(str(n).encode()).digest() for n in range(600)]
    try:
        for office in ("chunks", "whole"):
            size = 0
            while size < len(hashes):
                step = len(hashes) if office == "whole" else rng.choice([1, 2, 7, 255, 256, 300])
                with p.read.transaction() as tx:
                    append_leaves(tx, office, size, hashes[size : size + step])
                size = min(len(hashes), size + step)
                _, expected = build(hashes[:size])
                assert stored_tiles(p, office) == {t.path: d for t, d in expected.items()}
                top = with_tiles(p.read, office, size, partial(root, size))
                assert top == root_of(hashes[:size])
                index = rng.randrange(size)
                path = with_tiles(p.read, office, size, partial(inclusion_proof, index, size))
                verify_inclusion(index, size, hashes[index], path, top)
        rows = {
            office: [
                tuple(r.values())[1:]
                for table in ("tlog_tiles", "tlog_edge")
                for r in p.read.all(
                    f"SELECT * FROM {table} WHERE office = ? ORDER BY 2, 3", (office,)
                )
            ]
            for office in ("chunks", "whole")
        }
        assert rows["chunks"] == rows["whole"] and len(rows["whole"]) == 2 + 1 + 600 % 256
    finally:
        p.close()
