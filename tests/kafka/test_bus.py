"""Kafka between stores and consumers: envelope, gap-proof delivery, end to end (real broker,
real PostgreSQL)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from kafka import KafkaProducer

from domain.assignment import Assignee
from services.bootstrap import Platform, Settings, build_platform
from services.kafka import (
    EnvelopeError,
    KafkaRelay,
    KafkaSettings,
    Worker,
    decode,
    encode,
    envelope,
    wait_for,
)
from tests.conftest import FixedClock
from tests.projections.test_golden_rebuild import dump
from tests.scenario import build_hierarchy, new_item, person


def kafka_of(settings: Settings) -> KafkaSettings:
    return KafkaSettings(settings.kafka_bootstrap, settings.kafka_topic, partitions=4)


def some_work(p: Platform, office: str = "state-council", items: int = 3) -> None:
    for n in range(items):
        item = p.supervision.register_item(
            person(office, "supervisor"), office, new_item(f"事项{n}")
        )
        p.supervision.act(person(office), office, item.id, "acknowledge")
        p.supervision.act(
            person(office), office, item.id, "report-progress", text="进展", percent=n
        )


def test_an_envelope_round_trips_and_strangers_are_refused(tmp_path: Path) -> None:
    p = build_platform(Settings(data_dir=tmp_path, bus="kafka"), clock=FixedClock())
    try:
        build_hierarchy(p)
        some_work(p, items=1)
        store = p.backend.store("state-council")
        n = store.recorder.select_notifications(1, 10)[1]
        message = envelope("state-council", n, store.mapper.to_domain_event(n))
        assert message["v"] == 1 and message["type"].endswith("Acknowledged")
        assert message["actor"] == {
            "user_id": "state-council-clerk",
            "office": "state-council",
            "role": "clerk",
            "channel": "",  # the scenario's people act through the services directly
            "os_user": "",
        }
        value, headers = encode(message)
        assert dict(headers)["office"] == b"state-council"
        office, back = decode(value)
        assert office == "state-council"
        assert store.mapper.to_domain_event(back) == store.mapper.to_domain_event(n)
        for stored in store.recorder.select_notifications(1, 10):  # Chinese text and all
            value, _ = encode(
                envelope("state-council", stored, store.mapper.to_domain_event(stored))
            )
            assert decode(value)[1].state == stored.state  # byte for byte: the ledger hashes it
        for bad in (b"not json", b'{"v": 2}', b'{"v": 1, "office": "x"}'):
            with pytest.raises(EnvelopeError):
                decode(bad)
    finally:
        p.close()


def test_deliver_dedupes_and_fills_gaps_from_the_store(tmp_path: Path) -> None:
    """Without a broker: the runner's delivery path under loss, duplication and replay."""
    p = build_platform(Settings(data_dir=tmp_path, bus="kafka"), clock=FixedClock())
    try:
        build_hierarchy(p)
        some_work(p, items=4)  # 12 events in the State Council's store
        notes = list(p.backend.store("state-council").recorder.select_notifications(1, 100))
        assert len(notes) == 12
        deliver = p.runner.deliver
        assert deliver("state-council", notes[0:3]) == 3
        assert deliver("state-council", notes[1:3]) == 0  # duplicates: nothing
        assert deliver("state-council", notes[6:8]) == 12 - 3  # a gap: 4..12 read from the store
        assert deliver("state-council", notes) == 0  # a replay of everything: nothing
        incremental = dump(p)
        assert len(incremental["audit"]) == 12
        p.runner.rebuild()
        assert dump(p) == incremental
    finally:
        p.close()


