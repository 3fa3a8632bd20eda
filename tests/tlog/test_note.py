"""Signed notes, checkpoints and cosignatures: the specs' examples, and a strict parser that
never skips what it cannot read."""

from __future__ import annotations

import base64
import struct

import pytest

from services.tlog.checkpoint import Checkpoint, empty_root_problem, origin_for
from services.tlog.cosignature import CosignatureVerifier, Cosigner, message, timestamp_of
from services.tlog.merkle import EMPTY_ROOT
from services.tlog.note import (
    MAX_NOTE_BYTES,
    Ed25519Verifier,
    Note,
    NoteError,
    Signature,
    Signer,
    VKey,
    add_signatures,
    key_id,
    open_note,
)

# C2SP signed-note, "Verifier keys" → "Example"
SPEC_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
SPEC_NOTE = (
    "This is an example message.\n\n— example.com/foo "
    "Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
).encode()
ROOT = base64.b64decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")


@pytest.fixture(scope="module")
def log() -> Signer:
    return Signer.from_seed("ducha/gd-sz", bytes(range(32)))


def checkpoint_note(log: Signer, size: int = 20852163) -> bytes:
    return log.note(Checkpoint(log.name, size, ROOT).text)


def test_the_spec_example_verifies() -> None:
    verifier = Ed25519Verifier.from_vkey(SPEC_VKEY)
    assert verifier.vkey == SPEC_VKEY
    opened = open_note(SPEC_NOTE, [verifier])
    assert opened.note.text == "This is an example message.\n"
    assert opened.signed_by(verifier) and opened.unknown == ()
    tampered = SPEC_NOTE.replace(b"example message", b"exemplary message")
    with pytest.raises(NoteError, match="does not verify"):
        open_note(tampered, [verifier])


def test_key_ids_and_vkeys(log: Signer) -> None:
    expected = key_id("ducha/gd-sz", 0x01, log.public)
    assert log.key_id == expected == log.verifier.key_id
    vkey = VKey.parse(log.vkey)
    assert (vkey.name, vkey.kind, vkey.public, vkey.key_id) == (log.name, 1, log.public, expected)
    name, hex_id, material = log.vkey.split("+", 2)
    for bad in (
        f"{name}+{'0' * 8}+{material}",  # an id that is not this key's
        f"{name}+{hex_id.upper()}+{material}",
        f"{name}+{hex_id}+{material[:-1]}",
        f"{name}+{hex_id}",
        f"ducha/other+{hex_id}+{material}",
    ):
        with pytest.raises(NoteError):
            Ed25519Verifier.from_vkey(bad)
    with pytest.raises(NoteError, match="not Ed25519"):
        Ed25519Verifier.from_vkey(Cosigner.generate("w").vkey)


@pytest.mark.parametrize("name", ["", "a b", "a+b", "a\u3000b", "a\tb", "a\nb"])
def test_key_names_without_spaces_or_plus(name: str) -> None:
    with pytest.raises(NoteError):
        Signer.generate(name)


def test_a_signature_under_another_name_with_the_same_key_id_does_not_count(log: Signer) -> None:
    """The id matches a known key, the name does not: an unknown key, never a verified one."""
    data = checkpoint_note(log)
    forged = data.replace(f"— {log.name} ".encode(), "— ducha/gd-sz2 ".encode())
    with pytest.raises(NoteError, match="no signature by a known key"):
        open_note(forged, [log.verifier])
    # beside the real signature the look-alike is reported as unknown, not counted
    both = add_signatures(data, Note.parse(forged).signatures)
    opened = open_note(both, [log.verifier])
    assert len(opened.verified) == 1 and [s.name for s in opened.unknown] == ["ducha/gd-sz2"]


def test_same_name_other_key_id_is_unknown_too(log: Signer) -> None:
    other = Signer.generate(log.name)
    opened = open_note(
        add_signatures(
            checkpoint_note(log), [other.sign(Checkpoint(log.name, 20852163, ROOT).text)]
        ),
        [log.verifier],
    )
    assert [s.key_id for s in opened.unknown] == [other.key_id]


