"""通报: a circular issued by an office, naming commended and criticised units. May import: the
standard library, ``eventsourcing.domain`` and the domain's errors and values.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.errors import InvalidFieldError
from domain.values import Actor, require_office_code, require_text


class Circular(Aggregate):
    """Issued once; a correction is a new circular."""

    class Issued(Aggregate.Created):
        actor: Actor
        office: str
        title: str
        scope: str
        text: str
        commended: list[str]
        criticised: list[str]

    def __init__(
        self,
        actor: Actor,
        office: str,
        title: str,
        scope: str,
        text: str,
        commended: list[str],
        criticised: list[str],
    ) -> None:
        self.office = office
        self.title = title
        self.scope = scope
        self.text = text
        self.commended = commended
        self.criticised = criticised

    @classmethod
    def issue(
        cls,
        *,
        circular_id: UUID,
        actor: Actor,
        at: datetime,
        office: str,
        title: str,
        scope: str,
        text: str,
        commended: list[str],
        criticised: list[str],
    ) -> Circular:
        for field, units in (("commended", commended), ("criticised", criticised)):
            for unit in units:
                require_text(field, unit, 200)
        if not commended and not criticised:
            raise InvalidFieldError("commended", "a circular names at least one unit")
        if set(commended) & set(criticised):
            raise InvalidFieldError("criticised", "a unit cannot be commended and criticised")
        return cls._create(
            cls.Issued,
            id=circular_id,
            timestamp=at,
            actor=actor,
            office=require_office_code("office", office),
            title=require_text("title", title, 300),
            scope=require_text("scope", scope, 200),
            text=require_text("text", text, 20000),
            commended=[u.strip() for u in commended],
            criticised=[u.strip() for u in criticised],
        )
