"""Liaison (工作联系): the cross-office process manager (交办 down, 报告 up, 决定 down again).
May import: the standard library, ``domain`` (cases, errors, tasks, values), ``projections``
(readstore, runner) and ``services`` (errors, inputs, supervision).

Not to be confused with the Kafka relay (``services/kafka/relay.py``), which only carries events.

Each office writes only its own store. This manager reads an office's events and turns them
into commands on the *other* office's records, keyed by the source event's identity
(office / aggregate id / version), so delivering an event twice changes nothing.

- Down: an ``Assigned`` naming subordinate offices creates each one's ``Task``.
- Up: a task's acknowledgement, progress and completion reports, extension requests and
  rectification reports are recorded on its parent record as received (``ReportReceived``).
- Down again: the parent's own decisions reach its children's tasks: accepting or returning
  a completion (the lead's task), granting or denying an extension (the asking office's task),
  urging, escalating, commending, ordering or accepting rectification (every office
  assigned). Decisions that were themselves relayed from above are not passed further.
- The end (结办): when a record is ``Closed`` or ``Concluded``, every task assigned from it is
  concluded, whatever its state (``Concluded``, "matter closed by OFFICE"), and each of those
  concludes its own tasks in turn: down the whole chain.

A command that no longer applies to its target is kept as a *skipped relay* (``relay_skips``),
listed for both ends: the office whose event it was, and the office that must act on it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from domain.cases import Case
from domain.errors import DomainError
from domain.tasks import Task
from domain.values import Actor
from projections.readstore import ReadStore
from projections.runner import Envelope, ProcessManager
from services.errors import ConflictError
from services.inputs import china_time
from services.supervision import SupervisionService

UP: Final = {
    "Acknowledged": "acknowledged",
    "ProgressReported": "progress",
    "CompletionReported": "completion",
    "ExtensionRequested": "extension_request",
    "RectificationReported": "rectification_report",
}

DOWN: Final[dict[str, tuple[str, tuple[str, ...]]]] = {
    "CompletionAccepted": ("accept-completion", ("comment",)),
    "CompletionReturned": ("return-completion", ("reason",)),
    "ExtensionGranted": ("grant-extension", ("new_deadline", "comment")),
    "ExtensionDenied": ("deny-extension", ("reason",)),
    "Urged": ("urge", ("message", "provisional")),
    "Escalated": ("escalate", ("to", "reason", "provisional")),
    "Commended": ("commend", ("reason",)),
    "RectificationOrdered": ("order-rectification", ("requirements", "deadline")),
    "RectificationAccepted": ("accept-rectification", ("comment",)),
}
"""Decision event → (action on the child's task, fields carried over)."""
ENDS: Final = ("Closed", "Concluded")
"""A record's events that conclude every task assigned from it (its own or relayed)."""

Skipped = Callable[[Envelope, str, str, str], None]
"""Called with (envelope, target office, target record, reason)."""
RETRIES = 5

SKIPS_DDL = """
CREATE TABLE IF NOT EXISTS relay_skips (
    office TEXT NOT NULL,
    position BIGINT NOT NULL,
    target TEXT NOT NULL,
    event_type TEXT NOT NULL,
    reason TEXT NOT NULL,
    PRIMARY KEY (office, position, target)
)
"""
ADDED_COLUMNS: Final = ("record_id", "target_record", "at")
"""Columns added since the table was first made: the source record, the target record, and
when the source event happened (China time); empty in rows recorded before."""
SKIPS_INDEX = "CREATE INDEX IF NOT EXISTS relay_skips_by_target ON relay_skips (target, position)"
OURS, THEIRS = "ours to relay", "waiting on us"
"""Which end of a skipped relay an office is: its event was not carried out over there, or
another office's event was not carried out on its record."""


class SkippedRelays:  # the name of what it keeps (relay_skips), as stored
    """Dead letters: relayed decisions that did not apply to their target, kept for review."""

    def __init__(self, read: ReadStore) -> None:
        self.read = read
        read.ensure(SKIPS_DDL)
        read.add_columns("relay_skips", [(n, "TEXT NOT NULL DEFAULT ''") for n in ADDED_COLUMNS])
        read.ensure(SKIPS_INDEX)

    def record(self, envelope: Envelope, target: str, target_record: str, reason: str) -> None:
        event = envelope.event
        with self.read.transaction() as tx:
            tx.execute(
                "INSERT INTO relay_skips (office, position, target, event_type, reason, "
                "record_id, target_record, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (office, position, target) DO NOTHING",
                (
                    envelope.office,
                    envelope.position,
                    target,
                    type(event).__name__,
                    reason,
                    str(event.originator_id),
                    target_record,
                    china_time(event.timestamp),
                ),
            )

    def list(self, office: str) -> list[dict[str, Any]]:
        """The skipped relays ``office`` is at either end of, oldest first (by the source
        event's time): its own events not carried out elsewhere (``side`` "ours to relay"),
        and others' events not carried out on its records ("waiting on us")."""
        rows = self.read.all(
            "SELECT * FROM relay_skips WHERE office = ? OR target = ? "
            "ORDER BY at, office, position, target",
            (office, office),
        )
        return [{**row, "side": OURS if row["office"] == office else THEIRS} for row in rows]


class Liaison(ProcessManager):
    name = "relay"
    """Its consumer name, as stored in every read store's tracking and dead_letters rows:
    renaming it would make the manager replay every office's history (harmless, but long)."""

    def __init__(self, service: SupervisionService, skipped: Skipped) -> None:
        self.service = service
        self.skipped = skipped

    def concerns(self, event: Any) -> bool:
        name = type(event).__name__
        return (
            name == "Assigned"
            or name in UP
            or name in ENDS
            or (name in DOWN and not getattr(event, "source", ""))
        )

    def handle(self, envelope: Envelope) -> None:
        event, state = envelope.event, envelope.state
        if not isinstance(state, Case):
            return
        name = type(event).__name__
        if isinstance(event, Case.Assigned):
            self._assign_down(envelope, event)
        elif isinstance(state, Task) and name in UP:
            self._report_up(envelope, state, UP[name])
        elif name in ENDS:
            self._conclude_down(envelope, state)
        elif name in DOWN and not getattr(event, "source", ""):
            self._decide_down(envelope, state, *DOWN[name])

    def _assign_down(self, envelope: Envelope, event: Case.Assigned) -> None:
        for assignee in event.assignees:
            if assignee.kind == "office":
                target = assignee.target
                task_id = Task.create_id(envelope.office, str(event.originator_id), target)
                self._retrying(  # an office retired meanwhile: a skipped relay, not a stop
                    envelope,
                    target,
                    str(task_id),
                    lambda target=target: self.service.receive_assignment(  # type: ignore[misc]
                        Actor("process-manager", target, "system"),
                        target,
                        envelope.office,
                        str(event.originator_id),
                        event,
                    ),
                )

    def _report_up(self, envelope: Envelope, task: Task, kind: str) -> None:
        event = envelope.event
        self._retrying(
            envelope,
            task.parent_office,
            task.parent_id,
            lambda: self.service.relay_report(
                event.actor,
                task.parent_office,
                task.parent_id,
                source=envelope.source,
                from_office=envelope.office,
                task_id=str(task.id),
                kind=kind,
                reported_at=event.timestamp,
                text=getattr(event, "text", "") or getattr(event, "reason", ""),
                percent=getattr(event, "percent", None),
                new_deadline=getattr(event, "new_deadline", None),
            ),
        )

    def _decide_down(
        self, envelope: Envelope, record: Case, action: str, fields: tuple[str, ...]
    ) -> None:
        event = envelope.event
        params: dict[str, Any] = {f: getattr(event, f) for f in fields}
        for office in self._targets(record, event):
            task_id = str(Task.create_id(envelope.office, str(record.id), office))
            self._retrying(
                envelope,
                office,
                task_id,
                lambda office=office, task_id=task_id: self.service.act(  # type: ignore[misc]
                    event.actor, office, task_id, action, None, source=envelope.source, **params
                ),
            )

    def _conclude_down(self, envelope: Envelope, record: Case) -> None:
        """Conclude every task assigned from ``record`` (as assigned when it ended), naming
        the office that closed the matter: this record's, or the one its own end names."""
        event = envelope.event
        closed_by = event.closed_by if isinstance(event, Case.Concluded) else envelope.office
        for office in record.office_assignees:
            task_id = Task.create_id(envelope.office, str(record.id), office)
            if not self.service.exists(office, task_id):
                continue  # never received (that assignment was a skipped relay): nothing ends
            self._retrying(
                envelope,
                office,
                str(task_id),
                lambda office=office, task_id=task_id: self.service.conclude(  # type: ignore[misc]
                    office, str(task_id), closed_by, envelope.source
                ),
            )

    @staticmethod
    def _targets(record: Case, event: Any) -> list[str]:
        name = type(event).__name__
        assignee = getattr(event, "assignee", "")
        if assignee:
            return [assignee]
        if name in ("CompletionAccepted", "CompletionReturned"):
            return [record.lead_office] if record.lead_office else []
        if name in ("ExtensionGranted", "ExtensionDenied"):
            return []  # the record's own extension: nobody below asked for it
        return record.office_assignees

    def _retrying(
        self, envelope: Envelope, target: str, record: str, effect: Callable[[], object]
    ) -> None:
        """Conflicts are retried (the effect is idempotent); a decision that no longer applies
        to the target (say, its task was concluded meanwhile) is recorded as skipped."""
        for attempt in range(RETRIES):
            try:
                effect()
                return
            except ConflictError:
                if attempt == RETRIES - 1:
                    raise
            except DomainError as e:
                self.skipped(envelope, target, record, str(e))
                return
