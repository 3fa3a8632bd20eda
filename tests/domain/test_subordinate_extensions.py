"""Extensions asked for by subordinate offices, decided on the parent's record: a grant stays
within the granting record's own deadline, and a decision that names nobody decides the one
request waiting."""

from __future__ import annotations

from datetime import date

import pytest

from domain import errors
from domain.assignment import Assignee
from domain.cases import Case
from domain.values import Actor
from tests.domain.scenario import (
    CLERK,
    DEADLINE,
    LEADER,
    PARENT_LEADER,
    SUPERVISOR,
    Step,
    acknowledged,
    given,
    on,
    received_task,
    register,
    then,
)

AT = on(date(2026, 4, 1))
SYSTEM = Actor("process-manager", CLERK.office, "system")
EARLIER = date(2026, 4, 20)
"""The subordinates' assignment deadline, before the record's own (DEADLINE, 2026-04-30)."""


def assigned(c: Case) -> None:
    """baiyin leads, lanzhou co-executes, both due before the record itself."""
    c.assign(
        SUPERVISOR,
        AT,
        [Assignee("office", "baiyin", "lead"), Assignee("office", "lanzhou", "co")],
        deadline=EARLIER,
    )


def asks(office: str, new_deadline: date) -> Step:
    """``office``'s task asked for an extension: its request relayed up to this record."""

    def step(c: Case) -> None:
        c.receive_report(
            SYSTEM,
            AT,
            source=f"{office}/ext",
            from_office=office,
            task_id="task-1",
            kind="extension_request",
            reported_at=AT,
            text="复核",
            new_deadline=new_deadline,
        )

    return step


def own_request(new_deadline: date) -> Step:
    def step(c: Case) -> None:
        c.request_extension(CLERK, AT, new_deadline, "专家复核")

    return step


# -- a grant stays within the granting record's own deadline -----------------------------
def test_a_grant_past_the_items_own_deadline_is_refused_naming_the_way_out() -> None:
    item = given(register, assigned, asks("baiyin", date(2026, 5, 29)))
    with pytest.raises(errors.ExtensionBeyondOwnDeadlineError) as refused:
        item.grant_extension(LEADER, AT, assignee="baiyin")
    assert str(refused.value) == (
        "an extension granted to 'baiyin' may not move its deadline to 2026-05-29, past this "
        "record's own deadline (2026-04-30): grant a date on or before 2026-04-30, or extend "
        "this item's own deadline first (request-extension on it, then grant-extension "
        "without an assignee)"
    )
    then(item)  # nothing recorded
    assert item.pending_extensions == {"baiyin": date(2026, 5, 29)}


def test_a_grant_may_reach_the_records_own_deadline() -> None:
    item = given(register, assigned, asks("baiyin", date(2026, 5, 29)))
    item.grant_extension(LEADER, AT, new_deadline=DEADLINE, assignee="baiyin")
    (event,) = then(item, "ExtensionGranted")
    assert (event.assignee, event.new_deadline) == ("baiyin", DEADLINE)
    assert item.assignments[0]["deadline"] == "2026-04-30"


def test_a_top_level_item_extends_itself_first_then_grants_further() -> None:
    """An item's registering office is its own assigning office: it moves its own deadline."""
    item = given(
        register,
        assigned,
        asks("baiyin", date(2026, 5, 29)),
        own_request(date(2026, 6, 30)),
        lambda c: c.grant_extension(LEADER, AT),
    )
    assert item.deadline == date(2026, 6, 30)
    item.grant_extension(LEADER, AT, assignee="baiyin")
    (event,) = then(item, "ExtensionGranted")
    assert (event.assignee, event.new_deadline) == ("baiyin", date(2026, 5, 29))


def assigned_further(c: Case) -> None:
    """gansu's task (due DEADLINE, assigned by the State Council) passed on to baiyin."""
    c.assign(SUPERVISOR, AT, [Assignee("office", "baiyin", "lead")], deadline=EARLIER)


def test_a_task_grants_past_its_own_deadline_only_after_its_assigning_office_extends_it() -> None:
    task = given(received_task, acknowledged, assigned_further, asks("baiyin", date(2026, 5, 29)))
    with pytest.raises(
        errors.ExtensionBeyondOwnDeadlineError,
        match="request an extension from your own assigning office 'state-council' first",
    ):
        task.grant_extension(LEADER, AT, assignee="baiyin")
    then(task)

    task.request_extension(CLERK, AT, date(2026, 6, 30), "下级需专家复核")
    task.grant_extension(PARENT_LEADER, AT, source="state-council/item/9")  # relayed from above
    task.grant_extension(LEADER, AT, assignee="baiyin")
    granted = then(task, "ExtensionRequested", "ExtensionGranted", "ExtensionGranted")
    assert (granted[1].assignee, granted[1].new_deadline) == ("", date(2026, 6, 30))
    assert (granted[2].assignee, granted[2].new_deadline) == ("baiyin", date(2026, 5, 29))


