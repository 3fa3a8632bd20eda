"""The ledger over HTTP (``/log/<office>/…``) on both backends: the checkpoint with its
cosignatures, C2SP tiles checked against an independent hashing of the store, entry bundles
only for audit-trail readers, proof bundles for them and, for published steps, for anyone,
consistency proofs checked with the RFC's verifier, and every malformed path or number a 4xx."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from services.bootstrap import Settings
from services.tlog.checkpoint import Checkpoint
from services.tlog.cosignature import CosignatureVerifier
from services.tlog.merkle import MemoryTree, leaf_hash, verify_consistency
from services.tlog.note import Ed25519Verifier, Note, Signature, open_note
from services.tlog.tiles import parse_entry_bundle, split_hashes
from services.tlog.verify import Policy, verify_bundle
from services.tlog.witness import origin_hash
from services.tlog_serving import Badge, LogServing
from tests.http.conftest import Api, make_api
from tests.scenario import new_item, person

OFFICE = "gansu"


@pytest.fixture
def api(settings: Settings, tmp_path: Path) -> Iterator[Api]:
    yield from make_api(tmp_path, settings)


def populate(api: Api, items: int) -> list[str]:
    """Items of gansu, each registered and acknowledged (two events each)."""
    ids = []
    for number in range(items):
        view = api.platform.supervision.register_item(
            person(OFFICE, "supervisor"), OFFICE, new_item(f"事项{number}")
        )
        api.platform.supervision.act(person(OFFICE), OFFICE, view.id, "acknowledge")
        ids.append(str(view.id))
    return ids


def leaf_hashes(api: Api) -> list[bytes]:
    """Every leaf hash recomputed from the store, apart from the tiles."""
    leaves = api.platform.ledger.proofs.stored_leaves(OFFICE)
    return [leaf_hash(data) for data in leaves if data is not None]


def get(client: FlaskClient, path: str, **headers: str):  # type: ignore[no-untyped-def]
    response = client.get(path, headers=headers)
    assert response.status_code < 500, (path, response.status_code, response.data[:200])
    return response


def test_the_checkpoint_and_tiles_are_the_stores_log_signed_and_cosigned(api: Api) -> None:
    populate(api, 3)
    api.platform.ledger.checkpoints.checkpoint(OFFICE)
    hashes = leaf_hashes(api)
    size = len(hashes)
    response = get(api.client, f"/log/{OFFICE}/checkpoint")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert "max-age=10" in response.headers["Cache-Control"]
    registry = api.platform.registry
    log_key = Ed25519Verifier.from_vkey(registry.log_keys(OFFICE, "log")[-1].vkey)
    witness = CosignatureVerifier.from_vkey(registry.log_keys("state-council", "witness")[-1].vkey)
    opened = open_note(response.data, [log_key, witness])
    assert opened.signed_by(log_key) and opened.signed_by(witness)
    checkpoint = Checkpoint.parse(opened.note.text)
    assert checkpoint.size == size and checkpoint.root == MemoryTree(hashes).root(size)
    tile = get(api.client, f"/log/{OFFICE}/tile/0/000.p/{size}")
    assert tile.status_code == 200 and tile.mimetype == "application/octet-stream"
    assert split_hashes(tile.data) == hashes
    assert "immutable" not in tile.headers["Cache-Control"]
    smaller = get(api.client, f"/log/{OFFICE}/tile/0/000.p/{size - 1}")
    assert split_hashes(smaller.data) == hashes[:-1]  # an older size is a prefix
    for missing in (
        f"/log/{OFFICE}/tile/0/000",  # not full yet
        f"/log/{OFFICE}/tile/0/000.p/{size + 1}",  # beyond the log
        f"/log/{OFFICE}/tile/1/000.p/1",
        "/log/baiyin/checkpoint",  # no checkpoint yet
        "/log/no-such-office/checkpoint",
    ):
        assert get(api.client, missing).status_code == 404, missing


@pytest.mark.parametrize(
    "path",
    [
        "/log/GANSU/checkpoint",
        "/log/甘肃/checkpoint",
        "/log/gansu/tile/0/0",
        "/log/gansu/tile/0/x000/001",  # a superfluous leading group
        "/log/gansu/tile/0/001.p/0",
        "/log/gansu/tile/0/001.p/256",
        "/log/gansu/tile/0/001.p/007",
        "/log/gansu/tile/64/000",
        "/log/gansu/tile/00/000",
        "/log/gansu/tile/0/" + "x999/" * 30 + "999",  # an index of 93 digits
        "/log/gansu/tile/entries/" + "x999/" * 30 + "999",
        "/log/gansu/tile/0/-01",
        "/log/gansu/proof/0",
        "/log/gansu/proof/01",
        "/log/gansu/proof/" + "9" * 40,
        "/log/gansu/proof/abc",
        "/witness/office/gansu/" + "0" * 63 + "/checkpoint",
        "/witness/public/" + "a" * 64 + "/checkpoint",
    ],
)
def test_malformed_paths_are_not_found(api: Api, path: str) -> None:
    populate(api, 1)
    api.platform.ledger.checkpoints.checkpoint(OFFICE)
    response = get(api.client, path, Authorization=f"Bearer {api.token(OFFICE, 'auditor')}")
    assert response.status_code == 404


def test_full_tiles_are_immutable_and_entries_only_for_audit_trail_readers(api: Api) -> None:
    populate(api, 130)  # 260 leaves: one full level-0 tile, a partial one, a level-1 one
    hashes = leaf_hashes(api)
    assert len(hashes) == 260
    full = get(api.client, f"/log/{OFFICE}/tile/0/000")
    assert full.status_code == 200 and split_hashes(full.data) == hashes[:256]
    assert full.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    edge = get(api.client, f"/log/{OFFICE}/tile/0/001.p/4")
    assert split_hashes(edge.data) == hashes[256:]
    level1 = get(api.client, f"/log/{OFFICE}/tile/1/000.p/1")
    assert split_hashes(level1.data) == [MemoryTree(hashes[:256]).root(256)]
    missing_route = get(api.client, "/log/gansu/no-such-route")
    for who in (None, (OFFICE, "clerk"), ("sichuan", "leader"), ("baiyin", "auditor")):
        headers = api.headers(*who) if who else {}
        refused = get(api.client, f"/log/{OFFICE}/tile/entries/000", **headers)
        assert refused.status_code == 404, who
        assert refused.json == missing_route.json  # not a word more than a missing route
    for who in ((OFFICE, "auditor"), (OFFICE, "supervisor"), ("state-council", "auditor")):
        bundle = get(api.client, f"/log/{OFFICE}/tile/entries/000", **api.headers(*who))
        assert bundle.status_code == 200, who
        assert bundle.headers["Cache-Control"].startswith("private")
        assert [leaf_hash(e) for e in parse_entry_bundle(bundle.data)] == hashes[:256]
    partial = get(api.client, f"/log/{OFFICE}/tile/entries/001.p/4", **api.headers(OFFICE))
    assert [leaf_hash(e) for e in parse_entry_bundle(partial.data)] == hashes[256:]


def test_proofs_for_readers_of_the_audit_trail_and_published_steps_for_anyone(api: Api) -> None:
    first, second = populate(api, 2)
    checkpoints = api.platform.ledger.checkpoints
    checkpoints.checkpoint(OFFICE)
    auditor = api.headers(OFFICE, "auditor")
    response = get(api.client, f"/log/{OFFICE}/proof/2", **auditor)
    assert response.status_code == 200 and response.mimetype == "application/octet-stream"
    assert f"ducha-{OFFICE}-2.tlog-proof" in response.headers["Content-Disposition"]
    policy = Policy.parse(api.platform.ledger.proofs.policy(OFFICE))
    verdict = verify_bundle(response.data, policy)
    assert verdict.ok and verdict.index == 1 and verdict.witnesses == ("state-council",)
    assert get(api.client, f"/log/{OFFICE}/proof/2").status_code == 404  # not published
    assert get(api.client, f"/log/{OFFICE}/proof/9", **auditor).status_code == 404  # unlogged
    api.platform.supervision.act(
        person(OFFICE, "supervisor"), OFFICE, second, "publish", summary="公开摘要"
    )
    published = int(api.platform.read.all("SELECT MAX(size) AS n FROM tlog_heads")[0]["n"])
    made = len(api.platform.read.all("SELECT seq FROM tlog_checkpoints"))
    early = get(api.client, f"/log/{OFFICE}/proof/{published}")  # no checkpoint covers it yet
    assert early.status_code == 404 and b"covers" in early.data
    assert len(api.platform.read.all("SELECT seq FROM tlog_checkpoints")) == made  # GET signs none
    checkpoints.checkpoint(OFFICE)  # the next checkpoint (every N events or T seconds)
    anyone = get(api.client, f"/log/{OFFICE}/proof/{published}")
    assert anyone.status_code == 200, anyone.data
    verdict = verify_bundle(anyone.data, Policy.parse(api.platform.ledger.proofs.policy(OFFICE)))
    assert verdict.ok and verdict.size == published
    # the public site cosigned it too, after the superior (gansu publishes now)
    assert "public-witness" in verdict.witnesses and "state-council" in verdict.witnesses
    for earlier in (1, 2, 3, published - 1):  # before publishing, or another record's
        assert get(api.client, f"/log/{OFFICE}/proof/{earlier}").status_code == 404
    assert first  # the first record stays unpublished: none of its events is proven to anyone


def test_consistency_proofs_verify_and_bad_sizes_say_which(api: Api) -> None:
    populate(api, 5)
    hashes = leaf_hashes(api)
    tree = MemoryTree(hashes)
    size = len(hashes)
    for old in (1, 3, 4, size):
        response = get(api.client, f"/log/{OFFICE}/consistency?from={old}&to={size}")
        assert response.status_code == 200
        body = response.json
        assert body["from"] == old and body["to"] == size
        proof = [base64.b64decode(h) for h in body["proof"]]
        verify_consistency(old, size, tree.root(old), tree.root(size), proof)
    for query, field in (
        ("from=0&to=3", "from"),
        (f"from=2&to={size + 1}", "to"),
        ("from=5&to=3", "to"),
        ("from=abc&to=3", "from"),
        (f"from=1&to={10**40}", "to"),
        ("from=-1&to=3", "from"),
        ("from=01&to=3", "from"),
        ("to=3", "from"),
        ("from=1&to=3&extra=1", "extra"),
    ):
        response = get(api.client, f"/log/{OFFICE}/consistency?{query}")
        assert response.status_code == 400, query
        assert field in response.json["errors"], (query, response.json)


def test_the_witness_refuses_a_body_that_is_not_a_request(api: Api) -> None:
    populate(api, 1)
    for body in (b"", b"old 1\n", b"old x\n\nducha/gansu\n1\nAAAA\n", "旧 0\n\n".encode()):
        response = api.client.post("/witness/office/state-council/add-checkpoint", data=body)
        assert response.status_code == 400, body
    unknown = api.client.post("/witness/office/no-such/add-checkpoint", data=b"old 0\n\n")
    assert unknown.status_code == 404


def test_a_checkpoint_resubmitted_with_its_cosignatures_is_cosigned_once(api: Api) -> None:
    """A log may send what it serves (its note with the cosignatures gathered so far): the
    witness keeps the log's signature and its own one new cosignature, never two of its own."""
    populate(api, 2)
    api.platform.ledger.checkpoints.checkpoint(OFFICE)
    served = get(api.client, f"/log/{OFFICE}/checkpoint").data
    size = Checkpoint.parse(Note.parse(served).text).size
    body = f"old {size}\n\n".encode() + served
    response = api.client.post("/witness/office/state-council/add-checkpoint", data=body)
    assert response.status_code == 200, response.data
    hashed = origin_hash(f"ducha/{OFFICE}")
    kept = get(api.client, f"/witness/office/state-council/{hashed}/checkpoint").data
    names = [s.name for s in Note.parse(kept).signatures]
    assert names == [f"ducha/{OFFICE}", "ducha-witness/state-council"]
    registry = api.platform.registry
    log_key = Ed25519Verifier.from_vkey(registry.log_keys(OFFICE, "log")[-1].vkey)
    witness = CosignatureVerifier.from_vkey(registry.log_keys("state-council", "witness")[-1].vkey)
    assert open_note(kept, [log_key, witness]).signed_by(witness)


