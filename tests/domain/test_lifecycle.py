"""Every event of the item life cycle and every rule guarding it."""

from __future__ import annotations

from datetime import date

import pytest

from domain import errors
from domain.assignment import Assignee
from tests.domain.scenario import (
    CLERK,
    DEADLINE,
    ISSUED,
    LEADER,
    OFFICE,
    PARENT,
    PARENT_LEADER,
    PARENT_SUPERVISOR,
    SUPERVISOR,
    WeekdayCalendar,
    accepted,
    acknowledged,
    closed,
    completion_reported,
    given,
    on,
    progressed,
    received_task,
    register,
    then,
)

LATER = on(date(2026, 4, 1))


# -- 立项 ---------------------------------------------------------------------------------
def test_registered_with_the_five_elements_actor_and_business_time() -> None:
    item = register()
    (event,) = then(item, "Registered")
    assert (event.objective, event.content, event.deadline) == (
        "整治违规排污",
        "排查沿河企业排污口",
        DEADLINE,
    )
    assert (event.executing_unit, event.responsible_person) == ("省生态环境厅", "马晓东")
    assert event.actor == SUPERVISOR
    assert event.timestamp == on(ISSUED)
    assert item.status == "registered"


def test_an_instruction_without_deadline_is_due_on_the_30th_working_day() -> None:
    item = register(source_kind="instruction", deadline=None)
    # 2026-03-02 is a Monday: 30 weekdays later, not counting the issue day, is 2026-04-13.
    assert item.deadline == date(2026, 4, 13)
    assert WeekdayCalendar().add_working_days(ISSUED, 30) == date(2026, 4, 13)


@pytest.mark.parametrize("kind", ["decision", "document", "meeting"])
def test_other_source_kinds_need_a_deadline(kind: str) -> None:
    with pytest.raises(errors.MissingDeadlineError, match=kind):
        register(source_kind=kind, deadline=None)


def test_a_deadline_before_the_issue_date_is_an_error() -> None:
    with pytest.raises(errors.DeadlineBeforeIssueError):
        register(deadline=date(2026, 3, 1))


@pytest.mark.parametrize(
    "field",
    ["title", "source_ref", "objective", "content", "executing_unit", "responsible_person"],
)
def test_every_element_is_required(field: str) -> None:
    with pytest.raises(errors.InvalidFieldError) as raised:
        register(**{field: "  "})
    assert raised.value.field == field


@pytest.mark.parametrize(
    ("field", "value"),
    [("source_kind", "rumour"), ("importance", 0), ("urgency", 6), ("office", "Gansu Province")],
)
def test_malformed_fields_are_named(field: str, value: object) -> None:
    with pytest.raises(errors.InvalidFieldError) as raised:
        register(**{field: value})
    assert raised.value.field == field


# -- 交办 ---------------------------------------------------------------------------------
def test_assigned_to_a_lead_and_co_executors_carries_the_brief() -> None:
    item = given(register)
    item.assign(
        SUPERVISOR,
        LATER,
        [Assignee("office", "baiyin", "lead"), Assignee("unit", "省应急厅", "co")],
        deadline=date(2026, 4, 20),
        responsible_person="李明",
    )
    (event,) = then(item, "Assigned")
    assert [a.target for a in event.assignees] == ["baiyin", "省应急厅"]
    assert (event.deadline, event.responsible_person, event.title) == (
        date(2026, 4, 20),
        "李明",
        "关于黄河流域生态保护问题的批示",
    )
    assert (event.root_office, event.root_id) == (OFFICE, str(item.id))
    assert item.assignments[0]["role"] == "lead"


@pytest.mark.parametrize(
    ("assignees", "message"),
    [
        ([], "at least one"),
        ([Assignee("office", "baiyin", "co")], "exactly one lead"),
        (
            [Assignee("office", "baiyin", "lead"), Assignee("office", "lanzhou", "lead")],
            "exactly one lead",
        ),
        (
            [Assignee("office", "baiyin", "lead"), Assignee("office", "baiyin", "co")],
            "named twice",
        ),
        ([Assignee("office", OFFICE, "lead")], "itself"),
    ],
)
def test_an_assignment_names_one_lead_and_no_one_twice(
    assignees: list[Assignee], message: str
) -> None:
    item = given(register)
    with pytest.raises(errors.InvalidAssignmentError, match=message):
        item.assign(SUPERVISOR, LATER, assignees)
    then(item)


