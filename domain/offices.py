"""The office registry's aggregate: every office (a tenant) is registered here once."""

from __future__ import annotations

from datetime import datetime
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.errors import InvalidFieldError, OfficeRuleError
from domain.values import (
    OFFICE_LEVELS,
    Actor,
    require_choice,
    require_office_code,
    require_text,
)

OFFICE_NAMESPACE = uuid5(NAMESPACE_URL, "urn:ducha:office")


class Office(Aggregate):
    """An office (机关) with an immutable code, a Chinese name, a level and a parent."""

    class Registered(Aggregate.Created):
        actor: Actor
        code: str
        name: str
        level: str
        parent: str | None

    class Renamed(Aggregate.Event):
        actor: Actor
        name: str

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, Office)
            aggregate.name = self.name

    class Retired(Aggregate.Event):
        actor: Actor
        reason: str

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, Office)
            aggregate.retired = True

    class DeadlinePolicySet(Aggregate.Event):
        """How the deadline engine treats this office's overdue records."""

        actor: Actor
        escalate: bool
        grace_working_days: int

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, Office)
            aggregate.escalate = self.escalate
            aggregate.grace_working_days = self.grace_working_days

    def __init__(self, actor: Actor, code: str, name: str, level: str, parent: str | None):
        self.code = code
        self.name = name
        self.level = level
        self.parent = parent
        self.retired = False
        self.escalate = True
        self.grace_working_days = 0

    @staticmethod
    def create_id(code: str) -> UUID:
        """One id per code, so a code can never be registered twice."""
        return uuid5(OFFICE_NAMESPACE, code)

    @classmethod
    def register(
        cls, actor: Actor, at: datetime, code: str, name: str, level: str, parent: str | None
    ) -> Office:
        require_office_code("code", code)
        if parent is not None:
            require_office_code("parent", parent)
            if parent == code:
                raise InvalidFieldError("parent", "an office cannot be its own parent")
        return cls._create(
            cls.Registered,
            id=cls.create_id(code),
            timestamp=at,
            actor=actor,
            code=code,
            name=require_text("name", name, 200),
            level=require_choice("level", level, OFFICE_LEVELS),
            parent=parent,
        )

    def rename(self, actor: Actor, at: datetime, name: str) -> None:
        self.check_active()
        name = require_text("name", name, 200)
        if name == self.name:
            raise OfficeRuleError(f"office '{self.code}' is already named '{name}'")
        self.trigger_event(self.Renamed, timestamp=at, actor=actor, name=name)

    def retire(self, actor: Actor, at: datetime, reason: str) -> None:
        self.check_active()
        self.trigger_event(
            self.Retired, timestamp=at, actor=actor, reason=require_text("reason", reason)
        )

    def set_deadline_policy(
        self, actor: Actor, at: datetime, escalate: bool, grace_working_days: int
    ) -> None:
        self.check_active()
        if isinstance(grace_working_days, bool) or not 0 <= grace_working_days <= 60:
            raise InvalidFieldError("grace_working_days", "must be a whole number from 0 to 60")
        self.trigger_event(
            self.DeadlinePolicySet,
            timestamp=at,
            actor=actor,
            escalate=escalate,
            grace_working_days=grace_working_days,
        )

    def check_active(self) -> None:
        if self.retired:
            raise OfficeRuleError(f"office '{self.code}' is retired")