def test_the_badge_names_the_checkpoint_and_the_witnesses_whose_cosignatures_verify(
    api: Api,
) -> None:
    """What the item pages show, on both backends (the screens' tests run on SQLite)."""
    p = api.platform
    serving = LogServing(p.ledger, p.read, p.registry, p.backend, p.supervision)
    (record,) = populate(api, 1)
    assert serving.badge(OFFICE, record) == Badge("pending", 2)
    p.ledger.checkpoints.checkpoint(OFFICE)
    badge = serving.badge(OFFICE, record)
    assert (badge.state, badge.notification_id, badge.size) == ("verified", 2, 2)
    assert badge.cosigners == ("state-council",) and not badge.public
    assert serving.badge(OFFICE, record, version=1).notification_id == 1
    p.supervision.act(person(OFFICE, "supervisor"), OFFICE, record, "publish", summary="摘要")
    assert serving.badge(OFFICE, record).state == "pending"  # the Published event: not yet
    p.ledger.checkpoints.checkpoint(OFFICE)
    badge = serving.badge(OFFICE, record)
    assert (badge.state, badge.size, badge.public) == ("verified", 3, True)
    assert badge.since is not None
    # the badge trusts keys, not names: a forged line under the superior's name and key id
    # makes the note fail, and the page says so instead of "verified"
    row = p.read.all(
        "SELECT size, note FROM tlog_checkpoints WHERE office = ? AND size = 3", (OFFICE,)
    )
    note = Note.parse(bytes(row[0]["note"]))
    forged = [
        Signature(s.name, s.key_id, bytes(len(s.signature))) if "state-council" in s.name else s
        for s in note.signatures
    ]
    with p.read.transaction() as tx:
        tx.execute(
            "UPDATE tlog_checkpoints SET note = ? WHERE office = ? AND size = 3",
            (Note(note.text, tuple(forged)).encode(), OFFICE),
        )
    failed = serving.badge(OFFICE, record)
    assert failed.state == "failed" and "does not verify" in failed.message
    assert serving.badge("baiyin", record).state == "pending"  # no such record there


def test_an_anonymous_witness_request_makes_no_key_for_an_office_that_follows_nothing(
    api: Api,
) -> None:
    """pingchuan has no subordinates: asking its witness is a 404, and no key is made."""
    from services.tlog.note import Signer
    from services.tlog.witness import Request

    stranger = Signer.generate("ducha/nowhere")
    note = stranger.note(Checkpoint("ducha/nowhere", 1, bytes(32)).text)
    got = api.client.post(
        "/witness/office/pingchuan/add-checkpoint", data=Request.make(0, [], note).encode()
    )
    assert got.status_code == 404 and b"does not follow" in got.data
    assert api.platform.registry.log_keys("pingchuan", "witness") == []
    keys = api.platform.settings.keys_dir or api.platform.settings.data_dir / "keys"
    assert not list(keys.glob("pingchuan.*"))