@contextmanager
def running(settings: Settings, relay: bool = True, workers: int = 1) -> Iterator[list[Worker]]:
    """A relay and workers in threads, each with its own platform (as separate processes
    would have), over the same PostgreSQL and broker."""
    platforms: list[Platform] = []
    stoppers: list[threading.Event] = []
    threads: list[threading.Thread] = []
    started: list[Worker] = []
    try:
        if relay:
            rp = build_platform(settings)
            platforms.append(rp)
            r = KafkaRelay(rp, kafka_of(settings))
            stoppers.append(r.stopped)
            threads.append(threading.Thread(target=r.run, kwargs={"idle": 0.05}, daemon=True))
        for _ in range(workers):
            wp = build_platform(settings)
            wp.supervision.listeners.clear()
            platforms.append(wp)
            w = Worker(wp.runner, kafka_of(settings), "ducha-test", max_poll_interval_ms=1000)
            started.append(w)
            stoppers.append(w.stopped)
            threads.append(threading.Thread(target=w.run, daemon=True))
        for t in threads:
            t.start()
        yield started
    finally:
        for s in stoppers:
            s.set()
        for t in threads:
            t.join(timeout=30)
        for p in platforms:
            p.close()


def caught_up(p: Platform) -> bool:
    """Every consumer has applied every office's last event (stores and read side agree), and
    none is stopped at a dead letter."""
    return all(
        c.lag == 0 and c.dead_letter is None
        for c in p.runner.status()
        if c.kind != "publisher"  # the relay's own checkpoint is not the read side's
    )


def settled(p: Platform, timeout: float = 60) -> bool:
    """Caught up, and still so a moment later (process managers' effects flow on)."""
    return wait_for(lambda: caught_up(p) and not wait_for(lambda: not caught_up(p), 1.0), timeout)


def task_of(p: Platform, office: str) -> str | None:
    rows = p.read.all("SELECT id FROM items WHERE office = ? AND kind = 'task'", (office,))
    return rows[0]["id"] if rows else None


def test_a_county_report_reaches_the_state_councils_rollup_through_kafka(
    kafka_platform: Platform, kafka_settings: Settings
) -> None:
    p = kafka_platform
    build_hierarchy(p)
    s = p.supervision
    with running(kafka_settings):
        item = s.register_item(person("state-council", "supervisor"), "state-council", new_item())
        record = ("state-council", item.id)
        for child in ("gansu", "baiyin", "pingchuan"):
            office, record_id = record
            if office != "state-council":
                s.act(person(office), office, record_id, "acknowledge")
            s.act(
                person(office, "supervisor"),
                office,
                record_id,
                "assign",
                assignees=[Assignee("office", child, "lead")],
            )
            assert wait_for(lambda c=child: task_of(p, c) is not None, 60), f"no task in {child}"
            record = (child, task_of(p, child))
        county_task = record[1]
        assert county_task is not None
        s.act(person("pingchuan"), "pingchuan", county_task, "acknowledge")
        s.act(person("pingchuan"), "pingchuan", county_task, "report-completion", text="已办结")

        def reached() -> bool:
            statuses = p.views.rollup("state-council")["records"]["by_status"]
            return statuses.get("completion_reported", 0) >= 1

        assert wait_for(reached, 60), p.views.rollup("state-council")
        # and up the chain: baiyin's task received the county's report
        baiyin = s.get("baiyin", task_of(p, "baiyin") or "")
        assert wait_for(lambda: "pingchuan" in s.get("baiyin", baiyin.id).received_reports, 30)
        assert settled(p)
    incremental = dump(p)
    p.runner.rebuild()
    assert dump(p) == incremental


def test_lost_and_duplicated_messages_still_equal_a_full_rebuild(
    kafka_platform: Platform, kafka_settings: Settings
) -> None:
    p = kafka_platform
    build_hierarchy(p)
    some_work(p, items=5)  # 15 events, published by hand below, not by the relay
    store = p.backend.store("state-council")
    notes = list(store.recorder.select_notifications(1, 100))
    producer = KafkaProducer(bootstrap_servers=kafka_settings.kafka_bootstrap, acks="all")
    from services.kafka import ensure_topic

    ensure_topic(kafka_of(kafka_settings))

    def publish(selection: list) -> None:
        for n in selection:
            value, headers = encode(envelope("state-council", n, store.mapper.to_domain_event(n)))
            producer.send(
                kafka_settings.kafka_topic, key=b"state-council", value=value, headers=headers
            )
        producer.flush()

    with running(kafka_settings, relay=False) as (worker,):
        publish(notes[4:9])  # a gap: 1–4 never published
        publish(notes[2:12])  # a replayed range, overlapping
        publish(notes[14:15])  # another gap: 13–14 lost
        assert wait_for(lambda: len(p.read.all("SELECT 1 FROM audit")) == 15, 60)
        assert wait_for(lambda: worker.received == 16, 30)
    producer.close()
    incremental = dump(p)
    assert len(incremental["audit"]) == 15
    p.runner.rebuild()
    assert dump(p) == incremental


