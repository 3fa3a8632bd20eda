"""The read side on the command line, and time travel."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from domain.assignment import Assignee
from domain.values import CHINA_TZ
from services.bootstrap import Platform, Settings, build_platform
from services.cli import main
from tests.conftest import FixedClock
from tests.scenario import build_hierarchy, new_item, person


@pytest.fixture
def seeded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """gansu registers on 2 March, assigns to baiyin on 5 March; baiyin reports on 9 March."""
    monkeypatch.setenv("DUCHA_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("DUCHA_CLOCK", "2026-03-20T12:00:00+08:00")
    clock = FixedClock("2026-03-02")
    p = build_platform(Settings(data_dir=tmp_path / "var"), clock=clock)
    try:
        build_hierarchy(p)
        s = p.supervision
        item = s.register_item(person("gansu"), "gansu", new_item(deadline=date(2026, 3, 18)))
        clock.set("2026-03-05")
        s.act(
            person("gansu", "supervisor"),
            "gansu",
            item.id,
            "assign",
            assignees=[Assignee("office", "baiyin", "lead")],
        )
        task = p.views.items("baiyin").items[0]["id"]
        s.act(person("baiyin"), "baiyin", task, "acknowledge")
        clock.set("2026-03-09")
        s.act(person("baiyin"), "baiyin", task, "report-progress", text="过半", percent=50)
        return {"item": item.id, "task": task}
    finally:
        p.close()


def run(capsys: pytest.CaptureFixture[str], *args: str, code: int = 0) -> Any:
    assert main(list(args)) == code, capsys.readouterr()
    out = capsys.readouterr().out
    return json.loads(out) if "--json" in args else out


def test_items_list_filters_and_shows_lights(
    seeded: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    red = run(capsys, "items", "list", "--office", "gansu", "--light", "red", "--json")
    assert [(i["id"], i["light"], i["overdue"]) for i in red["items"]] == [
        (seeded["item"], "red", True)
    ]
    assert (
        run(capsys, "items", "list", "--office", "gansu", "--light", "green", "--json")["total"]
        == 0
    )
    tasks = run(capsys, "items", "list", "--office", "baiyin", "--kind", "task", "--json")
    assert tasks["items"][0]["status"] == "in_progress"


def test_tree_rollup_circular_and_audit(
    seeded: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    tree = run(capsys, "tree", "--office", "baiyin", seeded["task"], "--json")
    assert (tree["office"], tree["children"][0]["office"]) == ("gansu", "baiyin")
    assert tree["children"][0]["last_report"] == "过半"
    rollup = run(capsys, "rollup", "--office", "gansu", "--json")
    records = rollup["records"]
    assert (records["total"], records["overdue"], records["by_kind"]) == (
        2,
        2,
        {"item": 1, "task": 1},
    )
    assert (rollup["matters"]["total"], rollup["matters"]["overdue"]) == (1, 1)
    circular = run(capsys, "circular", "--office", "state-council", "--json")
    # gansu's matter is due (overdue): ranked, at 0 %; sichuan has nothing due: unranked, last.
    assert [
        (e["office"], e["rank"], e["matters"]["overdue"], e["matters"]["on_time_rate"])
        for e in circular["ranking"]
    ] == [("gansu", 1, 1, 0.0), ("sichuan", None, 0, None)]
    trail = run(
        capsys, "audit", "trail", "--office", "baiyin", "--type", "ProgressReported", "--json"
    )
    assert [(r["actor_user"], r["summary"]) for r in trail["items"]] == [("baiyin-clerk", "过半")]
    window = run(
        capsys,
        "audit",
        "trail",
        "--office",
        "gansu",
        "--from",
        "2026-03-03",
        "--to",
        "2026-03-06",
        "--json",
    )
    assert [r["type"] for r in window["items"]] == ["Assigned", "ReportReceived"]


def test_time_travel_shows_the_past_as_it_stood(
    seeded: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    before = run(
        capsys,
        "items",
        "show",
        "--office",
        "gansu",
        seeded["item"],
        "--as-of",
        "2026-03-04",
        "--json",
    )
    assert (before["version"], before["assignments"], before["overdue"]) == (1, [], False)
    past = run(capsys, "rollup", "--office", "gansu", "--as-of", "2026-03-04", "--json")
    assert (past["records"]["total"], past["on"], past["records"]["by_light"]["green"]) == (
        1,
        "2026-03-04",
        1,
    )
    tree = run(
        capsys,
        "tree",
        "--office",
        "gansu",
        seeded["item"],
        "--as-of",
        "2026-03-06T00:00:00+08:00",
        "--json",
    )
    assert tree["children"][0]["status"] == "acknowledged"  # the report came on 9 March
    now = run(capsys, "tree", "--office", "gansu", seeded["item"], "--json")
    assert now["children"][0]["status"] == "in_progress"
    run(
        capsys,
        "items",
        "show",
        "--office",
        "gansu",
        seeded["item"],
        "--as-of",
        "2026-03-01",
        code=1,
    )


def test_rebuild_reports_and_reproduces(
    seeded: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    before = run(capsys, "rollup", "--office", "state-council", "--json")
    out = run(capsys, "projections", "rebuild")
    assert out.startswith("rebuilt all projections: ")
    assert run(capsys, "rollup", "--office", "state-council", "--json") == before
    assert "rebuilt rollup" in run(capsys, "projections", "rebuild", "rollup", "--office", "baiyin")
    assert run(capsys, "rollup", "--office", "state-council", "--json") == before


def test_time_travel_in_the_services(sqlite_settings: Settings) -> None:
    clock = FixedClock("2026-03-02")
    p: Platform = build_platform(sqlite_settings, clock=clock)
    try:
        build_hierarchy(p)
        item = p.supervision.register_item(person("gansu"), "gansu", new_item())
        clock.set("2026-03-10")
        p.supervision.act(person("gansu"), "gansu", item.id, "acknowledge")
        noon_5th = datetime(2026, 3, 5, 12, tzinfo=CHINA_TZ)
        assert p.supervision.get_as_of("gansu", item.id, noon_5th).status == "registered"
        past = p.as_of(noon_5th, ["gansu"])
        assert past.item("gansu", item.id)["status"] == "registered"  # type: ignore[index]
        assert p.views.item("gansu", item.id)["status"] == "acknowledged"  # type: ignore[index]
    finally:
        p.close()
