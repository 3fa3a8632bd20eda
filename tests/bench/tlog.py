"""The verifiable ledger's figures (issue 16), on SQLite and, given a URL, PostgreSQL.

* write path: items × four commands through the services layer with the embedded pump on
  (the read side current when each command returns), the ledger on (the ``tlog`` projection
  and the checkpoint listener, as deployed) vs off (both detached). Rounds alternate; the best
  of each counts. Target: off / on ≥ 0.9 in wall-clock time; the ratio of this process's CPU
  time is printed beside it (steadier on a shared machine).
* proof generation for an office of 10⁶ events: the tiles built in bulk and stored in the read
  store, then for random entries the inclusion proof read from the stored tiles (each proof
  reading its tiles afresh, in one query) and the ``.tlog-proof`` bundle made. Target p99 ≤
  5 ms.
* verifying a bundle (the checkpoint's signature, one witness's cosignature, the quorum, the
  inclusion proof, the envelope). Target p99 ≤ 5 ms.

``python -m tests.bench.tlog [--database-url URL] [--items N] [--size N]``.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import date
from functools import partial
from pathlib import Path
from uuid import uuid4

from domain.values import Actor
from projections.readstore import ReadStore
from projections.tlog import NAME, append_leaves, with_tiles
from services.bootstrap import Settings, build_platform
from services.clock import at_noon
from services.tlog.bundle import Bundle
from services.tlog.checkpoint import Checkpoint, origin_for
from services.tlog.cosignature import Cosigner
from services.tlog.envelope import hole_leaf
from services.tlog.merkle import inclusion_proof, leaf_hash, root_of
from services.tlog.note import Signer, add_signatures
from services.tlog.verify import Policy, verify_bundle
from tests.bench.items import bench_item

WRITE_TARGET = 0.9
P99_TARGET_MS = 5.0


def write_round(settings: Settings, items: int, ledger: bool) -> tuple[float, float]:
    """Seconds (wall clock, and this process's CPU) for ``items`` × four commands, the embedded
    read side on, the ledger on or off."""
    platform = build_platform(settings, clock=lambda: at_noon(date(2026, 3, 2)))
    if not ledger:
        platform.runner.projections = [p for p in platform.runner.projections if p.name != NAME]
        checkpoint = platform.ledger.checkpoints.maybe_checkpoint
        platform.supervision.listeners.remove(checkpoint)
    office, root = f"bench-{uuid4().hex[:8]}", "bench-root"
    actor = Actor("bench", office, "clerk")
    try:
        if not platform.registry.exists(root):
            platform.registry.register(actor, root, "基准根", "central")
        platform.registry.register(actor, office, "基准机关", "province", root)
        s = platform.supervision
        start, cpu = time.perf_counter(), time.process_time()
        for n in range(items):
            item = s.register_item(actor, office, bench_item(n))
            s.act(actor, office, item.id, "acknowledge")
            s.act(actor, office, item.id, "report-progress", text="进展", percent=50)
            s.act(actor, office, item.id, "report-completion", text="完成")
        return time.perf_counter() - start, time.process_time() - cpu
    finally:
        platform.close()


def write_figure(name: str, settings: Settings, items: int, rounds: int) -> bool:
    write_round(settings, 10, True), write_round(settings, 10, False)  # warm up
    on, off = [float("inf")] * 2, [float("inf")] * 2
    for _ in range(rounds):
        on = [min(a, b) for a, b in zip(on, write_round(settings, items, True), strict=True)]
        off = [min(a, b) for a, b in zip(off, write_round(settings, items, False), strict=True)]
    ratio, cpu_ratio = off[0] / on[0], off[1] / on[1]
    events = items * 4
    ok = ratio >= WRITE_TARGET
    print(
        f"{name:10} write path, ledger on {events / on[0]:6.0f} events/s, off "
        f"{events / off[0]:6.0f} events/s: ratio {ratio:.2f} (CPU time: {cpu_ratio:.2f})  "
        f"{'ok' if ok else f'BELOW TARGET {WRITE_TARGET}'}"
    )
    return ok


def p99_ms(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=100)[98] * 1000


def big_office(read: ReadStore, office: str, size: int) -> list[bytes]:
    """An office's log of ``size`` leaves, its tiles built in bulk into the read store (the
    leaves are holes: their content does not change the cost). Returns the leaf data."""
    leaves = [hole_leaf(office, n) for n in range(1, size + 1)]
    with read.transaction() as tx:
        append_leaves(tx, office, 0, [leaf_hash(data) for data in leaves])
    return leaves


def proof_figures(name: str, settings: Settings, size: int, queries: int) -> list[bool]:
    platform = build_platform(settings)
    office = f"bench-big-{uuid4().hex[:6]}"
    try:
        leaves = big_office(platform.read, office, size)
        signer, witness = Signer.generate(origin_for(office)), Cosigner.generate("bench-witness")
        text = Checkpoint(origin_for(office), size, root_of([leaf_hash(x) for x in leaves])).text
        note = add_signatures(signer.note(text), [witness.cosign(text, int(time.time()))])
        policy = Policy.parse(f"log {signer.vkey}\nwitness w {witness.vkey}\nquorum 1\n")
        rng, made, checked, bundles = random.Random(9), [], [], []
        for _ in range(queries):
            index = rng.randrange(size)
            start = time.perf_counter()
            proof = with_tiles(platform.read, office, size, partial(inclusion_proof, index, size))
            bundles.append(Bundle.make(leaves[index], index, proof, note).encode())
            made.append(time.perf_counter() - start)
        for bundle in bundles:
            start = time.perf_counter()
            verdict = verify_bundle(bundle, policy)
            checked.append(time.perf_counter() - start)
            assert verdict.ok, verdict.message
    finally:
        platform.close()
    results = []
    for what, samples in (("proof + bundle", made), ("verify bundle", checked)):
        p99 = p99_ms(samples)
        results.append(p99 <= P99_TARGET_MS)
        print(
            f"{name:10} {what:15} size {size:,}: p50 {statistics.median(samples) * 1000:.2f} ms"
            f"  p99 {p99:.2f} ms  {'ok' if results[-1] else f'ABOVE TARGET {P99_TARGET_MS} ms'}"
        )
    return results


def tlog_figures(
    settings: list[tuple[str, Settings]] | None = None,
    items: int = 250,
    rounds: int = 3,
    size: int = 1_000_000,
    queries: int = 1000,
) -> list[bool]:
    """Every figure on each ``(name, settings)`` (default: SQLite in a temporary directory)."""
    with tempfile.TemporaryDirectory(prefix="ducha-tlog-bench-") as tmp:
        chosen = settings or [("sqlite", Settings(data_dir=Path(tmp) / "var"))]
        passed: list[bool] = []
        print(f"ledger: {items} items × 4 commands, best of {rounds}; proofs of {queries} entries")
        for name, each in chosen:
            passed.append(write_figure(name, each, items, rounds))
            passed.extend(proof_figures(name, each, size, queries))
        return passed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=250)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--database-url", help="also on this PostgreSQL database")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ducha-tlog-bench-") as tmp:
        chosen = [("sqlite", Settings(data_dir=Path(tmp) / "sqlite"))]
        if args.database_url:
            pg = Settings(data_dir=Path(tmp) / "pg", database_url=args.database_url)
            chosen.append(("postgres", pg))
        passed = tlog_figures(chosen, args.items, args.rounds, args.size, args.queries)
    return 0 if all(passed) else 1


if __name__ == "__main__":
    sys.exit(main())
