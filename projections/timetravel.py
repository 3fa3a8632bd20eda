"""Time travel: the read models as they stood at a past instant, rebuilt from the stores.

Events carry their business time (DESIGN §6.8: in the payload, not a column), so the stores
are replayed into a throw-away in-memory read store, each record's history up to its first
event after the instant. Nothing is written anywhere else and no process manager runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any
from uuid import UUID

from domain.values import WorkingCalendar, business_date
from projections.queries import ReadModels
from projections.readstore import SQLiteReadStore
from projections.runner import Projection, Runner
from services.stores import Backend


class UntilRunner(Runner):
    """A runner that stops each record's history at the first event after ``until``."""

    def __init__(self, until: datetime, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.until = until
        self.stopped: set[UUID] = set()

    def wanted(self, event: Any) -> bool:
        if event.originator_id in self.stopped or event.timestamp > self.until:
            self.stopped.add(event.originator_id)
            return False
        return True


def as_of(
    until: datetime,
    backend: Backend,
    offices: Iterable[str],
    projections: list[Projection[Any]],
    calendar: WorkingCalendar,
    children: Callable[[str], list[tuple[str, str]]],
) -> ReadModels:
    """Read models of ``offices`` as they stood at ``until`` (lights judged on that day)."""
    read = SQLiteReadStore(":memory:")
    codes = list(offices)
    runner = UntilRunner(until, backend, lambda: codes, read, projections, [])
    runner.catch_up_all()
    return ReadModels(read, calendar, lambda: business_date(until), children)
