"""Proof bundles (C2SP tlog-proof, ``c2sp.org/tlog-proof@v1``, files ``.tlog-proof``): one
entry's index, its inclusion proof and the checkpoint note with its cosignatures, in one text
an auditor can verify offline. May import: the standard library and ``services.tlog`` modules.

The format is the spec's: the header line, ``extra <base64>``, ``index <n>``, one base64 hash
per line from the leaf's sibling up, a blank line, then the checkpoint note verbatim. The spec
leaves ``extra`` to the application and unauthenticated; Ducha puts the leaf data (the canonical
JSON envelope) there, so the bundle is self-contained: the verifier hashes it and the inclusion
proof binds it to the signed root, which is what authenticates it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from services.tlog.note import MAX_NOTE_BYTES, NoteError, b64decode, b64encode

HEADER: Final = "c2sp.org/tlog-proof@v1"
MAX_PROOF_LINES: Final = 64
MAX_BUNDLE_BYTES: Final = 2 * MAX_NOTE_BYTES + 0x20000
_INDEX: Final = re.compile(r"index (0|[1-9][0-9]{0,18})")


class BundleError(ValueError):
    """A bundle that is not a well-formed ``tlog-proof@v1`` text."""


@dataclass(frozen=True)
class Bundle:
    """A proof of one entry: its data (``extra``), index, inclusion proof and checkpoint note."""

    entry: bytes | None
    index: int
    proof: tuple[bytes, ...]
    checkpoint: bytes

    @classmethod
    def make(cls, entry: bytes, index: int, proof: Sequence[bytes], checkpoint: bytes) -> Bundle:
        return cls(entry, index, tuple(proof), checkpoint)

    def encode(self) -> bytes:
        lines = [HEADER]
        if self.entry is not None:
            lines.append(f"extra {b64encode(self.entry)}")
        lines.append(f"index {self.index}")
        lines.extend(b64encode(h) for h in self.proof)
        return ("\n".join(lines) + "\n\n").encode() + self.checkpoint

    @classmethod
    def parse(cls, data: bytes) -> Bundle:
        if len(data) > MAX_BUNDLE_BYTES:
            raise BundleError(f"a bundle of {len(data)} bytes is over {MAX_BUNDLE_BYTES}")
        head, blank, checkpoint = data.partition(b"\n\n")
        if not blank or not checkpoint:
            raise BundleError("a bundle needs its proof lines, a blank line, then a checkpoint")
        try:
            lines = head.decode("ascii").split("\n")
        except UnicodeDecodeError as e:
            raise BundleError("a bundle's proof lines must be ASCII") from e
        if lines[0] != HEADER:
            raise BundleError(f"a bundle must start with {HEADER!r}")
        lines = lines[1:]
        entry = None
        if lines and lines[0].startswith("extra "):
            entry = _decode(lines.pop(0)[len("extra ") :], "the extra data")
        match = _INDEX.fullmatch(lines[0]) if lines else None
        if not match:
            raise BundleError("a bundle needs an 'index <n>' line after the header")
        if len(lines) - 1 > MAX_PROOF_LINES:
            raise BundleError(f"more than {MAX_PROOF_LINES} inclusion proof lines")
        proof = tuple(_decode(line, "an inclusion proof line") for line in lines[1:])
        if any(len(h) != 32 for h in proof):
            raise BundleError("an inclusion proof line is not a SHA-256 hash")
        return cls(entry, int(match.group(1)), proof, checkpoint)


def _decode(text: str, what: str) -> bytes:
    try:
        return b64decode(text, what)
    except NoteError as e:
        raise BundleError(str(e)) from e
