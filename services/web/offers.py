"""Which actions the item page offers: those the API would accept from this person on this
record as it stands, and no others.

The person's side is the API's own check (``Access.command``: their office, their role in
``domain.policy``). The record's side is the domain's own rules, never a copy of them: each
action is tried with plain inputs on a throwaway copy of the record
(``SupervisionService.copy_of``; nothing is saved). An action refused for its inputs only (a
field error, a date past the office's own deadline) is still offered: other inputs would pass.
Decisions on a subordinate office's request (``assignee``) are offered once per office waiting.
May import: the domain, the services, ``services.http.auth`` and ``services.web.common``.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from domain import errors
from domain.cases import Case
from domain.values import Actor
from services.actions import domain_params
from services.errors import NotFoundError
from services.http.errors import ApiError
from services.supervision import ACTIONS
from services.users import UserView
from services.web.common import context

INPUT_ERRORS = (errors.InvalidFieldError, errors.ExtensionBeyondOwnDeadlineError)
"""Refusals that other inputs would avoid: the action is still offered."""
DECISIONS = {
    "accept-completion": "pending_completions",
    "return-completion": "pending_completions",
    "grant-extension": "pending_extensions",
    "deny-extension": "pending_extensions",
}
"""Decisions that may concern this record's own request or a subordinate office's."""
PROBE = "-"


@dataclass(frozen=True)
class Offer:
    """One action the page offers; ``assignee``: the subordinate office it decides for."""

    action: str
    assignee: str = ""

    @property
    def key(self) -> str:
        return f"{self.action}:{self.assignee}" if self.assignee else self.action


def web_actor(user: UserView) -> Actor:
    return Actor(user.id, user.office, user.role, channel="web")


def may_command(user: UserView, office: str, action: str) -> bool:
    """The API's ``Access.command``, answered as yes or no."""
    try:
        context().access.command(user, office, action)
    except (ApiError, NotFoundError):  # 403 or 404 over the API: not offered
        return False
    return True


def offers(user: UserView, office: str, item_id: str) -> list[Offer]:
    """The actions ``user`` may take on the record now, in ``ACTIONS`` order."""
    allowed = [a for a in ACTIONS if may_command(user, office, a)]
    if not allowed or context().platform.registry.get(office).retired:
        return []
    record = context().platform.supervision.copy_of(office, item_id)
    actor = web_actor(user)
    return [
        offer
        for action in allowed
        for offer in candidates(record, action)
        if passes(record, actor, offer)
    ]


def candidates(record: Case, action: str) -> Iterator[Offer]:
    yield Offer(action)
    if action in DECISIONS:
        for office in sorted(getattr(record, DECISIONS[action])):
            yield Offer(action, office)


def passes(record: Case, actor: Actor, offer: Offer) -> bool:
    """Whether the domain takes ``offer`` on a copy of ``record`` with plain inputs."""
    for params in trial_inputs(record, offer):
        trial = copy.deepcopy(record)
        try:
            getattr(trial, ACTIONS[offer.action])(actor, context().platform.clock(), **params)
        except INPUT_ERRORS:
            return True
        except errors.DomainError:
            continue
        return True
    return False


def trial_inputs(record: Case, offer: Offer) -> list[dict[str, Any]]:
    """Plain inputs for trying an action (the close action: both of its ways)."""
    named = {"assignee": offer.assignee} if offer.action in DECISIONS else {}
    given: dict[str, dict[str, Any]] = {
        "assign": {"to": None, "to_unit": PROBE},
        "report-progress": {"text": PROBE, "percent": 0},
        "report-completion": {"text": PROBE},
        "return-completion": {"reason": PROBE},
        "request-extension": {
            "new_deadline": record.deadline + timedelta(days=1),
            "reason": PROBE,
        },
        "deny-extension": {"reason": PROBE},
        "urge": {"message": PROBE},
        "escalate": {"to": PROBE, "reason": PROBE},
        "commend": {"reason": PROBE},
        "order-rectification": {"requirements": PROBE},
        "report-rectification": {"text": PROBE},
        "reopen": {"reason": PROBE},
        "publish": {"summary": PROBE},
        "unpublish": {"reason": PROBE},
        "record-finding": {"kind": "experience", "text": PROBE},
    }
    if offer.action == "close":
        return [{}, {"reason": PROBE, "leader_closure": True}]
    if offer.action == "assign":
        return [domain_params("assign", given["assign"])]
    return [{**given.get(offer.action, {}), **named}]


def assignable(user: UserView) -> list[tuple[str, str]]:
    """(code, name) of the active offices below the person's own: whom they may assign to."""
    registry = context().platform.registry
    return [(o.code, o.name) for o in registry.descendants(user.office) if not o.retired]
