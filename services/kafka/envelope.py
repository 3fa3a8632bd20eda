"""The message every event travels in (version 1): office, notification id, type, time, actor and
the event as stored, UTF-8 JSON, with headers; ``decode`` refuses another version. May import: the
standard library, ``eventsourcing.persistence`` and ``services.views`` (China time for the
envelope's ``time``).
"""

from __future__ import annotations

import json
import logging
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification

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
            # the bytes the store holds: the library's own encoding (compact, UTF-8 as it is),
            # so that a ledger leaf's hash of the stored body is the same through Kafka
            state=json.dumps(m["payload"], separators=(",", ":"), ensure_ascii=False).encode(),
        )
    except (KeyError, TypeError, ValueError) as e:
        if isinstance(e, EnvelopeError):
            raise
        raise EnvelopeError(f"not a Ducha envelope: {e}") from None


# -- the relay ----------------------------------------------------------------------------
