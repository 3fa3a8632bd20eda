"""Kafka figures, on a real broker (Tansu) and embedded PostgreSQL.

* relay throughput: events published by ``KafkaRelay`` (read from the stores, enveloped,
  acknowledged, checkpointed) vs a bare kafka-python producer sending as many messages of the
  same size to the same broker with the same settings (acks=all, idempotent). Target ≥ 0.5.

The end-to-end latency and two workers vs one are figures of the scale section
(``tests/bench/scale.py``, ``tests/bench/workers.py``); the helpers they share are here.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from uuid import uuid4

import psycopg
from kafka import KafkaProducer

from domain.values import Actor
from services.bootstrap import Platform, Settings, build_platform
from services.clock import at_noon
from services.kafka import KafkaRelay, KafkaSettings, ensure_topic
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


def task_ids(p: Platform, office: str) -> list[str]:
    store = p.backend.store(office)
    return [
        str(n.originator_id)
        for n in store.recorder.select_notifications(1, 10)
        if n.originator_version == 1
    ]


def kafka_figures(server_url: str) -> list[bool]:
    port = free_port()
    broker = start_broker(port)
    try:
        bootstrap = f"127.0.0.1:{port}"
        return [relay_figure(server_url, bootstrap)]
    finally:
        stop(broker)
