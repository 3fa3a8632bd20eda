"""Action parameters as the CLI and the HTTP API take them, turned into the domain's. May import:
the standard library and the domain.

Both interfaces name an action's parameters alike (``--new-deadline`` / ``new_deadline``);
most pass straight through. Two need shaping: attachments are named files, and ``assign``
names its lead and co-executors as offices or internal units.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from domain.assignment import Assignee
from domain.errors import InvalidFieldError


def registration_warnings(deadline: date, today: date) -> list[str]:
    """What a person registering an item should hear although nothing is wrong with it."""
    if deadline < today:
        return [
            f"the deadline {deadline} has already passed (today is {today}): the item is "
            "overdue from the start"
        ]
    return []


def attachments(names: Iterable[str]) -> list[dict[str, Any]]:
    return [{"name": n} for n in names]


def assign_params(
    to: str | None,
    to_unit: str | None,
    co: Iterable[str] = (),
    co_unit: Iterable[str] = (),
    deadline: date | None = None,
    responsible: str | None = None,
) -> dict[str, Any]:
    if bool(to) == bool(to_unit):
        raise InvalidFieldError("to", "name the lead with exactly one of to (office) or to_unit")
    lead = Assignee("office", to, "lead") if to else Assignee("unit", to_unit or "", "lead")
    others = [Assignee("office", c, "co") for c in co] + [
        Assignee("unit", u, "co") for u in co_unit
    ]
    return {
        "assignees": [lead, *others],
        "deadline": deadline,
        "responsible_person": responsible or "",
    }


def domain_params(action: str, given: dict[str, Any]) -> dict[str, Any]:
    """The domain method's keyword arguments from an action's named parameters."""
    if action == "assign":
        return assign_params(**given)
    params = dict(given)
    if "attachment" in params:
        params["attachments"] = attachments(params.pop("attachment"))
    return params
