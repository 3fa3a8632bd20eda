"""Plain DTOs returned by queries; never aggregates. Their ``to_dict`` is the JSON shape.
May import: the standard library and ``domain`` (cases, lights, tasks).

Also how a record (item or task) becomes a view (``case_fields``, ``case_view``): the services
and the items projection both use it, so it lives here, importing only the domain.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, is_dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from domain.cases import Case
from domain.lights import ENDED
from domain.tasks import Task


def plain(value: Any) -> Any:
    """Dates, ids and value objects as JSON-friendly values."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if is_dataclass(value) and not isinstance(value, type):
        # field by field: dataclasses.asdict deep-copies everything first (slow on rebuilds)
        return {f.name: plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | frozenset | set):
        return [plain(v) for v in value]
    return value


def marked_deadline(deadline: date | str, provisional: bool) -> str:
    """A deadline as lists show it: ``2027-01-12*`` when it is provisional."""
    text = deadline.isoformat() if isinstance(deadline, date) else deadline
    return f"{text}*" if provisional else text


@dataclass(frozen=True)
class OfficeView:
    code: str
    name: str
    level: str
    parent: str | None
    retired: bool
    version: int
    registered_at: datetime
    escalate: bool = True
    grace_working_days: int = 0

    def to_dict(self) -> dict[str, Any]:
        return dict(plain(self))


@dataclass(frozen=True)
class CaseView:
    """A supervision item (``kind='item'``) or a task (``kind='task'``) as users see it."""

    id: str
    office: str
    kind: str
    title: str
    source_kind: str
    source_ref: str
    issued_on: date
    objective: str
    content: str
    executing_unit: str
    responsible_person: str
    deadline: date
    importance: int
    urgency: int
    status: str
    version: int
    overdue: bool
    acknowledged: bool
    progress_percent: int
    last_report: str
    pending_extension: date | None
    extensions_granted: int
    urge_count: int
    escalation_count: int
    commendation_count: int
    rectification: str
    published: bool
    public_summary: str
    finding_count: int
    completion_reported_on: date | None
    completed_on: date | None
    pending_extensions: dict[str, date]
    received_reports: dict[str, dict[str, Any]]
    assignments: list[dict[str, str]]
    parent: dict[str, str] | None
    root: dict[str, str]
    registered_at: datetime
    modified_at: datetime
    deadline_provisional: bool = False
    """The deadline was counted (partly) on the provisional calendar: a year whose holiday
    notice is not yet published. It is recomputed, as an event, when the notice is added."""
    deadline_working_days: int | None = None
    """The deadline is this many working days after the issue date (None: a date was given)."""

    def to_dict(self) -> dict[str, Any]:
        return dict(plain(self))


@dataclass(frozen=True)
class EventView:
    """One recorded event: what happened, when (business time), who did it, and its data."""

    type: str
    version: int
    time: datetime
    actor: dict[str, str]
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return dict(plain(self))


@dataclass(frozen=True)
class Page:
    """One page of a list; ``total`` counts every match."""

    items: list[Any]
    page: int
    per_page: int
    total: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "items": [i.to_dict() if hasattr(i, "to_dict") else plain(i) for i in self.items],
            "page": self.page,
            "per_page": self.per_page,
            "total": self.total,
        }


def paginate(rows: list[Any], page: int, per_page: int) -> Page:
    if page < 1 or not 1 <= per_page <= 500:
        raise ValueError("page must be ≥ 1 and per_page from 1 to 500")
    start = (page - 1) * per_page
    return Page(rows[start : start + per_page], page, per_page, len(rows))


# -- records as views (shared with the items projection, which may not import a service) ---
def case_view(case: Case, today: date) -> CaseView:
    return CaseView(**case_fields(case), overdue=is_overdue(case, today))


def case_fields(case: Case) -> dict[str, Any]:
    """Every ``CaseView`` field but ``overdue`` (which depends on the day it is read)."""
    is_task = isinstance(case, Task)
    root_office, root_id = case.root
    return {
        "id": str(case.id),
        "office": case.office,
        "kind": "task" if is_task else "item",
        "title": case.title,
        "source_kind": case.source_kind,
        "source_ref": case.source_ref,
        "issued_on": case.issued_on,
        "objective": case.objective,
        "content": case.content,
        "executing_unit": case.executing_unit,
        "responsible_person": case.responsible_person,
        "deadline": case.deadline,
        "deadline_provisional": case.deadline_provisional,
        "deadline_working_days": case.deadline_working_days,
        "importance": case.importance,
        "urgency": case.urgency,
        "status": case.status,
        "version": case.version,
        "acknowledged": case.acknowledged_at is not None,
        "progress_percent": case.progress_percent,
        "last_report": case.last_report,
        "pending_extension": case.pending_extension,
        "extensions_granted": case.extensions_granted,
        "urge_count": case.urge_count,
        "escalation_count": case.escalation_count,
        "commendation_count": case.commendation_count,
        "rectification": case.rectification,
        "published": case.published,
        "public_summary": case.public_summary,
        "finding_count": case.finding_count,
        "completion_reported_on": case.completion_reported_on,
        "completed_on": case.completed_on,
        "pending_extensions": dict(case.pending_extensions),
        "received_reports": {k: dict(v) for k, v in case.received_reports.items()},
        "assignments": list(case.assignments),
        "parent": (
            {"office": case.parent_office, "id": case.parent_id, "role": case.role}
            if isinstance(case, Task)
            else None
        ),
        "root": {"office": root_office, "id": root_id},
        "registered_at": case.created_on,
        "modified_at": case.modified_on,
    }


def is_overdue(case: Case, today: date) -> bool:
    """Past the deadline with no completion reported by it (derived, never stored)."""
    if case.completion_reported_on is not None:
        return case.completion_reported_on > case.deadline
    return case.status not in ENDED and today > case.deadline
