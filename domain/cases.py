"""The life cycle shared by a supervision item and a task: every step an event.
May import: the standard library, eventsourcing and ``domain`` (assignment, lights, values).

``SupervisionItem`` (the registering office's record) and ``Task`` (a receiving office's own
record of an item assigned to it) go through the same steps; they differ in how they start and
in who their *assigning office* is: the office whose decisions (accepting a completion,
granting an extension, ordering rectification) bind them.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Final

from eventsourcing.domain import Aggregate

from domain import errors
from domain.assignment import Assignee, check_assignees
from domain.lights import ENDED
from domain.values import (
    FINDING_KINDS,
    Actor,
    WorkingCalendar,
    business_date,
    count_deadline,
    require_choice,
    require_text,
)

OPEN_FOR_REPORTS: Final = ("acknowledged", "in_progress")
RECTIFICATION_STATES: Final = ("none", "ordered", "reported", "accepted")
REPORT_KINDS: Final = (
    "acknowledged",
    "progress",
    "completion",
    "extension_request",
    "rectification_report",
)
"""What a subordinate office's task reports up to its parent record."""


def check_percent(percent: int) -> int:
    if isinstance(percent, bool) or not isinstance(percent, int) or not 0 <= percent <= 100:
        raise errors.InvalidFieldError("percent", "must be a whole number from 0 to 100")
    return percent


