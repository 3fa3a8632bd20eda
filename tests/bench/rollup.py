"""The roll-up query at the root of a synthetic hierarchy, with 10⁵ and 10⁶ items.

The hierarchy is shaped like the real one: one root, 32 provinces, 10 prefectures each and
9 counties under each prefecture (3,233 offices). Items are not pushed through the stores
(10⁶ items would take hours to record); instead a pool of real ``SupervisionItem`` states —
registered, acknowledged, reported on, completed and accepted on varied dates, deadlines and
source kinds — is built with the domain, each state's contribution is computed by the
projection's own ``contribution``, and every synthetic item takes one pool state and one
office. The counters written are exactly those the roll-up projection would hold after
recording those items: the sum of their contributions for each office and its ancestors.
Each synthetic item is its own matter (none is assigned), so each office's matter counters
(``m.…``) equal its record counters; the projection stores matters less records
(``counters.stored_matters``), so no matter row is loaded, and the query reads the records'
rows and counts the matters from them. ``by_office`` reads the root's 32 children's counters
in one more query.
"""

from __future__ import annotations

import random
import statistics
import time
from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta
from uuid import uuid4

from domain.items import SupervisionItem
from domain.values import SOURCE_KINDS, Actor
from projections.queries import ReadModels
from projections.readstore import ReadStore
from projections.rollup import ADD, DDL, ROLLUP, Counters, contribution
from projections.rollup.counters import stored_matters
from services.calendar import GovernmentCalendar
from services.clock import at_noon

ROOT = "root"
TODAY = date(2026, 6, 15)


def hierarchy(provinces: int = 32, prefectures: int = 10, counties: int = 9) -> dict[str, str]:
    """Each office's parent (the root has none and is left out)."""
    parents: dict[str, str] = {}
    for p in range(provinces):
        province = f"p{p:02d}"
        parents[province] = ROOT
        for f in range(prefectures):
            prefecture = f"{province}-f{f:02d}"
            parents[prefecture] = province
            for c in range(counties):
                parents[f"{prefecture}-c{c}"] = prefecture
    return parents


def state_pool(size: int, calendar: GovernmentCalendar, seed: int = 7) -> list[Counters]:
    """Contributions of ``size`` real item states at every stage of the life cycle."""
    rng = random.Random(seed)
    pool = []
    for n in range(size):
        office = "pool"
        issued = date(2025, 1, 2) + timedelta(days=rng.randrange(520))
        deadline = issued + timedelta(days=rng.randrange(10, 150))
        clerk, leader = Actor("clerk", office, "clerk"), Actor("leader", office, "leader")
        item = SupervisionItem.register(
            item_id=uuid4(),
            actor=clerk,
            at=at_noon(issued),
            office=office,
            title=f"事项{n}",
            source_kind=rng.choice(SOURCE_KINDS),
            source_ref=f"文号{n}",
            issued_on=issued,
            objective="目标",
            content="内容",
            executing_unit="督查室",
            responsible_person="张三",
            calendar=calendar,
            deadline=deadline,
        )
        stage = rng.randrange(5)
        day = issued + timedelta(days=rng.randrange(1, 170))
        if stage >= 1:
            item.acknowledge(clerk, at_noon(issued))
        if stage >= 2:
            item.report_progress(clerk, at_noon(issued), "进展", 50)
        if stage >= 3:
            item.report_completion(clerk, at_noon(day), "完成")
        if stage >= 4:
            item.accept_completion(leader, at_noon(day))
        own = contribution(item, calendar)
        # an item no one assigned is its own matter: stored as nothing beyond its record
        pool.append({**own, **stored_matters(own, own)})
    return pool


def counters(
    parents: dict[str, str], pool: list[Counters], items: int, seed: int = 11
) -> dict[str, Counter[str]]:
    """Every office's counters once ``items`` items are recorded across the hierarchy."""
    rng = random.Random(seed)
    offices = [ROOT, *parents]
    # most work sits at the bottom: weight an office by how low it is
    weights = [1 + 3 * code.count("-") for code in offices]
    own: dict[str, Counter[str]] = {code: Counter() for code in offices}
    picks = Counter(
        zip(
            rng.choices(offices, weights, k=items),
            rng.choices(range(len(pool)), k=items),
            strict=True,
        )
    )
    for (office, state), count in picks.items():
        mine = own[office]
        for key, value in pool[state].items():
            mine[key] += value * count
    total = {code: Counter(c) for code, c in own.items()}
    for code in sorted(parents, key=lambda c: -c.count("-")):  # deepest first
        total[parents[code]].update(total[code])
    return total


def load(read: ReadStore, totals: dict[str, Counter[str]]) -> int:
    """Write the counters as the roll-up projection stores them; returns the rows written."""
    read.ensure(DDL)
    rows = [
        (office, *key.split("|", 1), value)
        for office, counts in totals.items()
        for key, value in counts.items()
        if value
    ]
    for chunk in chunks(rows, 50_000):
        with read.transaction() as tx:
            tx.write(ROLLUP, chunk, ADD)
    return len(rows)


def chunks(rows: list[tuple[object, ...]], size: int) -> Iterator[list[tuple[object, ...]]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def views(
    read: ReadStore, calendar: GovernmentCalendar, parents: dict[str, str] | None = None
) -> ReadModels:
    below: dict[str, list[tuple[str, str]]] = {}
    for code, parent in sorted((parents or {}).items()):
        below.setdefault(parent, []).append((code, code))
    return ReadModels(read, calendar, today=lambda: TODAY, children=lambda c: below.get(c, []))


def percentile(samples: list[float], p: float) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[int(p) - 1]


def p99s(models: list[ReadModels], queries: int) -> list[tuple[float, float]]:
    """(p50, p99) in ms of the root's roll-up for each read model, queries interleaved so that
    machine noise hits each alike."""
    samples: list[list[float]] = [[] for _ in models]
    for _ in range(20):  # warm caches
        for m in models:
            m.rollup(ROOT)
    for _ in range(queries):
        for m, taken in zip(models, samples, strict=True):
            start = time.perf_counter()
            m.rollup(ROOT)
            taken.append((time.perf_counter() - start) * 1000)
    return [(statistics.median(s), percentile(s, 99)) for s in samples]
