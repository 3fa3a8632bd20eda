"""Bulk data at scale for the benchmarks: the 3,233 offices of ``rollup.hierarchy()`` registered
as real offices (through the registry, so each office's store is provisioned and the registry's
events are real), and N real domain events written across them *through the stores*: each
office's supervision items built with the domain (registered, then acknowledged, reported on,
reported complete and accepted, as far as each item's stage goes) and saved with
``store.save(*items)`` in large batches, not through commands (no loads, no checks of who may
act, no read side: 10⁶ events in a minute or two instead of hours). Offices get unequal
shares, as real ones do: the State Council's office the most, then each province, prefecture
and county less. Writing is split across processes, each building its own platform.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from datetime import date, timedelta
from multiprocessing import get_context
from uuid import UUID

from domain.items import SupervisionItem
from domain.values import SOURCE_KINDS, Actor
from services.bootstrap import Platform, Settings, build_platform
from services.calendar import GovernmentCalendar
from services.clock import at_noon
from tests.bench.rollup import ROOT, hierarchy

ADMIN = Actor("bench", "platform", "admin")
LEVELS = {0: "central", 1: "province", 2: "prefecture", 3: "county"}
WEIGHTS = {0: 40, 1: 12, 2: 3, 3: 1}
"""Events per office by depth: the root 40 shares, a province 12, a prefecture 3, a county 1."""
SAVE = 200
"""Items per ``store.save``: one transaction each (PostgreSQL's pipelined insert of many
thousand events at once can stall, so batches stay moderate)."""
STAGE_EVENTS = (1, 2, 3, 4, 5)


def depth(code: str) -> int:
    return 0 if code == ROOT else code.count("-") + 1


def register_hierarchy(platform: Platform) -> list[str]:
    """Register the root and the 3,232 offices below it (those not yet registered); returns
    every code, top-down."""
    parents = hierarchy()
    codes = [ROOT, *parents]
    registry = platform.registry
    for code in codes:
        if not registry.exists(code):
            parent = parents.get(code)
            level = LEVELS[depth(code)]
            registry.register(ADMIN, code, f"{code} 督查室", level, parent)
    return codes


def plan(codes: list[str], events: int) -> dict[str, int]:
    """Each office's share of ``events`` by its depth (the shares add up exactly)."""
    weights = [WEIGHTS[depth(code)] for code in codes]
    whole = sum(weights)
    shares = {code: events * w // whole for code, w in zip(codes, weights, strict=True)}
    for code in codes[: events - sum(shares.values())]:  # the remainder, from the top
        shares[code] += 1
    return shares


def items(
    office: str, events: int, rng: random.Random, calendar: GovernmentCalendar
) -> Iterator[SupervisionItem]:
    """Real items of ``office`` whose events add up to ``events``, each as far along its life as
    its stage (the last one stops short to fit)."""
    clerk, leader = Actor("clerk", office, "clerk"), Actor("leader", office, "leader")
    left, n = events, 0
    while left > 0:
        stage = min(rng.choice(STAGE_EVENTS), left)
        issued = date(2025, 1, 2) + timedelta(days=rng.randrange(520))
        item = SupervisionItem.register(
            item_id=UUID(int=rng.getrandbits(128), version=4),
            actor=clerk,
            at=at_noon(issued),
            office=office,
            title=f"关于{office}第{n}项重点工作的批示",
            source_kind=rng.choice(SOURCE_KINDS),
            source_ref=f"督〔2026〕{n}号",
            issued_on=issued,
            objective="按期完成",
            content="落实部署，按时报送进展",
            executing_unit="督查室",
            responsible_person="张三",
            calendar=calendar,
            deadline=issued + timedelta(days=rng.randrange(10, 150)),
        )
        day = issued + timedelta(days=rng.randrange(1, 170))
        if stage >= 2:
            item.acknowledge(clerk, at_noon(issued))
        if stage >= 3:
            item.report_progress(clerk, at_noon(issued), "已完成过半", rng.randrange(1, 99))
        if stage >= 4:
            item.report_completion(clerk, at_noon(day), "已办结")
        if stage >= 5:
            item.accept_completion(leader, at_noon(day))
        left, n = left - stage, n + 1
        yield item


def write_share(settings: Settings, share: dict[str, int], seed: int) -> int:
    """One process: its offices' items saved through their stores; returns the events."""
    platform = build_platform(settings, catch_up=False)
    written = 0
    try:
        for office, events in share.items():
            rng = random.Random(f"{seed}:{office}")
            store = platform.backend.store(office)
            batch: list[SupervisionItem] = []
            for item in items(office, events, rng, platform.calendar):
                batch.append(item)
                if len(batch) == SAVE:
                    store.save(*batch)
                    batch.clear()
            if batch:
                store.save(*batch)
            written += events
    finally:
        platform.close()
    return written


def write_events(
    settings: Settings, counts: dict[str, int], seed: int, processes: int = 2
) -> float:
    """Write ``counts`` events (office → events) in ``processes`` processes, offices dealt
    out in turn; returns the seconds taken."""
    shares: list[dict[str, int]] = [{} for _ in range(processes)]
    for n, (office, events) in enumerate(sorted(counts.items(), key=lambda c: -c[1])):
        shares[n % processes][office] = events
    start = time.perf_counter()
    with ProcessPoolExecutor(processes, mp_context=get_context("spawn")) as pool:
        written = sum(pool.map(write_share, [settings] * processes, shares, [seed] * processes))
    assert written == sum(counts.values())
    return time.perf_counter() - start
