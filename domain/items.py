"""督查事项: a supervision item, registered (立项) by the office that supervises it. May import: the
standard library, ``eventsourcing.domain`` and the domain (``cases``, ``values``).
"""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain import errors
from domain.cases import Case
from domain.values import (
    INSTRUCTION_DEFAULT_WORKING_DAYS,
    SOURCE_KINDS,
    Actor,
    ComputedDeadline,
    WorkingCalendar,
    count_deadline,
    require_choice,
    require_office_code,
    require_scale,
    require_text,
)


def default_deadline(
    source_kind: str, issued_on: date, deadline: date | None, calendar: WorkingCalendar
) -> ComputedDeadline:
    """A leader's instruction without a deadline is due on the 30th working day after issue
    (provisional if the count reaches a year whose holiday notice is not yet published); a
    deadline given is never provisional."""
    if deadline is not None:
        if deadline < issued_on:
            raise errors.DeadlineBeforeIssueError()
        return ComputedDeadline(deadline)
    if source_kind != "instruction":
        raise errors.MissingDeadlineError(source_kind)
    return count_deadline(calendar, issued_on, INSTRUCTION_DEFAULT_WORKING_DAYS)


class SupervisionItem(Case):
    """The registering office's record: it assigns the item and decides on the reports."""

    class Registered(Aggregate.Created):
        actor: Actor
        office: str
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
        deadline_provisional: bool = False
        deadline_working_days: int | None = None

    def __init__(
        self,
        actor: Actor,
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
        self._init_case(
            office,
            title,
            source_kind,
            source_ref,
            issued_on,
            objective,
            content,
            executing_unit,
            responsible_person,
            deadline,
            importance,
            urgency,
            deadline_provisional,
            deadline_working_days,
        )

    @classmethod
    def register(
        cls,
        *,
        item_id: UUID,
        actor: Actor,
        at: datetime,
        office: str,
        title: str,
        source_kind: str,
        source_ref: str,
        issued_on: date,
        objective: str,
        content: str,
        executing_unit: str,
        responsible_person: str,
        calendar: WorkingCalendar,
        deadline: date | None = None,
        importance: int = 3,
        urgency: int = 3,
    ) -> SupervisionItem:
        """立项: all five elements are required; see ``default_deadline`` for the deadline."""
        source_kind = require_choice("source_kind", source_kind, SOURCE_KINDS)
        due = default_deadline(source_kind, issued_on, deadline, calendar)
        return cls._create(
            cls.Registered,
            id=item_id,
            timestamp=at,
            actor=actor,
            office=require_office_code("office", office),
            title=require_text("title", title, 300),
            source_kind=source_kind,
            source_ref=require_text("source_ref", source_ref, 200),
            issued_on=issued_on,
            objective=require_text("objective", objective),
            content=require_text("content", content, 20000),
            executing_unit=require_text("executing_unit", executing_unit, 200),
            responsible_person=require_text("responsible_person", responsible_person, 200),
            deadline=due.day,
            importance=require_scale("importance", importance),
            urgency=require_scale("urgency", urgency),
            deadline_provisional=due.provisional,
            deadline_working_days=due.working_days,
        )

    @property
    def assigning_office(self) -> str:
        return self.office

    @property
    def root(self) -> tuple[str, str]:
        return self.office, str(self.id)
