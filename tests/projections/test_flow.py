"""The event flow: read side current on return, relays across four levels, exactly once."""

from __future__ import annotations

from datetime import date
from itertools import pairwise

import pytest

from domain.assignment import Assignee
from domain.errors import ExtensionBeyondOwnDeadlineError
from domain.tasks import Task
from services.bootstrap import Platform, Settings, build_platform
from tests.conftest import FixedClock, booted
from tests.scenario import build_hierarchy, new_item, person

CHAIN = ["state-council", "gansu", "baiyin", "pingchuan"]


def assign_chain(p: Platform) -> list[str]:
    """An item at the State Council, assigned down to the county; returns the record ids."""
    s = p.supervision
    ids = [s.register_item(person("state-council", "supervisor"), "state-council", new_item()).id]
    for parent, child in pairwise(CHAIN):
        s.act(
            person(parent, "supervisor"),
            parent,
            ids[-1],
            "assign",
            assignees=[Assignee("office", child, "lead")],
        )
        ids.append(str(Task.create_id(parent, ids[-1], child)))
        s.act(person(child), child, ids[-1], "acknowledge")
    return ids


def event_counts(p: Platform) -> dict[str, int]:
    return {
        code: p.backend.store(code).recorder.max_notification_id() or 0
        for code in [o.code for o in p.registry.all()]
    }


def test_the_read_side_is_current_when_a_command_returns(ducha: Platform) -> None:
    item = ducha.supervision.register_item(person("gansu"), "gansu", new_item())
    assert ducha.views.item("gansu", item.id)["status"] == "registered"  # type: ignore[index]
    ducha.supervision.act(person("gansu"), "gansu", item.id, "acknowledge")
    assert ducha.views.item("gansu", item.id)["status"] == "acknowledged"  # type: ignore[index]
    assert ducha.views.audit("gansu", record_id=item.id).total == 2


def test_assignments_travel_down_and_reports_up_through_four_levels(ducha: Platform) -> None:
    ids = assign_chain(ducha)
    s = ducha.supervision
    # Each task exists in its own office only, created by the relay from the parent's event.
    for office, record in zip(CHAIN[1:], ids[1:], strict=False):
        task = s.get(office, record)
        assert (task.kind, task.root) == ("task", {"office": "state-council", "id": ids[0]})
    # Acknowledgements came up as received reports: each parent follows its lead.
    assert s.get("state-council", ids[0]).status == "acknowledged"
    assert s.get("baiyin", ids[2]).received_reports["pingchuan"]["kind"] == "acknowledged"

    s.act(person("pingchuan"), "pingchuan", ids[3], "report-completion", text="已完成整改")
    baiyin = s.get("baiyin", ids[2])
    assert baiyin.received_reports["pingchuan"]["kind"] == "completion"
    assert baiyin.status == "acknowledged"  # a task reviews its lead's work; it does not follow

    # baiyin accepts the county's completion → the county's task is completed.
    s.act(person("baiyin", "leader"), "baiyin", ids[2], "accept-completion", assignee="pingchuan")
    assert s.get("pingchuan", ids[3]).status == "completed"
    # baiyin and gansu report on; the State Council's item follows its lead's completion.
    s.act(person("baiyin"), "baiyin", ids[2], "report-completion", text="全市完成")
    s.act(person("gansu", "leader"), "gansu", ids[1], "accept-completion", assignee="baiyin")
    s.act(person("gansu"), "gansu", ids[1], "report-completion", text="全省完成")
    top = s.get("state-council", ids[0])
    assert (top.status, top.completion_reported_on) == ("completion_reported", date(2026, 3, 2))
    # The State Council accepts → the decision reaches gansu's task; then it closes the item.
    s.act(person("state-council", "leader"), "state-council", ids[0], "accept-completion")
    assert s.get("gansu", ids[1]).status == "completed"
    # Closing the item concludes every task below it, down the chain (their work has ended).
    s.act(person("state-council", "leader"), "state-council", ids[0], "close", reason="办结")
    assert [s.get(o, i).status for o, i in zip(CHAIN[1:], ids[1:], strict=True)] == [
        "concluded"
    ] * 3
    # The county's completion reached the State Council's roll-up.
    figures = ducha.views.rollup("state-council")
    rollup = figures["records"]
    assert rollup["completed"] == 4  # the item and every task: concluding keeps completions
    assert rollup["by_status"] == {"closed": 1, "concluded": 3}
    assert figures["matters"]["total"] == 1  # one matter, counted once
    assert figures["matters"]["by_status"] == {"closed": 1}  # as the State Council's own record


