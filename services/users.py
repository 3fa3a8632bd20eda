"""API users: ``ducha users add`` prints a token once; only its SHA-256 is recorded. May import: the
standard library, the domain, ``services.clock``, ``services.errors``, ``services.inputs`` and
``services.registry``.

Users are events in the platform store beside the offices. Every process keeps a directory
of token hashes in memory, caught up from that store's notification log before each lookup,
so a revocation made anywhere takes effect at the next request everywhere.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from domain.users import User
from domain.values import Actor
from services.clock import Clock
from services.errors import NotFoundError
from services.inputs import china_time
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

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "office": self.office,
            "role": self.role,
            "name": self.name,
            "revoked": self.revoked,
            "registered_at": self.registered_at.isoformat(),
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
        self._position = 0
        self._lock = threading.Lock()

    def add(self, actor: Actor, office: str, role: str, name: str) -> tuple[UserView, str]:
        """A new user and their token (shown once: it is not stored)."""
        self.registry.get(office)
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        user = User.register(uuid4(), actor, self.clock(), office, role, name, token_hash(token))
        self.store.save(user)
        return self.get(str(user.id)), token

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


USER_TOPICS = (
    f"{User.__module__}:{User.Registered.__qualname__}",
    f"{User.__module__}:{User.Revoked.__qualname__}",
)
