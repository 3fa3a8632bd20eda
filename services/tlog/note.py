"""Signed notes (C2SP signed-note) with Ed25519: key names, key ids, vkeys, signing, and a strict
parser and verifier. May import: the standard library, ``cryptography`` and
``services.tlog`` modules.

A note is UTF-8 text ending in a newline, a blank line, then lines ``— <name> <base64(id ‖ sig)>``.
The parser is strict where lenient parsers have been fooled: a malformed signature line, a
control character, a missing final newline, a note over ``MAX_NOTE_BYTES`` or with more than
``MAX_SIGNATURES`` lines, and a second line by the same known key are all ``NoteError``s, never
skipped. ``open_note`` checks the signatures against the verifiers it is given: a line counts
only when both its key name *and* key id match a verifier (a matching id under another name is
an unknown key); unknown keys are ignored, as the spec says, but reported in ``Opened.unknown``;
a known key whose signature fails rejects the whole note; a note no known key signed is
rejected. Keys are identified as the spec recommends: ``SHA-256(name ‖ 0x0A ‖ type ‖ key)[:4]``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, Final, Protocol, Self

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ED25519: Final = 0x01
MAX_NOTE_BYTES: Final = 64 * 1024
MAX_SIGNATURES: Final = 64  # the spec asks for at least 16
DASH: Final = "— "


class NoteError(ValueError):
    """A note that is malformed, or whose signatures do not verify."""


def check_name(name: str) -> str:
    """A key name as the spec allows it: non-empty, no Unicode space, no ``+``, no control."""
    if not name:
        raise NoteError("a key name cannot be empty")
    for char in name:
        if char == "+" or char.isspace() or unicodedata.category(char) in {"Zs", "Cc"}:
            raise NoteError(f"key name {name!r} holds a space, a plus or a control character")
    return name


def key_id(name: str, kind: int, public: bytes) -> bytes:
    """The 4-byte key id: ``SHA-256(name ‖ 0x0A ‖ kind ‖ public key)[:4]``."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([kind]) + public).digest()[:4]


def b64decode(text: str, what: str) -> bytes:
    """Strict standard base64 (padding required, no stray characters, canonical)."""
    try:
        data = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as e:
        raise NoteError(f"{what} is not base64") from e
    if base64.b64encode(data).decode() != text:
        raise NoteError(f"{what} is not canonical base64")
    return data


def b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode()


class Verifier(Protocol):
    """What checks one key's signatures: its name, its id, and ``verify``."""

    @property
    def name(self) -> str: ...

    @property
    def key_id(self) -> bytes: ...

    def verify(self, text: bytes, signature: bytes) -> bool: ...


@dataclass(frozen=True)
class VKey:
    """A verifier key string's parts: ``<name>+<hex(id)>+<base64(type ‖ public key)>``."""

    name: str
    key_id: bytes
    kind: int
    public: bytes

    @classmethod
    def parse(cls, text: str) -> VKey:
        name, plus, rest = text.partition("+")
        hex_id, plus2, material = rest.partition("+")
        if not (plus and plus2) or len(hex_id) != 8 or hex_id != hex_id.lower():
            raise NoteError(f"not a verifier key: {text!r}")
        try:
            given = bytes.fromhex(hex_id)
        except ValueError as e:
            raise NoteError(f"verifier key {text!r} has a key id that is not hex") from e
        raw = b64decode(material, "the verifier key's material")
        if len(raw) < 2:
            raise NoteError(f"verifier key {text!r} holds no public key")
        vkey = cls(check_name(name), given, raw[0], raw[1:])
        if key_id(vkey.name, vkey.kind, vkey.public) != given:
            raise NoteError(f"verifier key {text!r}: its key id does not match its name and key")
        return vkey

    def __str__(self) -> str:
        material = b64encode(bytes([self.kind]) + self.public)
        return f"{self.name}+{self.key_id.hex()}+{material}"


@dataclass(frozen=True)
class KeyVerifier:
    """What every Ed25519 verifier key shares: its name, its public key, its id and vkey text,
    all of one signature type (``KIND``); subclasses say how a signature is checked."""

    KIND: ClassVar[int]
    KIND_NAME: ClassVar[str]

    name: str
    public: bytes

    def __post_init__(self) -> None:
        check_name(self.name)
        if len(self.public) != 32:
            raise NoteError(f"an Ed25519 public key is 32 bytes, not {len(self.public)}")

    @classmethod
    def from_vkey(cls, text: str) -> Self:
        vkey = VKey.parse(text)
        if vkey.kind != cls.KIND:
            raise NoteError(
                f"verifier key {vkey.name!r} is of type {vkey.kind:#04x}, not {cls.KIND_NAME}"
            )
        return cls(vkey.name, vkey.public)

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.KIND, self.public)

    @property
    def vkey(self) -> str:
        return str(VKey(self.name, self.key_id, self.KIND, self.public))


@dataclass(frozen=True)
class Ed25519Verifier(KeyVerifier):
    """Checks plain Ed25519 note signatures (type 0x01), as a log's checkpoints carry."""

    KIND: ClassVar[int] = ED25519
    KIND_NAME: ClassVar[str] = "Ed25519"

    def verify(self, text: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public).verify(signature, text)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True)
