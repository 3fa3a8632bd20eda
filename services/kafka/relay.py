"""Kafka as transport between the offices' stores and the consumers (DESIGN §3). May import:
kafka-python, ``services.bootstrap`` (the platform's stores and read store), ``services.stores``
(signals), ``services.metrics`` (its counters) and ``services.kafka``'s envelope and settings.

* ``KafkaRelay`` (``ducha relay run``) reads every office's notification log from its
  checkpoint and publishes each event to one topic, key = office code (an office's events stay
  in order in one partition). The checkpoint moves only after the broker has acknowledged
  (``acks=all``, idempotent producer). On failure it stops, backs off and starts again from the
  checkpoint: it never skips. Offices registered meanwhile are picked up on the next pass.
  On PostgreSQL it is told which offices commit (``LISTEN``, see ``services.stores.signals``)
  and reads only those; idle, it costs next to nothing.
* ``Worker`` (``ducha worker run --group NAME``) consumes the topic in a consumer group and
  hands each office's events to the very ``Runner`` the embedded pump uses, which dedupes by
  (office, notification id) and fills any gap from the office's store. A consumer that fails
  on an event is dead-lettered there (``ducha projections status``/``retry``) and the worker
  moves on; only a failure of the infrastructure brings the same messages back.

The store is the only truth: a message lost, duplicated or replayed changes nothing.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from services.bootstrap import Platform
from services.kafka.envelope import RELAY_CONSUMER, encode, envelope
from services.kafka.settings import KafkaSettings, ensure_topic
from services.metrics import counters
from services.stores import PLATFORM, Signals

log = logging.getLogger(__name__)

SAFETY_POLL_SECONDS = 10.0
"""With signals, how often the relay still looks at every office's head."""
TICK_SECONDS = 0.5


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
            counters().relay_published.inc(len(batch))
        return published

    def publish_named(self, offices: set[str]) -> int:
        """Publish what the offices signalled have recorded since their checkpoints."""
        return sum(self.publish_office(o) for o in sorted(offices) if o != PLATFORM)

    def run(
        self,
        idle: float = 0.2,
        once: bool = False,
        max_backoff: float = 30.0,
        safety_poll: float = SAFETY_POLL_SECONDS,
    ) -> int:
        """Publish until stopped (or, ``once``, until nothing is left). Failures back off and
        retry from the checkpoints; nothing is skipped.

        Where the stores signal their commits (PostgreSQL), the relay listens first, then
        publishes everything pending, then publishes each office as it is signalled, and looks
        at every office's head only every ``safety_poll`` seconds (for signals lost while
        its connection was down). Elsewhere it looks at every head every ``idle`` seconds."""
        if once:
            return self._run_once(max_backoff)
        total, backoff = 0, 0.5
        while not self.stopped.is_set():
            signals = None
            try:
                signals = self.platform.backend.signals()
                total += self.pass_once()
                backoff = 0.5
                total += self._follow(signals, idle, safety_poll)
            except Exception as e:
                counters().relay_failures.inc()
                log.warning("relay: %s; retrying from the checkpoints in %.1fs", e, backoff)
                self.close()
                self.stopped.wait(backoff)
                backoff = min(backoff * 2, max_backoff)
            finally:
                if signals is not None:
                    signals.close()
        self.close()
        return total

    def _follow(self, signals: Signals, idle: float, safety_poll: float) -> int:
        total, last_look = 0, time.monotonic()
        every = safety_poll if signals.pushes else idle
        while not self.stopped.is_set():
            named = signals.wait(min(TICK_SECONDS, every))
            if named:
                total += self.publish_named(named)
            if time.monotonic() - last_look >= every:
                total += self.pass_once()
                last_look = time.monotonic()
        return total

    def _run_once(self, max_backoff: float) -> int:
        total, backoff = 0, 0.5
        while not self.stopped.is_set():
            try:
                published = self.pass_once()
                total += published
                backoff = 0.5
                if not published:
                    break
            except Exception as e:
                counters().relay_failures.inc()
                log.warning("relay: %s; retrying from the checkpoints in %.1fs", e, backoff)
                self.close()
                if backoff >= max_backoff:
                    raise
                self.stopped.wait(backoff)
                backoff = min(backoff * 2, max_backoff)
        self.close()
        return total


# -- the worker ---------------------------------------------------------------------------
