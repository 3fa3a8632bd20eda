"""A time-travel roll-up at the root of ~331 offices: from the daily changes vs a full replay.

The hierarchy: a root, 30 provinces, 10 prefectures each. Every office below the root registers
two items on the first day, acknowledges them the next, then reports progress on one of them
each day. The root's roll-up is asked as of the middle of the fifth and of the last day (the
daily changes up to the day before, and that day's events replayed: the same work, however
long the history before it) and as of the end of a day (the daily changes alone), against the
full replay of every office's store that time travel did before (``as_of`` without the live
read store), which grows with the history. Rounds alternate; the best of each counts.
Targets: the last day's mid-day roll-up at most 1.5 × the fifth day's (flat in the history),
and a whole day's within 20 ms.

``python -m tests.bench.timetravel [--days N] [--rounds N] [--open-stores N] [--database-url URL]``
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from pathlib import Path
from time import perf_counter
from typing import Any

from domain.values import CHINA_TZ, Actor
from projections.timetravel import as_of
from services.bootstrap import Platform, Settings, build_platform, projections
from services.clock import at_noon
from tests.bench.items import bench_item

ROOT = "tt-root"
FIRST_DAY = date(2026, 3, 2)
FLATNESS = 1.5
WHOLE_DAY_MS = 20.0


class Clock:
    def __init__(self) -> None:
        self.now = at_noon(FIRST_DAY)

    def __call__(self) -> datetime:
        return self.now


def populate(
    p: Platform, clock: Clock, days: int, provinces: int = 30, prefectures: int = 10
) -> int:
    """The hierarchy and its history; returns the number of offices."""
    admin = Actor("bench", ROOT, "admin")
    p.registry.register(admin, ROOT, "根", "central")
    codes = []
    for n in range(provinces):
        province = f"tt-p{n:02d}"
        p.registry.register(admin, province, province, "province", ROOT)
        codes.append(province)
        for m in range(prefectures):
            prefecture = f"{province}-f{m:02d}"
            p.registry.register(admin, prefecture, prefecture, "prefecture", province)
            codes.append(prefecture)
    s = p.supervision
    items = {
        c: [s.register_item(Actor("c", c, "clerk"), c, bench_item(n)).id for n in range(2)]
        for c in codes
    }
    clock.now += timedelta(days=1)
    for c in codes:
        for item in items[c]:
            s.act(Actor("c", c, "clerk"), c, item, "acknowledge")
    for day in range(2, days):
        clock.now += timedelta(days=1)
        for c in codes:
            s.act(
                Actor("c", c, "clerk"),
                c,
                items[c][day % 2],
                "report-progress",
                text="进展",
                percent=day,
            )
    return len(codes) + 1


def timed(query: Callable[[], Any]) -> tuple[float, Any]:
    start = perf_counter()
    found = query()
    return perf_counter() - start, found


def time_travel_figure(
    settings: Settings, days: int, rounds: int, open_stores: int | None = None
) -> bool:
    """``open_stores``: the bound on open offices (the backend's default if None)."""
    clock = Clock()
    p = build_platform(settings, clock=clock)
    if open_stores:
        p.backend.recent.limit = open_stores
    try:
        offices = populate(p, clock, days)
        events = int(p.read.all("SELECT COUNT(*) AS n FROM audit")[0]["n"])
        codes = [ROOT, *[o.code for o in p.registry.descendants(ROOT)]]
        last_mid_day = clock.now + timedelta(hours=3)
        fifth_mid_day = last_mid_day - timedelta(days=days - 5)
        day_end = datetime.combine(FIRST_DAY + timedelta(days=days - 2), time.max, CHINA_TZ)

        def replay(until: datetime) -> Any:
            rollup = projections(p.registry, p.calendar)
            return as_of(until, p.backend, codes, rollup, p.calendar, p.views.children).rollup(ROOT)

        def snapshot(until: datetime) -> Any:
            return p.as_of(until, codes).rollup(ROOT)

        full, fifth, last, whole = [], [], [], []
        for _ in range(rounds):  # alternating, so that machine noise hits all alike
            full.append(timed(lambda: replay(last_mid_day)))
            fifth.append(timed(lambda: snapshot(fifth_mid_day)))
            last.append(timed(lambda: snapshot(last_mid_day)))
            whole.append(timed(lambda: snapshot(day_end)))
        assert full[0][1] == last[0][1]  # the same roll-up
        assert fifth[0][1] == replay(fifth_mid_day) and whole[0][1] == replay(day_end)
    finally:
        p.close()
    best = [min(t for t, _ in runs) * 1000 for runs in (full, fifth, last, whole)]
    flat = best[2] / best[1]
    passed = flat <= FLATNESS and best[3] <= WHOLE_DAY_MS
    print(
        f"{'postgres' if settings.database_url else 'sqlite':10} {offices} offices, {days} days, "
        f"{events:,} events: full replay {best[0]:7.1f} ms   from the daily changes: mid-day 5 "
        f"{best[1]:6.1f} ms, mid-day {days} {best[2]:6.1f} ms ({flat:.2f}×), end of a day "
        f"{best[3]:4.1f} ms   replay/daily {best[0] / best[2]:.1f}  "
        + ("ok" if passed else f"BELOW TARGET (≤ {FLATNESS}×, ≤ {WHOLE_DAY_MS} ms)")
    )
    return passed


def main() -> None:
    from tests.bench.run import embedded_postgres_url

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=20, help="days of history (≥ 6)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--open-stores", type=int, help="offices kept open (default: 128)")
    parser.add_argument("--database-url", help="PostgreSQL to use instead of embedded-postgres")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ducha-bench-") as tmp:
        root = Path(tmp)
        sqlite = Settings(data_dir=root / "sqlite")
        time_travel_figure(sqlite, args.days, args.rounds, args.open_stores)
        url = args.database_url or embedded_postgres_url(root)
        time_travel_figure(Settings(database_url=url), args.days, args.rounds, args.open_stores)


if __name__ == "__main__":
    main()
