"""The offline verifier: a proof bundle checked against a policy of trusted keys, with nothing but
the standard library and ``cryptography``. May import: the standard library, ``cryptography``
(through ``services.tlog.note``) and ``services.tlog`` modules.

A policy is a text file, one statement a line (``#`` starts a comment, blank lines are skipped)::

    log <vkey>                 a log key (signature type 0x01); its key name is the origin
                               it signs for, e.g. ducha/gd-sz+1a2b3c4d+AQ…
    witness <label> <vkey>     a witness key (type 0x04, cosignature/v1); the label (no
                               spaces) names it in verdicts, e.g. 省督查室
    quorum <n>                 how many distinct listed witnesses must have cosigned (once)

``verify_bundle`` passes a bundle when: it is well formed; its checkpoint is signed by a listed
log key for the checkpoint's origin (a listed key whose signature fails, or a malformed line,
rejects it); at least ``quorum`` listed witnesses cosigned it; its entry (the ``extra`` data, or
the one the auditor supplies) hashes to a leaf the inclusion proof binds, at its index, to the
checkpoint's root; and, for a Ducha envelope, the entry names that index's notification and the
checkpoint's office. Each failure is a ``Verdict`` with ``ok=False`` and one specific message.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Final

from services.tlog.bundle import Bundle, BundleError
from services.tlog.checkpoint import ORIGIN_PREFIX, Checkpoint
from services.tlog.cosignature import CosignatureVerifier
from services.tlog.merkle import ProofError, leaf_hash, verify_inclusion
from services.tlog.note import Ed25519Verifier, Note, NoteError, Verifier, check_name, open_note

MAX_POLICY_BYTES: Final = 256 * 1024


class PolicyError(ValueError):
    """A policy file that does not say clearly whom to trust."""


@dataclass(frozen=True)
class Policy:
    """Trusted log keys, trusted witnesses (label, key) and the quorum of witnesses."""

    logs: tuple[Ed25519Verifier, ...]
    witnesses: tuple[tuple[str, CosignatureVerifier], ...]
    quorum: int

    @classmethod
    def parse(cls, text: str) -> Policy:
        if len(text.encode()) > MAX_POLICY_BYTES:
            raise PolicyError("the policy is too large")
        logs: list[Ed25519Verifier] = []
        witnesses: list[tuple[str, CosignatureVerifier]] = []
        quorums: list[int] = []
        for number, raw in enumerate(text.splitlines(), start=1):
            words = raw.split("#", 1)[0].split()
            if not words:
                continue
            try:
                _statement(words, logs, witnesses, quorums)
            except (NoteError, ValueError) as e:
                raise PolicyError(f"policy line {number}: {e}") from e
        return cls._checked(logs, witnesses, quorums)

    @classmethod
    def _checked(
        cls,
        logs: list[Ed25519Verifier],
        witnesses: list[tuple[str, CosignatureVerifier]],
        quorums: list[int],
    ) -> Policy:
        if not logs:
            raise PolicyError("the policy names no log key ('log <vkey>')")
        if len(quorums) != 1:
            raise PolicyError("the policy must say its quorum exactly once ('quorum <n>')")
        labels = [label for label, _ in witnesses]
        if len(set(labels)) != len(labels):
            raise PolicyError("two witnesses share a label")
        if quorums[0] > len(witnesses):
            raise PolicyError(f"a quorum of {quorums[0]} among {len(witnesses)} witnesses")
        return cls(tuple(logs), tuple(witnesses), quorums[0])


def _statement(
    words: list[str],
    logs: list[Ed25519Verifier],
    witnesses: list[tuple[str, CosignatureVerifier]],
    quorums: list[int],
) -> None:
    keyword, arguments = words[0], words[1:]
    if keyword == "log" and len(arguments) == 1:
        logs.append(Ed25519Verifier.from_vkey(arguments[0]))
    elif keyword == "witness" and len(arguments) == 2:
        witnesses.append((check_name(arguments[0]), CosignatureVerifier.from_vkey(arguments[1])))
    elif keyword == "quorum" and len(arguments) == 1 and arguments[0].isdigit():
        quorums.append(int(arguments[0]))
    else:
        raise ValueError(
            f"expected 'log <vkey>', 'witness <label> <vkey>' or 'quorum <n>': {words[0]!r}"
        )


@dataclass(frozen=True)
class Verdict:
    """The verifier's answer: passed or not, and one line saying why."""

    ok: bool
    message: str
    origin: str = ""
    size: int = 0
    index: int = 0
    witnesses: tuple[str, ...] = field(default_factory=tuple)


