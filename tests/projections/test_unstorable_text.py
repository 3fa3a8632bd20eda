"""Events recorded before the commands refused unstorable text (issue 10 §1): a NUL used to
make PostgreSQL refuse the read side's rows (``DataError: PostgreSQL text fields cannot contain
NUL (0x00) bytes``), so the command answered 500 although recorded and the office's read side
stuck; on SQLite the text was cut short at the NUL. The read store now writes such text with
U+FFFD, so these old events project on both databases."""

from __future__ import annotations

import pytest

import domain.values
from domain.assignment import Assignee
from domain.tasks import Task
from services.bootstrap import Platform
from tests.projections.test_golden_rebuild import dump
from tests.scenario import new_item, person


def recorded_before_the_check(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let the domain take text the way it did before it refused NUL."""
    if hasattr(domain.values, "text_problem"):
        monkeypatch.setattr(domain.values, "text_problem", lambda value: None)


def test_old_events_with_nul_project_on_every_database(
    ducha: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorded_before_the_check(monkeypatch)
    s = ducha.supervision
    item = s.register_item(person("gansu"), "gansu", new_item("坏\x00标题", content="内\x00容"))
    s.act(
        person("gansu", "supervisor"),
        "gansu",
        item.id,
        "assign",
        assignees=[Assignee("office", "baiyin", "lead")],
    )
    task = str(Task.create_id("gansu", item.id, "baiyin"))
    s.act(person("baiyin"), "baiyin", task, "acknowledge")
    s.act(person("baiyin"), "baiyin", task, "report-progress", text="进展\x00报告", percent=10)
    monkeypatch.undo()
    assert ducha.runner.status(only_behind=True) == []  # nothing stopped, nothing behind
    title = ducha.read.all("SELECT title FROM items WHERE id = ?", (item.id,))
    assert title == [{"title": "坏\ufffd标题"}]
    assert ducha.views.item("gansu", item.id)["title"] == "坏\x00标题"  # type: ignore[index]
    summaries = [r["summary"] for r in ducha.views.audit("baiyin").items]
    assert "进展\ufffd报告" in summaries
    received = ducha.views.audit("gansu", type_="ReportReceived").items  # relayed up
    assert any("进展\ufffd报告" in r["summary"] for r in received)
    assert ducha.views.rollup("gansu")["records"]["total"] == 2
    caught_up = dump(ducha)
    ducha.runner.rebuild()
    assert dump(ducha) == caught_up