def test_urging_and_extensions_reach_the_right_task(ducha: Platform) -> None:
    ids = assign_chain(ducha)
    s = ducha.supervision
    s.act(person("baiyin", "supervisor"), "baiyin", ids[2], "urge", message="请加快")
    assert s.get("pingchuan", ids[3]).urge_count == 1
    assert s.get("gansu", ids[1]).urge_count == 0  # decisions go down, never up
    s.act(
        person("pingchuan"),
        "pingchuan",
        ids[3],
        "request-extension",
        new_deadline=date(2026, 5, 29),
        reason="专家复核",
    )
    assert s.get("baiyin", ids[2]).pending_extensions == {"pingchuan": date(2026, 5, 29)}
    # past baiyin's own deadline: refused, naming the way out
    with pytest.raises(ExtensionBeyondOwnDeadlineError, match="assigning office 'gansu' first"):
        s.act(person("baiyin", "leader"), "baiyin", ids[2], "grant-extension", assignee="pingchuan")
    s.act(
        person("baiyin", "leader"),
        "baiyin",
        ids[2],
        "deny-extension",
        assignee="pingchuan",
        reason="请按期完成",
    )
    county = s.get("pingchuan", ids[3])
    assert (county.deadline, county.pending_extension) == (date(2026, 4, 14), None)
    assert s.get("baiyin", ids[2]).deadline == date(2026, 4, 14)  # its own deadline stays


def test_delivering_every_event_again_changes_nothing(ducha: Platform) -> None:
    assign_chain(ducha)
    before = event_counts(ducha)
    rows = ducha.read.all("SELECT COUNT(*) AS n FROM audit")[0]["n"]
    with ducha.read.transaction() as tx:
        tx.execute("UPDATE tracking SET position = 0")  # as if every event came again
    ducha.runner.catch_up_all()
    assert event_counts(ducha) == before  # the relay's effects were all no-ops
    assert ducha.read.all("SELECT COUNT(*) AS n FROM audit")[0]["n"] == rows
    assert ducha.views.rollup("state-council")["records"]["total"] == 4


def test_the_read_side_catches_up_on_start_after_a_crash(settings: Settings) -> None:
    crashed = build_platform(settings, clock=FixedClock())
    build_hierarchy(crashed)
    crashed.supervision.listeners.clear()  # the pump died: commands still commit
    item = crashed.supervision.register_item(person("gansu"), "gansu", new_item())
    crashed.supervision.act(
        person("gansu"),
        "gansu",
        item.id,
        "assign",
        assignees=[Assignee("office", "baiyin", "lead")],
    )
    assert crashed.views.item("gansu", item.id) is None
    crashed.close()

    restarted = booted(settings)  # as `ducha serve` starts
    try:
        assert restarted.views.item("gansu", item.id)["version"] == 2  # type: ignore[index]
        task_id = str(Task.create_id("gansu", item.id, "baiyin"))
        assert restarted.supervision.get("baiyin", task_id).kind == "task"
        assert restarted.views.rollup("gansu")["records"]["total"] == 2
    finally:
        restarted.close()


def test_a_decision_goes_to_those_assigned_when_it_was_made(ducha: Platform) -> None:
    s = ducha.supervision
    s.listeners.clear()  # let all three events wait, then deliver them in one batch
    item = s.register_item(person("state-council"), "state-council", new_item())
    sc = person("state-council", "supervisor")
    s.act(sc, "state-council", item.id, "assign", assignees=[Assignee("office", "gansu", "lead")])
    s.act(sc, "state-council", item.id, "urge", message="请加快")
    s.act(sc, "state-council", item.id, "assign", assignees=[Assignee("office", "sichuan", "lead")])
    ducha.runner.catch_up_all()
    task = {o: str(Task.create_id("state-council", item.id, o)) for o in ("gansu", "sichuan")}
    assert s.get("gansu", task["gansu"]).urge_count == 1
    assert s.get("sichuan", task["sichuan"]).urge_count == 0  # assigned after the urging


def test_a_decision_that_no_longer_applies_is_kept_as_a_skipped_relay(ducha: Platform) -> None:
    s = ducha.supervision
    item = s.register_item(person("state-council"), "state-council", new_item())
    s.act(
        person("state-council", "supervisor"),
        "state-council",
        item.id,
        "assign",
        assignees=[Assignee("office", "gansu", "lead"), Assignee("office", "sichuan", "co")],
    )
    lead = str(Task.create_id("state-council", item.id, "gansu"))
    s.act(person("gansu"), "gansu", lead, "acknowledge")
    s.act(person("gansu"), "gansu", lead, "report-completion", text="完成")
    s.act(person("state-council", "leader"), "state-council", item.id, "accept-completion")
    s.act(person("state-council", "leader"), "state-council", item.id, "close", reason="办结")
    assert ducha.skipped.list("state-council") == []  # both tasks were concluded
    s.act(person("state-council", "leader"), "state-council", item.id, "reopen", reason="反弹")
    s.act(person("state-council", "supervisor"), "state-council", item.id, "urge", message="快")
    skips = ducha.skipped.list("state-council")
    assert [(k["target"], k["event_type"]) for k in skips] == [
        ("gansu", "Urged"),
        ("sichuan", "Urged"),
    ]
    assert "concluded" in skips[0]["reason"]  # a concluded task stays concluded
