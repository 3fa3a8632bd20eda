"""Deadlines counted on the provisional calendar: marked, inherited, recomputed as events."""

from __future__ import annotations

from datetime import date

import pytest

from domain import errors
from domain.assignment import Assignee
from domain.cases import Case
from domain.tasks import Task
from domain.values import Actor
from tests.domain.scenario import (
    LEADER,
    OFFICE,
    SUPERVISOR,
    NoticeCalendar,
    acknowledged,
    given,
    on,
    register,
    then,
)

ISSUED = date(2027, 1, 20)  # a Wednesday
UNPUBLISHED = NoticeCalendar(provisional=(2027,))
PUBLISHED = NoticeCalendar(workdays=(date(2027, 2, 20),))  # its notice: a make-up Saturday
SYSTEM = Actor("calendar", OFFICE, "system")


def provisional_instruction() -> Case:
    return register(
        source_kind="instruction",
        deadline=None,
        issued_on=ISSUED,
        at=on(ISSUED),
        calendar=UNPUBLISHED,
    )


def recompute(c: Case) -> None:
    c.recompute_deadline(
        SYSTEM, on(date(2027, 1, 25)), PUBLISHED, "已公布", "国办发明电〔2026〕9号"
    )


def test_a_counted_deadline_in_an_unpublished_year_is_provisional_with_its_basis() -> None:
    item = provisional_instruction()
    (event,) = then(item, "Registered")
    assert (event.deadline, event.deadline_provisional, event.deadline_working_days) == (
        date(2027, 3, 3),
        True,
        30,
    )
    assert (item.deadline_provisional, item.deadline_working_days) == (True, 30)


def test_a_deadline_given_is_never_provisional() -> None:
    item = register(deadline=date(2027, 3, 1), issued_on=ISSUED, calendar=UNPUBLISHED)
    assert (item.deadline_provisional, item.deadline_working_days) == (False, None)


def test_a_published_count_is_certain_but_keeps_its_basis() -> None:
    item = register(source_kind="instruction", deadline=None, calendar=PUBLISHED)
    assert (item.deadline_provisional, item.deadline_working_days) == (False, 30)


def test_the_notice_recomputes_the_deadline_as_an_event_once() -> None:
    item = given(provisional_instruction, recompute)
    assert (item.deadline, item.deadline_provisional) == (date(2027, 3, 2), False)
    item = given(provisional_instruction)
    recompute(item)
    recompute(item)  # a second time: nothing moves, nothing is recorded
    (event,) = then(item, "DeadlineRecomputed")
    assert (event.old_deadline, event.new_deadline, event.provisional) == (
        date(2027, 3, 3),
        date(2027, 3, 2),
        False,
    )
    assert (event.actor, event.reason, event.notice) == (SYSTEM, "已公布", "国办发明电〔2026〕9号")


def test_an_assignment_inherits_the_provisional_deadline_and_moves_with_it() -> None:
    def assign(c: Case) -> None:
        c.assign(SUPERVISOR, on(ISSUED), [Assignee("office", "baiyin", "lead")])
        c.assign(SUPERVISOR, on(ISSUED), [Assignee("unit", "一处", "lead")], date(2027, 2, 26))

    item = provisional_instruction()
    assign(item)
    _, first, second = then(item, "Registered", "Assigned", "Assigned")
    assert (first.deadline_provisional, first.deadline_working_days) == (True, 30)
    assert (second.deadline_provisional, second.deadline_working_days) == (False, None)
    task = Task.receive(
        actor=Actor("pm", "baiyin", "system"),
        at=on(ISSUED),
        office="baiyin",
        parent_office=OFFICE,
        parent_id=str(item.id),
        assignment=first,
        executing_unit="白银市人民政府办公室",
    )
    assert (task.deadline, task.deadline_provisional, task.deadline_working_days) == (
        date(2027, 3, 3),
        True,
        30,
    )
    recompute(task)
    assert (task.deadline, task.deadline_provisional) == (date(2027, 3, 2), False)
    recompute(item)
    *_, event = then(item, "DeadlineRecomputed")
    assert event.assignments == ["office:baiyin"]
    assert [a["deadline"] for a in item.assignments] == ["2027-03-02", "2027-02-26"]


def test_an_extension_granted_is_a_date_not_a_count() -> None:
    def extended(c: Case) -> None:
        c.request_extension(SUPERVISOR, on(ISSUED), date(2027, 3, 31), "复核")
        c.grant_extension(LEADER, on(ISSUED))

    item = given(provisional_instruction, acknowledged, extended)
    assert (item.deadline, item.deadline_provisional, item.deadline_working_days) == (
        date(2027, 3, 31),
        False,
        None,
    )
    recompute(item)
    assert then(item) == []


def test_a_closed_record_is_refused_before_anything_is_recorded() -> None:
    def closed(c: Case) -> None:
        c.close(LEADER, on(ISSUED), "撤销", leader_closure=True)

    item = given(provisional_instruction, closed)
    with pytest.raises(errors.ItemClosedError):
        recompute(item)
    assert then(item) == []
    assert item.deadline_provisional  # what was counted provisionally stays marked


def test_urges_and_escalations_say_whether_they_were_judged_provisionally() -> None:
    item = provisional_instruction()
    item.urge(SUPERVISOR, on(ISSUED), "请加快", provisional=True)
    item.escalate(SUPERVISOR, on(ISSUED), "gansu", "逾期")
    _, urged, escalated = then(item, "Registered", "Urged", "Escalated")
    assert (urged.provisional, escalated.provisional) == (True, False)
