"""Users: each belongs to one office with one role. Only hashes of secrets are kept.

A user reaches the API with a bearer token and the web screens with a login name and a
password. What each role may do is ``domain.policy``; this aggregate only records who was
granted access, by whom, their login and password hash, and when access was revoked. A
``Login`` claims a login name for one user: its id comes from the name, so two users can
never hold the same one (the second save is a conflict). May import: the standard library,
``eventsourcing.domain`` and ``domain``.
"""

from __future__ import annotations

import re
from datetime import datetime
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.errors import InvalidFieldError, OfficeRuleError
from domain.values import Actor, require_choice, require_office_code, require_text

USER_ROLES = ("clerk", "supervisor", "leader", "auditor", "admin")
LOGIN = re.compile(r"[a-z0-9][a-z0-9._-]{1,39}")
LOGIN_NAMESPACE = uuid5(NAMESPACE_URL, "urn:ducha:login")
PASSWORD_HASH = re.compile(r"scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+")


def require_login(login: str) -> str:
    """A login name: 2 to 40 of lower-case letters, digits, '.', '_' and '-' (pinyin, as
    offices assign them: zhangsan, li.si-gansu)."""
    if not LOGIN.fullmatch(login):
        raise InvalidFieldError(
            "login",
            "2 to 40 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit",
        )
    return login


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

    class PasswordSet(Aggregate.Event):
        """The user's login name and password hash, set when the login is given or the
        password reset (by an admin, or the user)."""

        actor: Actor
        login: str
        password_hash: str

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, User)
            aggregate.login = self.login
            aggregate.password_hash = self.password_hash

    def __init__(self, actor: Actor, office: str, role: str, name: str, token_hash: str):
        self.office = office
        self.role = role
        self.name = name
        self.token_hash = token_hash
        self.revoked = False
        self.login: str | None = None
        self.password_hash: str | None = None

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

    def set_password(self, actor: Actor, at: datetime, login: str, password_hash: str) -> None:
        """Give the user ``login`` (their own, once chosen: it cannot change) and a new
        password, as its hash."""
        if self.revoked:
            raise OfficeRuleError("the user's access is revoked")
        if self.login is not None and login != self.login:
            raise InvalidFieldError("login", f"this user signs in as '{self.login}'")
        if not PASSWORD_HASH.fullmatch(password_hash):
            raise InvalidFieldError("password_hash", "must be an scrypt hash")
        self.trigger_event(
            self.PasswordSet,
            timestamp=at,
            actor=actor,
            login=require_login(login),
            password_hash=password_hash,
        )


def login_id(login: str) -> UUID:
    return uuid5(LOGIN_NAMESPACE, login)


class Login(Aggregate):
    """A login name, claimed for one user for good (a revoked user's name is not reused)."""

    class Claimed(Aggregate.Created):
        actor: Actor
        login: str
        user_id: str

    def __init__(self, actor: Actor, login: str, user_id: str) -> None:
        self.login = login
        self.user_id = user_id

    @classmethod
    def claim(cls, actor: Actor, at: datetime, login: str, user_id: UUID) -> Login:
        name = require_login(login)
        return cls._create(
            cls.Claimed,
            id=login_id(name),
            timestamp=at,
            actor=actor,
            login=name,
            user_id=str(user_id),
        )
