"""The Merkle tree stored as C2SP tlog-tiles: tiles of height 8, their paths, building them,
appending to them, and proving from them. May import: the standard library and
``services.tlog.merkle``.

Tile ``(L, N)`` holds up to 256 consecutive hashes of tree level ``8·L`` starting at index
``256·N``; at level 0 they are leaf hashes, above each is the root of a full tile below. The
rightmost tile of each level is *partial* (width ``⌊size / 256^L⌋ mod 256``) and is served as
``tile/<L>/<N>.p/<W>``; full tiles never change. Appending leaves only touches the right edge:
``append(edge, leaf_hashes)`` takes the partial tiles of the current size (the ``Edge``) and
returns the new edge plus every tile to write (newly full ones and the new partial ones), so the
ledger projection (later) stores them in the same transaction as its tracking position.
``TileHashSource`` turns a ``get(level, index, width) -> bytes`` (a store read, an HTTP fetch)
into the ``HashSource`` the proofs in ``services.tlog.merkle`` read from.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from services.tlog.merkle import HASH_SIZE, MemoryTree, ProofError

HEIGHT: Final = 8
WIDTH: Final = 1 << HEIGHT
_PATH: Final = re.compile(
    r"tile/(entries|0|[1-9][0-9]?)/((?:x[0-9]{3}/)*[0-9]{3})(?:\.p/([0-9]+))?"
)

TileGetter = Callable[[int, int, int], bytes]
"""``get(level, index, width)``: the bytes of that tile (``width`` hashes; 256 for a full one)."""


@dataclass(frozen=True, order=True)
class Tile:
    """One tile: its level, its index within the level, and how many hashes it holds."""

    level: int
    index: int
    width: int = WIDTH

    @property
    def path(self) -> str:
        """``tile/<L>/<N>[.p/<W>]`` as C2SP tlog-tiles spells it."""
        return f"tile/{self.level}/{encode_index(self.index)}{self._suffix()}"

    @property
    def entries_path(self) -> str:
        """``tile/entries/<N>[.p/<W>]``: the entry bundle beside a level-0 tile."""
        return f"tile/entries/{encode_index(self.index)}{self._suffix()}"

    def _suffix(self) -> str:
        return "" if self.width == WIDTH else f".p/{self.width}"


def encode_index(index: int) -> str:
    """An index as zero-padded 3-digit path elements, all but the last prefixed ``x``."""
    if index < 0:
        raise ValueError(f"a tile index cannot be negative ({index})")
    groups = []
    while True:
        groups.append(f"{index % 1000:03d}")
        index //= 1000
        if not index:
            break
    groups.reverse()
    return "/".join([f"x{group}" for group in groups[:-1]] + groups[-1:])


def parse_path(path: str) -> tuple[Tile, bool]:
    """The tile a path names, and whether it is an entry bundle (level 0); ``ValueError`` for
    anything the spec does not allow (leading zeroes, a width outside 1…255, a level over 63)."""
    match = _PATH.fullmatch(path)
    if not match:
        raise ValueError(f"not a tile path: {path!r}")
    level_text, index_text, width_text = match.groups()
    entries = level_text == "entries"
    level = 0 if entries else int(level_text)
    if level > 63:
        raise ValueError(f"tile level {level} is over 63")
    index = int(index_text.replace("x", "").replace("/", ""))
    if encode_index(index) != index_text:
        raise ValueError(f"tile index {index_text!r} has superfluous leading groups")
    width = WIDTH
    if width_text is not None:
        width = int(width_text)
        if str(width) != width_text or not 1 <= width < WIDTH:
            raise ValueError(f"partial tile width {width_text!r} is not within 1…255")
    return Tile(level, index, width), entries


def tiles_for(size: int) -> list[Tile]:
    """Every tile a tree of ``size`` leaves is served as: the full ones and the partial edge."""
    tiles: list[Tile] = []
    level = 0
    while size >> (HEIGHT * level):
        full = size >> (HEIGHT * (level + 1))
        tiles.extend(Tile(level, index) for index in range(full))
        width = (size >> (HEIGHT * level)) % WIDTH
        if width:
            tiles.append(Tile(level, full, width))
        level += 1
    return tiles


def tile_for(level: int, index: int, size: int) -> Tile:
    """The tile (full, or partial at the right edge) holding hash ``index`` of tree level
    ``8·level`` in a tree of ``size`` leaves."""
    number = index >> HEIGHT
    if number < size >> (HEIGHT * (level + 1)):
        return Tile(level, number)
    return Tile(level, number, (size >> (HEIGHT * level)) % WIDTH)


@dataclass(frozen=True)
class Edge:
    """The right edge of a tiled tree: its size and, per tile level from 0 up, the hashes its
    partial tile holds (empty when that level's tiles are all full)."""

    size: int
    partials: tuple[bytes, ...] = ()

    def __post_init__(self) -> None:
        for level, data in enumerate(self.partials):
            width = (self.size >> (HEIGHT * level)) % WIDTH
            if len(data) != width * HASH_SIZE:
                raise ValueError(f"level {level}'s partial tile must hold {width} hashes")

    @classmethod
    def read(cls, size: int, get: TileGetter) -> Edge:
        """The edge of a stored tree, read through ``get`` (one read per partial tile)."""
        partials = []
        level = 0
        while size >> (HEIGHT * level):
            width = (size >> (HEIGHT * level)) % WIDTH
            index = size >> (HEIGHT * (level + 1))
            partials.append(get(level, index, width) if width else b"")
            level += 1
        return cls(size, tuple(partials))


def append(edge: Edge, leaf_hashes: Sequence[bytes]) -> tuple[Edge, dict[Tile, bytes]]:
    """Add leaves to a tiled tree: the new edge, and the tiles to write (each new full tile and
    each partial tile whose content changed), keyed by tile."""
    size = edge.size + len(leaf_hashes)
    written: dict[Tile, bytes] = {}
    partials: list[bytes] = []
    carried = b"".join(leaf_hashes)
    level = 0
    while size >> (HEIGHT * level):
        old = edge.partials[level] if level < len(edge.partials) else b""
        pending, carried = old + carried, b""
        if pending != old:  # this level received hashes: its right edge changes
            number = edge.size >> (HEIGHT * (level + 1))
            while len(pending) >= WIDTH * HASH_SIZE:
                tile, pending = pending[: WIDTH * HASH_SIZE], pending[WIDTH * HASH_SIZE :]
                written[Tile(level, number)] = tile
                carried += tile_root(tile)
                number += 1
            if pending:
                written[Tile(level, number, len(pending) // HASH_SIZE)] = pending
        partials.append(pending)
        level += 1
    return Edge(size, tuple(partials)), written


def build(leaf_hashes: Sequence[bytes]) -> tuple[Edge, dict[Tile, bytes]]:
    """All the tiles of a tree over these leaf hashes (``append`` to the empty tree)."""
    return append(Edge(0), leaf_hashes)


def tile_root(data: bytes) -> bytes:
    """The Merkle root of a full tile's 256 hashes: the hash one tile level up."""
    return MemoryTree(split_hashes(data)).root(len(data) // HASH_SIZE)


def split_hashes(data: bytes) -> list[bytes]:
    """A tile's bytes as its hashes."""
    if len(data) % HASH_SIZE:
        raise ValueError(f"a tile of {len(data)} bytes is not a whole number of hashes")
    return [data[i : i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)]


class TileHashSource:
    """A ``HashSource`` over the tiles of a tree of ``size`` leaves: each complete subtree's hash
    is rebuilt from the one tile holding its leaves (at most 255 hashes), each tile read once."""

    def __init__(self, size: int, get: TileGetter) -> None:
        self.size = size
        self.get = get
        self._trees: dict[Tile, MemoryTree] = {}

    def __call__(self, level: int, index: int) -> bytes:
        tile_level, rise = divmod(level, HEIGHT)
        first = index << rise
        tile = tile_for(tile_level, first, self.size)
        offset = first % WIDTH
        if offset + (1 << rise) > tile.width:
            raise ProofError(f"no complete subtree ({level}, {index}) in a tree of {self.size}")
        tree = self._trees.get(tile)
        if tree is None:
            data = self.get(tile.level, tile.index, tile.width)
            if len(data) != tile.width * HASH_SIZE:
                raise ProofError(f"tile {tile.path} holds {len(data)} bytes, not {tile.width}·32")
            tree = self._trees[tile] = MemoryTree(split_hashes(data))
        return tree(rise, offset >> rise)


def entry_bundle(entries: Sequence[bytes]) -> bytes:
    """Entries as a C2SP entry bundle: each prefixed by its length as a big-endian uint16."""
    parts = []
    for entry in entries:
        if len(entry) > 0xFFFF:
            raise ValueError(f"an entry of {len(entry)} bytes does not fit an entry bundle")
        parts.append(struct.pack(">H", len(entry)) + entry)
    return b"".join(parts)


def parse_entry_bundle(data: bytes) -> list[bytes]:
    """The entries of an entry bundle; ``ValueError`` if it is truncated."""
    entries, position = [], 0
    while position < len(data):
        if position + 2 > len(data):
            raise ValueError("an entry bundle ends inside a length prefix")
        (length,) = struct.unpack_from(">H", data, position)
        position += 2
        if position + length > len(data):
            raise ValueError("an entry bundle ends inside an entry")
        entries.append(data[position : position + length])
        position += length
    return entries
