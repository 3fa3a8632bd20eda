"""Authentication (bearer tokens) and where a user may look (DESIGN §3 isolation). May import:
Flask, ``domain.policy``, ``services.errors``, ``services.registry``, ``services.users`` and
``services.http.errors``.

A user belongs to one office. They see their office's items; the responsibility tree below
items their office holds; roll-up summaries and circulars of their office and its
descendants; office records of their office, its ancestors and descendants. An auditor is
granted their office's subtree: its items, histories and audit trails. Anything else answers
404 exactly as a missing resource would. Within sight, a command beyond the role answers 403.
"""

from __future__ import annotations

from flask import g, request

from domain.policy import AUDIT_READERS, may
from services.errors import NotFoundError
from services.http.errors import ApiError
from services.registry import OfficeRegistry
from services.users import UserDirectory, UserView


def authenticate(users: UserDirectory) -> UserView:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "send Authorization: Bearer <token>")
    user = users.authenticate(token.strip())
    if user is None:
        raise ApiError(401, "the token is not valid (unknown or revoked)")
    g.caller = user  # for the request's log line
    return user


class Access:
    def __init__(self, registry: OfficeRegistry) -> None:
        self.registry = registry

    def _below(self, code: str, of: str) -> bool:
        """Whether ``code`` is a strict descendant of ``of`` (False if ``code`` is unknown)."""
        try:
            return of in self.registry.ancestor_codes(code)
        except NotFoundError:
            return False

    @staticmethod
    def hidden_office(code: str) -> NotFoundError:
        return NotFoundError(f"no office '{code}'")  # the very words of a missing one

    # -- what a user may see ----------------------------------------------------------
    def office(self, user: UserView, code: str) -> None:
        if user.role == "admin" or code == user.office or self._below(code, user.office):
            return
        if self._below(user.office, code):  # one's own superiors
            return
        raise self.hidden_office(code)

    def subtree(self, user: UserView, code: str) -> None:
        """Children lists, roll-ups, circulars: one's office and below (admins: all)."""
        if user.role == "admin" or code == user.office or self._below(code, user.office):
            return
        raise self.hidden_office(code)

    def items(self, user: UserView, code: str) -> None:
        """Raw items: one's own office; an auditor's subtree."""
        if code == user.office or (user.role == "auditor" and self._below(code, user.office)):
            return
        raise self.hidden_office(code)

    def audit(self, user: UserView, code: str) -> None:
        self.items(user, code)
        if user.role not in AUDIT_READERS:
            raise ApiError(403, f"a {user.role} may not read the audit trail")

    # -- what a user may do -----------------------------------------------------------
    def command(self, user: UserView, code: str, action: str) -> None:
        """Commands are given in one's own office only, within the role."""
        self.items(user, code)
        if code != user.office or not may(user.role, action):
            raise ApiError(403, f"a {user.role} may not {action} here")

    def admin(self, user: UserView, action: str = "register-office") -> None:
        if not may(user.role, action):
            raise ApiError(403, f"only an admin may {action.replace('-', ' ')}")

    def visible(self, user: UserView, code: str) -> bool:
        """Whether ``office`` would answer ``user`` (its record: own, above or below)."""
        try:
            self.office(user, code)
        except NotFoundError:
            return False
        return True
