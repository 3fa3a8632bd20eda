"""The audit trail: every event with office, actor, time, type and a one-line summary.

May import: the standard library and ``projections`` (readstore, runner).
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from functools import cache
from typing import Any, NamedTuple
from uuid import UUID

from projections.readstore import Table, Tx
from projections.runner import Batch, Envelope, Projection

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
        ("actor_channel", "TEXT"),
        ("actor_os_user", "TEXT"),
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


DATE_FIELDS = ("new_deadline", "deadline")
PREFIXES = {"Concluded": "上级已办结，任务终结："}
"""What a summary opens with, for events its fields alone say too little about."""

Row = tuple[Any, ...]


class SummaryPlan(NamedTuple):
    """Which of the summary's fields an event class has (asked once per class)."""

    texts: tuple[str, ...]
    dates: tuple[str, ...]
    assignees: bool
    from_office: bool


@cache
def summary_plan(kind: type) -> SummaryPlan:
    names = set(dir(kind))
    if dataclasses.is_dataclass(kind):
        names |= {f.name for f in dataclasses.fields(kind)}
    return SummaryPlan(
        tuple(f for f in SUMMARY_FIELDS if f in names),
        tuple(f for f in DATE_FIELDS if f in names),
        "assignees" in names,
        "from_office" in names,
    )


def summarize(event: Any) -> str:
    """A one-line summary: the first telling field, plus dates and assignees where they matter."""
    plan = summary_plan(event.__class__)
    parts = []
    for field in plan.texts:
        if value := getattr(event, field):
            parts.append(PREFIXES.get(event.__class__.__name__, "") + str(value))
            break
    for field in plan.dates:
        if value := getattr(event, field):
            parts.append(f"{field}={value.isoformat()}")
            break
    if plan.assignees and event.assignees:
        parts.append("→ " + ", ".join(f"{a.target}({a.role})" for a in event.assignees))
    if plan.from_office and event.from_office:
        parts.insert(0, f"[{event.from_office}]")
    return " ".join(parts)[:500]


def audit_row(envelope: Envelope, record_id: str) -> Row:
    event = envelope.event
    actor = event.actor
    return (
        envelope.office,
        envelope.position,
        record_id,
        type(envelope.state).__name__,
        event.originator_version,
        type(event).__name__,
        utc(event.timestamp),
        actor.user_id,
        actor.office,
        actor.role,
        summarize(event),
        actor.channel,
        actor.os_user,
    )


class AuditProjection(Projection[list[Row]]):
    name = "audit"
    ddl = DDL
    added_columns = (
        ("audit", "actor_channel", "TEXT NOT NULL DEFAULT ''"),
        ("audit", "actor_os_user", "TEXT NOT NULL DEFAULT ''"),
    )

    def prepare(self, batch: Batch) -> list[Row]:
        ids: dict[UUID, str] = {}  # each record's id as text, made once per batch
        rows = []
        for e in batch.envelopes:
            record = e.event.originator_id
            if (text := ids.get(record)) is None:
                text = ids[record] = str(record)
            rows.append(audit_row(e, text))
        return rows

    def write(self, tx: Tx, rows: list[Row]) -> None:
        """An event delivered again (positions lost or reset) finds its row there already."""
        tx.write(TABLE, rows, "DO NOTHING")

    def drop(self, tx: Tx, office: str | None) -> None:
        if office is None:
            tx.execute("DELETE FROM audit")
        else:
            tx.execute("DELETE FROM audit WHERE office = ?", (office,))
