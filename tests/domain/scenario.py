"""Given events / when command / then events or error, in memory, with no store."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any
from uuid import uuid4

from eventsourcing.domain import Aggregate

from domain.assignment import Assignee
from domain.cases import Case
from domain.items import SupervisionItem
from domain.tasks import Task
from domain.values import CHINA_TZ, Actor

OFFICE = "gansu"
PARENT = "state-council"
CLERK = Actor("clerk-1", OFFICE, "clerk")
SUPERVISOR = Actor("sup-1", OFFICE, "supervisor")
LEADER = Actor("leader-1", OFFICE, "leader")
PARENT_SUPERVISOR = Actor("sup-0", PARENT, "supervisor")
PARENT_LEADER = Actor("leader-0", PARENT, "leader")
ISSUED = date(2026, 3, 2)
DEADLINE = date(2026, 4, 30)


class WeekdayCalendar:
    """Weekends off, no holidays: enough for domain rules (the real one is tested apart)."""

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5

    def add_working_days(self, start: date, n: int) -> date:
        day = start
        while n:
            day += timedelta(days=1)
            n -= self.is_working_day(day)
        return day

    def working_days_between(self, a: date, b: date) -> int:
        return sum(self.is_working_day(a + timedelta(days=k)) for k in range(1, (b - a).days + 1))

    def provisional_years_between(self, a: date, b: date) -> tuple[int, ...]:
        return ()

    def reckon(self, start: date, n: int) -> tuple[date, tuple[int, ...]]:
        day = self.add_working_days(start, n)
        return day, self.provisional_years_between(start, day)


class NoticeCalendar(WeekdayCalendar):
    """Weekdays, plus make-up ``workdays``; the ``provisional`` years have no notice yet."""

    def __init__(self, provisional: tuple[int, ...] = (), workdays: tuple[date, ...] = ()) -> None:
        self.provisional = provisional
        self.workdays = set(workdays)

    def is_working_day(self, day: date) -> bool:
        return day in self.workdays or day.weekday() < 5

    def provisional_years_between(self, a: date, b: date) -> tuple[int, ...]:
        first, last = sorted((a, b))
        after = (first + timedelta(days=1)).year
        return tuple(y for y in self.provisional if after <= y <= last.year and a != b)


def on(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 10, 0, tzinfo=CHINA_TZ)


def register(**overrides: Any) -> SupervisionItem:
    fields: dict[str, Any] = dict(
        item_id=uuid4(),
        actor=SUPERVISOR,
        at=on(ISSUED),
        office=OFFICE,
        title="关于黄河流域生态保护问题的批示",
        source_kind="document",
        source_ref="甘政发〔2026〕1号",
        issued_on=ISSUED,
        objective="整治违规排污",
        content="排查沿河企业排污口",
        executing_unit="省生态环境厅",
        responsible_person="马晓东",
        calendar=WeekdayCalendar(),
        deadline=DEADLINE,
    )
    fields.update(overrides)
    return SupervisionItem.register(**fields)


def received_task() -> Task:
    """A task of OFFICE assigned by PARENT."""
    parent = register(office=PARENT, actor=PARENT_SUPERVISOR)
    parent.assign(PARENT_SUPERVISOR, on(ISSUED), [Assignee("office", OFFICE, "lead")])
    assigned = parent.collect_events()[-1]
    assert isinstance(assigned, Case.Assigned)
    return Task.receive(
        actor=Actor("pm", OFFICE, "system"),
        at=on(ISSUED),
        office=OFFICE,
        parent_office=PARENT,
        parent_id=str(parent.id),
        assignment=assigned,
        executing_unit="甘肃省人民政府办公厅",
    )


Step = Callable[[Case], None]


def given(start: Callable[[], Case], *steps: Step) -> Case:
    """Run the steps, then rebuild the aggregate from its events alone (replay)."""
    case = start()
    for step in steps:
        step(case)
    events = case.collect_events()
    replayed: Aggregate | None = None
    for event in events:
        replayed = event.mutate(replayed)
    assert isinstance(replayed, Case)
    return replayed


def then(case: Case, *types: str) -> list[Any]:
    events = case.collect_events()
    assert [type(e).__name__ for e in events] == list(types)
    return events


def acknowledged(c: Case) -> None:
    c.acknowledge(CLERK, on(ISSUED))


def progressed(c: Case) -> None:
    c.report_progress(CLERK, on(date(2026, 3, 20)), "进展", 40)


def completion_reported(c: Case) -> None:
    c.report_completion(CLERK, on(date(2026, 4, 20)), "已完成")


def accepted(c: Case) -> None:
    c.accept_completion(LEADER, on(date(2026, 4, 21)))


def closed(c: Case) -> None:
    c.close(LEADER, on(date(2026, 4, 22)), "已办结")
