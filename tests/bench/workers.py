"""Two Kafka workers vs one (issue 15 §4): events per second applied from the same backlog of
100 offices (60 items × 3 events each, under one root) by a consumer group of two and of one,
five runs in a row, each printed; target ≥ 1.5 in every run.

The backlog is recorded once, in a template database; each group drains a fresh copy of it
(``CREATE DATABASE … TEMPLATE``) from a fresh topic into which the relay has **already**
published it all. The workers start together; the local broker completes a group's first join
only after ``max_poll_interval_ms`` (``JOIN_MS``), so both members are in the first generation
and no rebalance cuts the drain (each worker counts its assignments in its ``--health-file``;
a run where a member had more than one is said). The clock runs from the first message any
member received (``first_message_at`` in the health files) to the last event applied.

An earlier version published the backlog *after* the members held their partitions and
started the clock when the relay had finished: the workers drained while the relay was still
publishing, so the pair could go no faster than the relay fed it (ratios 0.65–1.0 in some
runs) and the clock saw only the tail left after publishing. Concurrent workers adding to the
root's counters used to risk deadlocks; upserts now lock rows in key order
(``projections/readstore/postgres.py``).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from uuid import uuid4

import psycopg

from services.bootstrap import Platform, Settings, build_platform
from services.clock import at_noon
from services.kafka import KafkaRelay, KafkaSettings, wait_for
from tests.bench.kafka import end, fill, settings_for

DUCHA = str(Path(sys.executable).parent / "ducha")
PARTITIONS = 8
JOIN_MS = 6000  # Tansu completes a group's first join after this: both members are in it
TEMPLATE = "bench_workers_backlog"


def backlog(server_url: str, bootstrap: str, offices: int, items: int) -> int:
    """Record the backlog once in the template database; how many events it holds."""
    url = fresh(server_url, TEMPLATE)
    platform = build_platform(settings_for(url, bootstrap, "unused"), at_noon_clock())
    try:
        return fill(platform, offices, items)
    finally:
        platform.close()


def at_noon_clock() -> Callable[[], datetime]:
    return lambda: at_noon(date(2026, 3, 2))


def fresh(server_url: str, name: str, template: str | None = None) -> str:
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}" + (f" TEMPLATE {template}" if template else ""))
    return server_url.replace("/postgres?", f"/{name}?")


def drained(platform: Platform, events: int) -> int:
    """Events the roll-up has applied, over every office (one small query)."""
    rows = platform.read.all("SELECT SUM(position) AS n FROM tracking WHERE consumer = 'rollup'")
    return int(rows[0]["n"] or 0) if events else 0


def settled(server_url: str, longest: float = 180.0) -> float:
    """Wait until the database server does nothing else (no autovacuum worker, no other active
    query) for two seconds, after a checkpoint: registering 3,233 offices just before (the
    scale section) leaves thousands of new tables for autovacuum to analyse, which took a core
    from the pair in the runs it overlapped. Returns the seconds waited."""
    started = time.perf_counter()
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute("CHECKPOINT")
        calm_since = None
        while time.perf_counter() - started < longest:
            busy = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND "
                "(backend_type = 'autovacuum worker' OR (backend_type = 'client backend' "
                "AND state = 'active'))"
            ).fetchone()
            now = time.perf_counter()
            if busy and busy[0]:
                calm_since = None
            elif calm_since is None:
                calm_since = now
            elif now - calm_since >= 2:
                break
            time.sleep(0.2)
    return time.perf_counter() - started


def one_run(server_url: str, bootstrap: str, count: int, events: int, work: Path) -> float:
    """Events per second drained by a group of ``count`` workers: from the first message any
    member received to the last event applied."""
    name = f"bench_workers_{uuid4().hex[:6]}"
    topic = f"bench.workers.{name}"
    settings = settings_for(fresh(server_url, name, TEMPLATE), bootstrap, topic)
    platform = build_platform(settings, at_noon_clock())
    KafkaRelay(platform, KafkaSettings(bootstrap, topic, PARTITIONS)).run(once=True)
    health = [work / f"{name}-{n}.json" for n in range(count)]
    env = env_of(settings)
    join = ["--max-poll-interval-ms", str(JOIN_MS)]
    workers = [
        subprocess.Popen(
            [DUCHA, "worker", "run", "--group", name, "--health-file", str(file), *join],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for file in health
    ]
    try:
        assert wait_for(lambda: drained(platform, events) >= events, 600, every=0.05)
        done = time.time()
        assert wait_for(lambda: all(started(f) for f in health), 30, every=0.1)
        shown = [json.loads(f.read_text()) for f in health]
        rebalanced = [s for s in shown if s["assignments"] != 1]
        if rebalanced:  # counted as measured, and said
            print(f"{'workers':10} a group of {count} rebalanced while draining: {rebalanced}")
        return events / (done - min(float(s["first_message_at"]) for s in shown))
    finally:
        for worker in workers:
            end(worker)
        platform.close()
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def started(file: Path) -> bool:
    try:
        return json.loads(file.read_text()).get("first_message_at") is not None
    except (OSError, ValueError):
        return False


def env_of(settings: Settings) -> dict[str, str]:
    import os

    return {
        **os.environ,
        "DUCHA_DATABASE_URL": settings.database_url or "",
        "DUCHA_BUS": "kafka",
        "DUCHA_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "DUCHA_KAFKA_TOPIC": settings.kafka_topic,
        "DUCHA_CLOCK": "2026-03-03",
    }


def workers_figure(
    server_url: str, bootstrap: str, runs: int = 5, offices: int = 100, items: int = 60
) -> bool:
    events = backlog(server_url, bootstrap, offices, items)
    ratios, waited = [], 0.0
    with tempfile.TemporaryDirectory(prefix="ducha-workers-") as tmp:
        for n in range(runs):
            order = (2, 1) if n % 2 == 0 else (1, 2)  # neither group always goes first
            rates = {}
            for c in order:
                waited += settled(server_url)
                rates[c] = one_run(server_url, bootstrap, c, events, Path(tmp))
            ratios.append(rates[2] / rates[1])
            print(
                f"{'workers':10} run {n + 1}: one {rates[1]:6.0f} events/s, two {rates[2]:6.0f}"
                f" events/s, ratio {ratios[-1]:.2f}"
            )
    ok = min(ratios) >= 1.5
    print(
        f"{'workers':10} {offices}-office backlog of {events} events, {runs} runs "
        f"(waited {waited:.0f} s for the database to settle): ratios "
        + ", ".join(f"{r:.2f}" for r in ratios)
        + ("  ok" if ok else "  BELOW TARGET 1.5 (in every run)")
    )
    return ok