def test_a_denial_is_not_limited() -> None:
    item = given(register, assigned, asks("baiyin", date(2026, 9, 30)))
    item.deny_extension(LEADER, AT, "理由不充分", assignee="baiyin")
    then(item, "ExtensionDenied")
    assert item.pending_extensions == {}


def test_a_grant_recorded_before_the_rule_still_replays() -> None:
    """Events are history: a stored grant past the record's deadline is applied as it was."""

    def recorded_before() -> Case:
        item = register()
        for step in (assigned, asks("baiyin", date(2026, 5, 29))):
            step(item)
        item.trigger_event(
            Case.ExtensionGranted,
            timestamp=AT,
            actor=LEADER,
            new_deadline=date(2026, 5, 29),
            comment="",
            assignee="baiyin",
        )
        return item

    assert given(recorded_before).assignments[0]["deadline"] == "2026-05-29"


# -- a decision that names nobody -------------------------------------------------------
def test_the_one_request_waiting_is_decided_without_naming_it() -> None:
    item = given(register, assigned, asks("lanzhou", date(2026, 4, 29)))
    item.grant_extension(LEADER, AT)
    (event,) = then(item, "ExtensionGranted")
    assert (event.assignee, event.new_deadline) == ("lanzhou", date(2026, 4, 29))
    assert item.deadline == DEADLINE and item.pending_extensions == {}

    item = given(register, assigned, asks("lanzhou", date(2026, 4, 29)))
    item.deny_extension(LEADER, AT, "理由不充分")
    (event,) = then(item, "ExtensionDenied")
    assert event.assignee == "lanzhou"


def test_several_requests_waiting_must_be_named() -> None:
    item = given(
        register,
        assigned,
        asks("lanzhou", date(2026, 4, 29)),
        asks("baiyin", date(2026, 4, 28)),
    )
    for decide in (
        lambda: item.grant_extension(LEADER, AT),
        lambda: item.deny_extension(LEADER, AT, "x"),
    ):
        with pytest.raises(errors.ExtensionAssigneeRequiredError) as refused:
            decide()
        assert str(refused.value) == (
            "extension requests from baiyin, lanzhou are waiting: "
            "name one with --assignee / assignee"
        )
    then(item)
    item.grant_extension(LEADER, AT, assignee="lanzhou")
    assert [e.assignee for e in then(item, "ExtensionGranted")] == ["lanzhou"]


def test_the_records_own_request_is_decided_first_when_nobody_is_named() -> None:
    item = given(
        register, assigned, asks("baiyin", date(2026, 4, 29)), own_request(date(2026, 5, 29))
    )
    item.grant_extension(LEADER, AT)
    (event,) = then(item, "ExtensionGranted")
    assert (event.assignee, item.deadline) == ("", date(2026, 5, 29))
    assert item.pending_extensions == {"baiyin": date(2026, 4, 29)}


def test_a_task_waiting_on_its_own_request_is_told_to_name_its_subordinate() -> None:
    task = given(
        received_task,
        acknowledged,
        assigned_further,
        asks("baiyin", date(2026, 4, 29)),
        own_request(date(2026, 5, 29)),
    )
    with pytest.raises(errors.NotAssigningOfficeError) as refused:
        task.grant_extension(LEADER, AT)
    assert str(refused.value) == (
        "only the assigning office 'state-council' may grant an extension; "
        "to decide a request from baiyin, name it with --assignee / assignee"
    )
    task.grant_extension(LEADER, AT, assignee="baiyin")
    then(task, "ExtensionGranted")


def test_a_task_decides_its_one_subordinates_request_without_naming_it() -> None:
    task = given(received_task, acknowledged, assigned_further, asks("baiyin", date(2026, 4, 29)))
    task.grant_extension(LEADER, AT)
    (event,) = then(task, "ExtensionGranted")
    assert (event.assignee, task.deadline) == ("baiyin", DEADLINE)


def test_a_decision_from_above_never_decides_a_subordinates_request() -> None:
    """A decision relayed from the assigning office is about the task's own request."""
    task = given(received_task, acknowledged, assigned_further, asks("baiyin", date(2026, 4, 29)))
    with pytest.raises(errors.NoExtensionPendingError):
        task.grant_extension(PARENT_LEADER, AT, source="state-council/item/9")
    then(task)
    assert task.pending_extensions == {"baiyin": date(2026, 4, 29)}