def test_a_known_key_whose_signature_fails_rejects_the_note(log: Signer) -> None:
    data = checkpoint_note(log)
    sig = Note.parse(data).signatures[0]
    bad = Signature(sig.name, sig.key_id, bytes(64))
    with pytest.raises(NoteError, match="does not verify"):
        open_note(
            add_signatures(SPEC_NOTE, [bad]), [log.verifier, Ed25519Verifier.from_vkey(SPEC_VKEY)]
        )


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda d: d + b"garbage\n", "not a signature line"),
        (lambda d: d + b"\n", "signature line"),
        (lambda d: d[:-1], "end with a newline"),
        (lambda d: d.replace(b"\n\n", b"\n"), "blank line"),
        (lambda d: d.replace("— ".encode(), b"- "), "not a signature line"),
        (lambda d: d.replace("— ".encode(), "—  ".encode()), "signature"),
        (lambda d: d[:-2] + b"!\n", "base64"),
        (lambda d: d[:-3] + b"\n", "base64"),
        (lambda d: d.replace(b"ducha/gd-sz\n", b"ducha/gd-sz\r\n", 1), "control"),
        (lambda d: d + d[d.index("— ".encode()) :].replace(b"=\n", b"= extra\n"), "signature"),
        (lambda d: b"\xff" + d, "UTF-8"),
    ],
)
def test_malformed_or_extra_signature_lines_reject_the_note(
    log: Signer, mutate: object, reason: str
) -> None:
    data = mutate(checkpoint_note(log))  # type: ignore[operator]
    with pytest.raises(NoteError, match=reason):
        open_note(data, [log.verifier])


def test_a_key_signing_twice_is_rejected(log: Signer) -> None:
    data = checkpoint_note(log)
    with pytest.raises(NoteError, match="twice"):
        open_note(add_signatures(data, Note.parse(data).signatures), [log.verifier])


def test_size_limits(log: Signer) -> None:
    text = "x" * (MAX_NOTE_BYTES - 200) + "\n"
    assert open_note(log.note(text), [log.verifier]).note.text == text
    with pytest.raises(NoteError, match="over"):
        open_note(log.note("x" * MAX_NOTE_BYTES + "\n"), [log.verifier])
    strangers = [Signer.generate(f"s{i}").sign("a\n") for i in range(70)]
    with pytest.raises(NoteError, match="over the limit"):
        Note.parse(Note("a\n", (log.sign("a\n"), *strangers)).encode())
    sixteen = Note("a\n", (log.sign("a\n"), *strangers[:15])).encode()
    assert len(open_note(sixteen, [log.verifier]).unknown) == 15


def test_checkpoints_round_trip_and_parse_strictly() -> None:
    checkpoint = Checkpoint("example.com/behind-the-sofa", 20852163, ROOT)
    text = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    assert checkpoint.text == text and Checkpoint.parse(text) == checkpoint
    with_extension = Checkpoint.parse(text + "ext one\n")
    assert with_extension.extensions == ("ext one",) and with_extension.text == text + "ext one\n"
    for bad in (
        text[:-1],
        text.replace("20852163", "020852163"),
        text.replace("20852163", "+20852163"),
        text.replace("20852163", "20 852 163"),
        text.replace("20852163", "-1"),
        text.replace("CsUY", "CsU"),
        text.replace("q2I=", "q2I"),
        text + "\n",
        "\n20852163\n" + text.split("\n")[2] + "\n",
        "only\ntwo\n",
    ):
        with pytest.raises(NoteError):
            Checkpoint.parse(bad)
    assert origin_for("gd-sz") == "ducha/gd-sz"
    assert origin_for("广东省") == "ducha/广东省"
    assert empty_root_problem(Checkpoint("o", 0, ROOT))
    assert empty_root_problem(Checkpoint("o", 0, EMPTY_ROOT)) is None


def test_cosignatures_verify_and_carry_their_time(log: Signer) -> None:
    witness = Cosigner.from_seed("ducha/gd", bytes(32))
    text = Checkpoint(log.name, 20852163, ROOT).text
    cosignature = witness.cosign(text, 1679315147)
    assert cosignature.key_id == key_id("ducha/gd", 0x04, witness.public)
    assert struct.unpack(">Q", cosignature.signature[:8]) == (1679315147,)
    assert message(text, 1679315147).startswith(b"cosignature/v1\ntime 1679315147\nducha/gd-sz\n")
    data = add_signatures(log.note(text), [cosignature])
    verifier = CosignatureVerifier.from_vkey(witness.vkey)
    opened = open_note(data, [log.verifier, verifier])
    assert opened.signed_by(verifier) and timestamp_of(opened.verified[1][1]) == 1679315147
    # a cosignature is not a plain note signature, nor valid for another time or checkpoint
    as_plain = Ed25519Verifier(witness.name, witness.public)
    assert as_plain.key_id != verifier.key_id
    later = struct.pack(">Q", 1679315148) + cosignature.signature[8:]
    with pytest.raises(NoteError, match="does not verify"):
        open_note(
            add_signatures(log.note(text), [Signature(witness.name, witness.key_id, later)]),
            [verifier],
        )
    other = Checkpoint(log.name, 20852164, ROOT).text
    with pytest.raises(NoteError, match="does not verify"):
        open_note(add_signatures(log.note(other), [cosignature]), [verifier])
