"""The relay is told which offices commit (issue 15 §2): on PostgreSQL it publishes an office's
new events on its signal, and looks at every office's head only on its slow safety poll. A
worker says how it is doing in its health file, and checkpoints the ledger of what it applied."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from services.bootstrap import Platform, Settings, build_platform
from services.kafka import KafkaRelay, wait_for
from services.kafka.envelope import RELAY_CONSUMER
from services.kafka.worker import Worker
from tests.backends.test_heads_and_signals import record
from tests.conftest import FixedClock
from tests.kafka.test_bus import kafka_of
from tests.scenario import build_hierarchy


def published(p: Platform, office: str) -> int:
    with p.read.transaction() as tx:
        return tx.position(RELAY_CONSUMER, office)


def test_an_office_that_commits_is_published_on_its_signal_alone(
    kafka_platform: Platform, kafka_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = kafka_platform
    build_hierarchy(p)
    record(p, "sichuan")
    looks: list[int] = []
    every_head = p.backend.last_ids

    def counted(tenants: list[str]) -> Any:
        looks.append(len(tenants))
        return every_head(tenants)

    monkeypatch.setattr(p.backend, "last_ids", counted)
    relay = KafkaRelay(p, kafka_of(kafka_settings))
    thread = threading.Thread(target=relay.run, kwargs={"safety_poll": 3600}, daemon=True)
    thread.start()
    try:
        assert wait_for(lambda: published(p, "sichuan") == 1, 30)  # the first look: pending
        assert looks == [5]
        for n in range(1, 4):
            record(p, "gansu")
            assert wait_for(lambda n=n: published(p, "gansu") == n, 10)
        assert looks == [5]  # told by the signals, never by looking at every office
    finally:
        relay.stopped.set()
        thread.join(timeout=30)
    assert not thread.is_alive()


def test_a_workers_health_file_shows_its_partitions_and_what_it_applied(
    kafka_platform: Platform, kafka_settings: Settings, tmp_path: Path
) -> None:
    p = kafka_platform
    build_hierarchy(p)
    record(p, "gansu", 2)
    KafkaRelay(p, kafka_of(kafka_settings)).run(once=True)
    health = tmp_path / "worker.json"
    worker = Worker(p.runner, kafka_of(kafka_settings), "health", 1000, health_file=health)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()

    def seen() -> dict[str, Any]:
        try:
            return dict(json.loads(health.read_text()))
        except (OSError, ValueError):
            return {}

    try:
        assert wait_for(lambda: seen().get("applied", 0) >= 2, 60)
        shown = seen()
        assert shown["group"] == "health" and shown["partitions"] == [0, 1, 2, 3]
        assert shown["received"] >= shown["applied"] and time.time() - shown["polled_at"] < 5
        assert shown["assignments"] == 1  # one member alone: assigned once, no rebalance
        assert shown["first_message_at"] <= shown["polled_at"]
    finally:
        worker.stopped.set()
        thread.join(timeout=30)


def test_a_worker_checkpoints_the_ledger_of_the_offices_it_applies(
    kafka_settings: Settings, tmp_path: Path
) -> None:
    settings = replace(kafka_settings, data_dir=tmp_path / "var", checkpoint_every=2)
    p = build_platform(settings, clock=FixedClock())
    try:
        build_hierarchy(p)
        record(p, "gansu", 3)
        assert p.ledger.checkpoints.latest("gansu") is None  # nobody applied the log yet
        KafkaRelay(p, kafka_of(settings)).run(once=True)
        checkpoints = p.ledger.checkpoints
        hook = checkpoints.maybe_checkpoint
        worker = Worker(p.runner, kafka_of(settings), "ledger", 1000, applied_to=hook)
        thread = threading.Thread(target=worker.run, daemon=True)
        thread.start()
        try:
            assert wait_for(lambda: checkpoints.latest("gansu") is not None, 60)
        finally:
            worker.stopped.set()
            thread.join(timeout=30)
        note = checkpoints.latest("gansu")
        assert note is not None
        origin, size = note.decode().splitlines()[:2]
        assert origin == "ducha/gansu" and int(size) >= 2
        assert "— ducha-witness/state-council " in note.decode()  # its superior cosigned
    finally:
        p.close()