def verify_bundle(data: bytes, policy: Policy, entry: bytes | None = None) -> Verdict:
    """Check a ``.tlog-proof`` bundle against the policy (see the module docstring). ``entry``,
    when the auditor has the leaf data from elsewhere, must be the one the bundle carries."""
    try:
        return _verify(data, policy, entry)
    except (BundleError, NoteError, ProofError, _Failure) as e:
        return Verdict(False, str(e))


class _Failure(Exception):
    pass


def _verify(data: bytes, policy: Policy, expected: bytes | None) -> Verdict:
    bundle = Bundle.parse(data)
    try:
        checkpoint = Checkpoint.parse(Note.parse(bundle.checkpoint).text)
    except NoteError as e:
        raise _Failure(f"the bundle's checkpoint is malformed: {e}") from e
    origin = checkpoint.origin
    logs = [key for key in policy.logs if key.name == origin]
    if not logs:
        raise _Failure(f"no log key in the policy for {origin!r}: unknown log")
    verifiers: list[Verifier] = [*logs, *(key for _, key in policy.witnesses)]
    try:
        opened = open_note(bundle.checkpoint, verifiers)
    except NoteError as e:
        raise _Failure(f"checkpoint of {origin} rejected: {e}") from e
    if not any(opened.signed_by(key) for key in logs):
        raise _Failure(f"the checkpoint is not signed by {origin}'s key in the policy")
    cosigned = tuple(label for label, key in policy.witnesses if opened.signed_by(key))
    if len(cosigned) < policy.quorum:
        names = ", ".join(cosigned) or "none"
        raise _Failure(
            f"quorum not met: {len(cosigned)} of the policy's witnesses cosigned ({names}), "
            f"{policy.quorum} needed"
        )
    leaf = _entry(bundle, expected)
    _check_envelope(leaf, bundle.index, origin)
    try:
        verify_inclusion(
            bundle.index, checkpoint.size, leaf_hash(leaf), bundle.proof, checkpoint.root
        )
    except ProofError as e:
        raise _Failure(
            f"entry {bundle.index} is not proven in checkpoint {checkpoint.size}: {e}"
        ) from e
    witnesses = ", ".join(cosigned) or "no witness"
    message = (
        f"verified: entry {bundle.index} of {origin} is in its checkpoint of size "
        f"{checkpoint.size}, cosigned by {witnesses}"
    )
    return Verdict(True, message, origin, checkpoint.size, bundle.index, cosigned)


def _entry(bundle: Bundle, expected: bytes | None) -> bytes:
    if bundle.entry is None and expected is None:
        raise _Failure("the bundle carries no entry data (extra line) and none was given")
    if expected is not None and bundle.entry is not None and expected != bundle.entry:
        raise _Failure("the bundle's entry is not the entry given to check")
    leaf = expected if expected is not None else bundle.entry
    assert leaf is not None
    return leaf


def _check_envelope(leaf: bytes, index: int, origin: str) -> None:
    """A Ducha envelope names its notification id and office: they must match the bundle."""
    if not origin.startswith(ORIGIN_PREFIX):
        return
    try:
        envelope = json.loads(leaf)
    except ValueError as e:
        raise _Failure("the entry is not a Ducha ledger envelope (not JSON)") from e
    if not isinstance(envelope, dict) or envelope.get("v") != 1:
        raise _Failure("the entry is not a Ducha ledger envelope (version 1)")
    if envelope.get("id") != index + 1:
        raise _Failure(
            f"the entry is notification {envelope.get('id')!r}, but index {index} "
            f"is notification {index + 1}"
        )
    if ORIGIN_PREFIX + str(envelope.get("office")) != origin:
        raise _Failure(f"the entry belongs to office {envelope.get('office')!r}, not {origin}")
