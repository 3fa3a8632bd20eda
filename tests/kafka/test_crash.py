"""kill -9 a worker in the middle of its work, and the relay in the middle of publishing:
after a restart nothing is lost, nothing counted twice, and projections equal a rebuild."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from domain.assignment import Assignee
from services.bootstrap import Platform, Settings, build_platform
from services.kafka import RELAY_CONSUMER, KafkaRelay, wait_for
from tests.kafka.test_bus import kafka_of, running, settled
from tests.projections.test_golden_rebuild import dump
from tests.scenario import build_hierarchy, new_item, person

DUCHA = str(Path(sys.executable).parent / "ducha")


def env_for(settings: Settings) -> dict[str, str]:
    return {
        **os.environ,
        "DUCHA_DATABASE_URL": settings.database_url or "",
        "DUCHA_BUS": "kafka",
        "DUCHA_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "DUCHA_KAFKA_TOPIC": settings.kafka_topic,
        "DUCHA_CLOCK": "2026-03-02",
    }


def workload(p: Platform, items: int) -> int:
    """Items in three offices, some assigned down (process-manager work); returns events."""
    build_hierarchy(p)
    s = p.supervision
    for office in ("state-council", "gansu", "sichuan"):
        for n in range(items):
            item = s.register_item(person(office, "supervisor"), office, new_item(f"事项{n}"))
            s.act(person(office), office, item.id, "acknowledge")
            if office == "state-council" and n % 5 == 0:
                s.act(
                    person(office, "supervisor"),
                    office,
                    item.id,
                    "assign",
                    assignees=[Assignee("office", "gansu", "lead")],
                )
            else:
                s.act(
                    person(office), office, item.id, "report-progress", text="进展", percent=n % 100
                )
    return sum(
        p.backend.store(o.code).recorder.max_notification_id() or 0 for o in p.registry.all()
    )


def applied(p: Platform) -> int:
    return int(p.read.all("SELECT COUNT(*) AS n FROM audit")[0]["n"])


@contextmanager
def relay_thread(settings: Settings) -> Iterator[None]:
    rp = build_platform(settings)
    relay = KafkaRelay(rp, kafka_of(settings))
    thread = threading.Thread(target=relay.run, kwargs={"idle": 0.05}, daemon=True)
    thread.start()
    try:
        yield
    finally:
        relay.stopped.set()
        thread.join(timeout=30)
        rp.close()


def spawn(settings: Settings, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [DUCHA, *args], env=env_for(settings), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


def assert_equals_rebuild(p: Platform, events: int) -> None:
    assert settled(p)
    incremental = dump(p)
    total = sum(
        p.backend.store(o.code).recorder.max_notification_id() or 0 for o in p.registry.all()
    )
    assert total >= events
    assert len(incremental["audit"]) == total  # nothing lost, nothing counted twice
    p.runner.rebuild()
    assert dump(p) == incremental


def test_a_worker_killed_mid_batch_loses_nothing_and_counts_nothing_twice(
    kafka_platform: Platform, kafka_settings: Settings
) -> None:
    p = kafka_platform
    events = workload(p, 120)
    with relay_thread(kafka_settings):
        worker = spawn(
            kafka_settings, "worker", "run", "--group", "crash", "--max-poll-interval-ms", "1000"
        )
        try:
            assert wait_for(lambda: applied(p) > 0, 60, every=0.005), "the worker applied nothing"
            worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=10)
        finally:
            if worker.poll() is None:
                worker.kill()
        partial = applied(p)
        assert 0 < partial < events, "killed after some, before all"
        worker = spawn(
            kafka_settings, "worker", "run", "--group", "crash", "--max-poll-interval-ms", "1000"
        )
        try:
            assert_equals_rebuild(p, events)
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=30)
    assert worker.returncode == 0, worker.stderr.read() if worker.stderr else ""


def test_a_relay_killed_mid_publish_resumes_from_its_checkpoints(
    kafka_platform: Platform, kafka_settings: Settings
) -> None:
    p = kafka_platform
    events = workload(p, 120)

    def published() -> int:
        return int(
            p.read.all(
                "SELECT COALESCE(SUM(position), 0) AS n FROM tracking WHERE consumer = ?",
                (RELAY_CONSUMER,),
            )[0]["n"]
        )

    relay = spawn(kafka_settings, "relay", "run")
    try:
        assert wait_for(lambda: published() > 0, 60, every=0.005)
        relay.send_signal(signal.SIGKILL)
        relay.wait(timeout=10)
    finally:
        if relay.poll() is None:
            relay.kill()
    assert published() < events, "killed before it published everything"
    with running(kafka_settings, relay=False):
        relay = spawn(kafka_settings, "relay", "run")
        try:
            assert_equals_rebuild(p, events)
        finally:
            relay.send_signal(signal.SIGTERM)
            relay.wait(timeout=30)
    assert relay.returncode == 0
