"""The audit trail: every event with office, actor, time, type and a one-line summary."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from projections.readstore import Table, Tx
from projections.runner import Envelope, Projection

TABLE = Table(
    "audit",
    (
        ("office", "TEXT"),
        ("position", "BIGINT"),
        ("record_id", "TEXT"),
        ("record_type", "TEXT"),
        ("version", "INTEGER"),
        ("type", "TEXT"),
        ("time", "TEXT"),
        ("actor_user", "TEXT"),
        ("actor_office", "TEXT"),
        ("actor_role", "TEXT"),
        ("summary", "TEXT"),
    ),
    key=("office", "position"),
)
DDL = f"""{TABLE.create()};
CREATE INDEX IF NOT EXISTS audit_by_record ON audit (office, record_id, position);
CREATE INDEX IF NOT EXISTS audit_by_time ON audit (office, time)
"""

SUMMARY_FIELDS = (
    "title",
    "text",
    "message",
    "reason",
    "requirements",
    "summary",
    "comment",
    "kind",
)


def utc(instant: datetime) -> str:
    """Times are stored in UTC so that ranges compare as text whatever clock wrote them."""
    return instant.astimezone(UTC).isoformat()


def summarize(event: Any) -> str:
    """A one-line summary: the first telling field, plus dates and assignees where they matter."""
    parts = [str(getattr(event, f)) for f in SUMMARY_FIELDS if getattr(event, f, "")][:1]
    for field in ("new_deadline", "deadline"):
        if getattr(event, field, None):
            parts.append(f"{field}={getattr(event, field).isoformat()}")
            break
    if getattr(event, "assignees", None):
        parts.append("→ " + ", ".join(f"{a.target}({a.role})" for a in event.assignees))
    if getattr(event, "from_office", ""):
        parts.insert(0, f"[{event.from_office}]")
    return " ".join(parts)[:500]


def audit_row(envelope: Envelope) -> tuple[Any, ...]:
    event = envelope.event
    actor = event.actor
    return (
        envelope.office,
        envelope.position,
        str(event.originator_id),
        type(envelope.state).__name__,
        event.originator_version,
        type(event).__name__,
        utc(event.timestamp),
        actor.user_id,
        actor.office,
        actor.role,
        summarize(event),
    )


class AuditProjection(Projection):
    name = "audit"
    ddl = DDL

    def handle_batch(self, tx: Tx, envelopes: list[Envelope]) -> None:
        tx.write(TABLE, [audit_row(e) for e in envelopes], "DO NOTHING")

    def drop(self, tx: Tx, office: str | None) -> None:
        if office is None:
            tx.execute("DELETE FROM audit")
        else:
            tx.execute("DELETE FROM audit WHERE office = ?", (office,))
