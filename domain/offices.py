"""The office registry's aggregate: every office (a tenant) is registered here once. May import: the
standard library, ``eventsourcing.domain`` and the domain's errors and values.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Final
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.errors import InvalidFieldError, OfficeLevelError, OfficeRuleError
from domain.values import (
    OFFICE_LEVELS,
    Actor,
    require_choice,
    require_office_code,
    require_text,
)

OFFICE_NAMESPACE = uuid5(NAMESPACE_URL, "urn:ducha:office")
LOG_KEY_PURPOSES: Final = ("log", "witness")

PARENT_LEVELS: Final[dict[str, tuple[str, ...]]] = {
    "central": (),
    "ministry": ("central",),
    "province": ("central",),
    "prefecture": ("province",),
    "county": ("prefecture", "province"),
}
"""The levels a ranked office may sit under. A ministry's own bodies (司局, 派出机构) are not
local governments, so nothing ranked sits under a ministry; a county-level office may sit
directly under a province (a municipality's districts, 省直管县). ``other`` (a township, a
development zone, a ministry's bureau) may sit anywhere below the root."""

THROUGH_OTHER: Final = ("prefecture", "county")
"""Local governments that may also sit under an ``other`` office (a 地区行署 between a
province and its counties), judged then by the nearest ranked office above it."""

PLACES: Final = {
    "central": "a central office is only ever the root",
    "ministry": "a ministry sits directly under a central office",
    "province": "a province sits directly under a central office",
    "prefecture": "a prefecture sits under a province (directly or through 'other' offices)",
    "county": "a county sits under a prefecture or a province "
    "(directly or through 'other' offices)",
}


def check_level(level: str, above: Sequence[tuple[str, str]]) -> None:
    """Whether an office of ``level`` may sit under ``above``: its parent and the parent's
    ancestors as (code, level), nearest first. The root may have any level."""
    if not above or level == "other":
        return
    allowed = PARENT_LEVELS[level]
    parent_code, parent_level = above[0]
    if parent_level in allowed:
        return
    ranked = next(((c, lv) for c, lv in above if lv != "other"), None)
    if parent_level == "other" and level in THROUGH_OTHER:
        if ranked is None or ranked[1] in allowed:
            return
        where = f"'{parent_code}' (level 'other') below '{ranked[0]}' (level '{ranked[1]}')"
    else:
        where = f"'{parent_code}' (level '{parent_level}')"
    raise OfficeLevelError(
        f"an office of level '{level}' may not sit under {where}: {PLACES[level]}"
    )


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

    class LogKeyRegistered(Aggregate.Event):
        """A public key of the office's verifiable ledger (DESIGN §8): ``purpose`` ``log`` signs
        its checkpoints, ``witness`` cosigns its subordinates'. A later key of the same purpose
        replaces it for new signatures (rotation); the earlier stay known, so that what they
        signed stays verifiable. ``vkey`` is the C2SP verifier key text."""

        actor: Actor
        purpose: str
        vkey: str

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
        cls,
        actor: Actor,
        at: datetime,
        code: str,
        name: str,
        level: str,
        parent: str | None,
        above: Sequence[tuple[str, str]] = (),
    ) -> Office:
        """``above``: the parent and its ancestors as (code, level), nearest first, against
        which the level is checked (``check_level``); the registry passes them."""
        require_office_code("code", code)
        if parent is not None:
            require_office_code("parent", parent)
            if parent == code:
                raise InvalidFieldError("parent", "an office cannot be its own parent")
        name = require_text("name", name, 200)
        level = require_choice("level", level, OFFICE_LEVELS)
        if parent is not None:
            check_level(level, above)
        return cls._create(
            cls.Registered,
            id=cls.create_id(code),
            timestamp=at,
            actor=actor,
            code=code,
            name=name,
            level=level,
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

    def register_log_key(self, actor: Actor, at: datetime, purpose: str, vkey: str) -> None:
        """Register a ledger key (allowed for a retired office too: its history stays
        verifiable)."""
        purpose = require_choice("purpose", purpose, LOG_KEY_PURPOSES)
        vkey = require_text("vkey", vkey, 400)
        if any(c.isspace() for c in vkey) or vkey.count("+") < 2:
            raise InvalidFieldError("vkey", "a verifier key is name+id+key, with no spaces")
        self.trigger_event(
            self.LogKeyRegistered, timestamp=at, actor=actor, purpose=purpose, vkey=vkey
        )

    def check_active(self) -> None:
        if self.retired:
            raise OfficeRuleError(f"office '{self.code}' is retired")
