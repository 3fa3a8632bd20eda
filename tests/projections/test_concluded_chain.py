"""Every assignee's task ends: closing a matter concludes every task below it, on each backend.

The co-executor scenario of issue 11 §2, end to end through the stores, the process manager,
the deadline engine, the roll-up and the skipped relays (service and CLI).
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from domain.assignment import Assignee
from domain.tasks import Task
from services.bootstrap import Platform, Settings
from services.cli import main
from tests.scenario import new_item, person

SC = "state-council"
LATE = date(2026, 5, 20)  # well past every deadline below (14 April 2026)


def task_of(parent_office: str, parent_id: str, office: str) -> str:
    return str(Task.create_id(parent_office, parent_id, office))


def matter(p: Platform) -> dict[str, str]:
    """An item of the State Council: sichuan leads, gansu co-executes and passes its part on
    to baiyin. Returns the record ids by office ("item" for the State Council's)."""
    s = p.supervision
    item = s.register_item(person(SC, "supervisor"), SC, new_item()).id
    both = [Assignee("office", "sichuan", "lead"), Assignee("office", "gansu", "co")]
    s.act(person(SC, "supervisor"), SC, item, "assign", assignees=both)
    ids = {
        "item": item,
        "sichuan": task_of(SC, item, "sichuan"),
        "gansu": task_of(SC, item, "gansu"),
    }
    s.act(person("gansu"), "gansu", ids["gansu"], "acknowledge")
    s.act(
        person("gansu", "supervisor"), "gansu", ids["gansu"], "assign", assignees=[lead("baiyin")]
    )
    ids["baiyin"] = task_of("gansu", ids["gansu"], "baiyin")
    s.act(person("baiyin"), "baiyin", ids["baiyin"], "acknowledge")
    s.act(person("baiyin"), "baiyin", ids["baiyin"], "report-progress", text="排查中", percent=30)
    s.act(person("sichuan"), "sichuan", ids["sichuan"], "acknowledge")
    s.act(person("sichuan"), "sichuan", ids["sichuan"], "report-completion", text="已办结")
    s.act(person(SC, "leader"), SC, item, "accept-completion")
    s.act(person(SC, "leader"), SC, item, "close", reason="办结")
    return ids


def lead(office: str) -> Assignee:
    return Assignee("office", office, "lead")


def engine_acts(p: Platform, office: str, record: str) -> list[str]:
    return [
        e.type for e in p.supervision.history(office, record) if e.type in ("Urged", "Escalated")
    ]


def test_closing_concludes_every_task_below_whatever_its_state(ducha: Platform) -> None:
    ids = matter(ducha)
    s = ducha.supervision
    assert s.get(SC, ids["item"]).status == "closed"
    for office in ("sichuan", "gansu", "baiyin"):  # completed, acknowledged, in progress
        task = s.get(office, ids[office])
        assert task.status == "concluded", office
        (end,) = [e for e in s.history(office, ids[office]) if e.type == "Concluded"]
        assert end.data["reason"] == f"matter closed by {SC}"  # named all the way down
        assert end.actor == {
            "user_id": "process-manager",
            "office": office,
            "role": "system",
            "channel": "",  # the platform's own engine
            "os_user": "",
        }
    assert ducha.skipped.list(SC) == []  # nothing was refused on the way
    (summary,) = [
        row["summary"]
        for row in ducha.views.audit("baiyin", record_id=ids["baiyin"]).items
        if row["type"] == "Concluded"
    ]
    assert summary == f"上级已办结，任务终结：matter closed by {SC}"
    assert ducha.views.item("gansu", ids["gansu"])["status"] == "concluded"  # type: ignore[index]


def test_the_deadline_engine_and_the_rollup_leave_concluded_tasks_alone(
    ducha: Platform,
) -> None:
    ids = matter(ducha)
    open_item = ducha.supervision.register_item(person(SC, "supervisor"), SC, new_item()).id
    ducha.supervision.act(
        person(SC, "supervisor"), SC, open_item, "assign", assignees=[lead("gansu")]
    )
    still_open = task_of(SC, open_item, "gansu")  # the control: same deadline, still open

    report = ducha.deadlines.run(LATE)
    assert report.escalated == 2  # the open item and its task: the clock is past the deadline
    assert engine_acts(ducha, "gansu", still_open) == ["Escalated"]
    for office in ("sichuan", "gansu", "baiyin"):
        assert engine_acts(ducha, office, ids[office]) == [], office

    ducha.clock.set(LATE.isoformat())  # type: ignore[attr-defined]
    figures = ducha.views.rollup(SC)
    rollup = figures["records"]
    assert rollup["overdue"] == 2  # the open item and its task, none of the concluded
    assert rollup["by_status"]["concluded"] == 3
    assert figures["matters"]["overdue"] == 1  # the open matter; the closed one is not
    assert ducha.views.rollup("baiyin")["records"]["overdue"] == 0
    assert ducha.supervision.get("baiyin", ids["baiyin"]).overdue is False
    listed = ducha.views.items("baiyin", status="concluded").items
    assert [i["overdue"] for i in listed] == [False]  # the list agrees with the record


def test_delivering_every_event_again_concludes_nothing_twice(ducha: Platform) -> None:
    ids = matter(ducha)
    versions = {o: ducha.supervision.get(o, ids[o]).version for o in ("sichuan", "gansu", "baiyin")}
    with ducha.read.transaction() as tx:
        tx.execute("UPDATE tracking SET position = 0")  # as if every event came again
    ducha.runner.catch_up_all()
    again = {o: ducha.supervision.get(o, ids[o]).version for o in versions}
    assert again == versions
    for office in versions:
        types = [e.type for e in ducha.supervision.history(office, ids[office])]
        assert types.count("Concluded") == 1, office
    assert ducha.skipped.list(SC) == []


def test_reopening_leaves_concluded_tasks_concluded_and_says_so_at_both_ends(
    ducha: Platform,
) -> None:
    ids = matter(ducha)
    s = ducha.supervision
    s.act(person(SC, "leader"), SC, ids["item"], "reopen", reason="问题反弹")
    s.act(person(SC, "supervisor"), SC, ids["item"], "urge", message="请加快")
    assert s.get("gansu", ids["gansu"]).status == "concluded"
    assert s.get("gansu", ids["gansu"]).urge_count == 0

    ours = ducha.skipped.list(SC)
    assert [(r["side"], r["event_type"], r["target"]) for r in ours] == [
        ("ours to relay", "Urged", "gansu"),
        ("ours to relay", "Urged", "sichuan"),
    ]
    (theirs,) = ducha.skipped.list("gansu")
    assert theirs["side"] == "waiting on us"
    assert (theirs["office"], theirs["record_id"]) == (SC, ids["item"])
    assert (theirs["target"], theirs["target_record"]) == ("gansu", ids["gansu"])
    assert "closed by 'state-council'" in theirs["reason"]
    assert theirs["at"] == "2026-03-02T12:00:00+08:00"  # China time
    assert ducha.skipped.list("baiyin") == []  # a relayed urge is not passed further


def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: Any, *args: str) -> str:
    monkeypatch.setenv("DUCHA_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("DUCHA_CLOCK", "2026-03-02T12:00:00+08:00")
    if settings.database_url:
        monkeypatch.setenv("DUCHA_DATABASE_URL", settings.database_url)
    else:
        monkeypatch.delenv("DUCHA_DATABASE_URL", raising=False)
    assert main(list(args)) == 0
    out: str = capsys.readouterr().out
    return out


def test_the_cli_lists_skipped_relays_at_both_ends(
    ducha: Platform, settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    ids = matter(ducha)
    ducha.supervision.act(person(SC, "leader"), SC, ids["item"], "reopen", reason="问题反弹")
    ducha.supervision.act(person(SC, "supervisor"), SC, ids["item"], "urge", message="请加快")

    lines = cli(settings, monkeypatch, capsys, "liaison", "skipped", "--office", "gansu")
    (line,) = lines.splitlines()
    assert line.startswith("2026-03-02T12:00:00  waiting on us  state-council#")
    assert f"Urged → gansu {ids['gansu'][:8]}: the task was concluded" in line
    ours = cli(settings, monkeypatch, capsys, "liaison", "skipped", "--office", SC).splitlines()
    assert [x.split("  ")[1].strip() for x in ours] == ["ours to relay"] * 2
    rows = json.loads(
        cli(settings, monkeypatch, capsys, "liaison", "skipped", "--office", "gansu", "--json")
    )
    assert [(r["side"], r["target_record"]) for r in rows] == [("waiting on us", ids["gansu"])]


def test_a_skips_table_made_before_gains_its_new_columns(ducha: Platform) -> None:
    from services.liaison import SKIPS_DDL, SkippedRelays

    with ducha.read.transaction() as tx:  # the table as an older release made it, with a row
        tx.execute("DROP TABLE relay_skips")
        tx.execute(SKIPS_DDL)
        tx.execute(
            "INSERT INTO relay_skips (office, position, target, event_type, reason) "
            "VALUES (?, ?, ?, ?, ?)",
            (SC, 7, "gansu", "Urged", "office 'gansu' is retired"),
        )
    skips = SkippedRelays(ducha.read)
    SkippedRelays(ducha.read)  # evolving it again changes nothing
    (old,) = skips.list("gansu")
    assert old == {
        "office": SC,
        "position": 7,
        "target": "gansu",
        "event_type": "Urged",
        "reason": "office 'gansu' is retired",
        "record_id": "",
        "target_record": "",
        "at": "",
        "side": "waiting on us",
    }
    ids = matter(ducha)  # and new rows are kept whole alongside
    ducha.supervision.act(person(SC, "leader"), SC, ids["item"], "reopen", reason="反弹")
    ducha.supervision.act(person(SC, "supervisor"), SC, ids["item"], "urge", message="快")
    assert [r["target_record"] for r in ducha.skipped.list("gansu")] == ["", ids["gansu"]]


def test_rectification_still_travels_down_and_up_before_the_end(ducha: Platform) -> None:
    """Only the end changed: ordering and accepting rectification still reach the task."""
    s = ducha.supervision
    item = s.register_item(person(SC, "supervisor"), SC, new_item()).id
    s.act(person(SC, "supervisor"), SC, item, "assign", assignees=[lead("gansu")])
    task = task_of(SC, item, "gansu")
    s.act(person("gansu"), "gansu", task, "acknowledge")
    s.act(person(SC, "leader"), SC, item, "order-rectification", requirements="限期整改")
    assert s.get("gansu", task).rectification == "ordered"
    s.act(person("gansu"), "gansu", task, "report-rectification", text="已整改")
    assert s.get(SC, item).rectification == "reported"
    s.act(person(SC, "leader"), SC, item, "accept-rectification", comment="通过")
    assert s.get("gansu", task).rectification == "accepted"
    s.act(person(SC, "leader"), SC, item, "close", reason="撤销", leader_closure=True)
    assert s.get("gansu", task).status == "concluded"
    assert ducha.skipped.list(SC) == []