def test_nobody_is_assigned_the_same_item_twice() -> None:
    item = given(
        register, lambda c: c.assign(SUPERVISOR, LATER, [Assignee("unit", "一处", "lead")])
    )
    with pytest.raises(errors.InvalidAssignmentError, match="already been assigned"):
        item.assign(SUPERVISOR, LATER, [Assignee("unit", "一处", "lead")])


def test_an_assignment_deadline_may_not_pass_the_items() -> None:
    item = given(register)
    with pytest.raises(errors.AssignmentDeadlineError):
        item.assign(SUPERVISOR, LATER, [Assignee("unit", "一处", "lead")], date(2026, 5, 1))


def test_a_task_is_passed_down_only_after_acknowledgement() -> None:
    task = given(received_task)
    with pytest.raises(errors.NotAcknowledgedError):
        task.assign(SUPERVISOR, LATER, [Assignee("office", "baiyin", "lead")])
    task = given(received_task, acknowledged)
    task.assign(SUPERVISOR, LATER, [Assignee("office", "baiyin", "lead")])
    (event,) = then(task, "Assigned")
    assert (event.root_office, event.root_id) == (PARENT, task.root_id)


# -- 签收, 进展, 办结 -----------------------------------------------------------------------
def test_acknowledged_once() -> None:
    item = given(register)
    item.acknowledge(CLERK, LATER)
    then(item, "Acknowledged")
    assert item.status == "acknowledged"
    with pytest.raises(errors.AlreadyAcknowledgedError):
        item.acknowledge(CLERK, LATER)
    then(item)


def test_progress_is_reported_with_percent_and_attachments() -> None:
    item = given(register, acknowledged)
    item.report_progress(CLERK, LATER, "已排查46个排污口", 30, [{"name": "照片.zip", "size": 10}])
    (event,) = then(item, "ProgressReported")
    assert (event.percent, event.attachments[0]["name"]) == (30, "照片.zip")
    assert (item.status, item.progress_percent) == ("in_progress", 30)


def test_reports_need_acknowledgement() -> None:
    item = given(register)
    with pytest.raises(errors.NotAcknowledgedError):
        item.report_progress(CLERK, LATER, "x", 10)
    with pytest.raises(errors.NotAcknowledgedError):
        item.report_completion(CLERK, LATER, "x")


@pytest.mark.parametrize("percent", [-1, 101, True])
def test_percent_is_0_to_100(percent: int) -> None:
    item = given(register, acknowledged)
    with pytest.raises(errors.InvalidFieldError, match="percent"):
        item.report_progress(CLERK, LATER, "x", percent)


def test_an_attachment_needs_a_name() -> None:
    item = given(register, acknowledged)
    with pytest.raises(errors.InvalidFieldError, match="attachments"):
        item.report_completion(CLERK, LATER, "x", [{"size": 3}])


def test_completion_reported_then_no_more_reports_until_reviewed() -> None:
    item = given(register, acknowledged, progressed)
    item.report_completion(CLERK, LATER, "已完成整治")
    then(item, "CompletionReported")
    assert item.status == "completion_reported"
    with pytest.raises(errors.NotOpenForReportsError):
        item.report_progress(CLERK, LATER, "x", 90)


def test_reports_only_while_open() -> None:
    item = given(register, acknowledged, completion_reported, accepted, closed)
    with pytest.raises(errors.ItemClosedError):
        item.report_progress(CLERK, LATER, "x", 10)


# -- 审核 ---------------------------------------------------------------------------------
def test_completion_accepted_by_the_assigning_office() -> None:
    item = given(register, acknowledged, completion_reported)
    item.accept_completion(LEADER, LATER, "同意")
    then(item, "CompletionAccepted")
    assert (item.status, item.progress_percent) == ("completed", 100)


