"""Signing in to the web screens: a login and password checked against the user directory,
and a lock after repeated failures.

Five failed attempts in a row lock a login for fifteen minutes (``DUCHA_SIGNIN_LOCK_MINUTES``);
a success clears the count. Failures are counted for unknown logins too, so that the answer
never tells whether a login exists. The counts live in the read store (``sign_in_failures``),
shared by every process of the office's server; admins see and lift locks (``ducha users
locks``, ``ducha users unlock``). May import: ``projections.readstore``, ``services.clock``,
``services.errors``, ``services.users`` and the domain.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.users import LOGIN
from projections.readstore import ReadStore
from services.clock import Clock
from services.errors import ServiceError
from services.users import UserDirectory, UserView

ATTEMPTS = 5
LOCK_MINUTES = 15
DDL = """
CREATE TABLE IF NOT EXISTS sign_in_failures (
    login TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    locked_until TEXT
)
"""


class SignInError(ServiceError):
    """Wrong login or password, or a locked login; the message says which, never more."""

    def __init__(self, message: str, locked_until: datetime | None = None) -> None:
        super().__init__(message)
        self.locked_until = locked_until


@dataclass(frozen=True)
class Lock:
    login: str
    until: datetime


class SignIn:
    def __init__(self, users: UserDirectory, read: ReadStore, clock: Clock) -> None:
        self.users = users
        self.read = read
        self.clock = clock
        minutes = float(os.environ.get("DUCHA_SIGNIN_LOCK_MINUTES", LOCK_MINUTES))
        self.lock_for = timedelta(minutes=minutes)
        read.ensure(DDL)

    def __call__(self, login: str, password: str) -> UserView:
        """The user, or ``SignInError``. A locked login is refused without checking the
        password (and without lengthening the lock)."""
        login = login.strip().lower()
        now = self.clock()
        until = self.locked_until(login, now)
        if until is not None:
            raise SignInError("this login is locked after repeated failures", until)
        user = self.users.check_password(login, password)
        if user is None:
            until = self._failed(login, now)
            if until is not None:
                raise SignInError("this login is locked after repeated failures", until)
            raise SignInError("wrong login or password")
        self.unlock(login)
        return user

    def locked_until(self, login: str, now: datetime | None = None) -> datetime | None:
        rows = self.read.all("SELECT locked_until FROM sign_in_failures WHERE login = ?", (login,))
        if not rows or rows[0]["locked_until"] is None:
            return None
        until = datetime.fromisoformat(rows[0]["locked_until"])
        return until if until > (now or self.clock()) else None

    def locks(self) -> list[Lock]:
        """Logins locked now, for admins."""
        now = self.clock()
        rows = self.read.all(
            "SELECT login, locked_until FROM sign_in_failures "
            "WHERE locked_until IS NOT NULL ORDER BY login"
        )
        found = [Lock(r["login"], datetime.fromisoformat(r["locked_until"])) for r in rows]
        return [lock for lock in found if lock.until > now]

    def unlock(self, login: str) -> None:
        """Forget the login's failures (and its lock, if any)."""
        with self.read.transaction() as tx:
            tx.execute("DELETE FROM sign_in_failures WHERE login = ?", (login,))

    def _failed(self, login: str, now: datetime) -> datetime | None:
        """Count a failure; the lock's end when this one locks the login."""
        if not LOGIN.fullmatch(login):
            return None  # no such login can exist: nothing to count
        with self.read.transaction() as tx:
            tx.execute(
                "INSERT INTO sign_in_failures (login, failures, locked_until) VALUES (?, 1, NULL) "
                "ON CONFLICT (login) DO UPDATE SET failures = sign_in_failures.failures + 1",
                (login,),
            )
            row = tx.one("SELECT failures FROM sign_in_failures WHERE login = ?", (login,))
            if row is None or int(row["failures"]) < ATTEMPTS:
                return None
            until = now + self.lock_for
            tx.execute(
                "UPDATE sign_in_failures SET failures = 0, locked_until = ? WHERE login = ?",
                (until.isoformat(), login),
            )
            return until
