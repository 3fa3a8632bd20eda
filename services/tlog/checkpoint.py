"""Checkpoints (C2SP tlog-checkpoint): the signed note body naming a log's tree head. May import:
the standard library and ``services.tlog`` modules.

The text is the origin line (ours: ``ducha/<office>``), the tree size in decimal without leading
zeroes, the root hash in base64, then optional non-empty extension lines, each ending in a
newline. ``Checkpoint.parse`` is strict: a size with a sign, spaces or leading zeroes, a root
that is not 32 bytes of canonical base64, an empty line or a missing final newline is a
``NoteError``. Whether a size-0 checkpoint carries the empty root (SHA-256 of nothing) is a
semantic check its readers make (``empty_root_problem``): the witness answers it with a 422.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from services.tlog.merkle import EMPTY_ROOT, HASH_SIZE
from services.tlog.note import NoteError, b64decode, b64encode, check_name

ORIGIN_PREFIX: Final = "ducha/"
_SIZE: Final = re.compile(r"0|[1-9][0-9]{0,19}")
MAX_SIZE: Final = 2**63 - 1


def origin_for(office: str) -> str:
    """The log origin (and key name) of an office's ledger: ``ducha/<office>``."""
    return check_name(ORIGIN_PREFIX + office)


@dataclass(frozen=True)
class Checkpoint:
    """A tree head: which log, how many leaves, which root."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.origin or "\n" in self.origin:
            raise NoteError("a checkpoint's origin must be one non-empty line")
        if not 0 <= self.size <= MAX_SIZE:
            raise NoteError(f"a checkpoint's size must be within 0…2⁶³−1, not {self.size}")
        if len(self.root) != HASH_SIZE:
            raise NoteError(f"a checkpoint's root is {HASH_SIZE} bytes, not {len(self.root)}")
        for line in self.extensions:
            if not line or "\n" in line:
                raise NoteError("a checkpoint's extension lines must be non-empty single lines")

    @property
    def text(self) -> str:
        """The note text: the body a log signs and a witness cosigns."""
        lines = [self.origin, str(self.size), b64encode(self.root), *self.extensions]
        return "".join(line + "\n" for line in lines)

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        if not text.endswith("\n"):
            raise NoteError("a checkpoint's text must end with a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise NoteError("a checkpoint needs an origin, a size and a root hash line")
        origin, size_text, root_text, *extensions = lines
        if not _SIZE.fullmatch(size_text):
            raise NoteError(
                f"a checkpoint's size must be decimal with no leading zeroes: {size_text!r}"
            )
        return cls(origin, int(size_text), b64decode(root_text, "the root hash"), tuple(extensions))


def empty_root_problem(checkpoint: Checkpoint) -> str | None:
    """What is wrong with a checkpoint of the empty tree whose root is not the empty root."""
    if checkpoint.size == 0 and checkpoint.root != EMPTY_ROOT:
        return "a checkpoint of size 0 must carry the empty tree's root"
    return None