def test_a_returned_completion_reopens_the_work() -> None:
    item = given(register, acknowledged, completion_reported)
    item.return_completion(LEADER, LATER, "材料不全")
    then(item, "CompletionReturned")
    assert item.status == "in_progress"
    item.report_completion(CLERK, LATER, "已补充材料")
    then(item, "CompletionReported")


def test_nothing_to_review_without_a_completion_report() -> None:
    item = given(register, acknowledged)
    with pytest.raises(errors.NoCompletionPendingError):
        item.accept_completion(LEADER, LATER)
    with pytest.raises(errors.NoCompletionPendingError):
        item.return_completion(LEADER, LATER, "x")


def test_only_the_assigning_office_reviews_a_tasks_completion() -> None:
    task = given(received_task, acknowledged, completion_reported)
    with pytest.raises(errors.NotAssigningOfficeError, match=PARENT):
        task.accept_completion(LEADER, LATER)
    with pytest.raises(errors.NotAssigningOfficeError):
        task.return_completion(LEADER, LATER, "x")
    task.accept_completion(PARENT_LEADER, LATER)
    then(task, "CompletionAccepted")


# -- 延期 ---------------------------------------------------------------------------------
def test_extension_requested_on_the_deadline_day_with_reason_and_progress() -> None:
    item = given(register, acknowledged)
    item.request_extension(CLERK, on(DEADLINE), date(2026, 5, 29), "专家复核", "已完成80%")
    (event,) = then(item, "ExtensionRequested")
    assert (event.new_deadline, event.reason, event.progress) == (
        date(2026, 5, 29),
        "专家复核",
        "已完成80%",
    )
    assert item.pending_extension == date(2026, 5, 29)


def test_no_extension_after_the_deadline() -> None:
    item = given(register, acknowledged)
    with pytest.raises(errors.ExtensionAfterDeadlineError):
        item.request_extension(CLERK, on(date(2026, 5, 1)), date(2026, 5, 29), "晚了")


def test_an_extension_must_ask_for_a_later_deadline() -> None:
    item = given(register, acknowledged)
    with pytest.raises(errors.ExtensionNotLaterError):
        item.request_extension(CLERK, LATER, DEADLINE, "同一天")


def test_one_extension_request_at_a_time() -> None:
    item = given(
        register, lambda c: c.request_extension(CLERK, LATER, date(2026, 5, 29), "专家复核")
    )
    with pytest.raises(errors.ExtensionPendingError):
        item.request_extension(CLERK, LATER, date(2026, 6, 30), "再延")


def test_a_grant_moves_the_deadline_later() -> None:
    item = given(
        register, lambda c: c.request_extension(CLERK, LATER, date(2026, 5, 29), "专家复核")
    )
    item.grant_extension(LEADER, LATER, comment="同意")
    (event,) = then(item, "ExtensionGranted")
    assert event.new_deadline == item.deadline == date(2026, 5, 29)
    assert item.pending_extension is None


def test_a_grant_that_does_not_move_the_deadline_later_is_refused() -> None:
    item = given(
        register, lambda c: c.request_extension(CLERK, LATER, date(2026, 5, 29), "专家复核")
    )
    with pytest.raises(errors.ExtensionNotLaterError):
        item.grant_extension(LEADER, LATER, new_deadline=date(2026, 4, 15))
    assert item.deadline == DEADLINE


def test_a_denial_keeps_the_deadline() -> None:
    item = given(
        register, lambda c: c.request_extension(CLERK, LATER, date(2026, 5, 29), "专家复核")
    )
    item.deny_extension(LEADER, LATER, "理由不充分")
    then(item, "ExtensionDenied")
    assert (item.deadline, item.pending_extension) == (DEADLINE, None)


def test_no_decision_without_a_request() -> None:
    item = given(register)
    with pytest.raises(errors.NoExtensionPendingError):
        item.grant_extension(LEADER, LATER)
    with pytest.raises(errors.NoExtensionPendingError):
        item.deny_extension(LEADER, LATER, "x")


