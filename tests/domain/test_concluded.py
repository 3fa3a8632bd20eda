"""结办: a task ends because the matter it serves was closed above it, whatever its state.

Given events / when ``conclude`` / then ``Concluded`` (or nothing, or a named error).
"""

from __future__ import annotations

from datetime import date

import pytest

from domain import errors
from domain.assignment import Assignee
from domain.cases import Case
from domain.lights import light
from domain.values import Actor
from tests.domain.scenario import (
    CLERK,
    DEADLINE,
    LEADER,
    PARENT,
    PARENT_LEADER,
    SUPERVISOR,
    WeekdayCalendar,
    acknowledged,
    given,
    on,
    progressed,
    received_task,
    register,
    then,
)

AT = on(date(2026, 4, 1))
SYSTEM = Actor("process-manager", "gansu", "system")
SOURCE = f"{PARENT}/00000000-0000-0000-0000-000000000001/9"


def completion_reported(c: Case) -> None:
    c.report_completion(CLERK, on(date(2026, 3, 25)), "已完成")


def returned(c: Case) -> None:
    c.return_completion(PARENT_LEADER, on(date(2026, 3, 26)), "材料不全", source="p/1/7")


def extension_asked(c: Case) -> None:
    c.request_extension(CLERK, on(date(2026, 3, 20)), date(2026, 5, 29), "汛期施工受阻")


def accepted(c: Case) -> None:
    c.accept_completion(PARENT_LEADER, on(date(2026, 3, 27)), source="p/1/8")


STATES = {
    "received": (),
    "acknowledged": (acknowledged,),
    "in_progress": (acknowledged, progressed),
    "completion_reported": (acknowledged, completion_reported),
    "in_progress (returned)": (acknowledged, completion_reported, returned),
    "acknowledged (extension pending)": (acknowledged, extension_asked),
    "completed": (acknowledged, completion_reported, accepted),
}


@pytest.mark.parametrize("state", STATES)
def test_a_task_is_concluded_whatever_its_state(state: str) -> None:
    task = given(received_task, *STATES[state])
    assert task.status == state.split(" ")[0]
    task.conclude(SYSTEM, AT, PARENT, SOURCE)
    (event,) = then(task, "Concluded")
    assert (event.reason, event.closed_by, event.source) == (
        f"matter closed by {PARENT}",
        PARENT,
        SOURCE,
    )
    assert event.actor == SYSTEM
    assert task.status == "concluded"
    assert light(task.status, DEADLINE, date(2026, 6, 1), WeekdayCalendar()) == "green"


def test_concluding_is_terminal_every_later_action_is_refused() -> None:
    task = given(received_task, acknowledged, progressed)
    task.conclude(SYSTEM, AT, PARENT, SOURCE)
    task.collect_events()
    refused = [
        lambda: task.report_progress(CLERK, AT, "继续", 60),
        lambda: task.report_completion(CLERK, AT, "完成"),
        lambda: task.request_extension(CLERK, AT, date(2026, 5, 29), "理由"),
        lambda: task.urge(PARENT_LEADER, AT, "请加快", source="p/1/10"),
        lambda: task.escalate(Actor("deadline-engine", "gansu", "system"), AT, PARENT, "超期"),
        lambda: task.assign(SUPERVISOR, AT, [Assignee("office", "baiyin", "lead")]),
        lambda: task.order_rectification(PARENT_LEADER, AT, "整改", source="p/1/11"),
        lambda: task.close(PARENT_LEADER, AT, "销号", leader_closure=True),
        lambda: task.reopen(LEADER, AT, "问题反弹"),
    ]
    for action in refused:
        with pytest.raises(errors.TaskConcludedError, match=f"closed by '{PARENT}'"):
            action()
    assert task.collect_events() == []


def test_a_task_concluded_before_it_was_acknowledged_cannot_be_acknowledged() -> None:
    task = given(received_task)
    task.conclude(SYSTEM, AT, PARENT, SOURCE)
    task.collect_events()
    with pytest.raises(errors.TaskConcludedError):
        task.acknowledge(CLERK, AT)


def test_concluding_twice_or_a_task_that_has_ended_records_nothing() -> None:
    task = given(received_task, acknowledged)
    task.conclude(SYSTEM, AT, PARENT, SOURCE)
    task.conclude(SYSTEM, AT, PARENT, SOURCE)  # the same source again
    task.conclude(SYSTEM, AT, PARENT, f"{SOURCE}0")  # another source: it has ended already
    then(task, "Concluded")
    closed = given(received_task, acknowledged, completion_reported, accepted)
    closed.close(PARENT_LEADER, AT, "办结")
    closed.collect_events()
    closed.conclude(SYSTEM, AT, PARENT, SOURCE)  # closed already: it stays closed
    then(closed)
    assert closed.status == "closed"


def test_an_item_is_never_concluded() -> None:
    item = given(register)
    with pytest.raises(errors.NotConcludableError):
        item.conclude(SYSTEM, AT, PARENT, SOURCE)
    then(item)


def test_a_report_received_from_below_does_not_revive_a_concluded_task() -> None:
    task = given(received_task, acknowledged)
    task.assign(SUPERVISOR, on(date(2026, 3, 3)), [Assignee("office", "baiyin", "lead")])
    task.conclude(SYSTEM, AT, PARENT, SOURCE)
    task.receive_report(
        SYSTEM,
        AT,
        source="baiyin/x/3",
        from_office="baiyin",
        task_id="x",
        kind="completion",
        reported_at=AT,
        text="已完成",
    )
    then(task, "Assigned", "Concluded", "ReportReceived")
    assert task.status == "concluded"  # the lead's report is kept, the end stands
    assert task.received_reports["baiyin"]["kind"] == "completion"


def test_the_concluded_state_survives_a_replay() -> None:
    def concluded(c: Case) -> None:
        c.conclude(SYSTEM, AT, PARENT, SOURCE)

    task = given(received_task, acknowledged, concluded)
    assert (task.status, task.concluded_by) == ("concluded", PARENT)
    assert SOURCE in task.sources
