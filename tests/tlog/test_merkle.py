"""RFC 9162 hashing and proofs: the transparency-dev vectors, two independent implementations as
oracles (pymerkle for roots, sigstore's Merkle helpers for inclusion), and the verifier bugs
other logs have shipped."""

from __future__ import annotations

import base64
import json
import random
import warnings
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.tlog import merkle
from services.tlog.merkle import (
    EMPTY_ROOT,
    MemoryTree,
    ProofError,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root,
    root_of,
    verify_consistency,
    verify_inclusion,
)

VECTORS = json.loads((Path(__file__).parent / "vectors/transparency_dev_merkle.json").read_text())
# transparency-dev/merkle testonly/constants.go: LeafInputs() and RootHashes()
LEAVES = [bytes.fromhex(h) for h in ("", "00", "10", "2021", "3031", "40414243")] + [
    bytes.fromhex("5051525354555657"),
    bytes.fromhex("606162636465666768696a6b6c6d6e6f"),
]
ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
# One vector our verifier refuses where the Go one accepts: two equal 12-byte "roots" at size 1.
# Ours refuses any hash that is not 32 bytes long, before comparing anything.
STRICTER = {"testdata/consistency/additional/sizes-are-equal-one-and-proof-is-empty.json"}


def b64(text: str | None) -> bytes:
    return base64.b64decode(text) if text else b""


def tree_of(n: int) -> MemoryTree:
    return MemoryTree([leaf_hash(i.to_bytes(4, "big")) for i in range(n)])


def test_roots_of_the_vectors_for_sizes_0_to_8() -> None:
    hashes = [leaf_hash(data) for data in LEAVES]
    assert [root_of(hashes[:n]).hex() for n in range(9)] == ROOTS
    assert EMPTY_ROOT.hex() == ROOTS[0]
    tree = MemoryTree(hashes)
    assert [root(n, tree).hex() for n in range(9)] == ROOTS


@pytest.mark.parametrize("vector", VECTORS["inclusion"], ids=lambda v: v["file"][9:])
def test_inclusion_vectors(vector: dict[str, Any]) -> None:
    proof = [b64(h) for h in vector["proof"] or []]
    args = (
        vector["leafIdx"],
        vector["treeSize"],
        b64(vector["leafHash"]),
        proof,
        b64(vector["root"]),
    )
    if vector["wantErr"]:
        with pytest.raises(ProofError):
            verify_inclusion(*args)
    else:
        verify_inclusion(*args)


@pytest.mark.parametrize("vector", VECTORS["consistency"], ids=lambda v: v["file"][9:])
def test_consistency_vectors(vector: dict[str, Any]) -> None:
    proof = [b64(h) for h in vector["proof"] or []]
    sizes = (vector["size1"], vector["size2"])
    args = (*sizes, b64(vector["root1"]), b64(vector["root2"]), proof)
    if vector["wantErr"] or vector["file"] in STRICTER:
        with pytest.raises(ProofError):
            verify_consistency(*args)
    else:
        verify_consistency(*args)


def test_vector_proofs_are_what_we_generate() -> None:
    """Every happy-path vector's proof is exactly the one we build from the same leaves."""
    tree = MemoryTree([leaf_hash(data) for data in LEAVES])
    checked = 0
    for vector in VECTORS["inclusion"]:
        if vector["desc"] == "happy path" and vector["treeSize"] <= 8:
            want = [b64(h) for h in vector["proof"] or []]
            assert inclusion_proof(vector["leafIdx"], vector["treeSize"], tree) == want
            checked += 1
    for vector in VECTORS["consistency"]:
        if vector["desc"] == "happy path" and vector["size1"] > 0 and vector["size2"] <= 8:
            want = [b64(h) for h in vector["proof"] or []]
            assert consistency_proof(vector["size1"], vector["size2"], tree) == want
            checked += 1
    assert checked >= 8


def test_every_proof_for_sizes_below_40_verifies_and_only_there() -> None:
    tree = tree_of(40)
    for n in range(1, 40):
        top = root(n, tree)
        for i in range(n):
            path = inclusion_proof(i, n, tree)
            verify_inclusion(i, n, tree(0, i), path, top)
            other = (i + 1) % n
            if other != i:
                with pytest.raises(ProofError):
                    verify_inclusion(other, n, tree(0, i), path, top)
        for m in range(1, n + 1):
            verify_consistency(m, n, root(m, tree), top, consistency_proof(m, n, tree))


