"""C2SP tlog-tiles: paths, the tiles a tree needs, appending (only the right edge changes), and
proofs read from tiles equal to proofs from the whole tree."""

from __future__ import annotations

import random

import pytest

from services.tlog.merkle import (
    MemoryTree,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root,
)
from services.tlog.tiles import (
    Edge,
    Tile,
    TileHashSource,
    append,
    build,
    encode_index,
    entry_bundle,
    parse_entry_bundle,
    parse_path,
    tile_root,
    tiles_for,
)


def hashes(n: int, seed: int = 0) -> list[bytes]:
    return [leaf_hash(f"{seed}:{i}".encode()) for i in range(n)]


def test_paths_as_the_spec_spells_them() -> None:
    assert encode_index(1234067) == "x001/x234/067"
    assert [encode_index(n) for n in (0, 7, 999, 1000, 1000000)] == [
        "000",
        "007",
        "999",
        "x001/000",
        "x001/x000/000",
    ]
    assert Tile(0, 5).path == "tile/0/005"
    assert Tile(1, 1234067, 17).path == "tile/1/x001/x234/067.p/17"
    assert Tile(0, 1000, 3).entries_path == "tile/entries/x001/000.p/3"


def test_paths_parse_back_and_oddities_are_refused() -> None:
    for tile in (Tile(0, 5), Tile(1, 1234067, 17), Tile(63, 0, 1), Tile(2, 1000)):
        assert parse_path(tile.path) == (tile, False)
    assert parse_path("tile/entries/x001/000.p/3") == (Tile(0, 1000, 3), True)
    for bad in (
        "tile/0/5",
        "tile/01/005",
        "tile/64/000",
        "tile/0/x000/005",
        "tile/0/005.p/0",
        "tile/0/005.p/256",
        "tile/0/005.p/07",
        "tile/0/001/002",
        "tile/-1/000",
        "tile/0/005/",
    ):
        with pytest.raises(ValueError):
            parse_path(bad)


def test_the_tiles_of_the_spec_examples() -> None:
    """A tree of 70,000: 273 full level-0 tiles, one of width 112, one full level-1 tile, one
    of width 17, one level-2 tile of width 1; a tree of 256: one full tile, one of width 1."""
    tiles = tiles_for(70000)
    assert len([t for t in tiles if t.level == 0 and t.width == 256]) == 273
    assert [t for t in tiles if t.width != 256] == [
        Tile(0, 273, 112),
        Tile(1, 1, 17),
        Tile(2, 0, 1),
    ]
    assert [t for t in tiles if t.level == 1 and t.width == 256] == [Tile(1, 0)]
    assert tiles_for(256) == [Tile(0, 0), Tile(1, 0, 1)]
    assert tiles_for(0) == []


def test_a_level_one_hash_is_the_root_of_a_full_tile_below() -> None:
    leaves = hashes(600)
    edge, tiles = build(leaves)
    tree = MemoryTree(leaves)
    assert tiles[Tile(1, 0, 2)] == tree(8, 0) + tree(8, 1)
    assert tile_root(tiles[Tile(0, 1)]) == tree(8, 1)
    assert edge.partials[0] == b"".join(leaves[512:600])


def test_appending_touches_only_the_right_edge() -> None:
    leaves = hashes(70000, seed=1)
    edge, store = build(leaves[:1000])
    before = dict(store)
    edge, written = append(edge, leaves[1000:1003])
    assert set(written) == {Tile(0, 3, 235)}  # 1003 = 3·256 + 235: one partial tile rewritten
    edge, written = append(edge, leaves[1003:1024])
    assert set(written) == {Tile(0, 3), Tile(1, 0, 4)}  # the tile fills, level 1 grows
    assert all(store[t] == before[t] for t in before if t.width == 256)
    assert Tile(0, 3, 232) in before and Tile(0, 3, 232) not in written


def test_appending_in_any_steps_equals_building_at_once() -> None:
    rng = random.Random(7)
    leaves = hashes(70000, seed=2)
    edge, store = Edge(0), {}
    while edge.size < len(leaves):
        step = min(rng.choice([1, 2, 255, 256, 257, 3000]), len(leaves) - edge.size)
        edge, written = append(edge, leaves[edge.size : edge.size + step])
        store.update(written)
        assert (
            Edge.read(edge.size, lambda level, index, width: store[Tile(level, index, width)])
            == edge
        )
    final_edge, whole = build(leaves)
    assert final_edge == edge
    assert {t: store[t] for t in tiles_for(70000)} == whole


def test_proofs_from_tiles_equal_proofs_from_the_whole_tree() -> None:
    leaves = hashes(70000, seed=3)
    _, store = build(leaves)
    latest = {(t.level, t.index): data for t, data in store.items()}
    reads: list[tuple[int, int, int]] = []

    def get(level: int, index: int, width: int) -> bytes:
        reads.append((level, index, width))
        return latest[(level, index)][: width * 32]  # a stored tile serves any smaller size

    tree = MemoryTree(leaves)
    for size in (1, 255, 256, 257, 65536, 65537, 69999, 70000):
        source = TileHashSource(size, get)
        assert root(size, source) == root(size, tree)
        for index in {0, size // 2, size - 1}:
            reads.clear()
            assert inclusion_proof(index, size, source) == inclusion_proof(index, size, tree)
            assert len(reads) <= 6  # a few tiles per proof, each read once
        for old in {1, size // 3 or 1, size}:
            assert consistency_proof(old, size, source) == consistency_proof(old, size, tree)


def test_a_tile_of_the_wrong_length_is_an_error() -> None:
    _, store = build(hashes(300))
    source = TileHashSource(300, lambda level, index, width: store[Tile(0, 0)][:-1])
    with pytest.raises(ValueError, match="tile"):
        inclusion_proof(3, 300, source)


def test_entry_bundles() -> None:
    entries = [b"", b"a", "督查".encode() * 100, bytes(range(256))]
    data = entry_bundle(entries)
    assert data[:2] == b"\x00\x00" and data[2:4] == b"\x00\x01"
    assert parse_entry_bundle(data) == entries
    with pytest.raises(ValueError):
        parse_entry_bundle(data[:-1])
    with pytest.raises(ValueError):
        parse_entry_bundle(b"\x00")
    with pytest.raises(ValueError):
        entry_bundle([bytes(70000)])
