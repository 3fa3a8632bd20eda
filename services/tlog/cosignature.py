"""Checkpoint cosignatures (C2SP tlog-cosignature, Ed25519 ``cosignature/v1``). May import: the
standard library, ``cryptography`` and ``services.tlog`` modules.

A witness signs ``cosignature/v1\\ntime <t>\\n`` followed by the checkpoint's whole text; the
signature line carries ``key id ‖ timestamp (8 bytes, big-endian) ‖ Ed25519 signature``, the key
id computed with type byte 0x04. ``CosignatureVerifier`` plugs into ``note.open_note`` like any
verifier, so cosignatures are checked by the same strict parser as the log's own signature;
``timestamp_of`` reads back when a verified cosignature was made.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import ClassVar, Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from services.tlog.note import KeyVerifier, NoteError, Signature, check_name, key_id

COSIGNATURE_V1: Final = 0x04
MAX_TIMESTAMP: Final = 2**63 - 1


def message(text: str, timestamp: int) -> bytes:
    """What a ``cosignature/v1`` signs for a checkpoint text at a POSIX time."""
    if not 0 <= timestamp <= MAX_TIMESTAMP:
        raise NoteError(f"a cosignature's time must be within 0…2⁶³−1, not {timestamp}")
    return f"cosignature/v1\ntime {timestamp}\n{text}".encode()


def timestamp_of(signature: Signature) -> int:
    """The POSIX time a cosignature line says it was made (check the signature first)."""
    if len(signature.signature) != 72:
        raise NoteError(f"the cosignature by {signature.name!r} is not 8 + 64 bytes")
    (timestamp,) = struct.unpack(">Q", signature.signature[:8])
    return int(timestamp)


@dataclass(frozen=True)
class CosignatureVerifier(KeyVerifier):
    """Checks one witness's ``cosignature/v1`` lines (type 0x04)."""

    KIND: ClassVar[int] = COSIGNATURE_V1
    KIND_NAME: ClassVar[str] = "0x04"

    def verify(self, text: bytes, signature: bytes) -> bool:
        if len(signature) != 72:
            return False
        (timestamp,) = struct.unpack(">Q", signature[:8])
        if timestamp > MAX_TIMESTAMP:
            return False
        signed = message(text.decode(), timestamp)
        try:
            Ed25519PublicKey.from_public_bytes(self.public).verify(signature[8:], signed)
        except InvalidSignature:
            return False
        return True


class Cosigner:
    """A witness's signing key: cosigns checkpoint texts at a time the caller gives."""

    def __init__(self, name: str, private: Ed25519PrivateKey) -> None:
        self.name = check_name(name)
        self.private = private
        self.public = private.public_key().public_bytes_raw()
        self.key_id = key_id(name, COSIGNATURE_V1, self.public)

    @classmethod
    def generate(cls, name: str) -> Cosigner:
        return cls(name, Ed25519PrivateKey.generate())

    @classmethod
    def from_seed(cls, name: str, seed: bytes) -> Cosigner:
        return cls(name, Ed25519PrivateKey.from_private_bytes(seed))

    @property
    def seed(self) -> bytes:
        return self.private.private_bytes_raw()

    @property
    def verifier(self) -> CosignatureVerifier:
        return CosignatureVerifier(self.name, self.public)

    @property
    def vkey(self) -> str:
        return self.verifier.vkey

    def cosign(self, text: str, timestamp: int) -> Signature:
        """The cosignature line's parts for a checkpoint text (``Signature.line`` to send it)."""
        signed = self.private.sign(message(text, timestamp))
        return Signature(self.name, self.key_id, struct.pack(">Q", timestamp) + signed)
