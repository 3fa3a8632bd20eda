"""The deadline engine: urge once at yellow, escalate once at red, per the office's policy."""

from __future__ import annotations

from datetime import date

from domain.assignment import Assignee
from services.bootstrap import Platform
from tests.scenario import ADMIN, new_item, person


def item(p: Platform, office: str, deadline: date) -> str:
    new = new_item(source_kind="document", deadline=deadline)
    return p.supervision.register_item(person(office), office, new).id


def history(p: Platform, office: str, record: str) -> list[tuple[str, str, str]]:
    return [
        (e.type, e.actor["role"], e.data.get("to", ""))
        for e in p.supervision.history(office, record)
        if e.type in ("Urged", "Escalated")
    ]


def test_yellow_is_urged_once_and_red_escalated_once(ducha: Platform) -> None:
    soon = item(ducha, "gansu", date(2026, 3, 25))  # Wednesday
    late = item(ducha, "gansu", date(2026, 3, 20))
    engine = ducha.deadlines
    first = engine.run(date(2026, 3, 23))  # Monday: 25th is 2 working days away
    assert (first.urged, first.escalated) == (1, 1)
    again = engine.run(date(2026, 3, 23))
    assert (again.urged, again.escalated) == (0, 0)  # once per (record, deadline, level)
    assert history(ducha, "gansu", soon) == [("Urged", "system", "")]
    assert history(ducha, "gansu", late) == [("Escalated", "system", "gansu")]
    assert ducha.views.audit("gansu", type_="Urged").items[0]["actor_user"] == "deadline-engine"


def test_a_task_escalates_to_its_assigning_office(ducha: Platform) -> None:
    parent = item(ducha, "gansu", date(2026, 3, 20))
    ducha.supervision.act(
        person("gansu", "supervisor"),
        "gansu",
        parent,
        "assign",
        assignees=[Assignee("office", "baiyin", "lead")],
    )
    task = ducha.views.items("baiyin").items[0]["id"]
    ducha.deadlines.run(date(2026, 3, 24), office="baiyin")
    assert history(ducha, "baiyin", task) == [("Escalated", "system", "gansu")]
    assert history(ducha, "gansu", parent) == []  # only the office asked was checked


def test_the_policy_sets_grace_or_turns_escalation_off(ducha: Platform) -> None:
    late = item(ducha, "sichuan", date(2026, 3, 20))  # Friday
    ducha.registry.set_deadline_policy(ADMIN, "sichuan", escalate=True, grace_working_days=2)
    assert ducha.deadlines.run(date(2026, 3, 24)).escalated == 0  # 2 working days late
    assert ducha.deadlines.run(date(2026, 3, 25)).escalated == 1  # 3 > grace
    other = item(ducha, "baiyin", date(2026, 3, 20))
    ducha.registry.set_deadline_policy(ADMIN, "baiyin", escalate=False, grace_working_days=0)
    ducha.deadlines.run(date(2026, 3, 30))
    assert history(ducha, "baiyin", other) == []
    assert history(ducha, "sichuan", late) == [("Escalated", "system", "sichuan")]


def test_done_work_is_left_alone_and_an_extension_may_be_urged_again(ducha: Platform) -> None:
    s = ducha.supervision
    done = item(ducha, "gansu", date(2026, 3, 25))
    s.act(person("gansu"), "gansu", done, "acknowledge")
    s.act(person("gansu"), "gansu", done, "report-completion", text="完成")
    moving = item(ducha, "gansu", date(2026, 3, 25))
    ducha.deadlines.run(date(2026, 3, 23))
    s.act(
        person("gansu"),
        "gansu",
        moving,
        "request-extension",
        new_deadline=date(2026, 4, 8),
        reason="复核",
    )
    s.act(person("gansu", "leader"), "gansu", moving, "grant-extension")
    ducha.deadlines.run(date(2026, 4, 7))
    assert history(ducha, "gansu", done) == []
    assert [h[0] for h in history(ducha, "gansu", moving)] == ["Urged", "Urged"]
