"""A deterministic scenario that triggers every event type once or more.

``python -m tests.golden.scenario`` adds to ``events-v1.json`` the payloads of event types,
or of field sets, that it does not hold yet; the payloads stored before are kept as they were
(they are what old stores hold). Run it only when adding an event type, a field or a new
version of one, never to make a failing contract test pass.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.popo import POPOApplicationRecorder

from domain.assignment import Assignee
from domain.cases import Case
from domain.circulars import Circular
from domain.offices import Office
from domain.tasks import Task
from domain.users import Login, User
from domain.values import Actor
from services.calendar import GovernmentCalendar, YearData
from services.stores import TenantStore
from tests.domain.scenario import CLERK, LEADER, SUPERVISOR, on, register

FIXTURE = Path(__file__).with_name("events-v1.json")
ADMIN = Actor("admin", "platform", "admin")


def store() -> TenantStore:
    return TenantStore("golden", POPOApplicationRecorder())


def every_event() -> list[Any]:
    t = on(date(2026, 3, 10))
    office = Office.register(ADMIN, t, "gansu", "甘肃省政府办", "province", "state-council")
    office.rename(ADMIN, t, "甘肃省人民政府办公厅")
    office.retire(ADMIN, t, "机构改革")

    item = register(item_id=UUID(int=1))
    both = [Assignee("office", "baiyin", "lead"), Assignee("unit", "一处", "co")]
    item.assign(SUPERVISOR, t, both)
    item.acknowledge(CLERK, t)
    item.report_progress(CLERK, t, "进展", 40, [{"name": "附件.pdf", "size": 1024}])
    item.request_extension(CLERK, t, date(2026, 5, 29), "专家复核", "已完成40%")
    item.deny_extension(LEADER, t, "理由不充分")
    item.request_extension(CLERK, t, date(2026, 5, 29), "专家复核")
    item.grant_extension(LEADER, t, comment="同意")
    item.urge(SUPERVISOR, t, "请加快")
    item.escalate(SUPERVISOR, t, "分管副省长", "进展缓慢")
    item.report_completion(CLERK, t, "已完成")
    item.return_completion(LEADER, t, "材料不全")
    item.order_rectification(LEADER, t, "限期整改", date(2026, 5, 1))
    item.report_rectification(CLERK, t, "已整改")
    item.accept_rectification(LEADER, t, "通过")
    item.report_completion(CLERK, t, "已补充")
    item.accept_completion(LEADER, t, "同意")
    item.commend(LEADER, t, "成效明显")
    item.record_finding(SUPERVISOR, t, "experience", "直补快办", "推广")
    item.publish(SUPERVISOR, t, "已完成")
    item.unpublish(SUPERVISOR, t, "更正")
    item.close(LEADER, t, "已办结")
    item.reopen(LEADER, t, "问题反弹")
    events = [*office.collect_events(), *item.collect_events()]

    assigned = next(e for e in events if isinstance(e, Case.Assigned))
    task = Task.receive(
        actor=Actor("pm", "baiyin", "system"),
        at=t,
        office="baiyin",
        parent_office="gansu",
        parent_id=str(item.id),
        assignment=assigned,
        executing_unit="白银市人民政府办公室",
    )
    task.close(Actor("leader-1", "gansu", "leader"), t, "撤销", True)
    co = Task.receive(  # a co-executor's task, concluded when the matter was closed above it
        actor=Actor("pm", "baiyin", "system"),
        at=t,
        office="baiyin",
        parent_office="gansu",
        parent_id=str(UUID(int=4)),
        assignment=assigned,
        executing_unit="白银市人民政府办公室",
    )
    co.conclude(Actor("process-manager", "baiyin", "system"), t, "gansu", f"gansu/{UUID(int=4)}/9")
    circular = Circular.issue(
        circular_id=UUID(int=2),
        actor=LEADER,
        at=t,
        office="gansu",
        title="通报",
        scope="各市州",
        text="表扬",
        commended=["白银市"],
        criticised=[],
    )
    return [
        *events,
        *task.collect_events(),
        *circular.collect_events(),
        *provisional_events(),
        *co.collect_events(),
        *user_events(),
    ]


def user_events() -> list[Any]:
    """A person given access by an operator on the command line (the actor with its channel
    and operating-system user), a login and password for the screens, then revoked."""
    t = on(date(2026, 3, 10))
    operator = Actor("cli", "gansu", "admin", channel="cli", os_user="ops")
    user = User.register(UUID(int=5), operator, t, "gansu", "clerk", "张三", "0" * 64)
    user.set_password(operator, t, "zhangsan", "scrypt$16384$8$1$c2FsdA==$a2V5")
    login = Login.claim(operator, t, "zhangsan", user.id)
    user.revoke(Actor("u-admin", "gansu", "admin", channel="api"), t, "调离")
    return [*user.collect_events(), *login.collect_events()]


def provisional_events() -> list[Any]:
    """An instruction counted on the provisional calendar, urged, then recounted on its notice."""
    day = on(date(2027, 1, 20))
    item = register(
        item_id=UUID(int=3),
        at=day,
        source_kind="instruction",
        issued_on=date(2027, 1, 20),
        deadline=None,
        calendar=GovernmentCalendar({}),
    )
    item.assign(SUPERVISOR, day, [Assignee("unit", "二处", "lead")])
    engine = Actor("deadline-engine", "gansu", "system")
    item.urge(engine, day, "请抓紧办理", "deadline:2027-03-05:yellow", provisional=True)
    notice = YearData(
        frozenset(date(2027, m, d) for m, d in ((1, 1), (2, 5), (2, 6), (2, 7), (2, 8))),
        frozenset({date(2027, 2, 20)}),
        "测试通知",
    )
    calendar = Actor("calendar", "gansu", "system")
    item.recompute_deadline(calendar, day, GovernmentCalendar({2027: notice}), "已公布", "测试通知")
    return list(item.collect_events())


def encode(events: list[Any]) -> list[dict[str, str]]:
    mapper = store().mapper
    return [
        {"topic": s.topic, "state": s.state.decode("utf-8")}
        for s in (mapper.to_stored_event(e) for e in events)
    ]


def merged(stored: list[dict[str, str]], current: list[dict[str, str]]) -> list[dict[str, str]]:
    """The stored payloads, then each current one whose (type, fields) none of them has."""
    rows = list(stored)
    seen = {(row["topic"], frozenset(json.loads(row["state"]))) for row in rows}
    for row in current:
        shape = (row["topic"], frozenset(json.loads(row["state"])))
        if shape not in seen:
            seen.add(shape)
            rows.append(row)
    return rows


if __name__ == "__main__":
    old = json.loads(FIXTURE.read_text("utf-8")) if FIXTURE.exists() else []
    rows = merged(old, encode(every_event()))
    FIXTURE.write_text(json.dumps(rows, ensure_ascii=False, indent=1) + "\n", "utf-8")
    print(f"wrote {FIXTURE}: {len(rows) - len(old)} payloads added to {len(old)}")
