"""Ledger leaves: the envelope one stored event becomes, and the hole a missing notification id
becomes. May import: the standard library and ``services.tlog`` modules.

Leaf *i* of an office's log is its notification *i + 1*. Its data is the RFC 8785 canonical JSON
of an envelope (version ``v`` 1):

===========  ==========================================================================
``v``        1, the envelope format
``kind``     ``"event"`` (or ``"hole"``, below)
``office``   the office's code (the log's tenant)
``id``       the notification id (leaf index + 1)
``topic``    the event's topic as stored (``module:Class``)
``aggregate`` the aggregate id (a UUID string) and ``version``, its version after the event
``at``       the event's timestamp, UTC, ``YYYY-MM-DDTHH:MM:SS.ffffffZ``
``role``     the acting person's role (never the person: names are personal data)
``body``     lowercase hex SHA-256 of the stored event body exactly as stored (the bytes the
             store holds, so the tamper drill can recompute it without decoding)
``personal`` ``{field: hex HMAC-SHA256(key, field ‖ 0x00 ‖ value)}`` for each personal field
             the caller extracted (responsible person, phone…), each under the key of the
             person it names; absent when there are none
===========  ==========================================================================

A commitment reveals nothing without its subject's key, and proves the value to whoever holds
both; erasing the key later (crypto-shredding) leaves the leaf, and every proof, unchanged.
PostgreSQL leaves holes in notification ids after a failed insert; such an id becomes the
fixed leaf ``{"id": n, "kind": "hole", "office": o, "v": 1}``, so indices stay deterministic and
a later insert of that id cannot go unnoticed (the leaf says it was a hole).
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from services.tlog.canonical import Json, canonical

VERSION: Final = 1
MAX_LEAF_BYTES: Final = 0xFFFF  # an entry bundle's length prefix


@dataclass(frozen=True)
class Personal:
    """One personal field of an event, and the key of the person it names (≥ 16 bytes)."""

    field: str
    value: str
    key: bytes


@dataclass(frozen=True)
class StoredEvent:
    """What the envelope takes from one stored event (the caller reads it from the store)."""

    office: str
    notification_id: int
    topic: str
    aggregate_id: uuid.UUID
    aggregate_version: int
    timestamp: datetime
    actor_role: str
    body: bytes


def commitment(item: Personal) -> str:
    """The hex HMAC-SHA256 commitment to one personal field under its subject's key."""
    if len(item.key) < 16:
        raise ValueError(f"the key for {item.field!r} must be at least 16 bytes")
    if "\x00" in item.field:
        raise ValueError(f"a personal field's name cannot hold NUL: {item.field!r}")
    message = item.field.encode() + b"\x00" + item.value.encode()
    return hmac.new(item.key, message, hashlib.sha256).hexdigest()


def event_leaf(event: StoredEvent, personal: Sequence[Personal] = ()) -> bytes:
    """The leaf data for one stored event."""
    if event.notification_id < 1:
        raise ValueError(f"notification ids start at 1, not {event.notification_id}")
    if event.timestamp.utcoffset() is None:
        raise ValueError("the event's timestamp must carry its time zone")
    fields = [item.field for item in personal]
    if len(set(fields)) != len(fields):
        raise ValueError(f"personal fields repeat: {fields}")
    envelope: dict[str, Json] = {
        "v": VERSION,
        "kind": "event",
        "office": event.office,
        "id": event.notification_id,
        "topic": event.topic,
        "aggregate": str(event.aggregate_id),
        "version": event.aggregate_version,
        "at": event.timestamp.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "role": event.actor_role,
        "body": hashlib.sha256(event.body).hexdigest(),
    }
    if personal:
        envelope["personal"] = {item.field: commitment(item) for item in personal}
    return _sized(canonical(envelope))


def hole_leaf(office: str, notification_id: int) -> bytes:
    """The leaf data for a notification id the store does not hold."""
    if notification_id < 1:
        raise ValueError(f"notification ids start at 1, not {notification_id}")
    return canonical({"v": VERSION, "kind": "hole", "office": office, "id": notification_id})


def _sized(data: bytes) -> bytes:
    if len(data) > MAX_LEAF_BYTES:
        raise ValueError(f"a leaf of {len(data)} bytes is over {MAX_LEAF_BYTES}")
    return data
