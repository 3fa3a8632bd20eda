"""Users of the HTTP API: each belongs to one office with one role. Only a token's hash is kept. May
import: the standard library, ``eventsourcing.domain`` and the domain's errors and values.

What each role may do is ``domain.policy``; this aggregate only records who was granted
access, by whom, and when it was revoked.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.errors import InvalidFieldError, OfficeRuleError
from domain.values import Actor, require_choice, require_office_code, require_text

USER_ROLES = ("clerk", "supervisor", "leader", "auditor", "admin")


class User(Aggregate):
    class Registered(Aggregate.Created):
        actor: Actor
        office: str
        role: str
        name: str
        token_hash: str

    class Revoked(Aggregate.Event):
        actor: Actor
        reason: str

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, User)
            aggregate.revoked = True

    def __init__(self, actor: Actor, office: str, role: str, name: str, token_hash: str):
        self.office = office
        self.role = role
        self.name = name
        self.token_hash = token_hash
        self.revoked = False

    @classmethod
    def register(
        cls,
        user_id: UUID,
        actor: Actor,
        at: datetime,
        office: str,
        role: str,
        name: str,
        token_hash: str,
    ) -> User:
        if len(token_hash) != 64:
            raise InvalidFieldError("token_hash", "must be a SHA-256 hex digest")
        return cls._create(
            cls.Registered,
            id=user_id,
            timestamp=at,
            actor=actor,
            office=require_office_code("office", office),
            role=require_choice("role", role, USER_ROLES),
            name=require_text("name", name, 200),
            token_hash=token_hash,
        )

    def revoke(self, actor: Actor, at: datetime, reason: str) -> None:
        if self.revoked:
            raise OfficeRuleError("the user's access is already revoked")
        self.trigger_event(
            self.Revoked, timestamp=at, actor=actor, reason=require_text("reason", reason)
        )