class Signature:
    """One signature line: the key's name and id, and the signature bytes after the id."""

    name: str
    key_id: bytes
    signature: bytes

    @property
    def line(self) -> str:
        return f"{DASH}{self.name} {b64encode(self.key_id + self.signature)}\n"

    @classmethod
    def parse_line(cls, line: str) -> Signature:
        if not line.startswith(DASH):
            raise NoteError(f"not a signature line: {line[:60]!r}")
        name, space, encoded = line[len(DASH) :].partition(" ")
        if not space or " " in encoded:
            raise NoteError(f"a signature line must be '— <name> <base64>': {line[:60]!r}")
        raw = b64decode(encoded, f"the signature by {name!r}")
        if len(raw) < 5:
            raise NoteError(f"the signature by {name!r} is too short to hold a key id")
        return cls(check_name(name), raw[:4], raw[4:])


@dataclass(frozen=True)
class Note:
    """A note's text (ending in a newline) and its signatures, in order."""

    text: str
    signatures: tuple[Signature, ...]

    def encode(self) -> bytes:
        return (self.text + "\n" + "".join(s.line for s in self.signatures)).encode()

    @classmethod
    def parse(cls, data: bytes) -> Note:
        if len(data) > MAX_NOTE_BYTES:
            raise NoteError(f"a note of {len(data)} bytes is over the {MAX_NOTE_BYTES} limit")
        try:
            whole = data.decode("utf-8")
        except UnicodeDecodeError as e:
            raise NoteError("a note must be UTF-8") from e
        if any(char < " " and char != "\n" for char in whole):
            raise NoteError("a note holds a control character other than newline")
        split = whole.rfind("\n\n")
        if split < 0:
            raise NoteError("a note needs its text, a blank line, then its signature lines")
        text, block = whole[: split + 1], whole[split + 2 :]
        if not block.endswith("\n"):
            raise NoteError("a note's last signature line must end with a newline")
        lines = block[:-1].split("\n")
        if len(lines) > MAX_SIGNATURES:
            raise NoteError(f"a note with {len(lines)} signatures is over the limit")
        return cls(text, tuple(Signature.parse_line(line) for line in lines))


@dataclass(frozen=True)
class Opened:
    """A note whose known signatures all verified: by which keys, and which were unknown."""

    note: Note
    verified: tuple[tuple[Verifier, Signature], ...]
    unknown: tuple[Signature, ...]

    def signed_by(self, verifier: Verifier) -> bool:
        return any(
            v.name == verifier.name and v.key_id == verifier.key_id for v, _ in self.verified
        )


def open_note(data: bytes, verifiers: Sequence[Verifier]) -> Opened:
    """Parse a note and check its signatures (see the module docstring for the rules)."""
    note = Note.parse(data)
    text = note.text.encode()
    verified: list[tuple[Verifier, Signature]] = []
    unknown: list[Signature] = []
    for signature in note.signatures:
        known = [v for v in verifiers if (v.name, v.key_id) == (signature.name, signature.key_id)]
        if not known:
            unknown.append(signature)
            continue
        if any(s.name == signature.name and s.key_id == signature.key_id for _, s in verified):
            raise NoteError(f"key {signature.name!r} signs the note twice")
        if not any(v.verify(text, signature.signature) for v in known):
            raise NoteError(f"the signature by {signature.name!r} does not verify")
        verified.append((known[0], signature))
    if not verified:
        names = ", ".join(sorted({s.name for s in unknown}))
        raise NoteError(f"no signature by a known key (signed by: {names})")
    return Opened(note, tuple(verified), tuple(unknown))


class Signer:
    """An Ed25519 note signer (type 0x01): a log's key. Holds the private key in memory only;
    the caller stores it (later: a 0600 file under the data dir, see the module's users)."""

    kind: int = ED25519

    def __init__(self, name: str, private: Ed25519PrivateKey) -> None:
        self.name = check_name(name)
        self.private = private
        self.public = private.public_key().public_bytes_raw()
        self.key_id = key_id(name, self.kind, self.public)

    @classmethod
    def generate(cls, name: str) -> Signer:
        return cls(name, Ed25519PrivateKey.generate())

    @classmethod
    def from_seed(cls, name: str, seed: bytes) -> Signer:
        return cls(name, Ed25519PrivateKey.from_private_bytes(seed))

    @property
    def seed(self) -> bytes:
        """The 32-byte private key, to be stored by the caller (never logged)."""
        return self.private.private_bytes_raw()

    @property
    def vkey(self) -> str:
        return str(VKey(self.name, self.key_id, self.kind, self.public))

    @property
    def verifier(self) -> Ed25519Verifier:
        return Ed25519Verifier(self.name, self.public)

    def sign(self, text: str) -> Signature:
        if not text.endswith("\n"):
            raise NoteError("a note's text must end with a newline")
        return Signature(self.name, self.key_id, self.private.sign(text.encode()))

    def note(self, text: str) -> bytes:
        """A note holding ``text`` signed by this key alone."""
        return Note(text, (self.sign(text),)).encode()


def add_signatures(data: bytes, signatures: Sequence[Signature]) -> bytes:
    """The note with more signature lines appended (e.g. cosignatures a witness returned)."""
    note = Note.parse(data)
    return Note(note.text, note.signatures + tuple(signatures)).encode()
