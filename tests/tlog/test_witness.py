"""The witness rule (C2SP tlog-witness add-checkpoint): it cosigns a consistent growth, refuses a
smaller, forked or inconsistent tree with the spec's status, says so, and keeps its state."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field

import pytest

from services.tlog.checkpoint import Checkpoint
from services.tlog.cosignature import Cosigner, timestamp_of
from services.tlog.merkle import EMPTY_ROOT, MemoryTree, consistency_proof, leaf_hash
from services.tlog.note import Signature, Signer, Verifier, add_signatures, open_note
from services.tlog.witness import (
    Answer,
    Request,
    RequestError,
    WitnessState,
    add_checkpoint,
    origin_hash,
)

NOW = 1_790_000_000

# The example request body of C2SP tlog-witness (its signatures are not ours: parse only)
SPEC_BODY = (
    "old 20852014\n"
    "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n"
    "jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=\n"
    "5+pKlUdi2LeF/BcMHBn+Ku6yhPGNCswZZD1X/6QgPd8=\n"
    "/6WVhPs2CwSsb5rYBH5cjHV/wSmA79abXAwhXw3Kj/0=\n"
    "\n"
    "example.com/behind-the-sofa\n"
    "20852163\n"
    "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    "\n"
    "— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/"
    "Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
    "— example.com/behind-the-sofa opLqBQsREYCgu6xQkYQwJr9fo45a62DN9EdmHXnZdXNqlcVGlCum2Wks+49/"
    "V6267UEjw6QUXTS5Rovnzv++qbSzm9Q=\n"
).encode()


class Log:
    """An office's log as the witness sees it: leaves, and checkpoints signed by its key."""

    def __init__(self, signer: Signer, leaves: list[bytes]) -> None:
        self.signer = signer
        self.tree = MemoryTree([leaf_hash(leaf) for leaf in leaves])
        self.size = len(leaves)

    def checkpoint(self, size: int) -> bytes:
        return self.signer.note(Checkpoint(self.signer.name, size, self.tree.root(size)).text)

    def request(self, old: int, size: int) -> bytes:
        proof = consistency_proof(old, size, self.tree) if old > 0 else []
        return Request.make(old, proof, self.checkpoint(size)).encode()


@dataclass
class Witness:
    """A witness with its stored state: it stores only what an answer says to store."""

    cosigner: Cosigner
    logs: dict[str, list[Verifier]]
    states: dict[str, WitnessState] = field(default_factory=dict)
    alerts: list[str] = field(default_factory=list)

    def submit(self, body: bytes) -> Answer:
        request = Request.parse(body)
        origin = request.checkpoint.origin
        answer = add_checkpoint(request, self.states.get(origin), self.logs, self.cosigner, NOW)
        if answer.state is not None:
            self.states[origin] = answer.state
        if answer.alert:
            self.alerts.append(answer.alert)
        return answer


@pytest.fixture
def office() -> Log:
    return Log(Signer.generate("ducha/gd-sz"), [f"event {i}".encode() for i in range(40)])


@pytest.fixture
def witness(office: Log) -> Witness:
    return Witness(Cosigner.generate("ducha/gd"), {office.signer.name: [office.signer.verifier]})


def test_cosigns_the_first_checkpoint_and_each_consistent_growth(
    office: Log, witness: Witness
) -> None:
    first = witness.submit(office.request(0, 10))
    assert (first.status, first.content_type) == (200, "text/plain; charset=utf-8")
    line = first.body.decode()
    assert line.startswith("— ducha/gd ") and line.endswith("\n") and line.count("\n") == 1
    state = witness.states["ducha/gd-sz"]
    assert (state.size, state.root) == (10, office.tree.root(10))
    opened = open_note(state.note, [office.signer.verifier, witness.cosigner.verifier])
    assert len(opened.verified) == 2 and timestamp_of(opened.verified[1][1]) == NOW
    for old, new in ((10, 11), (11, 16), (16, 33), (33, 33), (33, 40)):
        answer = witness.submit(office.request(old, new))
        assert answer.status == 200, answer.reason
        assert witness.states["ducha/gd-sz"].size == new
    assert witness.alerts == []


def test_a_cosignature_line_from_the_answer_verifies_on_the_checkpoint(
    office: Log, witness: Witness
) -> None:
    answer = witness.submit(office.request(0, 7))
    cosigned = add_signatures(
        office.checkpoint(7), [Signature.parse_line(answer.body.decode()[:-1])]
    )
    opened = open_note(cosigned, [witness.cosigner.verifier])
    assert opened.signed_by(witness.cosigner.verifier)


