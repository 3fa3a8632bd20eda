"""Kafka figures, on a real broker (Tansu) and embedded PostgreSQL.

* relay throughput: events published by ``KafkaRelay`` (read from the stores, enveloped,
  acknowledged, checkpointed) vs a bare kafka-python producer sending as many messages of the
  same size to the same broker with the same settings (acks=all, idempotent). Target ≥ 0.5.
* end-to-end latency: from a county's command committing to the root office's roll-up
  showing it, through a relay and a worker in their own processes. Target p95 ≤ 500 ms.
* two workers vs one: events applied per second by a consumer group of two vs one, over the
  same backlog of 100 offices. Target ≥ 1.5.
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from uuid import uuid4

import psycopg
from kafka import KafkaProducer

from domain.assignment import Assignee
from domain.values import Actor
from services.bootstrap import Platform, Settings, build_platform
from services.clock import at_noon
from services.kafka import KafkaRelay, KafkaSettings, ensure_topic, wait_for
from services.kafka.broker import free_port, start_broker, stop
from tests.bench.items import bench_item

DUCHA = str(Path(sys.executable).parent / "ducha")


def database(server_url: str, name: str) -> str:
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return server_url.replace("/postgres?", f"/{name}?")


def settings_for(url: str, bootstrap: str, topic: str) -> Settings:
    return Settings(database_url=url, bus="kafka", kafka_bootstrap=bootstrap, kafka_topic=topic)


def fill(platform: Platform, offices: int, items: int) -> int:
    """A root and ``offices`` provinces, each with ``items`` items × 3 events."""
    admin = Actor("bench", "bench-root", "admin")
    platform.registry.register(admin, "bench-root", "基准根", "central")
    s = platform.supervision
    for o in range(offices):
        code = f"p{o:03d}"
        platform.registry.register(admin, code, f"基准省{o}", "province", "bench-root")
        clerk = Actor("bench", code, "clerk")
        for n in range(items):
            item = s.register_item(Actor("bench", code, "supervisor"), code, bench_item(n))
            s.act(clerk, code, item.id, "acknowledge")
            s.act(clerk, code, item.id, "report-progress", text="进展", percent=n % 100)
    return sum(
        platform.backend.store(o.code).recorder.max_notification_id() or 0
        for o in platform.registry.all()
    )


def relay_figure(server_url: str, bootstrap: str) -> bool:
    topic = f"bench.relay.{uuid4().hex[:6]}"
    settings = settings_for(database(server_url, "bench_relay"), bootstrap, topic)
    platform = build_platform(settings, clock=lambda: at_noon(date(2026, 3, 2)))
    try:
        events = fill(platform, 10, 200)
        relay = KafkaRelay(platform, KafkaSettings(bootstrap, topic))
        relay.producer()  # topic and connection ready before timing, as for the baseline
        start = time.perf_counter()
        published = relay.pass_once()
        relay_s = time.perf_counter() - start
        relay.close()
        assert published == events
        size = 900  # bytes: about an envelope of these events
        producer = KafkaProducer(
            bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=5
        )
        ensure_topic(KafkaSettings(bootstrap, topic + ".bare"))
        producer.send(topic + ".bare", b"warm").get(timeout=30)
        start = time.perf_counter()
        futures = [
            producer.send(topic + ".bare", key=f"p{i % 10:03d}".encode(), value=b"x" * size)
            for i in range(events)
        ]
        producer.flush()
        for f in futures:
            f.get(timeout=30)
        bare_s = time.perf_counter() - start
        producer.close()
    finally:
        platform.close()
    ratio = bare_s / relay_s
    ok = ratio >= 0.5
    print(
        f"{'relay':10} {events / relay_s:8.0f} events/s   bare producer {events / bare_s:8.0f} "
        f"msg/s   ratio {ratio:.2f}  " + ("ok" if ok else "BELOW TARGET 0.5")
    )
    return ok


def spawn(settings: Settings, *args: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DUCHA_DATABASE_URL": settings.database_url or "",
        "DUCHA_BUS": "kafka",
        "DUCHA_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "DUCHA_KAFKA_TOPIC": settings.kafka_topic,
        "DUCHA_CLOCK": "2026-03-03",
    }
    return subprocess.Popen(
        [DUCHA, *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def end(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()


def latency_figure(server_url: str, bootstrap: str, commands: int = 60) -> bool:
    topic = f"bench.latency.{uuid4().hex[:6]}"
    settings = settings_for(database(server_url, "bench_latency"), bootstrap, topic)
    platform = build_platform(settings, clock=lambda: at_noon(date(2026, 3, 3)))
    admin = Actor("bench", "root", "admin")
    chain = ["root", "province", "prefecture", "county"]
    for parent, code in zip([None, *chain], chain, strict=False):
        platform.registry.register(admin, code, f"{code}机关", "other", parent)
    relay = spawn(settings, "relay", "run")
    worker = spawn(settings, "worker", "run", "--group", "bench", "--max-poll-interval-ms", "1000")
    samples: list[float] = []
    try:
        s = platform.supervision
        item = s.register_item(Actor("bench", "root", "supervisor"), "root", bench_item(0))
        record = ("root", item.id)
        for child in chain[1:]:  # down the chain, each task created by the worker's relay
            office, record_id = record
            if office != "root":
                s.act(Actor("bench", office, "clerk"), office, record_id, "acknowledge")
            s.act(
                Actor("bench", office, "supervisor"),
                office,
                record_id,
                "assign",
                assignees=[Assignee("office", child, "lead")],
            )
            found = wait_for(lambda c=child: bool(task_ids(platform, c)), 60)
            assert found, f"no task reached {child}"
            record = (child, task_ids(platform, child)[0])
        county = record[1]
        s.act(Actor("bench", "county", "clerk"), "county", county, "acknowledge")
        county_store = platform.backend.store("county")
        for n in range(commands):
            s.act(
                Actor("bench", "county", "clerk"),
                "county",
                county,
                "report-progress",
                text=f"进展{n}",
                percent=n % 100,
            )
            committed = time.perf_counter()
            position = county_store.recorder.max_notification_id() or 0

            def shown(at: int = position) -> bool:  # the roll-up has applied this event
                rows = platform.read.all(
                    "SELECT position FROM tracking WHERE consumer = 'rollup' AND office = 'county'"
                )
                return bool(rows) and int(rows[0]["position"]) >= at

            assert wait_for(shown, 30, every=0.002)
            samples.append(time.perf_counter() - committed)
            time.sleep(0.05)  # commands arrive one by one, not in a burst
    finally:
        end(worker)
        end(relay)
        platform.close()
    p50 = statistics.median(samples) * 1000
    p95 = statistics.quantiles(samples, n=20, method="inclusive")[18] * 1000
    ok = p95 <= 500
    print(
        f"{'latency':10} county command → root roll-up: p50 {p50:.0f} ms  p95 {p95:.0f} ms  "
        + ("ok" if ok else "BELOW TARGET (p95 ≤ 500 ms)")
    )
    return ok


def task_ids(p: Platform, office: str) -> list[str]:
    store = p.backend.store(office)
    return [
        str(n.originator_id)
        for n in store.recorder.select_notifications(1, 10)
        if n.originator_version == 1
    ]


WORKER_ORDER = (2, 1)


def workers_figure(server_url: str, bootstrap: str) -> bool:
    """The same backlog (100 offices) drained by a group of one, then by a group of two."""
    results: dict[int, float] = {}
    for count in WORKER_ORDER:
        topic = f"bench.workers{count}.{uuid4().hex[:6]}"
        settings = settings_for(database(server_url, f"bench_workers{count}"), bootstrap, topic)
        platform = build_platform(settings, clock=lambda: at_noon(date(2026, 3, 2)))
        try:
            events = fill(platform, 100, 12)
            KafkaRelay(platform, KafkaSettings(bootstrap, topic)).run(once=True)
            workers = [
                spawn(
                    settings,
                    "worker",
                    "run",
                    "--group",
                    f"bench{count}",  # a fresh group: Tansu may keep a left group's state
                )
                for _ in range(count)
            ]

            def applied(p: Platform = platform) -> int:
                return int(p.read.all("SELECT COUNT(*) AS n FROM audit")[0]["n"])

            try:
                assert wait_for(lambda: applied() > 0, 120, every=0.01)
                start, first = time.perf_counter(), applied()
                assert wait_for(lambda e=events: applied() >= e, 300, every=0.01)
                took = time.perf_counter() - start
            finally:
                for w in workers:
                    end(w)
            results[count] = (events - first) / took
        finally:
            platform.close()
    ratio = results[2] / results[1]
    ok = ratio >= 1.5
    print(
        f"{'workers':10} one {results[1]:8.0f} events/s   two {results[2]:8.0f} events/s   "
        f"ratio {ratio:.2f}  " + ("ok" if ok else "BELOW TARGET 1.5")
    )
    return ok


def kafka_figures(server_url: str) -> list[bool]:
    port = free_port()
    broker = start_broker(port)
    try:
        bootstrap = f"127.0.0.1:{port}"
        chosen = os.environ.get("BENCH_KAFKA", "relay,latency,workers").split(",")
        figures = {"relay": relay_figure, "latency": latency_figure, "workers": workers_figure}
        return [figures[name](server_url, bootstrap) for name in chosen]
    finally:
        stop(broker)
