"""Plain DTOs returned by queries; never aggregates. Their ``to_dict`` is the JSON shape."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, is_dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID


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