def test_inclusion_proofs_agree_with_sigstore() -> None:
    from sigstore._internal import merkle as oracle

    tree = tree_of(300)
    for n in (1, 2, 3, 7, 8, 9, 31, 32, 33, 255, 256, 257, 300):
        for i in sorted({0, 1, n // 2, n - 2, n - 1} & set(range(n))):
            path = inclusion_proof(i, n, tree)
            inner, border = oracle._decomp_inclusion_proof(i, n)
            assert len(path) == inner + border
            step = oracle._chain_inner(tree(0, i), path[:inner], i)
            assert oracle._chain_border_right(step, path[inner:]) == root(n, tree)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.binary(max_size=12), min_size=1, max_size=3000), st.data())
def test_roots_and_proofs_agree_with_pymerkle_on_random_trees(
    entries: list[bytes], data: st.DataObject
) -> None:
    from pymerkle import InmemoryTree

    oracle = InmemoryTree(algorithm="sha256")
    for entry in entries:
        oracle.append_entry(entry)
    tree = MemoryTree([leaf_hash(entry) for entry in entries])
    n = len(entries)
    m = data.draw(st.integers(1, n))
    assert root(n, tree) == oracle.get_root(n)
    assert root(m, tree) == oracle.get_root(m)
    i = data.draw(st.integers(0, n - 1))
    verify_inclusion(i, n, leaf_hash(entries[i]), inclusion_proof(i, n, tree), oracle.get_root(n))
    verify_consistency(m, n, oracle.get_root(m), oracle.get_root(n), consistency_proof(m, n, tree))


@pytest.mark.parametrize("n", [1023, 1024, 1025, 2999, 4096 + 7])
def test_large_random_trees_agree_with_both_oracles(n: int) -> None:
    from pymerkle import InmemoryTree
    from sigstore._internal import merkle as sigstore_merkle

    rng = random.Random(n)
    entries = [rng.randbytes(rng.randrange(0, 40)) for _ in range(n)]
    oracle = InmemoryTree(algorithm="sha256")
    for entry in entries:
        oracle.append_entry(entry)
    tree = MemoryTree([leaf_hash(entry) for entry in entries])
    for size in {1, n // 3, n - 1, n} - {0}:
        assert root(size, tree) == oracle.get_root(size)
    for i in rng.sample(range(n), 20):
        path = inclusion_proof(i, n, tree)
        inner, _ = sigstore_merkle._decomp_inclusion_proof(i, n)
        step = sigstore_merkle._chain_inner(leaf_hash(entries[i]), path[:inner], i)
        assert sigstore_merkle._chain_border_right(step, path[inner:]) == oracle.get_root(n)
        m = rng.randrange(1, n + 1)
        verify_consistency(
            m, n, oracle.get_root(m), oracle.get_root(n), consistency_proof(m, n, tree)
        )


# -- the bugs other verifiers shipped -------------------------------------------------------
def test_an_empty_consistency_proof_between_different_sizes_is_refused() -> None:
    tree = tree_of(8)
    for m, n in ((1, 2), (4, 8), (3, 7)):
        with pytest.raises(ProofError, match="empty consistency proof"):
            verify_consistency(m, n, root(m, tree), root(n, tree), [])
    with pytest.raises(ProofError):  # not even when the "roots" are equal
        verify_consistency(4, 8, root(8, tree), root(8, tree), [])


def test_there_are_no_proofs_from_size_zero() -> None:
    tree = tree_of(8)
    with pytest.raises(ProofError):
        consistency_proof(0, 8, tree)
    with pytest.raises(ProofError):
        verify_consistency(0, 8, EMPTY_ROOT, root(8, tree), [])
    with pytest.raises(ProofError):
        verify_consistency(0, 8, EMPTY_ROOT, root(8, tree), [root(8, tree)])
    with pytest.raises(ProofError):
        inclusion_proof(0, 0, tree)
    with pytest.raises(ProofError):
        verify_inclusion(0, 0, tree(0, 0), [], EMPTY_ROOT)


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5, 8])
def test_the_right_edge_at_powers_of_two_plus_or_minus_one(k: int) -> None:
    tree = tree_of((1 << k) + 2)
    for n in ((1 << k) - 1, 1 << k, (1 << k) + 1):
        if n < 1:
            continue
        top = root(n, tree)
        last = inclusion_proof(n - 1, n, tree)
        verify_inclusion(n - 1, n, tree(0, n - 1), last, top)
        with pytest.raises(ProofError):  # the leaf past the end, with the last leaf's path
            verify_inclusion(n, n, tree(0, n), last, top)
        with pytest.raises(ProofError):  # the same path claimed for a tree one larger
            verify_inclusion(n - 1, n + 1, tree(0, n - 1), last, root(n + 1, tree))
        for m in (n - 1, n + 1):
            if 0 < m < (1 << k) + 2:
                with pytest.raises(ProofError):
                    verify_inclusion(n - 1, m, tree(0, n - 1), last, top)