def test_only_the_assigning_office_decides_a_tasks_extension() -> None:
    task = given(
        received_task, lambda c: c.request_extension(CLERK, LATER, date(2026, 5, 29), "复核")
    )
    with pytest.raises(errors.NotAssigningOfficeError):
        task.grant_extension(LEADER, LATER)
    task.grant_extension(PARENT_SUPERVISOR, LATER)
    then(task, "ExtensionGranted")


# -- 催办, 督办, 表彰 ------------------------------------------------------------------------
def test_urged_escalated_and_commended() -> None:
    item = given(register)
    item.urge(SUPERVISOR, LATER, "请于3个工作日内报送进展")
    item.escalate(SUPERVISOR, LATER, "分管副省长", "逾期未报")
    item.commend(LEADER, LATER, "成效明显")
    events = then(item, "Urged", "Escalated", "Commended")
    assert events[1].to == "分管副省长"
    assert (item.urge_count, item.escalation_count, item.commendation_count) == (1, 1, 1)


def test_no_urging_once_the_work_is_accepted() -> None:
    item = given(register, acknowledged, completion_reported, accepted)
    with pytest.raises(errors.CompletionAlreadyAcceptedError):
        item.urge(SUPERVISOR, LATER, "x")
    with pytest.raises(errors.CompletionAlreadyAcceptedError):
        item.escalate(SUPERVISOR, LATER, "x", "y")


def test_good_work_may_be_commended_after_closing() -> None:
    item = given(register, acknowledged, completion_reported, accepted, closed)
    item.commend(LEADER, LATER, "成效明显")
    then(item, "Commended")


# -- 督促整改 -----------------------------------------------------------------------------
def test_rectification_ordered_reported_accepted() -> None:
    item = given(register, acknowledged)
    item.order_rectification(LEADER, LATER, "限期整改", date(2026, 4, 20))
    item.report_rectification(CLERK, LATER, "已整改")
    item.accept_rectification(LEADER, LATER, "通过")
    then(item, "RectificationOrdered", "RectificationReported", "RectificationAccepted")
    assert item.rectification == "accepted"


def test_rectification_goes_one_step_at_a_time() -> None:
    item = given(register)
    with pytest.raises(errors.RectificationStateError):
        item.report_rectification(CLERK, LATER, "x")
    with pytest.raises(errors.RectificationStateError):
        item.accept_rectification(LEADER, LATER)
    item = given(register, lambda c: c.order_rectification(LEADER, LATER, "限期整改"))
    with pytest.raises(errors.RectificationStateError):
        item.order_rectification(LEADER, LATER, "again")
    with pytest.raises(errors.RectificationStateError):
        item.accept_rectification(LEADER, LATER)


def test_only_the_assigning_office_orders_a_tasks_rectification() -> None:
    task = given(received_task)
    with pytest.raises(errors.NotAssigningOfficeError):
        task.order_rectification(LEADER, LATER, "x")
    task.order_rectification(PARENT_LEADER, LATER, "限期整改")
    then(task, "RectificationOrdered")


# -- 销号 ---------------------------------------------------------------------------------
def test_closed_after_the_completion_was_accepted() -> None:
    item = given(register, acknowledged, completion_reported, accepted)
    item.close(LEADER, LATER, "已办结")
    (event,) = then(item, "Closed")
    assert event.leader_closure is False
    assert item.status == "closed"


@pytest.mark.parametrize(
    "steps",
    [(), (acknowledged,), (acknowledged, completion_reported)],
    ids=["registered", "acknowledged", "completion reported"],
)
def test_not_closed_before_the_completion_was_accepted(steps: tuple[object, ...]) -> None:
    item = given(register, *steps)  # type: ignore[arg-type]
    with pytest.raises(errors.CloseNotAllowedError, match="accepted"):
        item.close(LEADER, LATER, "x")


