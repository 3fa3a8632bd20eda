"""Kafka as transport between the offices' stores and the consumers (DESIGN §3).

* ``KafkaRelay`` (``ducha relay run``) reads every office's notification log from its
  checkpoint and publishes each event to one topic, key = office code (an office's events stay
  in order in one partition). The checkpoint moves only after the broker has acknowledged
  (``acks=all``, idempotent producer). On failure it stops, backs off and starts again from the
  checkpoint: it never skips. Offices registered meanwhile are picked up on the next pass.
* ``Worker`` (``ducha worker run --group NAME``) consumes the topic in a consumer group and
  hands each office's events to the very ``Runner`` the embedded pump uses, which dedupes by
  (office, notification id) and fills any gap from the office's store. A consumer that fails
  on an event is dead-lettered there (``ducha projections status``/``retry``) and the worker
  moves on; only a failure of the infrastructure brings the same messages back.

The store is the only truth: a message lost, duplicated or replayed changes nothing.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification

from projections.runner import Runner
from services.bootstrap import Platform
from services.errors import StoreUnavailableError
from services.views import plain

log = logging.getLogger(__name__)

ENVELOPE_VERSION = 1
DEFAULT_TOPIC = "ducha.events"
DEFAULT_BOOTSTRAP = "127.0.0.1:9092"
RELAY_CONSUMER = "kafka-relay"


# -- the envelope -------------------------------------------------------------------------
def envelope(office: str, notification: Notification, event: Any) -> dict[str, Any]:
    """Version 1 (documented in the README). ``payload`` is the event as stored."""
    return {
        "v": ENVELOPE_VERSION,
        "office": office,
        "notification_id": notification.id,
        "aggregate_id": str(notification.originator_id),
        "aggregate_version": notification.originator_version,
        "type": notification.topic,
        "time": event.timestamp.isoformat(),
        "actor": plain(event.actor) if hasattr(event, "actor") else None,
        "payload": json.loads(notification.state),
    }


def encode(message: dict[str, Any]) -> tuple[bytes, list[tuple[str, bytes]]]:
    value = json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode()
    headers = [
        ("office", message["office"].encode()),
        ("notification_id", str(message["notification_id"]).encode()),
        ("event_type", message["type"].encode()),
        ("envelope_version", str(message["v"]).encode()),
    ]
    return value, headers


class EnvelopeError(ValueError):
    """A message that is not a Ducha envelope of a version this code reads."""


def decode(value: bytes) -> tuple[str, Notification]:
    """(office, notification) from a message, exactly as the store holds it."""
    try:
        m = json.loads(value)
        if m.get("v") != ENVELOPE_VERSION:
            raise EnvelopeError(f"unsupported envelope version {m.get('v')!r}")
        return m["office"], Notification(
            id=int(m["notification_id"]),
            originator_id=UUID(m["aggregate_id"]),
            originator_version=int(m["aggregate_version"]),
            topic=m["type"],
            state=json.dumps(m["payload"], separators=(",", ":")).encode(),
        )
    except (KeyError, TypeError, ValueError) as e:
        if isinstance(e, EnvelopeError):
            raise
        raise EnvelopeError(f"not a Ducha envelope: {e}") from None


# -- the relay ----------------------------------------------------------------------------
@dataclass
class KafkaSettings:
    bootstrap: str = DEFAULT_BOOTSTRAP
    topic: str = DEFAULT_TOPIC
    partitions: int = 8


def ensure_topic(kafka: KafkaSettings) -> None:
    from kafka import KafkaAdminClient
    from kafka.admin import NewTopic
    from kafka.errors import TopicAlreadyExistsError

    admin = KafkaAdminClient(bootstrap_servers=kafka.bootstrap, client_id="ducha-admin")
    try:
        if kafka.topic not in admin.list_topics():
            admin.create_topics([NewTopic(kafka.topic, kafka.partitions, 1)])
    except TopicAlreadyExistsError:
        pass
    finally:
        admin.close()


class KafkaRelay:
    BATCH = 500

    def __init__(self, platform: Platform, kafka: KafkaSettings) -> None:
        self.platform = platform
        self.kafka = kafka
        self.stopped = threading.Event()
        self._producer: Any = None

    def producer(self) -> Any:
        if self._producer is None:
            from kafka import KafkaProducer

            ensure_topic(self.kafka)
            self._producer = KafkaProducer(
                bootstrap_servers=self.kafka.bootstrap,
                client_id="ducha-relay",
                acks="all",
                enable_idempotence=True,
                linger_ms=5,
                max_block_ms=10_000,
                request_timeout_ms=10_000,
                delivery_timeout_ms=30_000,
            )
        return self._producer

    def close(self) -> None:
        if self._producer is not None:
            try:
                self._producer.close(timeout=5)
            finally:
                self._producer = None

    def offices(self) -> list[str]:
        return [o.code for o in self.platform.registry.all()]  # refreshed: new offices too

    def pass_once(self) -> int:
        """Publish everything recorded since each office's checkpoint; returns how many.

        One look at every office's last id (one round trip per 500 offices on PostgreSQL)
        tells which offices moved; only those are read."""
        offices = self.offices()
        last = self.platform.backend.last_ids(offices)
        with self.platform.read.transaction() as tx:
            done = {
                r["office"]: int(r["position"])
                for r in tx.all(
                    "SELECT office, position FROM tracking WHERE consumer = ?", (RELAY_CONSUMER,)
                )
            }
        published = 0
        for office in offices:
            if last.get(office, 0) > done.get(office, 0):
                published += self.publish_office(office)
        return published

    def publish_office(self, office: str) -> int:
        store = self.platform.backend.store(office)
        read = self.platform.read
        published = 0
        while not self.stopped.is_set():
            with read.transaction() as tx:
                done = tx.position(RELAY_CONSUMER, office)
            batch = store.recorder.select_notifications(done + 1, self.BATCH)
            if not batch:
                break
            producer = self.producer()
            futures = []
            for n in batch:
                value, headers = encode(envelope(office, n, store.mapper.to_domain_event(n)))
                futures.append(
                    producer.send(
                        self.kafka.topic, key=office.encode(), value=value, headers=headers
                    )
                )
            producer.flush(timeout=30)
            for future in futures:
                future.get(timeout=30)  # raises if the broker did not acknowledge
            with read.transaction() as tx:  # only now: acknowledged
                tx.set_position(RELAY_CONSUMER, office, batch[-1].id)
            published += len(batch)
        return published

    def run(self, idle: float = 0.2, once: bool = False, max_backoff: float = 30.0) -> int:
        """Publish until stopped (or, ``once``, until nothing is left). Failures back off and
        retry from the checkpoints; nothing is skipped."""
        total, backoff = 0, 0.5
        while not self.stopped.is_set():
            try:
                published = self.pass_once()
                total += published
                backoff = 0.5
                if once and not published:
                    break
                if not published:
                    self.stopped.wait(idle)
            except Exception as e:
                log.warning("relay: %s; retrying from the checkpoints in %.1fs", e, backoff)
                self.close()
                if once and backoff >= max_backoff:
                    raise
                self.stopped.wait(backoff)
                backoff = min(backoff * 2, max_backoff)
        self.close()
        return total


# -- the worker ---------------------------------------------------------------------------
class Worker:
    """One member of a consumer group, applying what it receives through ``Runner.deliver``."""

    def __init__(
        self,
        runner: Runner,
        kafka: KafkaSettings,
        group: str,
        max_poll_interval_ms: int = 3000,
    ) -> None:
        self.runner = runner
        self.kafka = kafka
        self.group = group
        self.max_poll_interval_ms = max_poll_interval_ms
        self.stopped = threading.Event()
        self.applied = 0
        self.received = 0

    def consumer(self) -> Any:
        from kafka import KafkaConsumer

        ensure_topic(self.kafka)
        return KafkaConsumer(
            self.kafka.topic,
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
        )

    def handle(self, values: Iterable[bytes]) -> int:
        """Apply a polled batch: grouped by office, in order within each. A consumer that
        fails on an event is dead-lettered by the runner, which returns; messages of an
        office with no store here are logged and dropped (the store is the truth: there is
        nothing they could be applied from)."""
        by_office: dict[str, list[Notification]] = {}
        for value in values:
            self.received += 1
            try:
                office, notification = decode(value)
            except EnvelopeError as e:
                log.error("worker: skipping a message that is not ours: %s", e)
                continue
            by_office.setdefault(office, []).append(notification)
        applied = 0
        for office, notifications in by_office.items():
            notifications.sort(key=lambda n: n.id)
            try:
                applied += self.runner.deliver(office, notifications)
            except StoreUnavailableError as e:
                log.error("worker: dropping %d messages: %s", len(notifications), e)
        self.applied += applied
        return applied

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
                    if not polled:
                        continue
                    self.handle(m.value for messages in polled.values() for m in messages)
                    backoff = 0.5
                    try:
                        consumer.commit()  # after applying; a redelivery would change nothing
                    except Exception as e:  # e.g. a rebalance: offsets are a hint
                        log.info("worker: commit failed (%s); redelivered messages are deduped", e)
            except Exception as e:  # supervise: reconnect rather than die
                log.warning("worker: %s; starting again in %.1fs", e, backoff)
                self.stopped.wait(backoff)
                backoff = min(backoff * 2, max_backoff)
            finally:
                if consumer is not None:
                    try:
                        consumer.close()
                    except Exception as e:  # closing a broken consumer
                        log.info("worker: closing the consumer: %s", e)


def wait_for(check: Callable[[], bool], timeout: float, every: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(every)
    return check()
