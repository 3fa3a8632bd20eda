"""The witness rule (C2SP tlog-witness ``add-checkpoint``) as pure logic: the request body's
format, and the decision to cosign or refuse. May import: the standard library and
``services.tlog`` modules.

The caller (later: the superior office's witness route and the public site) runs, in one
transaction: ``Request.parse(body)`` (a ``RequestError`` is a 400), load the stored
``WitnessState`` for ``request.checkpoint.origin`` (or ``None``), ``add_checkpoint(...)``, and,
only when the answer carries a ``state``, store that state if the stored size is still the one
it loaded (a compare-and-swap: the spec's race between two requests). Nothing here mutates or
stores anything. The answer's status follows the spec: 404 for an origin this witness does not
follow, 403 when no trusted key signed (or a trusted key's signature fails), 400 for an old size
above the checkpoint's, 409 (body: the stored size) when the old size is not the size last
cosigned, 422 for an empty tree with another root, a non-empty proof from size 0, a different
root at the same size or a consistency proof that fails, and 200 with one cosignature line. A
validly signed checkpoint that contradicts the stored state (smaller, forked or inconsistent)
also carries an ``alert``: evidence of the log misbehaving, which the caller records loudly.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from services.tlog.checkpoint import Checkpoint, empty_root_problem
from services.tlog.cosignature import Cosigner
from services.tlog.merkle import ProofError, verify_consistency
from services.tlog.note import (
    MAX_NOTE_BYTES,
    Note,
    NoteError,
    Verifier,
    add_signatures,
    b64decode,
    b64encode,
    open_note,
)

MAX_PROOF_LINES: Final = 63
SIZE_TYPE: Final = "text/x.tlog.size"
SIGNATURES_TYPE: Final = "text/plain; charset=utf-8"
_OLD: Final = re.compile(r"old (0|[1-9][0-9]{0,18})")


class RequestError(ValueError):
    """An ``add-checkpoint`` body that is malformed (a 400)."""


@dataclass(frozen=True)
class Request:
    """An ``add-checkpoint`` request: the size last cosigned, the consistency proof from it, and
    the checkpoint note (with the log's signature)."""

    old_size: int
    proof: tuple[bytes, ...]
    note: bytes
    checkpoint: Checkpoint

    @classmethod
    def make(cls, old_size: int, proof: Sequence[bytes], note: bytes) -> Request:
        return cls(old_size, tuple(proof), note, Checkpoint.parse(Note.parse(note).text))

    def encode(self) -> bytes:
        lines = [f"old {self.old_size}", *(b64encode(h) for h in self.proof)]
        return "".join(line + "\n" for line in lines).encode() + b"\n" + self.note

    @classmethod
    def parse(cls, body: bytes) -> Request:
        if len(body) > MAX_NOTE_BYTES + 64 * (MAX_PROOF_LINES + 1):
            raise RequestError("the request body is too large")
        head, blank, note = body.partition(b"\n\n")
        if not blank:
            raise RequestError("the request needs an old size line, proof lines and a blank line")
        try:
            lines = head.decode("ascii").split("\n")
        except UnicodeDecodeError as e:
            raise RequestError("the old size and proof lines must be ASCII") from e
        match = _OLD.fullmatch(lines[0])
        if not match:
            raise RequestError(f"the first line must be 'old <size>', not {lines[0][:40]!r}")
        if len(lines) - 1 > MAX_PROOF_LINES:
            raise RequestError(f"more than {MAX_PROOF_LINES} consistency proof lines")
        try:
            proof = tuple(b64decode(line, "a consistency proof line") for line in lines[1:])
            checkpoint = Checkpoint.parse(Note.parse(note).text)
        except NoteError as e:
            raise RequestError(str(e)) from e
        if any(len(h) != 32 for h in proof):
            raise RequestError("a consistency proof line is not a SHA-256 hash")
        return cls(int(match.group(1)), proof, note, checkpoint)


@dataclass(frozen=True)
class WitnessState:
    """What a witness keeps per log: the last checkpoint it cosigned (size, root, and the note
    with the log's signature and its own cosignature, served to monitors)."""

    origin: str
    size: int
    root: bytes
    note: bytes


@dataclass(frozen=True)
class Answer:
    """The witness's HTTP answer, and the state to store when it cosigned."""

    status: int
    body: bytes
    content_type: str
    reason: str
    state: WitnessState | None = None
    alert: str | None = None


def origin_hash(origin: str) -> str:
    """The monitoring path's key: lowercase hex SHA-256 of the origin."""
    return hashlib.sha256(origin.encode()).hexdigest()


def add_checkpoint(
    request: Request,
    state: WitnessState | None,
    logs: Mapping[str, Sequence[Verifier]],
    cosigner: Cosigner,
    now: int,
) -> Answer:
    """Decide an ``add-checkpoint`` request against the stored state (see the module docstring).

    ``logs`` maps each origin this witness follows to its trusted keys; ``now`` is the POSIX
    time written into the cosignature."""
    if now <= 0:
        raise ValueError(f"a cosignature's time must be after 1970, not {now}")
    checkpoint = request.checkpoint
    keys = logs.get(checkpoint.origin)
    if keys is None:
        return _refuse(404, f"this witness does not follow {checkpoint.origin!r}")
    try:
        open_note(request.note, keys)
    except NoteError as e:
        return _refuse(403, f"the checkpoint is not signed by {checkpoint.origin}'s key: {e}")
    if state is not None and state.origin != checkpoint.origin:
        raise ValueError(f"state for {state.origin!r} given for {checkpoint.origin!r}")
    stored = state.size if state else 0
    smaller = (
        f"smaller tree: {checkpoint.size} after {stored}" if checkpoint.size < stored else None
    )
    if request.old_size > checkpoint.size:
        return _refuse(400, "the old size is above the checkpoint's size", alert=smaller)
    if request.old_size != stored:
        body = f"{stored}\n".encode()
        return Answer(409, body, SIZE_TYPE, f"the last cosigned size is {stored}", alert=smaller)
    problem = _consistency_problem(request, state)
    if problem:
        return _refuse(422, problem[0], alert=problem[1])
    cosignature = cosigner.cosign(Note.parse(request.note).text, now)
    note = add_signatures(request.note, [cosignature])
    new = WitnessState(checkpoint.origin, checkpoint.size, checkpoint.root, note)
    return Answer(200, cosignature.line.encode(), SIGNATURES_TYPE, "cosigned", new)


def _consistency_problem(
    request: Request, state: WitnessState | None
) -> tuple[str, str | None] | None:
    """Why the checkpoint is not a consistent growth of the stored one (and the alert, if the
    log contradicts itself), or ``None``."""
    checkpoint = request.checkpoint
    empty = empty_root_problem(checkpoint)
    if empty:
        return empty, None
    if request.old_size == 0:
        return ("a proof from size 0 must be empty", None) if request.proof else None
    assert state is not None  # old size == stored size > 0
    if request.old_size == checkpoint.size and checkpoint.root != state.root:
        return "a different root at the same size", f"fork: another root at size {state.size}"
    try:
        verify_consistency(state.size, checkpoint.size, state.root, checkpoint.root, request.proof)
    except ProofError as e:
        return f"the consistency proof fails: {e}", f"inconsistent: {e}"
    return None


def _refuse(status: int, reason: str, alert: str | None = None) -> Answer:
    return Answer(
        status, (reason + "\n").encode(), "text/plain; charset=utf-8", reason, alert=alert
    )