def test_refuses_a_smaller_tree_and_keeps_its_state(office: Log, witness: Witness) -> None:
    witness.submit(office.request(0, 20))
    kept = witness.states["ducha/gd-sz"]
    shrunk = witness.submit(Request.make(20, [], office.checkpoint(10)).encode())
    assert shrunk.status == 400 and shrunk.state is None
    assert shrunk.alert == "smaller tree: 10 after 20"
    lying = witness.submit(office.request(5, 10))  # claims 5 was the last cosigned size
    assert (lying.status, lying.body, lying.content_type) == (409, b"20\n", "text/x.tlog.size")
    assert lying.alert == "smaller tree: 10 after 20"
    assert witness.states["ducha/gd-sz"] is kept
    assert witness.submit(office.request(20, 30)).status == 200  # honest growth goes on


def test_refuses_a_different_root_at_the_same_size(office: Log, witness: Witness) -> None:
    witness.submit(office.request(0, 20))
    forked = Log(
        office.signer, [b"rewritten" if i == 3 else f"event {i}".encode() for i in range(40)]
    )
    answer = witness.submit(forked.request(20, 20))
    assert answer.status == 422 and "different root" in answer.reason
    assert answer.alert is not None and answer.alert.startswith("fork")
    assert witness.states["ducha/gd-sz"].root == office.tree.root(20)


def test_refuses_an_inconsistent_proof_from_a_rewritten_history(
    office: Log, witness: Witness
) -> None:
    witness.submit(office.request(0, 20))
    forked = Log(
        office.signer, [b"rewritten" if i == 3 else f"event {i}".encode() for i in range(40)]
    )
    answer = witness.submit(forked.request(20, 30))  # the forked log's own, valid-looking proof
    assert answer.status == 422 and "consistency proof fails" in answer.reason
    assert answer.alert is not None and answer.alert.startswith("inconsistent")
    garbage = Request.make(20, [bytes(32)] * 3, office.checkpoint(30)).encode()
    assert witness.submit(garbage).status == 422
    empty = Request.make(20, [], office.checkpoint(30)).encode()
    assert witness.submit(empty).status == 422
    assert witness.states["ducha/gd-sz"].size == 20
    assert witness.submit(office.request(20, 30)).status == 200


def test_size_zero_rules(office: Log, witness: Witness) -> None:
    proof_from_zero = Request.make(0, [bytes(32)], office.checkpoint(5)).encode()
    assert witness.submit(proof_from_zero).status == 422
    wrong_empty = office.signer.note(Checkpoint(office.signer.name, 0, bytes(32)).text)
    assert witness.submit(Request.make(0, [], wrong_empty).encode()).status == 422
    empty = office.signer.note(Checkpoint(office.signer.name, 0, EMPTY_ROOT).text)
    assert witness.submit(Request.make(0, [], empty).encode()).status == 200
    assert witness.submit(office.request(0, 5)).status == 200
    assert witness.states["ducha/gd-sz"].size == 5


def test_unknown_origins_and_keys(office: Log, witness: Witness) -> None:
    stranger = Log(Signer.generate("ducha/elsewhere"), [b"x"])
    assert witness.submit(stranger.request(0, 1)).status == 404
    impostor = Log(Signer.generate("ducha/gd-sz"), [f"event {i}".encode() for i in range(40)])
    refused = witness.submit(impostor.request(0, 10))
    assert refused.status == 403 and "no signature by a known key" in refused.reason
    good = office.checkpoint(10)
    tampered = good.replace(
        base64.b64encode(office.tree.root(10)), base64.b64encode(office.tree.root(9))
    )
    assert witness.submit(Request.make(0, [], tampered).encode()).status == 403
    assert witness.states == {} and witness.alerts == []


def test_request_bodies_parse_strictly() -> None:
    request = Request.parse(SPEC_BODY)
    assert request.old_size == 20852014 and len(request.proof) == 4
    assert request.checkpoint.origin == "example.com/behind-the-sofa"
    assert request.checkpoint.size == 20852163
    assert Request.parse(request.encode()) == request
    for bad in (
        SPEC_BODY.replace(b"old 20852014", b"old 020852014"),
        SPEC_BODY.replace(b"old 20852014", b"old -1"),
        SPEC_BODY.replace(b"old 20852014", b"new 20852014"),
        SPEC_BODY.replace(b"PlRNCrwH", b"PlRN!rwH"),
        SPEC_BODY.replace(b"PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=", b"AAAA"),
        SPEC_BODY.replace(b"\n\nexample.com", b"\nexample.com"),
        SPEC_BODY.replace(b"20852163\n", b"20852163"),
        SPEC_BODY[:-1],
        b"old 0\n"
        + b"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n" * 64
        + b"\n"
        + SPEC_BODY.split(b"\n\n", 1)[1],
    ):
        with pytest.raises(RequestError):
            Request.parse(bad)


def test_origin_hash_is_the_monitoring_key() -> None:
    assert origin_hash("ducha/gd-sz") == hashlib.sha256(b"ducha/gd-sz").hexdigest()


def test_a_cosignature_never_carries_time_zero(office: Log, witness: Witness) -> None:
    request = Request.parse(office.request(0, 3))
    with pytest.raises(ValueError, match="after 1970"):
        add_checkpoint(request, None, witness.logs, witness.cosigner, 0)
