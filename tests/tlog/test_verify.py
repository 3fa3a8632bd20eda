"""Proof bundles and the offline verifier: a good bundle passes; each tampering fails with its own
message; the policy format; the CLI through the real ``ducha`` entry point."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from services.tlog.bundle import HEADER, Bundle, BundleError
from services.tlog.checkpoint import Checkpoint
from services.tlog.cosignature import Cosigner
from services.tlog.envelope import Personal, StoredEvent, event_leaf, hole_leaf
from services.tlog.merkle import MemoryTree, inclusion_proof, leaf_hash
from services.tlog.note import Signer, add_signatures
from services.tlog.verify import Policy, PolicyError, verify_bundle
from services.tlog.witness import Request, add_checkpoint

OFFICE = "广东省"
SIZE = 40
INDEX = 6


def leaf(notification_id: int, role: str = "clerk") -> bytes:
    if notification_id == 13:  # PostgreSQL skipped this id
        return hole_leaf(OFFICE, notification_id)
    stored = StoredEvent(
        OFFICE,
        notification_id,
        "domain.cases:Case.Registered",
        uuid.UUID(int=notification_id),
        1,
        datetime(2026, 3, 2, 2, 0, tzinfo=UTC),
        role,
        f'{{"n":{notification_id}}}'.encode(),
    )
    key = f"subject {notification_id} key bytes".encode()
    return event_leaf(stored, [Personal("responsible", "张三", key)])


@dataclass
class Ledger:
    log: Signer
    witnesses: dict[str, Cosigner]
    leaves: list[bytes]
    tree: MemoryTree
    note: bytes  # the checkpoint with the log's signature and the cosignatures

    def bundle(self, index: int = INDEX) -> bytes:
        proof = inclusion_proof(index, SIZE, self.tree)
        return Bundle.make(self.leaves[index], index, proof, self.note).encode()

    def policy(self, quorum: int = 2, log: str | None = None, extra: str = "") -> Policy:
        lines = [f"# {OFFICE}'s ledger", f"log {log or self.log.vkey}"]
        lines += [f"witness {label} {c.vkey}  # cosigner" for label, c in self.witnesses.items()]
        return Policy.parse("\n".join([*lines, f"quorum {quorum}", extra, ""]))


@pytest.fixture(scope="module")
def ledger() -> Ledger:
    log = Signer.generate(f"ducha/{OFFICE}")
    witnesses = {
        "省督查室": Cosigner.generate("ducha/gd-root"),
        "公众": Cosigner.generate("ducha/public"),
    }
    leaves = [leaf(i + 1) for i in range(SIZE)]
    tree = MemoryTree([leaf_hash(data) for data in leaves])
    note = log.note(Checkpoint(log.name, SIZE, tree.root(SIZE)).text)
    request = Request.make(0, [], note)
    lines = []
    for cosigner in witnesses.values():
        answer = add_checkpoint(request, None, {log.name: [log.verifier]}, cosigner, 1_790_000_000)
        assert answer.status == 200
        lines.append(answer.body)
    cosigned = note.rstrip(b"\n") + b"\n" + b"".join(lines)
    return Ledger(log, witnesses, leaves, tree, cosigned)


def test_a_good_bundle_passes(ledger: Ledger) -> None:
    verdict = verify_bundle(ledger.bundle(), ledger.policy())
    assert verdict.ok, verdict.message
    assert verdict.message == (
        f"verified: entry 6 of ducha/{OFFICE} is in its checkpoint of size 40, "
        "cosigned by 省督查室, 公众"
    )
    assert (verdict.size, verdict.index, verdict.witnesses) == (40, 6, ("省督查室", "公众"))
    for index in (0, 12, 39):  # the first, the hole, the last
        assert verify_bundle(ledger.bundle(index), ledger.policy()).ok


def test_bundles_round_trip_in_the_spec_format(ledger: Ledger) -> None:
    data = ledger.bundle()
    text = data.decode()
    assert text.startswith(
        f"{HEADER}\nextra {base64.b64encode(ledger.leaves[6]).decode()}\nindex 6\n"
    )
    assert text.endswith(ledger.note.decode())
    bundle = Bundle.parse(data)
    assert (bundle.entry, bundle.index, bundle.checkpoint) == (ledger.leaves[6], 6, ledger.note)
    assert bundle.encode() == data
    bare = Bundle(None, 6, bundle.proof, ledger.note).encode()
    assert b"extra" not in bare and Bundle.parse(bare).entry is None


@pytest.mark.parametrize(
    "bad",
    [
        b"",
        b"c2sp.org/tlog-proof@v2\nindex 0\n\nx\n",
        b"c2sp.org/tlog-proof@v1\nindex 01\n\nx\n",
        b"c2sp.org/tlog-proof@v1\nindex 0\nnot base64!\n\nx\n",
        b"c2sp.org/tlog-proof@v1\nindex 0\nAAAA\n\nx\n",
        b"c2sp.org/tlog-proof@v1\nextra !!\nindex 0\n\nx\n",
        b"c2sp.org/tlog-proof@v1\nindex 0\n",
    ],
)
def test_malformed_bundles(bad: bytes) -> None:
    with pytest.raises(BundleError):
        Bundle.parse(bad)


def tamper(data: bytes, old: bytes, new: bytes) -> bytes:
    assert old in data
    return data.replace(old, new, 1)


def test_each_tampering_fails_with_its_own_message(ledger: Ledger) -> None:
    good, policy = ledger.bundle(), ledger.policy()
    extra = base64.b64encode(ledger.leaves[6])
    cases = {
        "another entry at the index": (
            tamper(good, extra, base64.b64encode(ledger.leaves[7])),
            "the entry is notification 8, but index 6 is notification 7",
        ),
        "an altered entry": (
            tamper(good, extra, base64.b64encode(leaf(7, role="leader"))),
            "entry 6 is not proven in checkpoint 40: the inclusion proof leads to another root",
        ),
        "another index": (
            tamper(good, b"index 6\n", b"index 7\n"),
            "the entry is notification 7, but index 7 is notification 8",
        ),
        "a bad proof": (
            tamper(
                good, base64.b64encode(inclusion_proof(6, SIZE, ledger.tree)[1]), b"A" * 43 + b"="
            ),
            "entry 6 is not proven in checkpoint 40: the inclusion proof leads to another root",
        ),
        "a tampered checkpoint": (
            tamper(good, b"\n40\n", b"\n41\n"),
            f"checkpoint of ducha/{OFFICE} rejected: "
            f"the signature by 'ducha/{OFFICE}' does not verify",
        ),
        "a malformed signature line": (
            good + "— ducha/x AAAA\n".encode(),
            "the bundle's checkpoint is malformed: "
            "the signature by 'ducha/x' is too short to hold a key id",
        ),
    }
    for name, (data, message) in cases.items():
        verdict = verify_bundle(data, policy)
        assert (verdict.ok, verdict.message) == (False, message), name


def test_an_unknown_log_key_fails(ledger: Ledger) -> None:
    impostor = Signer.generate(f"ducha/{OFFICE}")
    verdict = verify_bundle(ledger.bundle(), ledger.policy(log=impostor.vkey))
    assert verdict.message == f"the checkpoint is not signed by ducha/{OFFICE}'s key in the policy"
    alone = Policy.parse(f"log {impostor.vkey}\nquorum 0\n")  # no witness key either
    assert verify_bundle(ledger.bundle(), alone).message == (
        f"checkpoint of ducha/{OFFICE} rejected: no signature by a known key "
        f"(signed by: ducha/gd-root, ducha/public, ducha/{OFFICE})"
    )
    elsewhere = Signer.generate("ducha/广西")
    verdict = verify_bundle(ledger.bundle(), ledger.policy(log=elsewhere.vkey))
    assert verdict.message == f"no log key in the policy for 'ducha/{OFFICE}': unknown log"


def test_a_quorum_not_met_fails(ledger: Ledger) -> None:
    stranger = Cosigner.generate("ducha/stranger")
    three = ledger.policy(quorum=3, extra=f"witness 陌生人 {stranger.vkey}")
    verdict = verify_bundle(ledger.bundle(), three)
    assert verdict.message == (
        "quorum not met: 2 of the policy's witnesses cosigned (省督查室, 公众), 3 needed"
    )
    only_log = ledger.log.note(Checkpoint(ledger.log.name, SIZE, ledger.tree.root(SIZE)).text)
    bare = Bundle.make(ledger.leaves[6], 6, inclusion_proof(6, SIZE, ledger.tree), only_log)
    verdict = verify_bundle(bare.encode(), ledger.policy(quorum=1))
    assert (
        verdict.message == "quorum not met: 0 of the policy's witnesses cosigned (none), 1 needed"
    )
    assert verify_bundle(bare.encode(), ledger.policy(quorum=0)).ok


def test_witnesses_alone_do_not_make_a_log_signature(ledger: Ledger) -> None:
    text = Checkpoint(ledger.log.name, SIZE, ledger.tree.root(SIZE)).text
    witness = ledger.witnesses["省督查室"]
    stranger_signed = Signer.generate("ducha/nobody").note(text)
    note = add_signatures(stranger_signed, [witness.cosign(text, 1_790_000_000)])
    bundle = Bundle.make(ledger.leaves[6], 6, inclusion_proof(6, SIZE, ledger.tree), note)
    verdict = verify_bundle(bundle.encode(), ledger.policy(quorum=1))
    assert verdict.message == f"the checkpoint is not signed by ducha/{OFFICE}'s key in the policy"


def test_the_entry_may_come_from_the_auditor(ledger: Ledger) -> None:
    bundle = Bundle.parse(ledger.bundle())
    bare = Bundle(None, 6, bundle.proof, bundle.checkpoint).encode()
    assert verify_bundle(bare, ledger.policy(), entry=ledger.leaves[6]).ok
    assert verify_bundle(bare, ledger.policy()).message == (
        "the bundle carries no entry data (extra line) and none was given"
    )
    verdict = verify_bundle(ledger.bundle(), ledger.policy(), entry=ledger.leaves[7])
    assert verdict.message == "the bundle's entry is not the entry given to check"


def test_policy_files_say_clearly_whom_to_trust(ledger: Ledger) -> None:
    log, witness = ledger.log.vkey, ledger.witnesses["公众"].vkey
    assert Policy.parse(f"log {log}\nquorum 0\n").quorum == 0
    for text, reason in (
        ("quorum 0\n", "no log key"),
        (f"log {log}\n", "quorum exactly once"),
        (f"log {log}\nquorum 0\nquorum 1\n", "quorum exactly once"),
        (f"log {log}\nwitness a {witness}\nquorum 2\n", "quorum of 2 among 1"),
        (f"log {log}\nwitness a {witness}\nwitness a {witness}\nquorum 1\n", "share a label"),
        (f"log {log}\ntrust everyone\nquorum 0\n", "policy line 2"),
        (f"log {witness}\nquorum 0\n", "not Ed25519"),
        (f"log {log}\nwitness {witness}\nquorum 0\n", "policy line 2"),
        (f"log {log}\nwitness a {log}\nquorum 0\n", "not 0x04"),
        (f"log {log}\nquorum -1\n", "policy line 2"),
    ):
        with pytest.raises(PolicyError, match=reason):
            Policy.parse(text)


# -- the CLI, through the installed entry point ------------------------------------------
def ducha(*args: str) -> subprocess.CompletedProcess[str]:
    command = [str(Path(sys.executable).parent / "ducha"), *args]
    env = {**os.environ, "DUCHA_DATA_DIR": "/nonexistent/never-created"}
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)


def test_the_cli_verifies_a_bundle_offline(ledger: Ledger, tmp_path: Path) -> None:
    bundle, policy = tmp_path / "entry.tlog-proof", tmp_path / "policy.txt"
    bundle.write_bytes(ledger.bundle())
    lines = [
        f"log {ledger.log.vkey}",
        *(f"witness {k} {c.vkey}" for k, c in ledger.witnesses.items()),
    ]
    policy.write_text("\n".join([*lines, "quorum 2", ""]), encoding="utf-8")
    done = ducha("ledger", "verify-bundle", str(bundle), "--policy", str(policy))
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == verify_bundle(ledger.bundle(), ledger.policy()).message + "\n"
    assert done.stdout.startswith("verified: entry 6 of ducha/广东省")

    bundle.write_bytes(tamper(ledger.bundle(), b"index 6\n", b"index 7\n"))
    failed = ducha("ledger", "verify-bundle", str(bundle), "--policy", str(policy))
    assert (failed.returncode, failed.stdout) == (1, "")
    assert failed.stderr == (
        "not verified: the entry is notification 7, but index 7 is notification 8\n"
    )


def test_the_cli_reports_usage_errors_with_exit_2(ledger: Ledger, tmp_path: Path) -> None:
    bundle, policy = tmp_path / "entry.tlog-proof", tmp_path / "policy.txt"
    bundle.write_bytes(ledger.bundle())
    missing = ducha("ledger", "verify-bundle", str(tmp_path / "nope"), "--policy", str(policy))
    assert missing.returncode == 2 and missing.stderr.count("\n") == 1
    assert "does not exist" in missing.stderr
    policy.write_text("quorum 0\n", encoding="utf-8")
    bad = ducha("ledger", "verify-bundle", str(bundle), "--policy", str(policy))
    assert bad.returncode == 2 and "no log key" in bad.stderr and bad.stderr.count("\n") == 1
    no_policy = ducha("ledger", "verify-bundle", str(bundle))
    assert no_policy.returncode == 2 and "--policy" in no_policy.stderr
