"""Merkle tree hashing and proofs exactly as RFC 9162 §2.1 (the RFC 6962 tree). May import: the
standard library only.

A leaf hashes as ``SHA-256(0x00 ‖ data)``, a node as ``SHA-256(0x01 ‖ left ‖ right)``; a tree of
n > 1 leaves splits at the largest power of two below n, and the empty tree's root is
``SHA-256("")``. Proofs are *generated* from a ``HashSource``: a function giving the hash of a
complete subtree, ``source(level, index)`` covering leaves ``[index·2^level, (index+1)·2^level)``.
The ledger keeps those hashes in tiles (``services.tlog.tiles``), so a proof in a log of 10⁶
leaves costs O(log n) hash reads (plus, for the one incomplete node on the right edge, its
O(log n) complete parts), never a walk over the leaves. Proofs are *verified* with the RFC's own
algorithms (§2.1.3.2, §2.1.4.2), raising ``ProofError`` with the reason; ``MemoryTree`` is an
in-memory hash source for small trees and tests.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Final

HASH_SIZE: Final = 32
EMPTY_ROOT: Final = hashlib.sha256(b"").digest()

HashSource = Callable[[int, int], bytes]
"""``source(level, index)``: the hash of the complete subtree at that level and index."""


class ProofError(ValueError):
    """A proof that does not verify, or a request for a proof that cannot exist."""


def leaf_hash(data: bytes) -> bytes:
    """RFC 9162 §2.1.1: the hash of one leaf's data."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162 §2.1.1: the hash of an interior node."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def split_point(n: int) -> int:
    """The largest power of two strictly below ``n`` (``n`` ≥ 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def root_of(leaf_hashes: Sequence[bytes]) -> bytes:
    """The root of the tree over these leaf hashes, in memory (O(n))."""
    if not leaf_hashes:
        return EMPTY_ROOT
    return MemoryTree(leaf_hashes).root(len(leaf_hashes))


class MemoryTree:
    """Every complete subtree's hash of a tree held in memory: a ``HashSource`` for tests and
    small trees (the ledger reads tiles instead)."""

    def __init__(self, leaf_hashes: Sequence[bytes]) -> None:
        levels = [list(leaf_hashes)]
        while len(levels[-1]) > 1:
            below = levels[-1]
            levels.append([node_hash(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)])
        self.levels = levels

    def __call__(self, level: int, index: int) -> bytes:
        return self.levels[level][index]

    def root(self, size: int) -> bytes:
        return root(size, self)


def subtree_hash(start: int, end: int, source: HashSource) -> bytes:
    """The hash of leaves ``[start, end)``, a node of the RFC tree (``start`` a multiple of a
    power of two ≥ ``end - start``): its complete parts read from ``source``, folded right to
    left as the RFC's split does."""
    parts: list[bytes] = []
    while start < end:
        level = (end - start).bit_length() - 1
        while start % (1 << level):
            level -= 1
        parts.append(source(level, start >> level))
        start += 1 << level
    result = parts.pop()
    while parts:
        result = node_hash(parts.pop(), result)
    return result


def root(size: int, source: HashSource) -> bytes:
    """The root hash of the tree's first ``size`` leaves."""
    if size < 0:
        raise ProofError(f"a tree cannot have {size} leaves")
    return EMPTY_ROOT if size == 0 else subtree_hash(0, size, source)


def inclusion_proof(index: int, size: int, source: HashSource) -> list[bytes]:
    """RFC 9162 §2.1.3.1: the audit path of leaf ``index`` in the tree of ``size`` leaves, from
    the leaf's sibling up to the root's child."""
    if not 0 <= index < size:
        raise ProofError(f"leaf {index} is not in a tree of {size} leaves")
    path: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        middle = start + split_point(end - start)
        if index < middle:
            path.append(subtree_hash(middle, end, source))
            end = middle
        else:
            path.append(subtree_hash(start, middle, source))
            start = middle
    path.reverse()
    return path


