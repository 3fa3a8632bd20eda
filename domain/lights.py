"""预警灯: the warning light, derived from deadline, status and the calendar; never stored.

May import: the standard library and ``domain`` (values).
"""

from __future__ import annotations

from datetime import date
from typing import Final

from domain.values import WorkingCalendar

AWAITING_WORK: Final = ("registered", "received", "acknowledged", "in_progress")
"""Statuses in which the work is still due (no completion reported, not closed)."""
ENDED: Final = ("closed", "concluded")
"""Statuses in which a record's work has ended for good: closed by its office (销号), or a
task concluded because the matter was closed above it (结办). Never due, never urged."""
YELLOW_WORKING_DAYS: Final = 3


def yellow_until(today: date, calendar: WorkingCalendar) -> date:
    """The last deadline that is yellow today: three working days ahead."""
    return calendar.add_working_days(today, YELLOW_WORKING_DAYS)


def light(status: str, deadline: date, today: date, calendar: WorkingCalendar) -> str:
    """red: overdue; yellow: ≤ 3 working days left; green: otherwise, or no longer due."""
    if status not in AWAITING_WORK:
        return "green"
    if today > deadline:
        return "red"
    return "yellow" if deadline <= yellow_until(today, calendar) else "green"
