"""Value objects and vocabularies shared by the aggregates.

May import: the standard library and ``domain.errors``."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Final, Protocol

from domain.errors import InvalidFieldError

CHINA_TZ: Final = timezone(timedelta(hours=8), "CST")

SOURCE_KINDS: Final = ("decision", "document", "meeting", "instruction")
"""重大决策部署, 政府文件, 会议决定, 领导批示."""

OFFICE_LEVELS: Final = ("central", "ministry", "province", "prefecture", "county", "other")
ROLES: Final = ("clerk", "supervisor", "leader", "auditor", "admin", "system")
CHANNELS: Final = ("", "api", "web", "cli", "demo")
"""How an actor reached the platform: "" on events recorded before channels were kept, and
for the platform's own engines (role ``system``)."""
FINDING_KINDS: Final = ("experience", "problem")
INSTRUCTION_DEFAULT_WORKING_DAYS: Final = 30

OFFICE_CODE = re.compile(r"[a-z0-9-]{2,40}")


@dataclass(frozen=True)
class Actor:
    """Who did it: a user of an office, acting in a role (``system`` for the engines), and how
    they reached the platform: over the API (an authenticated user), the web screens, or the
    command line, where ``os_user`` is the operating-system account that ran the command
    (the CLI is an operator's tool: its ``user_id`` is only what the operator claimed)."""

    user_id: str
    office: str
    role: str
    channel: str = ""
    os_user: str = ""

    def __post_init__(self) -> None:
        require_text("actor.user_id", self.user_id)
        require_text("actor.office", self.office)
        if self.role not in ROLES:
            raise InvalidFieldError("actor.role", f"must be one of {', '.join(ROLES)}")
        if self.channel not in CHANNELS:
            raise InvalidFieldError("actor.channel", f"must be one of {', '.join(CHANNELS)}")
        if self.os_user:
            require_text("actor.os_user", self.os_user)


class WorkingCalendar(Protocol):
    """The Chinese government working-day calendar, as the domain needs it."""

    def add_working_days(self, start: date, n: int) -> date: ...

    def is_working_day(self, day: date) -> bool: ...

    def working_days_between(self, a: date, b: date) -> int: ...

    def reckon(self, start: date, n: int) -> tuple[date, tuple[int, ...]]:
        """The n-th working day after ``start``, and the years counted on the way on the
        provisional calendar (their holiday notice is not yet published): empty when the day
        is certain. One version of the holiday data answers both."""
        ...


@dataclass(frozen=True)
class ComputedDeadline:
    """A deadline counted in working days: the day, whether it is provisional, and its basis
    (``working_days`` after the issue date, kept so the deadline can be recomputed)."""

    day: date
    provisional: bool = False
    working_days: int | None = None


def count_deadline(
    calendar: WorkingCalendar, issued_on: date, working_days: int
) -> ComputedDeadline:
    """The ``working_days``-th working day after ``issued_on`` (which does not count)."""
    day, provisional_years = calendar.reckon(issued_on, working_days)
    return ComputedDeadline(day, bool(provisional_years), working_days)


def business_date(at: datetime) -> date:
    """The date in China on which an instant falls: deadlines are judged by it."""
    return at.astimezone(CHINA_TZ).date()


UNSTORABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")
"""NUL and the other C0 controls but tab, newline and carriage return, and lone surrogates:
text that PostgreSQL, JSON encoders or UTF-8 files cannot hold, or that shows as nothing."""


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot be stored as text, or None if it can."""
    found = UNSTORABLE.search(value)
    if found is None:
        return None
    char = found.group()
    if "\ud800" <= char <= "\udfff":
        return (
            f"contains a lone surrogate (U+{ord(char):04X}) at position {found.start()}: "
            "not valid Unicode text"
        )
    return (
        f"contains the control character U+{ord(char):04X} at position {found.start()}: "
        "only tab, newline and carriage return are allowed"
    )


def clean_text(field: str, value: str) -> str:
    """Refuse what cannot be stored (``text_problem``); normalise to NFC."""
    problem = text_problem(value)
    if problem:
        raise InvalidFieldError(field, problem)
    return unicodedata.normalize("NFC", value)


def require_text(field: str, value: str, max_length: int = 2000) -> str:
    """Strip a text field and insist that it says something storable."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidFieldError(field, "is required")
    value = clean_text(field, value.strip())
    if len(value) > max_length:
        raise InvalidFieldError(field, f"is longer than {max_length} characters")
    return value


def require_choice(field: str, value: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise InvalidFieldError(field, f"must be one of {', '.join(choices)} (got '{value}')")
    return value


def require_scale(field: str, value: int) -> int:
    """Importance and urgency are graded 1 (low) to 5 (high)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        raise InvalidFieldError(field, "must be a whole number from 1 to 5")
    return value


def require_office_code(field: str, code: str) -> str:
    if not isinstance(code, str) or not OFFICE_CODE.fullmatch(code):
        raise InvalidFieldError(
            field, f"must be 2–40 lower-case ASCII letters, digits or '-' (got '{code}')"
        )
    return code
