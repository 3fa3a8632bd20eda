"""How a consumer's failure is told apart and kept: which errors are the infrastructure's (never
dead-lettered; some worth trying again at once), the ``Failure`` on an event that becomes a
dead letter, a rebuild's ``Unprepared`` batch, and where each consumer stands
(``ConsumerStatus``, as ``ducha projections status`` and ``GET /api/v1/admin/consumers`` show
it). May import: the standard library, psycopg's and ``eventsourcing``'s error classes,
``projections.readstore`` (``DeadLetter``) and ``services.errors`` (``ConflictError``).
"""

from __future__ import annotations

import sqlite3
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple
from uuid import UUID

import psycopg
from eventsourcing.persistence import InterfaceError as StoreInterfaceError
from eventsourcing.persistence import OperationalError as StoreOperationalError
from eventsourcing.utils import get_topic

from projections.readstore import DeadLetter
from services.errors import ConflictError

INFRASTRUCTURE: tuple[type[Exception], ...] = (
    sqlite3.OperationalError,  # locked, busy, disk I/O (also a missing table: a deployment's)
    psycopg.OperationalError,  # connection lost, pool timeout, lock timeout, deadlock
    StoreOperationalError,
    StoreInterfaceError,
    ConnectionError,
    TimeoutError,
    MemoryError,
    ConflictError,  # a process manager's effect kept conflicting: it is tried again later
)
"""Failures that are not an event's fault: never dead-lettered."""
AT_ONCE = (psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure)
"""Failures that trying again at once resolves."""


def infrastructure(error: BaseException) -> bool:
    return isinstance(error, INFRASTRUCTURE)


class Failure(NamedTuple):
    """The event a consumer failed on, and the error."""

    position: int
    topic: str
    originator_id: UUID | str
    originator_version: int
    error: Exception

    @classmethod
    def on(cls, position: int, event: Any, error: Exception) -> Failure:
        topic = get_topic(type(event))
        return cls(position, topic, event.originator_id, event.originator_version, error)

    def letter(self, office: str, consumer: str) -> DeadLetter:
        now = datetime.now(UTC).isoformat()
        return DeadLetter(
            office,
            consumer,
            self.position,
            self.topic,
            str(self.originator_id),
            self.originator_version,
            type(self.error).__name__,
            str(self.error)[:2000],
            now,
            now,
            1,
        )


class Unprepared(NamedTuple):
    """A projection's ``prepare`` failed on a rebuild batch: it is applied afresh, event by
    event, in the writer's transaction, to find the event it fails on."""

    error: Exception


@dataclass(frozen=True)
class ConsumerStatus:
    """Where one consumer stands in one office."""

    office: str
    consumer: str
    kind: str  # "projection", "process-manager", or "publisher" (the Kafka relay)
    position: int
    last: int | None  # the office's last notification id (None: its log cannot be read)
    dead_letter: DeadLetter | None = None

    @property
    def lag(self) -> int | None:
        return None if self.last is None else max(0, self.last - self.position)

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape (``GET /api/v1/admin/consumers``, ``--json``)."""
        letter = asdict(self.dead_letter) if self.dead_letter else None
        if letter:
            del letter["office"], letter["consumer"]
        return {
            "office": self.office,
            "consumer": self.consumer,
            "kind": self.kind,
            "position": self.position,
            "last": self.last,
            "lag": self.lag,
            "dead_letter": letter,
        }