def test_not_closed_while_a_rectification_is_open() -> None:
    item = given(
        register,
        acknowledged,
        completion_reported,
        accepted,
        lambda c: c.order_rectification(LEADER, LATER, "限期整改"),
    )
    with pytest.raises(errors.CloseNotAllowedError, match="rectification"):
        item.close(LEADER, LATER)


def test_a_leader_may_close_explicitly_with_a_reason() -> None:
    item = given(register)
    with pytest.raises(errors.CloseNotAllowedError, match="leader"):
        item.close(SUPERVISOR, LATER, "不再需要", leader_closure=True)
    with pytest.raises(errors.InvalidFieldError, match="reason"):
        item.close(LEADER, LATER, " ", leader_closure=True)
    item.close(LEADER, LATER, "政策调整，事项撤销", leader_closure=True)
    (event,) = then(item, "Closed")
    assert event.leader_closure is True


def test_a_subordinate_leader_cannot_close_a_task_from_above() -> None:
    task = given(received_task)
    with pytest.raises(errors.NotAssigningOfficeError):
        task.close(LEADER, LATER, "不办了", leader_closure=True)


def test_reopened_only_from_closed() -> None:
    item = given(register, acknowledged)
    with pytest.raises(errors.NotClosedError):
        item.reopen(LEADER, LATER, "x")
    item = given(register, acknowledged, completion_reported, accepted, closed)
    item.reopen(LEADER, LATER, "群众反映问题反弹")
    then(item, "Reopened")
    assert item.status == "in_progress"
    item.report_progress(CLERK, LATER, "重新整治", 20)
    then(item, "ProgressReported")


def test_a_closed_item_takes_no_further_work() -> None:
    item = given(register, acknowledged, completion_reported, accepted, closed)
    for act in (
        lambda: item.acknowledge(CLERK, LATER),
        lambda: item.assign(SUPERVISOR, LATER, [Assignee("unit", "一处", "lead")]),
        lambda: item.urge(SUPERVISOR, LATER, "x"),
        lambda: item.request_extension(CLERK, LATER, date(2026, 5, 9), "x"),
        lambda: item.order_rectification(LEADER, LATER, "x"),
        lambda: item.close(LEADER, LATER, "x"),
    ):
        with pytest.raises(errors.ItemClosedError):
            act()
    then(item)


# -- 经验与问题, 公开 ------------------------------------------------------------------------
def test_finding_recorded_with_a_recommendation() -> None:
    item = given(register)
    item.record_finding(SUPERVISOR, LATER, "problem", "用地指标难落实", "市级统筹")
    (event,) = then(item, "FindingRecorded")
    assert (event.kind, event.recommendation) == ("problem", "市级统筹")
    with pytest.raises(errors.InvalidFieldError, match="kind"):
        item.record_finding(SUPERVISOR, LATER, "gossip", "x")


def test_published_and_unpublished() -> None:
    item = given(register)
    with pytest.raises(errors.PublicationStateError):
        item.unpublish(SUPERVISOR, LATER, "x")
    item.publish(SUPERVISOR, LATER, "已完成整治")
    with pytest.raises(errors.PublicationStateError):
        item.publish(SUPERVISOR, LATER, "again")
    item.unpublish(SUPERVISOR, LATER, "涉及敏感信息")
    then(item, "Published", "Unpublished")
    assert item.published is False


# -- 承办任务 -----------------------------------------------------------------------------
def test_a_task_is_received_from_its_parents_assignment() -> None:
    task = received_task()
    (event,) = then(task, "Received")
    assert (event.parent_office, event.role, event.office) == (PARENT, "lead", OFFICE)
    assert (event.deadline, event.responsible_person) == (DEADLINE, "马晓东")
    assert task.status == "received"
    assert task.assigning_office == PARENT


def test_every_event_records_its_actor_and_business_time() -> None:
    item = given(register, acknowledged, progressed)
    item.urge(SUPERVISOR, on(date(2026, 3, 25)), "请加快")
    (event,) = then(item, "Urged")
    assert event.actor == SUPERVISOR
    assert event.timestamp == on(date(2026, 3, 25))
    assert OFFICE in event.actor.office
