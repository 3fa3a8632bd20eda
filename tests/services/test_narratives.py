"""Use cases told as stories through the services layer (SQLite; backends are contract-tested)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from domain.assignment import Assignee
from domain.errors import InvalidAssignmentError, NotAssigningOfficeError
from services.bootstrap import Platform, Settings, build_platform
from services.errors import AlreadyExistsError, NotFoundError, RegistryRuleError
from tests.conftest import FixedClock
from tests.scenario import ADMIN, build_hierarchy, new_item, person


@pytest.fixture
def ducha(sqlite_settings: Settings) -> Iterator[Platform]:
    platform = build_platform(sqlite_settings, clock=FixedClock())
    build_hierarchy(platform)
    yield platform
    platform.close()


def test_an_instruction_travels_down_three_levels(ducha: Platform) -> None:
    s = ducha.supervision
    item = s.register_item(person("state-council", "supervisor"), "state-council", new_item())
    assert item.deadline == date(2026, 4, 14)  # 30 working days, Qingming skipped

    parent_office, parent_id = "state-council", item.id
    for office in ("gansu", "baiyin", "pingchuan"):
        s.act(
            person(parent_office, "supervisor"),
            parent_office,
            parent_id,
            "assign",
            assignees=[Assignee("office", office, "lead")],
            responsible_person=f"{office}责任人",
        )
        version = s.get(parent_office, parent_id).version
        assigned = s.assignment_event(parent_office, parent_id, version)
        task = s.receive_assignment(
            person(office, "system"), office, parent_office, parent_id, assigned
        )
        again = s.receive_assignment(
            person(office, "system"), office, parent_office, parent_id, assigned
        )
        assert again.id == task.id and again.version == 1  # receiving twice changes nothing
        assert (task.kind, task.responsible_person) == ("task", f"{office}责任人")
        assert task.root == {"office": "state-council", "id": item.id}
        s.act(person(office), office, task.id, "acknowledge")
        parent_office, parent_id = office, task.id

    bottom = s.get("pingchuan", parent_id)
    assert bottom.parent == {"office": "baiyin", "id": bottom.parent["id"], "role": "lead"}  # type: ignore[index]
    assert bottom.executing_unit == "白银市平川区人民政府办公室"
    assert [c.kind for c in s.list_cases("pingchuan")] == ["task"]


def test_assignments_go_only_to_registered_active_descendants(ducha: Platform) -> None:
    s = ducha.supervision
    item = s.register_item(person("gansu", "supervisor"), "gansu", new_item())
    for target, message in (
        ("sichuan", "not below 'gansu'"),
        ("state-council", "not below 'gansu'"),
        ("nowhere", "not registered"),
    ):
        with pytest.raises(InvalidAssignmentError, match=message):
            s.act(
                person("gansu", "supervisor"),
                "gansu",
                item.id,
                "assign",
                assignees=[Assignee("office", target, "lead")],
            )
    ducha.registry.retire(ADMIN, "pingchuan", "机构调整")
    with pytest.raises(InvalidAssignmentError, match="retired"):
        s.act(
            person("gansu", "supervisor"),
            "gansu",
            item.id,
            "assign",
            assignees=[Assignee("office", "pingchuan", "lead")],
        )
    assert s.get("gansu", item.id).version == 1


def test_a_parents_decision_binds_the_childs_task_and_the_child_cannot_decide(
    ducha: Platform,
) -> None:
    s = ducha.supervision
    item = s.register_item(person("gansu", "supervisor"), "gansu", new_item())
    s.act(
        person("gansu", "supervisor"),
        "gansu",
        item.id,
        "assign",
        assignees=[Assignee("office", "baiyin", "lead")],
    )
    assigned = s.assignment_event("gansu", item.id, 2)
    task = s.receive_assignment(person("baiyin", "system"), "baiyin", "gansu", item.id, assigned)
    s.act(person("baiyin"), "baiyin", task.id, "acknowledge")
    s.act(person("baiyin"), "baiyin", task.id, "report-completion", text="已完成")
    with pytest.raises(NotAssigningOfficeError):
        s.act(person("baiyin", "leader"), "baiyin", task.id, "accept-completion")
    done = s.act(person("gansu", "leader"), "baiyin", task.id, "accept-completion")
    assert done.status == "completed"


def test_registry_rules(ducha: Platform) -> None:
    registry = ducha.registry
    with pytest.raises(AlreadyExistsError):
        registry.register(ADMIN, "gansu", "甘肃", "province", "state-council")
    with pytest.raises(RegistryRuleError, match="root"):
        registry.register(ADMIN, "another-root", "另一个根", "central")
    with pytest.raises(RegistryRuleError, match="not registered"):
        registry.register(ADMIN, "xigu", "西固区", "county", "lanzhou")
    with pytest.raises(RegistryRuleError, match="active subordinate"):
        registry.retire(ADMIN, "baiyin", "撤并")
    registry.retire(ADMIN, "pingchuan", "撤并")
    with pytest.raises(RegistryRuleError, match="retired"):
        registry.register(ADMIN, "xinqu", "新区", "other", "pingchuan")
    assert registry.rename(ADMIN, "baiyin", "白银市政府办").name == "白银市政府办"
    assert registry.get("baiyin").version == 2
    with pytest.raises(NotFoundError):
        registry.get("lanzhou")
    assert not ducha.backend.is_provisioned("another-root")


def test_an_unknown_office_or_item_is_not_found(ducha: Platform) -> None:
    with pytest.raises(NotFoundError, match="office 'nowhere'"):
        ducha.supervision.list_cases("nowhere")
    with pytest.raises(NotFoundError, match="no item 'not-a-uuid'"):
        ducha.supervision.get("gansu", "not-a-uuid")


def test_overdue_is_derived_from_the_clock(sqlite_settings: Settings) -> None:
    clock = FixedClock("2026-03-02")
    platform = build_platform(sqlite_settings, clock=clock)
    try:
        build_hierarchy(platform)
        s = platform.supervision
        item = s.register_item(person("gansu"), "gansu", new_item(deadline=date(2026, 3, 31)))
        assert not item.overdue
        clock.set("2026-04-01")
        assert s.get("gansu", item.id).overdue
        s.act(person("gansu"), "gansu", item.id, "acknowledge")
        late = s.act(person("gansu"), "gansu", item.id, "report-completion", text="迟交")
        assert late.overdue  # reported after the deadline stays late
    finally:
        platform.close()
