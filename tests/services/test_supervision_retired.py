"""Retired offices act no more, assignments never reveal what they may not see, and a command
answered with an error records nothing (issue 10 §6 and §1)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest

from domain.assignment import Assignee
from domain.errors import DomainError, InvalidAssignmentError
from services.bootstrap import Platform, Settings, build_platform
from services.errors import OfficeRetiredError, ServiceError
from tests.conftest import FixedClock
from tests.scenario import ADMIN, build_hierarchy, new_item, person


@pytest.fixture
def ducha(sqlite_settings: Settings) -> Iterator[Platform]:
    platform = build_platform(sqlite_settings, clock=FixedClock())
    build_hierarchy(platform)
    yield platform
    platform.close()


def assign(p: Platform, office: str, record: str, target: str) -> Any:
    return p.supervision.act(
        person(office, "supervisor"),
        office,
        record,
        "assign",
        assignees=[Assignee("office", target, "lead")],
    )


def recorded(p: Platform, office: str) -> int:
    return p.backend.last_ids([office]).get(office, 0)


def test_assign_tells_a_hidden_office_from_a_missing_one_in_no_way(ducha: Platform) -> None:
    ducha.registry.register(ADMIN, "chengdu", "成都市人民政府办公厅", "prefecture", "sichuan")
    ducha.registry.retire(ADMIN, "chengdu", "测试")  # retired, and not below gansu either
    item = ducha.supervision.register_item(person("gansu", "supervisor"), "gansu", new_item())
    answers = set()
    for target in ("nowhere", "sichuan", "state-council", "chengdu"):
        with pytest.raises(InvalidAssignmentError) as raised:
            assign(ducha, "gansu", item.id, target)
        answers.add((type(raised.value), str(raised.value).replace(f"'{target}'", "'X'")))
    assert answers == {
        (
            InvalidAssignmentError,
            "office 'X' is not registered or not below 'gansu' in the hierarchy",
        )
    }
    ducha.registry.retire(ADMIN, "pingchuan", "机构调整")  # below gansu: may say retired
    with pytest.raises(InvalidAssignmentError, match="office 'pingchuan' is retired"):
        assign(ducha, "gansu", item.id, "pingchuan")
    assert ducha.supervision.get("gansu", item.id).version == 1


def test_a_retired_office_is_refused_every_command_but_still_read(ducha: Platform) -> None:
    s = ducha.supervision
    clerk, supervisor = person("pingchuan"), person("pingchuan", "supervisor")
    item = s.register_item(supervisor, "pingchuan", new_item()).id
    ducha.registry.retire(ADMIN, "pingchuan", "机构调整")
    before = recorded(ducha, "pingchuan")
    commands: list[Callable[[], object]] = [
        lambda: s.register_item(supervisor, "pingchuan", new_item()),
        lambda: s.act(clerk, "pingchuan", item, "acknowledge"),
        lambda: s.act(supervisor, "pingchuan", item, "urge", message="请加快"),
        lambda: s.act(
            person("pingchuan", "leader"),
            "pingchuan",
            item,
            "close",
            reason="撤销",
            leader_closure=True,
        ),
        lambda: s.issue_circular(supervisor, "pingchuan", "通报", "全区", "表扬", ["一处"], []),
        lambda: s.recompute_deadline("pingchuan", item, "重新计算"),
    ]
    for command in commands:
        with pytest.raises(OfficeRetiredError, match="office 'pingchuan' is retired") as raised:
            command()
        assert isinstance(raised.value, ServiceError)
    assert recorded(ducha, "pingchuan") == before
    assert s.get("pingchuan", item).status == "registered"
    assert ducha.views.items("pingchuan").total == 1
    assert len(s.history("pingchuan", item)) == 1


def test_a_decision_relayed_to_a_retired_offices_task_is_a_skipped_relay(ducha: Platform) -> None:
    s = ducha.supervision
    item = s.register_item(person("baiyin", "supervisor"), "baiyin", new_item()).id
    assign(ducha, "baiyin", item, "pingchuan")
    task = ducha.views.items("pingchuan").items[0]["id"]
    ducha.registry.retire(ADMIN, "pingchuan", "机构调整")
    s.act(person("baiyin", "supervisor"), "baiyin", item, "urge", message="请加快")
    assert s.get("baiyin", item).urge_count == 1  # the command itself stands
    assert s.get("pingchuan", task).urge_count == 0
    version = s.get("baiyin", item).version
    assigned = s.assignment_event("baiyin", item, 2)
    again = s.receive_assignment(
        person("pingchuan", "system"), "pingchuan", "baiyin", item, assigned
    )
    assert again.id == task  # receiving it again is still a no-op
    other = s.register_item(person("baiyin", "supervisor"), "baiyin", new_item()).id
    s.act(
        person("baiyin", "supervisor"),
        "baiyin",
        other,
        "assign",
        assignees=[Assignee("unit", "一科", "lead")],
    )
    unit_only = s.assignment_event("baiyin", other, 2)
    with pytest.raises(OfficeRetiredError):  # a new task is never created in a retired office
        s.receive_assignment(person("pingchuan", "system"), "pingchuan", "baiyin", other, unit_only)
    assert s.get("baiyin", item).version == version
    (skip,) = ducha.skipped.list("baiyin")
    assert (skip["target"], skip["event_type"], skip["reason"]) == (
        "pingchuan",
        "Urged",
        "office 'pingchuan' is retired",
    )


def test_a_command_answered_with_an_error_records_nothing(ducha: Platform) -> None:
    s = ducha.supervision
    clerk, supervisor, leader = (
        person("gansu"),
        person("gansu", "supervisor"),
        person("gansu", "leader"),
    )
    item = s.register_item(supervisor, "gansu", new_item()).id
    failing: list[Callable[[], object]] = [
        lambda: s.register_item(supervisor, "gansu", new_item(source_kind="document")),
        lambda: s.register_item(supervisor, "gansu", new_item(deadline=date(2026, 3, 1))),
        lambda: s.register_item(supervisor, "gansu", new_item(title="  ")),
        lambda: s.act(clerk, "gansu", item, "report-progress", text="进展", percent=10),
        lambda: assign(ducha, "gansu", item, "sichuan"),
        lambda: s.act(supervisor, "gansu", item, "assign", assignees=[], deadline=None),
        lambda: s.act(leader, "gansu", item, "accept-completion"),
        lambda: s.act(leader, "gansu", item, "grant-extension"),
        lambda: s.act(
            clerk, "gansu", item, "request-extension", new_deadline=date(2026, 3, 1), reason="复核"
        ),
        lambda: s.act(supervisor, "gansu", item, "urge", message=" "),
        lambda: s.act(leader, "gansu", item, "close", reason=""),
        lambda: s.act(leader, "gansu", item, "reopen", reason="再办"),
        lambda: s.act(supervisor, "gansu", item, "unpublish", reason="更正"),
        lambda: s.act(clerk, "gansu", item, "report-rectification", text="已整改"),
        lambda: s.issue_circular(supervisor, "gansu", "", "全省", "表扬", [], []),
    ]
    before = recorded(ducha, "gansu")
    for command in failing:
        with pytest.raises(DomainError):
            command()
        assert recorded(ducha, "gansu") == before
    assert s.get("gansu", item).version == 1