def test_one_proof_is_accepted_for_one_pair_of_sizes_only() -> None:
    """A proof holds for its own sizes and for no other tree of this log. (RFC 9162 binds the
    sizes through the roots: the same proof and the same two roots also pass at sizes whose
    paths have the same shape, which is why a size is only believed from a signed checkpoint;
    against each size's true root, every other size fails.)"""
    tree = tree_of(64)
    for m, n in ((3, 7), (4, 8), (5, 33), (16, 17), (31, 32)):
        path = consistency_proof(m, n, tree)
        verify_consistency(m, n, root(m, tree), root(n, tree), path)
        for other_m in range(1, 64):
            for other_n in range(other_m, 64):
                if (other_m, other_n) != (m, n):
                    with pytest.raises(ProofError):
                        verify_consistency(
                            other_m, other_n, root(other_m, tree), root(other_n, tree), path
                        )
        i = m - 1
        incl = inclusion_proof(i, n, tree)
        for other in range(i + 1, 64):
            if other != n:
                with pytest.raises(ProofError):
                    verify_inclusion(i, other, tree(0, i), incl, root(other, tree))


def test_a_proof_of_another_shape_fails_even_with_the_same_roots() -> None:
    """Sizes whose audit paths differ in length or direction are refused outright."""
    tree = tree_of(64)
    incl = inclusion_proof(5, 20, tree)
    for other in (6, 7, 8, 9, 16, 33, 40):
        with pytest.raises(ProofError):
            verify_inclusion(5, other, tree(0, 5), incl, root(20, tree))
    cons = consistency_proof(6, 20, tree)
    for other_m, other_n in ((5, 20), (7, 20), (6, 8), (6, 33), (4, 20), (6, 6)):
        with pytest.raises(ProofError):
            verify_consistency(other_m, other_n, root(6, tree), root(20, tree), cons)


@pytest.mark.parametrize("n", [3, 5, 6, 7, 9, 11, 13])
def test_odd_nodes_are_never_duplicated(n: int) -> None:
    """CVE-2012-2459's shape: a tree whose last leaf is repeated must not share its root."""
    hashes = [leaf_hash(bytes([i])) for i in range(n)]
    assert root_of(hashes) != root_of([*hashes, hashes[-1]])
    # and an odd node is carried up, not hashed with itself
    if n == 3:
        assert root_of(hashes) == node_hash(node_hash(hashes[0], hashes[1]), hashes[2])


def test_leaves_and_nodes_are_domain_separated() -> None:
    """A node's bytes offered as a leaf do not hash to the node (the 0x00 and 0x01 prefixes)."""
    a, b = leaf_hash(b"a"), leaf_hash(b"b")
    assert leaf_hash(a + b) != node_hash(a, b)
    top = root(2, MemoryTree([a, b]))
    with pytest.raises(ProofError):  # the two children's bytes as one leaf: not that root
        verify_inclusion(0, 1, leaf_hash(a + b), [], top)


def test_tampered_proofs_fail_with_a_reason() -> None:
    tree = tree_of(20)
    path = inclusion_proof(6, 20, tree)
    with pytest.raises(ProofError, match="another root"):
        verify_inclusion(6, 20, tree(0, 6), [path[0][::-1], *path[1:]], root(20, tree))
    with pytest.raises(ProofError, match="shorter"):
        verify_inclusion(6, 20, tree(0, 6), path[:-1], root(20, tree))
    with pytest.raises(ProofError, match="longer"):
        verify_inclusion(6, 20, tree(0, 6), [*path, path[0]], root(20, tree))
    with pytest.raises(ProofError, match="32"):
        verify_inclusion(6, 20, tree(0, 6), [path[0][:31], *path[1:]], root(20, tree))
    cons = consistency_proof(6, 20, tree)
    with pytest.raises(ProofError, match="old root"):
        verify_consistency(6, 20, root(5, tree), root(20, tree), cons)
    with pytest.raises(ProofError, match="new root"):
        verify_consistency(6, 20, root(6, tree), root(19, tree), cons)


def test_a_hash_source_is_read_logarithmically() -> None:
    """Proofs read O(log n) complete-subtree hashes, never the whole tree."""
    tree = tree_of(5000)
    reads: list[tuple[int, int]] = []

    def source(level: int, index: int) -> bytes:
        reads.append((level, index))
        return tree(level, index)

    for i in (0, 2500, 4095, 4096, 4999):
        reads.clear()
        inclusion_proof(i, 5000, source)
        assert len(reads) <= 2 * 13, (i, len(reads))
    reads.clear()
    consistency_proof(1234, 5000, source)
    assert len(reads) <= 3 * 13
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert merkle.split_point(5000) == 4096