def consistency_proof(old: int, new: int, source: HashSource) -> list[bytes]:
    """RFC 9162 §2.1.4.1: the proof that the first ``old`` leaves are a prefix of the first
    ``new`` (empty when the sizes are equal; there is none from the empty tree)."""
    if not 0 < old <= new:
        raise ProofError(f"no consistency proof from {old} to {new} leaves (need 0 < old ≤ new)")
    path: list[bytes] = []
    start, end, whole, m = 0, new, True, old
    while m != end - start:
        middle = start + split_point(end - start)
        if m <= middle - start:
            path.append(subtree_hash(middle, end, source))
            end = middle
        else:
            path.append(subtree_hash(start, middle, source))
            m -= middle - start
            start, whole = middle, False
    if not whole:
        path.append(subtree_hash(start, end, source))
    path.reverse()
    return path


def verify_inclusion(
    index: int, size: int, leaf: bytes, path: Sequence[bytes], expected_root: bytes
) -> None:
    """RFC 9162 §2.1.3.2: check that ``leaf`` (a leaf hash) is leaf ``index`` of the tree of
    ``size`` leaves whose root is ``expected_root``; raise ``ProofError`` otherwise."""
    if not 0 <= index < size:
        raise ProofError(f"leaf {index} is not in a tree of {size} leaves")
    _check_hashes([leaf, expected_root, *path])
    fn, sn, result = index, size - 1, leaf
    for sibling in path:
        if sn == 0:
            raise ProofError("the inclusion proof is longer than the tree is high")
        if fn & 1 or fn == sn:
            result = node_hash(sibling, result)
            while not fn & 1 and fn:
                fn, sn = fn >> 1, sn >> 1
        else:
            result = node_hash(result, sibling)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("the inclusion proof is shorter than the tree is high")
    if result != expected_root:
        raise ProofError("the inclusion proof leads to another root")


def verify_consistency(
    old: int, new: int, old_root: bytes, new_root: bytes, path: Sequence[bytes]
) -> None:
    """RFC 9162 §2.1.4.2: check that the tree of ``new`` leaves with root ``new_root`` extends
    the tree of ``old`` leaves with root ``old_root``; raise ``ProofError`` otherwise. Equal sizes
    need an empty proof and equal roots; a proof from the empty tree is refused (it proves
    nothing: callers handle an empty old tree themselves, as the witness does)."""
    _check_hashes([old_root, new_root, *path])
    if not 0 < old <= new:
        raise ProofError(f"no consistency proof from {old} to {new} leaves (need 0 < old ≤ new)")
    if old == new:
        if path:
            raise ProofError("the sizes are equal, but the consistency proof is not empty")
        if old_root != new_root:
            raise ProofError("two different roots for the same size")
        return
    if not path:
        raise ProofError("an empty consistency proof between different sizes")
    _verify_growth(old, new, old_root, new_root, path)


def _verify_growth(
    old: int, new: int, old_root: bytes, new_root: bytes, path: Sequence[bytes]
) -> None:
    steps = list(path)
    if old & (old - 1) == 0:  # the old tree is a complete subtree: its root starts the chain
        steps.insert(0, old_root)
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    first = second = steps[0]
    for step in steps[1:]:
        if sn == 0:
            raise ProofError("the consistency proof is longer than the tree is high")
        if fn & 1 or fn == sn:
            first, second = node_hash(step, first), node_hash(step, second)
            while not fn & 1 and fn:
                fn, sn = fn >> 1, sn >> 1
        else:
            second = node_hash(second, step)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("the consistency proof is shorter than the tree is high")
    if first != old_root:
        raise ProofError("the consistency proof does not lead to the old root")
    if second != new_root:
        raise ProofError("the consistency proof does not lead to the new root")


def _check_hashes(hashes: Sequence[bytes]) -> None:
    for value in hashes:
        if len(value) != HASH_SIZE:
            raise ProofError(f"a hash of {len(value)} bytes where SHA-256 gives {HASH_SIZE}")
