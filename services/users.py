"""Users: ``ducha users add`` prints an API token once (only its SHA-256 is recorded) and,
with a login, the password for the web screens (only its scrypt hash is recorded).

Users are events in the platform store beside the offices. Every process keeps a directory
of token hashes, logins and password hashes in memory, caught up from that store's
notification log before each lookup, so a revocation or a new password made anywhere takes
effect at the next request everywhere. May import: the domain, ``services.clock``,
``services.errors``, ``services.inputs``, ``services.passwords`` and ``services.registry``.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from dataclasses import dataclass, replace
from datetime import datetime
from functools import cache
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.persistence import IntegrityError

from domain.errors import InvalidFieldError
from domain.users import Login, User, require_login
from domain.values import Actor
from services.clock import Clock
from services.errors import AlreadyExistsError, NotFoundError
from services.inputs import china_time
from services.passwords import hash_password, password_problem, verify_password
from services.registry import OfficeRegistry

TOKEN_PREFIX = "dch_"


@dataclass(frozen=True)
class UserView:
    id: str
    office: str
    role: str
    name: str
    revoked: bool
    registered_at: datetime
    login: str | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "office": self.office,
            "role": self.role,
            "name": self.name,
            "revoked": self.revoked,
            "registered_at": self.registered_at.isoformat(),
            "login": self.login,
        }


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class UserDirectory:
    def __init__(self, registry: OfficeRegistry, clock: Clock) -> None:
        self.registry = registry
        self.store = registry.store
        self.clock = clock
        self._by_id: dict[UUID, UserView] = {}
        self._by_hash: dict[str, UUID] = {}
        self._by_login: dict[str, UUID] = {}
        self._passwords: dict[UUID, str] = {}
        self._position = 0
        self._lock = threading.Lock()

    def add(
        self,
        actor: Actor,
        office: str,
        role: str,
        name: str,
        login: str | None = None,
        password: str | None = None,
    ) -> tuple[UserView, str]:
        """A new user and their token (shown once: it is not stored); with ``login``, also
        their password for the web screens. A login already taken is ``AlreadyExistsError``
        and nothing is recorded."""
        self.registry.get(office)
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        at = self.clock()
        user = User.register(uuid4(), actor, at, office, role, name, token_hash(token))
        claims = []
        if login is not None:
            if password is None:
                raise InvalidFieldError("password", "a login needs a password")
            user.set_password(actor, at, require_login(login), self._hashed(password))
            claims.append(Login.claim(actor, at, login, user.id))
        self._save(user, *claims)
        return self.get(str(user.id)), token

    def set_password(self, actor: Actor, login: str, password: str) -> UserView:
        """A new password for the user who signs in as ``login``."""
        view = self.by_login(login)
        with self.store.changing(UUID(view.id)) as user:
            user.set_password(actor, self.clock(), login, self._hashed(password))
            self.store.save(user)
        return self.get(view.id)

    def give_login(self, actor: Actor, user_id: str, login: str, password: str) -> UserView:
        """A login and password for a user who has had only a token."""
        view = self.get(user_id)
        with self.store.changing(UUID(view.id)) as user:
            user.set_password(actor, self.clock(), login, self._hashed(password))
            self._save(user, Login.claim(actor, self.clock(), login, user.id))
        return self.get(user_id)

    def by_login(self, login: str) -> UserView:
        self.refresh()
        found = self._by_login.get(login)
        if found is None:
            raise NotFoundError(f"no user signs in as '{login}'")
        return self._by_id[found]

    def password_hash(self, user_id: str) -> str | None:
        """The user's password hash (to notice a change), or None without a login."""
        self.refresh()
        try:
            return self._passwords.get(UUID(user_id))
        except ValueError:
            return None

    def check_password(self, login: str, password: str) -> UserView | None:
        """The active user who signs in as ``login`` with ``password``, or None. The hash is
        computed even for an unknown login, so the answer takes as long either way."""
        self.refresh()
        found = self._by_login.get(login)
        stored = self._passwords.get(found) if found else None
        ok = verify_password(password, stored or unknown_login_hash())
        user = self._by_id.get(found) if found else None
        return user if ok and user is not None and not user.revoked else None

    @staticmethod
    def _hashed(password: str) -> str:
        problem = password_problem(password)
        if problem:
            raise InvalidFieldError("password", problem)
        return hash_password(password)

    def _save(self, *aggregates: User | Login) -> None:
        try:
            self.store.save(*aggregates)
        except IntegrityError:
            logins = [a.login for a in aggregates if isinstance(a, Login)]
            raise AlreadyExistsError(f"the login '{logins[0]}' is taken") from None

    def revoke(self, actor: Actor, user_id: str, reason: str) -> UserView:
        view = self.get(user_id)
        with self.store.changing(UUID(view.id)) as user:
            user.revoke(actor, self.clock(), reason)
            self.store.save(user)
        return self.get(user_id)

    def get(self, user_id: str) -> UserView:
        self.refresh()
        try:
            return self._by_id[UUID(user_id)]
        except (KeyError, ValueError):
            raise NotFoundError(f"no user '{user_id}'") from None

    def display_name(self, user_id: str) -> str:
        """Who did it, as people read it: a user's name, or the actor id itself for the
        platform's own actors (``deadline-engine``, ``process-manager``, ``calendar``) and the
        CLI's operators."""
        self.refresh()
        try:
            return self._by_id[UUID(user_id)].name
        except (KeyError, ValueError):
            return user_id

    def audit_rows(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Audit entries as people read them: China time, and who in words (``actor_name``)."""
        return [
            {**r, "time": china_time(r["time"]), "actor_name": self.display_name(r["actor_user"])}
            for r in rows
        ]

    def list(self, office: str | None = None) -> list[UserView]:
        self.refresh()
        users = [u for u in self._by_id.values() if office is None or u.office == office]
        return sorted(users, key=lambda u: (u.office, u.role, u.name, u.id))

    def authenticate(self, token: str) -> UserView | None:
        """The active user holding ``token``, or None."""
        self.refresh()
        found = self._by_hash.get(token_hash(token))
        user = self._by_id.get(found) if found else None
        return user if user is not None and not user.revoked else None

    def refresh(self) -> None:
        with self._lock:
            while batch := self.store.recorder.select_notifications(
                self._position + 1, 500, topics=USER_TOPICS
            ):
                for notification in batch:
                    self._apply(self.store.mapper.to_domain_event(notification))
                self._position = batch[-1].id

    def _apply(self, event: object) -> None:
        if isinstance(event, User.Registered):
            self._by_id[event.originator_id] = UserView(
                str(event.originator_id),
                event.office,
                event.role,
                event.name,
                False,
                event.timestamp,
            )
            self._by_hash[event.token_hash] = event.originator_id
        elif isinstance(event, User.Revoked):
            old = self._by_id[event.originator_id]
            self._by_id[event.originator_id] = replace(old, revoked=True)
        elif isinstance(event, User.PasswordSet):
            old = self._by_id[event.originator_id]
            self._by_id[event.originator_id] = replace(old, login=event.login)
            self._by_login[event.login] = event.originator_id
            self._passwords[event.originator_id] = event.password_hash


@cache
def unknown_login_hash() -> str:
    """Checked against when a login is unknown: a wrong login costs what a wrong password does."""
    return hash_password(secrets.token_urlsafe(16))


USER_TOPICS = (
    f"{User.__module__}:{User.Registered.__qualname__}",
    f"{User.__module__}:{User.Revoked.__qualname__}",
    f"{User.__module__}:{User.PasswordSet.__qualname__}",
)