def test_an_office_registered_while_the_relay_runs_is_picked_up(
    kafka_platform: Platform, kafka_settings: Settings
) -> None:
    p = kafka_platform
    build_hierarchy(p)
    with running(kafka_settings):
        from tests.scenario import ADMIN

        p.registry.register(ADMIN, "lanzhou", "兰州市人民政府办公室", "prefecture", "gansu")
        some_work(p, "lanzhou", items=2)
        assert wait_for(lambda: p.views.rollup("lanzhou")["records"]["total"] == 2, 60)
        assert settled(p)
    assert p.views.rollup("gansu")["records"]["total"] == 2  # counted up the hierarchy too


def test_a_worker_that_fails_to_apply_starts_again_and_skips_nothing(
    kafka_platform: Platform, kafka_settings: Settings
) -> None:
    p = kafka_platform
    build_hierarchy(p)
    some_work(p, items=3)
    KafkaRelay(p, kafka_of(kafka_settings)).run(once=True)
    wp = build_platform(kafka_settings)
    failures = []
    real = wp.runner.deliver

    def flaky(office: str, notifications: list) -> int:
        if not failures:
            failures.append(office)
            raise ConnectionError("the database went away")
        return real(office, notifications)

    wp.runner.deliver = flaky  # type: ignore[method-assign]
    worker = Worker(wp.runner, kafka_of(kafka_settings), "flaky", max_poll_interval_ms=1000)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        assert wait_for(lambda: len(p.read.all("SELECT 1 FROM audit")) == 9, 90)
        assert failures == ["state-council"]
    finally:
        worker.stopped.set()
        thread.join(timeout=30)
        wp.close()
    incremental = dump(p)
    p.runner.rebuild()
    assert dump(p) == incremental


def test_a_poison_event_is_dead_lettered_and_the_worker_moves_on(
    kafka_platform: Platform, kafka_settings: Settings
) -> None:
    """A consumer that cannot apply one event used to bring the same messages back forever
    (the worker dropped its consumer uncommitted and started again): now the event is a dead
    letter for that consumer and office, and everything else flows."""
    from tests.projections.test_dead_letters import POISON, Poisoned, install

    p = kafka_platform
    build_hierarchy(p)
    some_work(p, "gansu", items=1)
    p.supervision.register_item(person("gansu"), "gansu", new_item(f"{POISON}事项"))
    some_work(p, "gansu", items=1)
    some_work(p, "sichuan", items=2)
    KafkaRelay(p, kafka_of(kafka_settings)).run(once=True)
    wp = build_platform(kafka_settings)
    poisoned = Poisoned()
    install(wp, poisoned)
    worker = Worker(wp.runner, kafka_of(kafka_settings), "poison", max_poll_interval_ms=1000)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()

    def settled_around_the_poison() -> bool:
        for c in wp.runner.status():
            if (c.office, c.consumer) == ("gansu", "poisoned"):
                if c.dead_letter is None:
                    return False
            elif c.kind != "publisher" and c.lag:
                return False
        return True

    try:
        assert wait_for(lambda: worker.received == 13 and settled_around_the_poison(), 90)
        stopped = {c.consumer: c for c in wp.runner.status("gansu")}["poisoned"]
        letter = stopped.dead_letter
        assert letter is not None and letter.originator_version == 1
        assert stopped.position == letter.position - 1 and letter.attempts == 1
        batches = poisoned.batches
        assert not wait_for(lambda: worker.received > 13, 3)  # nothing comes back
        assert poisoned.batches == batches
    finally:
        worker.stopped.set()
        thread.join(timeout=30)
        wp.close()
