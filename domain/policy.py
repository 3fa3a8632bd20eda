"""Who may do what: the role × action matrix of the HTTP API (the README shows it).
May import: the standard library.

Roles build on each other for actions: a supervisor may do what a clerk does, a leader what
a supervisor does. Auditors and admins carry out no item action. Where a user may *look* is
``services.http.auth``: their own office, summaries of descendants, an auditor's subtree.
"""

from __future__ import annotations

from typing import Final

CLERK_ACTIONS: Final = frozenset(
    {
        "acknowledge",
        "report-progress",
        "report-completion",
        "request-extension",
        "report-rectification",
    }
)
SUPERVISOR_ACTIONS: Final = CLERK_ACTIONS | {
    "register",
    "assign",
    "urge",
    "escalate",
    "record-finding",
    "publish",
    "unpublish",
}
LEADER_ACTIONS: Final = SUPERVISOR_ACTIONS | {
    "accept-completion",
    "return-completion",
    "grant-extension",
    "deny-extension",
    "commend",
    "order-rectification",
    "accept-rectification",
    "close",
    "reopen",
    "issue-circular",
}
ADMIN_ACTIONS: Final = frozenset({"register-office", "set-deadline-policy", "manage-users"})
ALLOWED: Final[dict[str, frozenset[str]]] = {
    "clerk": CLERK_ACTIONS,
    "supervisor": SUPERVISOR_ACTIONS,
    "leader": LEADER_ACTIONS,
    "auditor": frozenset(),
    "admin": ADMIN_ACTIONS,
}
"""role → the commands it may give in its own office (``register`` is 立项)."""

AUDIT_READERS: Final = frozenset({"supervisor", "leader", "auditor"})
"""Who may read an office's audit trail (an auditor: across the subtree granted)."""

SKIPPED_READERS: Final = frozenset({"supervisor", "leader", "admin"})
"""Who may read an office's skipped relays: its supervisors and leaders, and those of the
offices above it (who must act on them); an admin, any office's."""


def may(role: str, action: str) -> bool:
    return action in ALLOWED.get(role, frozenset())


def roles_for(action: str) -> list[str]:
    """The roles that may give ``action``, in the order of ``ALLOWED``."""
    return [role for role, actions in ALLOWED.items() if action in actions]
