"""Reports relayed up and decisions relayed down: recorded once per source event."""

from __future__ import annotations

from datetime import date

import pytest

from domain import errors
from domain.assignment import Assignee
from domain.cases import Case
from tests.domain.scenario import (
    CLERK,
    DEADLINE,
    LEADER,
    PARENT_LEADER,
    SUPERVISOR,
    acknowledged,
    given,
    on,
    received_task,
    register,
    then,
)

AT = on(date(2026, 4, 1))
SYSTEM = CLERK.__class__("process-manager", CLERK.office, "system")


def assigned(c: Case) -> None:
    c.assign(
        SUPERVISOR, AT, [Assignee("office", "baiyin", "lead"), Assignee("office", "lanzhou", "co")]
    )


def report(c: Case, kind: str, source: str, office: str = "baiyin", **kw: object) -> None:
    c.receive_report(SYSTEM, AT, source, office, "task-1", kind, on(date(2026, 3, 31)), **kw)


def test_a_leads_reports_move_the_parent_record_on_receipt() -> None:
    item = given(register, assigned)
    report(item, "acknowledged", "baiyin/1")
    assert (item.status, item.acknowledged_at) == ("acknowledged", AT)
    report(item, "progress", "baiyin/2", text="过半", percent=60)
    assert (item.status, item.progress_percent) == ("in_progress", 60)
    report(item, "completion", "baiyin/3", text="已完成")
    events = then(item, "ReportReceived", "ReportReceived", "ReportReceived")
    assert events[2].reported_at == on(date(2026, 3, 31)) and events[2].timestamp == AT
    assert item.status == "completion_reported"
    assert item.completion_reported_on == date(2026, 4, 1)  # judged by the receiving time
    item.accept_completion(LEADER, AT)
    then(item, "CompletionAccepted")


def test_a_report_is_recorded_once_per_source() -> None:
    item = given(register, assigned)
    report(item, "progress", "baiyin/2", text="过半", percent=60)
    report(item, "progress", "baiyin/2", text="过半", percent=60)
    then(item, "ReportReceived")


def test_a_co_executors_reports_are_recorded_without_moving_the_record() -> None:
    item = given(register, assigned)
    report(item, "completion", "lanzhou/3", office="lanzhou", text="协办完成")
    then(item, "ReportReceived")
    assert item.status == "registered"
    assert item.received_reports["lanzhou"]["kind"] == "completion"


def test_only_assigned_offices_report() -> None:
    item = given(register, assigned)
    with pytest.raises(errors.InvalidAssignmentError, match="sichuan"):
        report(item, "progress", "sichuan/1", office="sichuan", percent=1)
    with pytest.raises(errors.InvalidFieldError, match="kind"):
        report(item, "gossip", "baiyin/9")


def test_a_subordinates_extension_is_granted_on_its_assignment_not_on_the_record() -> None:
    item = given(
        register,
        lambda c: c.assign(
            SUPERVISOR, AT, [Assignee("office", "baiyin", "lead")], deadline=date(2026, 4, 20)
        ),
    )
    report(item, "extension_request", "baiyin/4", new_deadline=date(2026, 4, 29))
    assert item.pending_extensions == {"baiyin": date(2026, 4, 29)}
    item.grant_extension(LEADER, AT, assignee="baiyin")
    (event,) = then(item, "ReportReceived", "ExtensionGranted")[1:]
    assert event.assignee == "baiyin"
    assert item.deadline == DEADLINE  # the record's own deadline stays
    assert item.assignments[0]["deadline"] == "2026-04-29"
    with pytest.raises(errors.NoExtensionPendingError):
        item.deny_extension(LEADER, AT, "x", assignee="baiyin")


def test_a_relayed_decision_is_applied_once_per_source() -> None:
    task = given(received_task, acknowledged)
    task.urge(PARENT_LEADER, AT, "请加快", source="gansu-item/7")
    task.urge(PARENT_LEADER, AT, "请加快", source="gansu-item/7")
    task.commend(PARENT_LEADER, AT, "好", source="gansu-item/8")
    task.commend(PARENT_LEADER, AT, "好", source="gansu-item/8")
    then(task, "Urged", "Commended")
    assert task.sources == {"gansu-item/7", "gansu-item/8"}


def test_applied_sources_survive_a_replay_from_events() -> None:
    task = given(
        received_task,
        acknowledged,
        lambda c: c.urge(PARENT_LEADER, AT, "请加快", source="gansu-item/7"),
    )
    assert task.sources == {"gansu-item/7"}
    task.urge(PARENT_LEADER, AT, "请加快", source="gansu-item/7")
    then(task)
