"""Who an item is assigned to (交办 / 分解): a lead (牵头) and co-executors (协办). May import: the
standard library and the domain's errors and values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from domain.errors import InvalidAssignmentError
from domain.values import require_choice, require_office_code, require_text

ASSIGNEE_KINDS: Final = ("office", "unit")
ASSIGNEE_ROLES: Final = ("lead", "co")


@dataclass(frozen=True)
class Assignee:
    """A subordinate office (by code, cross-tenant) or an internal unit (by name)."""

    kind: str
    target: str
    role: str

    def __post_init__(self) -> None:
        require_choice("assignee.kind", self.kind, ASSIGNEE_KINDS)
        require_choice("assignee.role", self.role, ASSIGNEE_ROLES)
        if self.kind == "office":
            require_office_code("assignee.target", self.target)
        else:
            require_text("assignee.target", self.target, 200)

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.target}"


def check_assignees(assignees: list[Assignee], own_office: str, already: set[str]) -> None:
    """One lead, no repeats, not the assigning office itself, nobody assigned twice."""
    if not assignees:
        raise InvalidAssignmentError("an assignment needs at least one assignee")
    leads = [a for a in assignees if a.role == "lead"]
    if len(leads) != 1:
        raise InvalidAssignmentError(
            f"an assignment needs exactly one lead (牵头), got {len(leads)}"
        )
    keys = [a.key for a in assignees]
    if len(set(keys)) != len(keys):
        raise InvalidAssignmentError("the same assignee is named twice")
    for a in assignees:
        if a.kind == "office" and a.target == own_office:
            raise InvalidAssignmentError("an office cannot assign an item to itself")
        if a.key in already:
            raise InvalidAssignmentError(f"'{a.target}' has already been assigned this item")