def check_attachments(attachments: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Attachment metadata only (name, size, media type); the files live elsewhere."""
    for a in attachments:
        if not isinstance(a, dict) or not str(a.get("name", "")).strip():
            raise errors.InvalidFieldError("attachments", "each attachment needs a name")
    return [dict(a) for a in attachments]


class Case(Aggregate):
    """Base of ``SupervisionItem`` and ``Task``; not stored on its own."""

    class Event(Aggregate.Event):
        actor: Actor

        def mutate(self, aggregate: Any) -> Any:
            """Also remember the source event a relayed decision or report came from."""
            mutated = super().mutate(aggregate)
            assert mutated is not None
            source = getattr(self, "source", "")
            if source:
                mutated.sources.add(source)
            return mutated

    # -- 交办 / 分解 --------------------------------------------------------------------
    class Assigned(Event):
        """Carries the item's brief, so the receiving office can create its task from it."""

        assignees: list[Assignee]
        deadline: date
        responsible_person: str
        title: str
        objective: str
        content: str
        source_kind: str
        source_ref: str
        issued_on: date
        importance: int
        urgency: int
        root_office: str
        root_id: str
        deadline_provisional: bool = False
        """The deadline is this record's own, counted on the provisional calendar."""
        deadline_working_days: int | None = None
        """Set when the deadline is this record's own counted one (its basis, to recompute)."""

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, Case)
            if self.deadline_working_days is not None:
                aggregate.derived_assignments.update(a.key for a in self.assignees)
            aggregate.assignments.extend(
                {
                    "kind": a.kind,
                    "target": a.target,
                    "role": a.role,
                    "deadline": self.deadline.isoformat(),
                }
                for a in self.assignees
            )

    # -- 签收, 进展, 办结 ----------------------------------------------------------------
    class Acknowledged(Event):
        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, Case)
            aggregate.status = "acknowledged"
            aggregate.acknowledged_at = self.timestamp

    class ProgressReported(Event):
        text: str
        percent: int
        attachments: list[dict[str, Any]]

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, Case)
            aggregate.status = "in_progress"
            aggregate.progress_percent = self.percent
            aggregate.last_report = self.text

    class CompletionReported(Event):
        text: str
        attachments: list[dict[str, Any]]

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, Case)
            aggregate.status = "completion_reported"
            aggregate.last_report = self.text
            aggregate.completion_reported_on = business_date(self.timestamp)

    # -- 审核 ---------------------------------------------------------------------------
    class CompletionAccepted(Event):
        comment: str
        assignee: str = ""
        source: str = ""

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, Case)
            if self.assignee:
                aggregate.pending_completions.pop(self.assignee, None)
                return
            aggregate.status = "completed"
            aggregate.progress_percent = 100
            aggregate.completed_on = business_date(self.timestamp)
            if aggregate.lead_office:
                aggregate.pending_completions.pop(aggregate.lead_office, None)

    class CompletionReturned(Event):
        reason: str
        assignee: str = ""
        source: str = ""

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, Case)
            if self.assignee:
                aggregate.pending_completions.pop(self.assignee, None)
                return
            aggregate.status = "in_progress"
            aggregate.completion_reported_on = None
            if aggregate.lead_office:
                aggregate.pending_completions.pop(aggregate.lead_office, None)

    # -- 延期 ---------------------------------------------------------------------------
    class ExtensionRequested(Event):
        new_deadline: date
        reason: str
        progress: str

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, Case)
            aggregate.pending_extension = self.new_deadline

    class ExtensionGranted(Event):
        new_deadline: date
        comment: str
        assignee: str = ""
        source: str = ""

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, Case)
            if self.assignee:
                aggregate.pending_extensions.pop(self.assignee, None)
                aggregate.derived_assignments.discard(f"office:{self.assignee}")
                for a in aggregate.assignments:
                    if a["kind"] == "office" and a["target"] == self.assignee:
                        a["deadline"] = self.new_deadline.isoformat()
                return
            aggregate.deadline = self.new_deadline
            aggregate.deadline_provisional = False  # a date granted is a date, not a count
            aggregate.deadline_working_days = None
            aggregate.pending_extension = None
            aggregate.extensions_granted += 1

    class ExtensionDenied(Event):
        reason: str
        assignee: str = ""
        source: str = ""

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, Case)
            if self.assignee:
                aggregate.pending_extensions.pop(self.assignee, None)
            else:
                aggregate.pending_extension = None

    class DeadlineRecomputed(Event):
        """A counted deadline counted again on the calendar as it now stands: the year's
        holiday notice was added, so a provisional count became certain (or moved)."""

        old_deadline: date
        new_deadline: date
        provisional: bool
        """Still provisional after this (the count reaches another unpublished year)."""
        reason: str
        notice: str
        """The notice the new count rests on (its citation), if any."""
        assignments: list[str]
        """Assignments (``kind:target``) whose deadline was this record's and moves with it."""

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, Case)
            aggregate.deadline = self.new_deadline
            aggregate.deadline_provisional = self.provisional
            moved = set(self.assignments)
            for a in aggregate.assignments:
                if f"{a['kind']}:{a['target']}" in moved:
                    a["deadline"] = self.new_deadline.isoformat()

    # -- 催办, 督办, 表彰 ----------------------------------------------------------------
    class Urged(Event):
        message: str
        source: str = ""
        provisional: bool = False
        """Judged on the provisional calendar (the deadline engine's urges)."""

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, Case)
            aggregate.urge_count += 1

    class Escalated(Event):
        to: str
        reason: str
        source: str = ""
        provisional: bool = False
        """Judged on the provisional calendar (the deadline engine's escalations)."""

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, Case)
            aggregate.escalation_count += 1

    class Commended(Event):
        reason: str
        source: str = ""

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, Case)
            aggregate.commendation_count += 1

    # -- 督促整改 -----------------------------------------------------------------------
    class RectificationOrdered(Event):
        requirements: str
        deadline: date | None
        source: str = ""

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, Case)
            aggregate.rectification = "ordered"

    class RectificationReported(Event):
        text: str

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, Case)
            aggregate.rectification = "reported"

    class RectificationAccepted(Event):
        comment: str
        source: str = ""

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, Case)
            aggregate.rectification = "accepted"

    # -- 销号 ---------------------------------------------------------------------------
    class Closed(Event):
        reason: str
        leader_closure: bool
        source: str = ""

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, Case)
            aggregate.status = "closed"

    class Concluded(Event):
        """结办 (任务终结): a task ends because the matter it serves was closed above it,
        whatever its own state. Recorded by the process manager, once per source event."""

        reason: str
        """``matter closed by OFFICE``."""
        closed_by: str
        """The office whose record was closed (the same all the way down the chain)."""
        source: str = ""

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, Case)
            aggregate.status = "concluded"
            aggregate.concluded_by = self.closed_by

    class Reopened(Event):
        reason: str

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, Case)
            aggregate.status = "in_progress" if aggregate.acknowledged_at else aggregate.initial
            aggregate.completion_reported_on = None
            aggregate.completed_on = None

    # -- 收到下级报告 ---------------------------------------------------------------------
    class ReportReceived(Event):
        """A subordinate office's report on its task, recorded here as received.

        ``timestamp`` is the receiving time, by which on-time completion is judged;
        ``reported_at`` is when the subordinate recorded it.
        """

        source: str
        from_office: str
        task_id: str
        kind: str
        text: str
        percent: int | None
        new_deadline: date | None
        reported_at: datetime

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, Case)
            aggregate.received_reports[self.from_office] = {
                "kind": self.kind,
                "text": self.text,
                "percent": self.percent,
                "reported_at": self.reported_at.isoformat(),
                "received_at": self.timestamp.isoformat(),
            }
            if self.kind == "extension_request" and self.new_deadline is not None:
                aggregate.pending_extensions[self.from_office] = self.new_deadline
            if self.kind == "completion":
                aggregate.pending_completions[self.from_office] = self.text
            if self.from_office == aggregate.lead_office:
                aggregate.follow_lead(self)

    # -- 经验与问题, 公开 ----------------------------------------------------------------
    class FindingRecorded(Event):
        kind: str
        text: str
        recommendation: str

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, Case)
            aggregate.finding_count += 1

    class Published(Event):
        summary: str

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, Case)
            aggregate.published = True
            aggregate.public_summary = self.summary

    class Unpublished(Event):
        reason: str

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, Case)
            aggregate.published = False
            aggregate.public_summary = ""

    # -- state shared by items and tasks ----------------------------------------------
    initial = "registered"
    concludable = False
    """Only a task is concluded from above (an item is closed by its own office)."""
    concluded_by = ""
    """The office whose closing concluded this task (a class default: older states lack it)."""
    follows_lead_completion = True
    """An item is complete when its lead office's completion is accepted; a task reports its
    own completion upward after reviewing its lead's (``assignee=`` decisions)."""

    def _init_case(
        self,
        office: str,
        title: str,
        source_kind: str,
        source_ref: str,
        issued_on: date,
        objective: str,
        content: str,
        executing_unit: str,
        responsible_person: str,
        deadline: date,
        importance: int,
        urgency: int,
        deadline_provisional: bool = False,
        deadline_working_days: int | None = None,
    ) -> None:
        self.office = office
        self.title = title
        self.source_kind = source_kind
        self.source_ref = source_ref
        self.issued_on = issued_on
        self.objective = objective
        self.content = content
        self.executing_unit = executing_unit
        self.responsible_person = responsible_person
        self.deadline = deadline
        self.deadline_provisional = deadline_provisional
        """Counted (partly) on the provisional calendar: recomputed when the notice comes."""
        self.deadline_working_days = deadline_working_days
        """The deadline is this many working days after the issue date (None: a date given)."""
        self.derived_assignments: set[str] = set()
        """Assignments (``kind:target``) whose deadline is this record's counted one."""
        self.importance = importance
        self.urgency = urgency
        self.status = self.initial
        self.acknowledged_at: datetime | None = None
        self.assignments: list[dict[str, str]] = []
        self.progress_percent = 0
        self.last_report = ""
        self.completion_reported_on: date | None = None
        self.completed_on: date | None = None
        self.public_summary = ""
        self.pending_extension: date | None = None
        self.extensions_granted = 0
        self.urge_count = 0
        self.escalation_count = 0
        self.commendation_count = 0
        self.rectification = "none"
        self.finding_count = 0
        self.published = False
        self.sources: set[str] = set()
        self.received_reports: dict[str, dict[str, Any]] = {}
        self.pending_extensions: dict[str, date] = {}
        self.pending_completions: dict[str, str] = {}

    @property
    def assigning_office(self) -> str:
        """The office whose decisions bind this record."""
        raise NotImplementedError

    @property
    def root(self) -> tuple[str, str]:
        """(office, id) of the supervision item at the top of this record's chain."""
        raise NotImplementedError

    # -- commands ---------------------------------------------------------------------
    def assign(
        self,
        actor: Actor,
        at: datetime,
        assignees: list[Assignee],
        deadline: date | None = None,
        responsible_person: str = "",
    ) -> None:
        self.check_may_assign()
        already = {f"{a['kind']}:{a['target']}" for a in self.assignments}
        check_assignees(assignees, self.office, already)
        inherited = deadline is None
        deadline = deadline or self.deadline
        if deadline > self.deadline:
            raise errors.AssignmentDeadlineError()
        if deadline < self.issued_on:
            raise errors.DeadlineBeforeIssueError()
        root_office, root_id = self.root
        self.trigger_event(
            self.Assigned,
            timestamp=at,
            actor=actor,
            assignees=list(assignees),
            deadline=deadline,
            responsible_person=responsible_person.strip() or self.responsible_person,
            title=self.title,
            objective=self.objective,
            content=self.content,
            source_kind=self.source_kind,
            source_ref=self.source_ref,
            issued_on=self.issued_on,
            importance=self.importance,
            urgency=self.urgency,
            root_office=root_office,
            root_id=root_id,
            deadline_provisional=inherited and self.deadline_provisional,
            deadline_working_days=self.deadline_working_days if inherited else None,
        )

    def acknowledge(self, actor: Actor, at: datetime) -> None:
        self.check_not_closed()
        if self.acknowledged_at is not None:
            raise errors.AlreadyAcknowledgedError()
        self.trigger_event(self.Acknowledged, timestamp=at, actor=actor)

    def report_progress(
        self,
        actor: Actor,
        at: datetime,
        text: str,
        percent: int,
        attachments: list[dict[str, Any]] | None = None,
    ) -> None:
        self.check_open_for_reports()
        self.trigger_event(
            self.ProgressReported,
            timestamp=at,
            actor=actor,
            text=require_text("text", text),
            percent=check_percent(percent),
            attachments=check_attachments(attachments or []),
        )

    def report_completion(
        self, actor: Actor, at: datetime, text: str, attachments: list[dict[str, Any]] | None = None
    ) -> None:
        self.check_open_for_reports()
        self.trigger_event(
            self.CompletionReported,
            timestamp=at,
            actor=actor,
            text=require_text("text", text),
            attachments=check_attachments(attachments or []),
        )

    def accept_completion(
        self, actor: Actor, at: datetime, comment: str = "", assignee: str = "", source: str = ""
    ) -> None:
        """Accept this record's completion, or (``assignee``) a subordinate office's."""
        if self.already_applied(source):
            return
        self.check_completion_pending(actor, "accept a completion", assignee)
        self.trigger_event(
            self.CompletionAccepted,
            timestamp=at,
            actor=actor,
            comment=comment.strip(),
            assignee=assignee,
            source=source,
        )

    def return_completion(
        self, actor: Actor, at: datetime, reason: str, assignee: str = "", source: str = ""
    ) -> None:
        if self.already_applied(source):
            return
        self.check_completion_pending(actor, "return a completion", assignee)
        self.trigger_event(
            self.CompletionReturned,
            timestamp=at,
            actor=actor,
            reason=require_text("reason", reason),
            assignee=assignee,
            source=source,
        )

    def request_extension(
        self, actor: Actor, at: datetime, new_deadline: date, reason: str, progress: str = ""
    ) -> None:
        self.check_work_open()
        if self.pending_extension is not None:
            raise errors.ExtensionPendingError()
        if business_date(at) > self.deadline:
            raise errors.ExtensionAfterDeadlineError(self.deadline)
        if new_deadline <= self.deadline:
            raise errors.ExtensionNotLaterError(self.deadline)
        self.trigger_event(
            self.ExtensionRequested,
            timestamp=at,
            actor=actor,
            new_deadline=new_deadline,
            reason=require_text("reason", reason),
            progress=progress.strip(),
        )

    def grant_extension(
        self,
        actor: Actor,
        at: datetime,
        new_deadline: date | None = None,
        comment: str = "",
        assignee: str = "",
        source: str = "",
    ) -> None:
        """Grant this record's own pending request, or (``assignee``) a subordinate's, which
        may not pass this record's own deadline (``check_within_own_deadline``)."""
        if self.already_applied(source):
            return
        assignee, asked, current = self.check_extension_pending(
            actor, "grant an extension", assignee
        )
        new_deadline = new_deadline or asked
        if new_deadline <= current:
            raise errors.ExtensionNotLaterError(current)
        if assignee:
            self.check_within_own_deadline(assignee, new_deadline)
        self.trigger_event(
            self.ExtensionGranted,
            timestamp=at,
            actor=actor,
            new_deadline=new_deadline,
            comment=comment.strip(),
            assignee=assignee,
            source=source,
        )

    def deny_extension(
        self, actor: Actor, at: datetime, reason: str, assignee: str = "", source: str = ""
    ) -> None:
        if self.already_applied(source):
            return
        assignee, *_ = self.check_extension_pending(actor, "deny an extension", assignee)
        self.trigger_event(
            self.ExtensionDenied,
            timestamp=at,
            actor=actor,
            reason=require_text("reason", reason),
            assignee=assignee,
            source=source,
        )

    def urge(
        self, actor: Actor, at: datetime, message: str, source: str = "", provisional: bool = False
    ) -> None:
        if self.already_applied(source):
            return
        self.check_work_open()
        self.trigger_event(
            self.Urged,
            timestamp=at,
            actor=actor,
            message=require_text("message", message),
            source=source,
            provisional=bool(provisional),
        )

    def escalate(
        self,
        actor: Actor,
        at: datetime,
        to: str,
        reason: str,
        source: str = "",
        provisional: bool = False,
    ) -> None:
        if self.already_applied(source):
            return
        self.check_work_open()
        self.trigger_event(
            self.Escalated,
            timestamp=at,
            actor=actor,
            to=require_text("to", to, 200),
            reason=require_text("reason", reason),
            source=source,
            provisional=bool(provisional),
        )

    def recompute_deadline(
        self, actor: Actor, at: datetime, calendar: WorkingCalendar, reason: str, notice: str = ""
    ) -> None:
        """Count a counted deadline again on ``calendar`` as it now stands (a holiday notice was
        added). Records ``DeadlineRecomputed`` only if the day or its provisional mark changed;
        a deadline given as a date (or granted by an extension) is left alone."""
        self.check_work_open()
        reason = require_text("reason", reason)
        if self.deadline_working_days is None:
            return
        counted = count_deadline(calendar, self.issued_on, self.deadline_working_days)
        if (counted.day, counted.provisional) == (self.deadline, self.deadline_provisional):
            return
        self.trigger_event(
            self.DeadlineRecomputed,
            timestamp=at,
            actor=actor,
            old_deadline=self.deadline,
            new_deadline=counted.day,
            provisional=counted.provisional,
            reason=reason,
            notice=notice.strip(),
            assignments=sorted(self.derived_assignments),
        )

    def commend(self, actor: Actor, at: datetime, reason: str, source: str = "") -> None:
        if self.already_applied(source):
            return
        self.trigger_event(
            self.Commended,
            timestamp=at,
            actor=actor,
            reason=require_text("reason", reason),
            source=source,
        )

    def order_rectification(
        self,
        actor: Actor,
        at: datetime,
        requirements: str,
        deadline: date | None = None,
        source: str = "",
    ) -> None:
        if self.already_applied(source):
            return
        self.check_not_closed()
        self.check_assigning_office(actor, "order rectification")
        if self.rectification in ("ordered", "reported"):
            raise errors.RectificationStateError("a rectification is already under way")
        if deadline is not None and deadline < business_date(at):
            raise errors.InvalidFieldError("deadline", "the rectification deadline is in the past")
        self.trigger_event(
            self.RectificationOrdered,
            timestamp=at,
            actor=actor,
            requirements=require_text("requirements", requirements),
            deadline=deadline,
            source=source,
        )

    def report_rectification(self, actor: Actor, at: datetime, text: str) -> None:
        self.check_not_closed()
        if self.rectification != "ordered":
            raise errors.RectificationStateError("no rectification order is waiting for a report")
        self.trigger_event(
            self.RectificationReported, timestamp=at, actor=actor, text=require_text("text", text)
        )

    def accept_rectification(
        self, actor: Actor, at: datetime, comment: str = "", source: str = ""
    ) -> None:
        if self.already_applied(source):
            return
        self.check_not_closed()
        self.check_assigning_office(actor, "accept a rectification")
        if self.rectification != "reported":
            raise errors.RectificationStateError("no rectification report is waiting for review")
        self.trigger_event(
            self.RectificationAccepted,
            timestamp=at,
            actor=actor,
            comment=comment.strip(),
            source=source,
        )

    def close(
        self,
        actor: Actor,
        at: datetime,
        reason: str = "",
        leader_closure: bool = False,
        source: str = "",
    ) -> None:
        if self.already_applied(source):
            return
        self.check_not_closed()
        if leader_closure:
            self.check_leader_closure(actor, reason)
        elif self.status != "completed":
            raise errors.CloseNotAllowedError(
                "an item is closed only after its completion was accepted "
                "(or by a leader's explicit closure with a reason)"
            )
        elif self.rectification in ("ordered", "reported"):
            raise errors.CloseNotAllowedError("the rectification has not been accepted yet")
        self.trigger_event(
            self.Closed,
            timestamp=at,
            actor=actor,
            reason=reason.strip(),
            leader_closure=leader_closure,
            source=source,
        )

    def receive_report(
        self,
        actor: Actor,
        at: datetime,
        source: str,
        from_office: str,
        task_id: str,
        kind: str,
        reported_at: datetime,
        text: str = "",
        percent: int | None = None,
        new_deadline: date | None = None,
    ) -> None:
        """Record a subordinate office's report on its task (relayed up); once per source."""
        if self.already_applied(require_text("source", source)):
            return
        if from_office not in self.office_assignees:
            raise errors.InvalidAssignmentError(f"office '{from_office}' was not assigned this")
        self.trigger_event(
            self.ReportReceived,
            timestamp=at,
            actor=actor,
            source=source,
            from_office=from_office,
            task_id=task_id,
            kind=require_choice("kind", kind, REPORT_KINDS),
            text=text,
            percent=percent,
            new_deadline=new_deadline,
            reported_at=reported_at,
        )

    def conclude(self, actor: Actor, at: datetime, closed_by: str, source: str = "") -> None:
        """End this task because ``closed_by`` closed the matter above it, whatever its state.
        A task that has already ended (closed or concluded) stays as it is; once per source."""
        if not self.concludable:
            raise errors.NotConcludableError()
        if self.already_applied(source) or self.status in ENDED:
            return
        closed_by = require_text("closed_by", closed_by, 200)
        self.trigger_event(
            self.Concluded,
            timestamp=at,
            actor=actor,
            reason=f"matter closed by {closed_by}",
            closed_by=closed_by,
            source=source,
        )

    def reopen(self, actor: Actor, at: datetime, reason: str) -> None:
        self.check_not_concluded()
        if self.status != "closed":
            raise errors.NotClosedError()
        self.trigger_event(
            self.Reopened, timestamp=at, actor=actor, reason=require_text("reason", reason)
        )

    def record_finding(
        self, actor: Actor, at: datetime, kind: str, text: str, recommendation: str = ""
    ) -> None:
        self.trigger_event(
            self.FindingRecorded,
            timestamp=at,
            actor=actor,
            kind=require_choice("kind", kind, FINDING_KINDS),
            text=require_text("text", text),
            recommendation=recommendation.strip(),
        )

    def publish(self, actor: Actor, at: datetime, summary: str) -> None:
        if self.published:
            raise errors.PublicationStateError("the item is already published")
        self.trigger_event(
            self.Published, timestamp=at, actor=actor, summary=require_text("summary", summary)
        )

    def unpublish(self, actor: Actor, at: datetime, reason: str) -> None:
        if not self.published:
            raise errors.PublicationStateError("the item is not published")
        self.trigger_event(
            self.Unpublished, timestamp=at, actor=actor, reason=require_text("reason", reason)
        )

    # -- guards -----------------------------------------------------------------------
    def check_may_assign(self) -> None:
        self.check_work_open()

    def check_not_closed(self) -> None:
        """Not closed, and (a task) not concluded: both end the work for good."""
        self.check_not_concluded()
        if self.status == "closed":
            raise errors.ItemClosedError()

    def check_not_concluded(self) -> None:
        if self.status == "concluded":
            raise errors.TaskConcludedError(self.concluded_by)

    def check_work_open(self) -> None:
        """Work is pending: not closed and no completion accepted yet."""
        self.check_not_closed()
        if self.status == "completed":
            raise errors.CompletionAlreadyAcceptedError()

    def check_open_for_reports(self) -> None:
        self.check_work_open()
        if self.acknowledged_at is None:
            raise errors.NotAcknowledgedError()
        if self.status not in OPEN_FOR_REPORTS:
            raise errors.NotOpenForReportsError(self.status.replace("_", " "))

    def check_assigning_office(self, actor: Actor, decision: str) -> None:
        if actor.office != self.assigning_office:
            raise errors.NotAssigningOfficeError(decision, self.assigning_office)

    def check_completion_pending(self, actor: Actor, decision: str, assignee: str = "") -> None:
        self.check_not_closed()
        self.check_decider(actor, decision, assignee)
        pending = (
            assignee in self.pending_completions
            if assignee
            else (self.status == "completion_reported")
        )
        if not pending:
            raise errors.NoCompletionPendingError()

    def check_decider(self, actor: Actor, decision: str, assignee: str, hint: str = "") -> None:
        """A subordinate's request is decided by the office that assigned it (this record's);
        this record's own, by its assigning office. ``hint``: what this record's own office
        may decide instead."""
        if not assignee:
            if actor.office == self.office != self.assigning_office:
                raise errors.NotAssigningOfficeError(decision, self.assigning_office, hint)
            self.check_assigning_office(actor, decision)
        elif actor.office != self.office:
            raise errors.NotAssigningOfficeError(decision, self.office)

    def extension_assignee(self, actor: Actor, assignee: str) -> str:
        """Whose extension request a decision is about. Named, it is that office's; unnamed,
        this record's own if one waits (decided by the assigning office, as relayed from
        above), else, when this record's office decides, the one subordinate's that waits.
        Several waiting must be named."""
        if assignee or self.pending_extension is not None or actor.office != self.office:
            return assignee
        waiting = sorted(self.pending_extensions)
        if len(waiting) > 1:
            raise errors.ExtensionAssigneeRequiredError(waiting)
        return waiting[0] if waiting else ""

    def check_within_own_deadline(self, assignee: str, new_deadline: date) -> None:
        """A subordinate's deadline may not pass this record's own, as an assignment's may
        not: the way out is this record's own extension, from its assigning office (a top-level
        item is its own assigning office)."""
        if new_deadline > self.deadline:
            above = self.assigning_office if self.assigning_office != self.office else ""
            raise errors.ExtensionBeyondOwnDeadlineError(
                assignee, new_deadline, self.deadline, above
            )

    def check_extension_pending(
        self, actor: Actor, decision: str, assignee: str = ""
    ) -> tuple[str, date, date]:
        """(whose, date asked for, deadline it would replace) of the pending request decided
        on: ``assignee``'s, or the one ``extension_assignee`` finds."""
        self.check_work_open()
        assignee = self.extension_assignee(actor, assignee)
        waiting = ", ".join(sorted(self.pending_extensions))
        hint = f"to decide a request from {waiting}, name it with --assignee / assignee"
        self.check_decider(actor, decision, assignee, hint if waiting else "")
        if assignee:
            asked = self.pending_extensions.get(assignee)
            current = next(
                (
                    date.fromisoformat(a["deadline"])
                    for a in self.assignments
                    if a["kind"] == "office" and a["target"] == assignee
                ),
                self.deadline,
            )
        else:
            asked, current = self.pending_extension, self.deadline
        if asked is None:
            raise errors.NoExtensionPendingError()
        return assignee, asked, current

    def already_applied(self, source: str) -> bool:
        """A relayed decision or report is applied once per source event."""
        return bool(source) and source in self.sources

    @property
    def office_assignees(self) -> list[str]:
        return [a["target"] for a in self.assignments if a["kind"] == "office"]

    @property
    def lead_office(self) -> str | None:
        leads = [
            a["target"] for a in self.assignments if a["kind"] == "office" and a["role"] == "lead"
        ]
        return leads[-1] if leads else None

    def follow_lead(self, report: Case.ReportReceived) -> None:
        """The lead office's reports move this record as if made here (on receipt)."""
        if self.status in ENDED:
            return
        if report.kind == "acknowledged" and self.acknowledged_at is None:
            self.acknowledged_at = report.timestamp
            self.status = "acknowledged" if self.status == self.initial else self.status
        elif report.kind == "progress" and self.status in (self.initial, *OPEN_FOR_REPORTS):
            self.status = "in_progress"
            self.progress_percent = report.percent or self.progress_percent
            self.last_report = report.text
        elif (
            report.kind == "completion"
            and self.follows_lead_completion
            and self.status not in ("completion_reported", "completed")
        ):
            self.status = "completion_reported"
            self.last_report = report.text
            self.completion_reported_on = business_date(report.timestamp)
        elif report.kind == "rectification_report" and self.rectification == "ordered":
            self.rectification = "reported"

    def check_leader_closure(self, actor: Actor, reason: str) -> None:
        if actor.role != "leader":
            raise errors.CloseNotAllowedError("only a leader may close an item without completion")
        self.check_assigning_office(actor, "close this item by a leader's decision")
        require_text("reason", reason)
