"""承办任务: a receiving office's own record of an item assigned to it from above.

May import: the standard library, eventsourcing and ``domain`` (cases, values).
"""

from __future__ import annotations

from datetime import date, datetime
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from domain import errors
from domain.cases import Case
from domain.values import Actor, require_office_code, require_text

TASK_NAMESPACE = uuid5(NAMESPACE_URL, "urn:ducha:task")


class Task(Case):
    """Created from the parent's ``Assigned``; the parent office decides on its reports."""

    initial = "received"
    concludable = True
    follows_lead_completion = False

    class Received(Aggregate.Created):
        actor: Actor
        office: str
        parent_office: str
        parent_id: str
        role: str
        root_office: str
        root_id: str
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
        parent_office: str,
        parent_id: str,
        role: str,
        root_office: str,
        root_id: str,
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
        self.parent_office = parent_office
        self.parent_id = parent_id
        self.role = role
        self.root_office = root_office
        self.root_id = root_id
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

    @staticmethod
    def create_id(parent_office: str, parent_id: str, office: str) -> UUID:
        """One task per (parent record, receiving office): receiving twice is a no-op."""
        return uuid5(TASK_NAMESPACE, f"{parent_office}/{parent_id}/{office}")

    @classmethod
    def receive(
        cls,
        *,
        actor: Actor,
        at: datetime,
        office: str,
        parent_office: str,
        parent_id: str,
        assignment: Case.Assigned,
        executing_unit: str,
    ) -> Task:
        """Create the task from the parent's ``Assigned`` event, if it names this office; its
        deadline (and whether that is provisional) is the assignment's."""
        require_office_code("office", office)
        mine = [a for a in assignment.assignees if a.kind == "office" and a.target == office]
        if not mine:
            raise errors.InvalidAssignmentError(f"the assignment does not name office '{office}'")
        return cls._create(
            cls.Received,
            id=cls.create_id(parent_office, parent_id, office),
            timestamp=at,
            actor=actor,
            office=office,
            parent_office=require_office_code("parent_office", parent_office),
            parent_id=parent_id,
            role=mine[0].role,
            root_office=assignment.root_office,
            root_id=assignment.root_id,
            title=assignment.title,
            source_kind=assignment.source_kind,
            source_ref=assignment.source_ref,
            issued_on=assignment.issued_on,
            objective=assignment.objective,
            content=assignment.content,
            executing_unit=require_text("executing_unit", executing_unit, 200),
            responsible_person=assignment.responsible_person,
            deadline=assignment.deadline,
            importance=assignment.importance,
            urgency=assignment.urgency,
            deadline_provisional=assignment.deadline_provisional,
            deadline_working_days=assignment.deadline_working_days,
        )

    @property
    def assigning_office(self) -> str:
        return self.parent_office

    @property
    def root(self) -> tuple[str, str]:
        return self.root_office, self.root_id

    def check_may_assign(self) -> None:
        """A task is passed further down only after it has been acknowledged."""
        super().check_may_assign()
        if self.acknowledged_at is None:
            raise errors.NotAcknowledgedError()
