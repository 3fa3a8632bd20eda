"""Kafka workers: members of a consumer group that hand each office's messages to the very
``Runner`` of the embedded pump (dedupe by office and notification id; a poison event is
dead-lettered there; infrastructure failures restart the consumer uncommitted). May import:
kafka-python, ``eventsourcing.persistence``, ``projections.runner`` (the ``Runner``),
``services.errors``, ``services.metrics`` (its counters) and ``services.kafka``'s envelope and
settings.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from eventsourcing.persistence import Notification

from projections.runner import Runner
from services.errors import StoreUnavailableError
from services.kafka.envelope import EnvelopeError, decode
from services.kafka.settings import KafkaSettings, ensure_topic
from services.metrics import counters

log = logging.getLogger(__name__)

FETCH_MAX_WAIT_MS = 50


def committed(offsets: Any, response: Any) -> None:
    """An asynchronous commit's answer: a failure (a rebalance, say) only means that some
    messages may come again, and they are deduped."""
    if isinstance(response, Exception):
        log.info("worker: commit failed (%s); redelivered messages are deduped", response)


class Worker:
    """One member of a consumer group, applying what it receives through ``Runner.deliver``."""

    def __init__(
        self,
        runner: Runner,
        kafka: KafkaSettings,
        group: str,
        max_poll_interval_ms: int = 3000,
        fetch_max_wait_ms: int = FETCH_MAX_WAIT_MS,
        health_file: Path | None = None,
        applied_to: Callable[[str], None] | None = None,
    ) -> None:
        self.runner = runner
        self.applied_to = applied_to  # told each office whose events a batch applied
        self.kafka = kafka
        self.group = group
        self.max_poll_interval_ms = max_poll_interval_ms
        self.fetch_max_wait_ms = fetch_max_wait_ms
        self.health_file = health_file
        self._reported = 0.0
        self.stopped = threading.Event()
        self.applied = 0
        self.received = 0
        self.assignments = 0  # partition assignments received: more than one is a rebalance
        self.first_message_at: float | None = None

    def consumer(self) -> Any:
        from kafka import ConsumerRebalanceListener, KafkaConsumer

        worker = self

        class Counted(ConsumerRebalanceListener):  # type: ignore[misc]
            def on_partitions_revoked(self, revoked: Any) -> None:
                pass

            def on_partitions_assigned(self, assigned: Any) -> None:
                worker.assignments += 1

        ensure_topic(self.kafka)
        consumer = KafkaConsumer(
            bootstrap_servers=self.kafka.bootstrap,
            group_id=self.group,
            client_id=f"ducha-worker-{self.group}",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            # Tansu completes a group join only after max_poll_interval_ms (DESIGN §4)
            max_poll_interval_ms=self.max_poll_interval_ms,
            session_timeout_ms=max(6000, self.max_poll_interval_ms),
            heartbeat_interval_ms=500,
            max_poll_records=500,  # each poll's work stays well within max_poll_interval
            # how long the broker may hold a fetch with nothing new: Tansu answers late (with
            # kafka-python's default 500 ms, a county's event reached the root's roll-up in a
            # median 227 ms; with 50, 20–35 ms); 20 empty fetches a second cost little
            fetch_max_wait_ms=self.fetch_max_wait_ms,
        )
        consumer.subscribe([self.kafka.topic], listener=Counted())
        return consumer

    def handle(self, values: Iterable[bytes]) -> int:
        """Apply a polled batch: grouped by office, in order within each. A consumer that
        fails on an event is dead-lettered by the runner, which returns; messages of an
        office with no store here are logged and dropped (the store is the truth: there is
        nothing they could be applied from)."""
        by_office: dict[str, list[Notification]] = {}
        received_before = self.received
        for value in values:
            self.received += 1
            try:
                office, notification = decode(value)
            except EnvelopeError as e:
                log.error("worker: skipping a message that is not ours: %s", e)
                continue
            by_office.setdefault(office, []).append(notification)
        c = counters()
        c.worker_received.labels(self.group).inc(self.received - received_before)
        applied = 0
        for office, notifications in by_office.items():
            notifications.sort(key=lambda n: n.id)
            try:
                delivered = self.runner.deliver(office, notifications)
            except StoreUnavailableError as e:
                log.error("worker: dropping %d messages: %s", len(notifications), e)
                continue
            applied += delivered
            if delivered and self.applied_to is not None:
                self.applied_to(office)
        self.applied += applied
        c.worker_applied.labels(self.group).inc(applied)
        return applied

    def report(self, consumer: Any, every: float = 1.0) -> None:
        """Write the health file (at most once a ``every`` seconds): the partitions this
        member holds, what it received and applied, and when it last polled. A monitor (or a
        compose healthcheck) reads a stale ``polled_at`` as a stuck worker, and an empty
        ``partitions`` as a member waiting for its group; ``assignments`` above one means the
        group rebalanced while this member ran."""
        now = time.time()
        if self.health_file is None or now - self._reported < every:
            return
        self._reported = now
        health = {
            "group": self.group,
            "partitions": sorted(tp.partition for tp in consumer.assignment()),
            "received": self.received,
            "applied": self.applied,
            "assignments": self.assignments,
            "first_message_at": self.first_message_at,
            "polled_at": now,
        }
        written = self.health_file.with_name(self.health_file.name + ".new")
        try:
            written.write_text(json.dumps(health))
            written.replace(self.health_file)  # whole or not at all for a reader
        except OSError as e:  # the worker goes on; the monitor sees the file go stale
            log.warning("worker: cannot write the health file %s: %s", self.health_file, e)

    def run(self, until: Callable[[], bool] | None = None, max_backoff: float = 30.0) -> None:
        """Poll and apply until stopped. If applying fails for the infrastructure (the database
        went away, say), the consumer is closed without committing, and after a back-off a new
        one picks up from the last committed offsets: the messages come again and nothing is
        skipped. (A consumer's failure on an event is no such failure: ``Runner.deliver``
        dead-letters it and the offsets are committed.)"""
        backoff = 0.5
        while not self.stopped.is_set() and not (until and until()):
            consumer = None
            try:
                consumer = self.consumer()
                while not self.stopped.is_set() and not (until and until()):
                    polled = consumer.poll(timeout_ms=200)
                    counters().worker_polled.labels(self.group).set(time.time())
                    self.report(consumer)
                    if not polled:
                        continue
                    if self.first_message_at is None:
                        self.first_message_at = time.time()
                    self.handle(m.value for messages in polled.values() for m in messages)
                    backoff = 0.5
                    # after applying, without waiting for the broker: offsets are a hint (a
                    # message delivered again is deduped), and the next poll goes out at once
                    consumer.commit_async(callback=committed)
            except Exception as e:  # supervise: reconnect rather than die
                counters().worker_failures.labels(self.group).inc()
                log.warning("worker: %s; starting again in %.1fs", e, backoff)
                self.stopped.wait(backoff)
                backoff = min(backoff * 2, max_backoff)
            finally:
                if consumer is not None:
                    try:
                        consumer.close()
                    except Exception as e:  # closing a broken consumer
                        log.info("worker: closing the consumer: %s", e)
