"""The relay's and a worker's counters, scraped from their ``--metrics-port`` as Prometheus would,
over a real broker; and a relay that cannot reach its broker counts its failures."""

from __future__ import annotations

import json
import signal
import time
import urllib.error
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from services.bootstrap import Platform, Settings
from services.kafka import KafkaRelay, KafkaSettings, wait_for
from services.kafka.broker import free_port
from services.metrics import exposition
from tests.kafka.test_bus import settled
from tests.kafka.test_crash import spawn, workload

Series = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(port: int) -> Series | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
            text = answer.read().decode()
    except (urllib.error.URLError, ConnectionError):
        return None
    return parsed(text)


def parsed(text: str) -> Series:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_the_relay_and_a_worker_count_what_they_published_and_applied(
    kafka_platform: Platform, kafka_settings: Settings
) -> None:
    p = kafka_platform
    events = workload(p, 5)
    started = time.time()
    relay_port, worker_port = free_port(), free_port()
    relay = spawn(kafka_settings, "relay", "run", "--metrics-port", str(relay_port))
    worker = spawn(
        kafka_settings,
        *("worker", "run", "--group", "metrics", "--max-poll-interval-ms", "1000"),
        *("--metrics-port", str(worker_port)),
    )
    try:
        assert settled(p), "the read side never caught up"
        total = sum(
            p.backend.store(o.code).recorder.max_notification_id() or 0 for o in p.registry.all()
        )
        assert total >= events  # and the tasks the process manager received
        published = "ducha_relay_published_events_total", frozenset()
        assert wait_for(lambda: (scrape(relay_port) or {}).get(published) == total, 30)
        seen = scrape(relay_port)
        assert seen is not None and seen[("ducha_relay_failures_total", frozenset())] == 0
        assert seen[("process_resident_memory_bytes", frozenset())] > 0
        group = frozenset({("group", "metrics")})
        got = scrape(worker_port)
        assert got is not None
        received = got[("ducha_worker_received_messages_total", group)]
        applied = got[("ducha_worker_applied_events_total", group)]
        assert received >= total  # each message at least once (a rebalance may redeliver)
        assert 0 < applied <= total  # the rest its follower applied from the stores
        assert got[("ducha_worker_last_poll_timestamp_seconds", group)] >= started
    finally:
        for process in (relay, worker):
            process.send_signal(signal.SIGTERM)
    for process in (relay, worker):
        process.wait(timeout=30)
        err = process.stderr.read().decode() if process.stderr else ""
        assert process.returncode == 0, err
        lines = [json.loads(line) for line in err.splitlines()]  # JSON lines, every one
        assert any(line["message"].startswith("metrics on http://") for line in lines)


def test_a_relay_that_cannot_reach_its_broker_counts_each_failure(
    kafka_platform: Platform, kafka_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    workload(kafka_platform, 1)
    nowhere = KafkaSettings(f"127.0.0.1:{free_port()}", kafka_settings.kafka_topic)
    relay = KafkaRelay(kafka_platform, nowhere)

    def unreachable() -> None:
        raise ConnectionError("no broker at " + nowhere.bootstrap)

    monkeypatch.setattr(relay, "producer", unreachable)  # no client's minutes of retrying
    before = failures()
    with pytest.raises(ConnectionError):
        relay.run(once=True, max_backoff=1.0)  # 0.5 s, then 1 s: gives up on the second
    assert failures() - before == 2


def failures() -> float:
    """This process's ``ducha_relay_failures_total``, as a scrape shows it."""
    series = parsed(exposition().decode())
    return series[("ducha_relay_failures_total", frozenset())]
