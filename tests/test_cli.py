"""The ``ducha`` command line: JSON shapes, one-line errors, exit codes, help everywhere."""

from __future__ import annotations

import getpass
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest

from services.cli import cli, main
from services.supervision import ACTIONS


class Run:
    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self.capsys = capsys

    def __call__(self, *args: str, code: int = 0) -> str:
        returned = main(list(args))
        out, err = self.capsys.readouterr()
        assert returned == code, (out, err)
        self.err = err
        return out

    def json(self, *args: str) -> Any:
        return json.loads(self(*args, "--json"))


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Run:
    return three_offices(tmp_path, monkeypatch, capsys)


def three_offices(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Run:
    """The CLI over a fresh data directory with state-council, gansu and baiyin."""
    monkeypatch.setenv("DUCHA_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("DUCHA_CLOCK", "2026-03-02T10:00:00+08:00")
    monkeypatch.delenv("DUCHA_DATABASE_URL", raising=False)
    r = Run(capsys)
    r("offices", "add", "state-council", "--name", "国务院办公厅", "--level", "central")
    r(
        "offices",
        "add",
        "gansu",
        "--name",
        "甘肃省人民政府办公厅",
        "--level",
        "province",
        "--parent",
        "state-council",
    )
    r(
        "offices",
        "add",
        "baiyin",
        "--name",
        "白银市人民政府办公室",
        "--level",
        "prefecture",
        "--parent",
        "gansu",
    )
    return r


REGISTER = [
    "items",
    "register",
    "--office",
    "gansu",
    "--title",
    "关于黄河流域生态保护的批示",
    "--source-kind",
    "instruction",
    "--source-ref",
    "甘政批〔2026〕21号",
    "--issued-on",
    "2026-03-02",
    "--objective",
    "整治违规排污",
    "--content",
    "排查排污口",
    "--executing-unit",
    "省生态环境厅",
    "--responsible",
    "马晓东",
]


def test_register_prints_the_item_as_json_in_chinese(run: Run) -> None:
    item = run.json(*REGISTER)
    assert {"id", "office", "title", "source_kind", "deadline", "status", "version"} <= set(item)
    assert (item["office"], item["title"], item["deadline"]) == (
        "gansu",
        "关于黄河流域生态保护的批示",
        "2026-04-14",
    )
    assert (item["status"], item["version"], item["kind"]) == ("registered", 1, "item")
    raw = run(*REGISTER, "--json", "--allow-duplicate")
    assert "关于黄河流域生态保护的批示" in raw  # UTF-8, not \u escapes


def test_actions_show_list_and_history(run: Run) -> None:
    item_id = run.json(*REGISTER)["id"]
    run("items", "acknowledge", "--office", "gansu", item_id, "--role", "clerk")
    progressed = run.json(
        "items",
        "report-progress",
        "--office",
        "gansu",
        item_id,
        "--text",
        "已排查46个排污口",
        "--percent",
        "30",
    )
    assert (progressed["status"], progressed["progress_percent"]) == ("in_progress", 30)
    assigned = run.json(
        "items",
        "assign",
        "--office",
        "gansu",
        item_id,
        "--to",
        "baiyin",
        "--co-unit",
        "省水利厅",
    )
    assert [a["target"] for a in assigned["assignments"]] == ["baiyin", "省水利厅"]
    shown = run.json("items", "show", "--office", "gansu", item_id)
    assert shown["version"] == 4
    listed = run.json("items", "list", "--office", "gansu")
    assert (listed["total"], listed["items"][0]["id"]) == (1, item_id)
    history = run.json("items", "history", "--office", "gansu", item_id)
    assert [e["type"] for e in history] == [
        "Registered",
        "Acknowledged",
        "ProgressReported",
        "Assigned",
    ]
    assert history[1]["actor"] == {
        "user_id": "cli",
        "office": "gansu",
        "role": "clerk",
        "channel": "cli",
        "os_user": getpass.getuser(),  # who really ran the command
    }
    assert history[2]["data"]["text"] == "已排查46个排污口"
    assert history[2]["time"].startswith("2026-03-02T10:00:00")


def test_a_rule_violation_is_one_line_on_stderr_and_records_nothing(run: Run) -> None:
    item_id = run.json(*REGISTER)["id"]
    run(
        "items",
        "report-progress",
        "--office",
        "gansu",
        item_id,
        "--text",
        "x",
        "--percent",
        "5",
        code=1,
    )
    assert run.err == "error: the item must be acknowledged before reports are made\n"
    run(
        "items",
        "request-extension",
        "--office",
        "gansu",
        item_id,
        "--new-deadline",
        "2026-03-01",
        "--reason",
        "x",
        code=1,
    )
    assert run.err.count("\n") == 1 and "later than the current one" in run.err
    assert run.json("items", "show", "--office", "gansu", item_id)["version"] == 1


USAGE, RULE = 2, 1


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["items", "show", "--office", "nowhere", "x"], RULE, "no office 'nowhere'"),
        (["items", "show", "--office", "gansu", "123"], RULE, "no item '123'"),
        (["calendar", "add-working-days", "2026-02-30", "3"], USAGE, "not a date"),
        (
            ["offices", "add", "Bad_Code", "--name", "x", "--level", "county", "--parent", "gansu"],
            RULE,
            "code: must be",
        ),
        (["offices", "add", "x1", "--name", "x", "--level", "city"], USAGE, "'--level'"),
        ([*REGISTER[:-2]], USAGE, "Missing option '--responsible'"),
        ([*REGISTER[:3], "lanzhou", *REGISTER[4:]], RULE, "no office 'lanzhou'"),
        ([*REGISTER, "--source-kind", "document"], RULE, "deadline: a deadline is required"),
        (["items", "assign", "--office", "gansu", "x"], USAGE, "exactly one of --to"),
    ],
)
def test_bad_input_exits_non_zero_with_one_readable_line(
    run: Run, args: list[str], code: int, message: str
) -> None:
    assert run(*args, code=code) == ""
    assert run.err.count("\n") == 1 and run.err.startswith("error: ")
    assert message in run.err


def test_offices_hierarchy_commands(run: Run) -> None:
    assert [o["code"] for o in run.json("offices", "descendants", "state-council")] == [
        "gansu",
        "baiyin",
    ]
    assert [o["code"] for o in run.json("offices", "ancestors", "baiyin")] == [
        "gansu",
        "state-council",
    ]
    shown = run.json("offices", "show", "gansu")
    assert (shown["name"], shown["children"], shown["ancestors"]) == (
        "甘肃省人民政府办公厅",
        ["baiyin"],
        ["state-council"],
    )
    page = run.json("offices", "list", "--per-page", "2", "--page", "2")
    assert (page["total"], [o["code"] for o in page["items"]]) == (3, ["baiyin"])


def test_calendar_commands(run: Run) -> None:
    assert run("calendar", "add-working-days", "2026-09-30", "1") == "2026-10-08\n"
    assert run("calendar", "is-working-day", "2026-10-10") == "yes\n"
    assert run("calendar", "is-working-day", "2026-10-01") == "no\n"
    assert run("calendar", "add-working-days", "2026-12-20", "30") == "2027-02-01*\n"
    assert run.err == "provisional: the 2027 holiday notice is not yet published\n"


def test_a_provisional_deadline_is_marked_and_a_notice_recomputes_it(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    holidays = tmp_path / "holidays.json"
    monkeypatch.setenv("DUCHA_HOLIDAYS_FILE", str(holidays))
    monkeypatch.setenv("DUCHA_CLOCK", "2027-01-20T10:00:00+08:00")
    january = [*REGISTER[:-2], "--responsible", "马晓东", "--issued-on", "2027-01-20"]
    item = run.json(*january)
    assert (item["deadline"], item["deadline_provisional"]) == ("2027-03-05", True)
    shown = run("items", "show", "--office", "gansu", item["id"])
    assert "2027-03-05*" in shown and "the 2027 holiday notice is not yet published" in shown
    listed = run("items", "list", "--office", "gansu")
    assert "2027-03-05*" in listed and "not yet published" in run.err
    notice = tmp_path / "notice-2027.json"
    notice.write_text(
        json.dumps(
            {
                "source": "国办发明电〔2026〕7号",
                "holidays": ["2027-01-01"],
                "workdays": ["2027-01-01"],
            }
        ),
        "utf-8",
    )
    assert run("calendar", "add-year", "2027", "--file", str(notice), code=1) == ""
    assert run.err.startswith("error: ") and run.err.count("\n") == 1 and "2027-01-01" in run.err
    good = {
        "source": "国办发明电〔2026〕7号",
        "holidays": ["2027-01-01", "2027-02-05", "2027-02-06", "2027-02-07", "2027-02-08"],
        "workdays": ["2027-02-20"],  # a make-up Saturday inside the 30 working days
    }
    notice.write_text(json.dumps(good), "utf-8")
    added = run.json("calendar", "add-year", "2027", "--file", str(notice))
    assert [(r["old_deadline"], r["new_deadline"]) for r in added["recomputed"]] == [
        ("2027-03-05", "2027-03-04")
    ]
    after = run.json("items", "show", "--office", "gansu", item["id"])
    assert (after["deadline"], after["deadline_provisional"]) == ("2027-03-04", False)
    history = run.json("items", "history", "--office", "gansu", item["id"])
    assert history[-1]["type"] == "DeadlineRecomputed"
    assert run.json("calendar", "add-year", "2027", "--file", str(notice))["recomputed"] == []


def every_command(group: click.Group, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found: list[tuple[str, ...]] = [path]
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found += every_command(command, (*path, name))
        else:
            found.append((*path, name))
    return found


def test_every_command_has_help(run: Run) -> None:
    commands = every_command(cli)
    assert {("items", a) for a in ACTIONS} <= set(commands)
    for path in commands:
        out = run(*path, "--help")
        assert "Usage: ducha" in out and "--help" in out
        command = cli
        for name in path:
            command = command.commands[name]  # type: ignore[attr-defined]
        assert (command.help or "").strip(), f"{' '.join(path)} has no help text"


def test_the_installed_console_script_runs(tmp_path: Path) -> None:
    ducha = Path(sys.executable).parent / "ducha"
    env = {**os.environ, "DUCHA_DATA_DIR": str(tmp_path / "var"), "DUCHA_CLOCK": "2026-03-02"}
    env.pop("DUCHA_DATABASE_URL", None)
    done = subprocess.run(
        [str(ducha), "offices", "add", "root", "--name", "国务院办公厅", "--level", "central"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    failed = subprocess.run(
        [str(ducha), "offices", "add", "root", "--name", "again", "--level", "central"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (failed.returncode, failed.stdout) == (1, "")
    assert failed.stderr == "error: office 'root' is already registered\n"


def test_text_no_store_could_hold_is_refused_naming_the_option(run: Run) -> None:
    for args, named in (
        ([*REGISTER[:5], "关于\x07批示", *REGISTER[6:]], "--title: contains the control"),
        ([*REGISTER, "--source-ref=文号\x1b[31m"], "--source-ref: contains the control"),
    ):
        assert run(*args, code=2) == ""
        assert run.err.count("\n") == 1 and run.err.startswith(f"error: {named}"), run.err
    assert run.json("items", "list", "--office", "gansu")["total"] == 0


def test_undecodable_arguments_and_far_dates_are_refused(run: Run, tmp_path: Path) -> None:
    ducha = Path(sys.executable).parent / "ducha"
    env = {**os.environ, "DUCHA_DATA_DIR": str(tmp_path / "var"), "DUCHA_CLOCK": "2026-03-02"}
    args = [os.fsencode(a) for a in REGISTER]
    args[args.index(b"--responsible") + 1] = b"\xff\xfe"  # not UTF-8
    done = subprocess.run([bytes(ducha), *args], env=env, capture_output=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.decode().startswith("error: --responsible: contains a lone surrogate")
    far = [*REGISTER, "--deadline", "9999-12-31"]
    assert run(*far, code=2) == "" and "from 2000-01-01 to 2199-12-31" in run.err
    assert run.json("items", "list", "--office", "gansu")["total"] == 0


def test_a_day_means_that_whole_day_in_china_and_times_are_shown_in_china(run: Run) -> None:
    item = run.json(*REGISTER)  # at 10:00 China time on 2026-03-02 (02:00 UTC)
    trail = run.json(
        "audit", "trail", "--office", "gansu", "--from", "2026-03-02", "--to", "2026-03-02"
    )
    assert [r["record_id"] for r in trail["items"]] == [item["id"]]
    assert run.json("audit", "trail", "--office", "gansu", "--from", "2026-03-03")["total"] == 0
    shown = run("audit", "trail", "--office", "gansu")
    assert "2026-03-02T10:00:00+08:00" in shown
    history = run("items", "history", "--office", "gansu", item["id"])
    assert "2026-03-02T10:00:00+08:00" in history


def test_a_deadline_already_passed_warns_and_the_version_is_printed(run: Run) -> None:
    late = ["--source-kind", "document", "--issued-on", "2026-02-02", "--deadline", "2026-03-01"]
    item = run.json(*REGISTER, *late)
    assert item["deadline"] == "2026-03-01"
    assert run.err == (
        "warning: the deadline 2026-03-01 has already passed (today is 2026-03-02): "
        "the item is overdue from the start\n"
    )
    run(*REGISTER, "--json", "--source-ref", "甘政批〔2026〕22号")
    assert run.err == ""
    assert run("--version").startswith("ducha ")


def test_the_cli_enforces_the_role_matrix_it_claims(run: Run) -> None:
    item = run.json(*REGISTER)
    close = ["items", "close", "--office", "gansu", item["id"], "--reason", "领导决定"]
    assert run(*close, "--leader-closure", code=1) == ""
    assert run.err == "error: a supervisor may not close (allowed: leader; give --role)\n"
    assert run(*REGISTER, "--role", "clerk", code=1) == ""
    assert "a clerk may not register (allowed: supervisor, leader" in run.err
    assert len(run.json("items", "history", "--office", "gansu", item["id"])) == 1
    closed = run.json(*close, "--leader-closure", "--role", "leader")
    assert closed["status"] == "closed"


def test_projections_status_and_retry(run: Run, tmp_path: Path) -> None:
    from projections.readstore import DeadLetter, SQLiteReadStore

    item = run.json(*REGISTER)
    status = run.json("projections", "status", "--office", "gansu")
    assert {s["consumer"] for s in status} >= {"items", "audit", "rollup", "relay"}
    assert all(s["lag"] == 0 and s["dead_letter"] is None for s in status)
    read = SQLiteReadStore(tmp_path / "var" / "read.sqlite")  # as a failure would leave it
    with read.transaction() as tx:
        tx.record_dead_letter(
            DeadLetter(
                "gansu",
                "audit",
                1,
                "domain.items:SupervisionItem.Registered",
                item["id"],
                1,
                "RuntimeError",
                "boom",
                "2026-03-02T02:00:00+00:00",
                "2026-03-02T02:00:00+00:00",
                1,
            )
        )
        tx.set_position("audit", "gansu", 0)
        tx.execute("DELETE FROM audit WHERE office = 'gansu'")
    read.close()
    table = run("projections", "status", "--office", "gansu", code=1)
    assert "#1 Registered" in table and "RuntimeError: boom" in table
    assert run("projections", "retry", "--office", "gansu") == "resumed 1 consumer(s)\n"
    assert run.json("audit", "trail", "--office", "gansu")["total"] == 1
    assert run("projections", "status", "--office", "gansu", "--behind").count("\n") == 1


def test_skipped_relays_are_the_liaisons_and_the_old_name_still_answers(run: Run) -> None:
    assert run.json("liaison", "skipped", "--office", "gansu") == []
    assert run.json("relay", "skipped", "--office", "gansu") == []
    assert "is now 'ducha liaison skipped'" in run.err


def test_a_unique_prefix_of_six_characters_stands_for_an_id(run: Run) -> None:
    first = run.json(*REGISTER)["id"]
    assert run.json("items", "show", "--office", "gansu", first[:6])["id"] == first
    assert run.json("items", "history", "--office", "gansu", first[:8])[0]["type"] == "Registered"
    acked = run.json("items", "acknowledge", "--office", "gansu", first[:6], "--role", "clerk")
    assert acked["version"] == 2
    assert run("items", "show", "--office", "gansu", first[:5], code=1) == ""
    assert "at least 6 characters" in run.err
    assert run("items", "show", "--office", "gansu", "ffffff0", code=1) == ""
    assert "no item 'ffffff0'" in run.err


def test_an_ambiguous_prefix_lists_its_matches() -> None:
    from types import SimpleNamespace

    from services.cli.common import full_id

    matches = ["0a1b2c3d-0000-4000-8000-000000000001", "0a1b2c3d-0000-4000-8000-000000000002"]
    views = SimpleNamespace(
        ids_starting=lambda office, prefix: [m for m in matches if m.startswith(prefix)]
    )
    registry = SimpleNamespace(get=lambda office: office)
    c: Any = SimpleNamespace(platform=SimpleNamespace(views=views, registry=registry))
    with pytest.raises(ValueError, match="'0a1b2c' is ambiguous in office 'gansu': 0a1b2c3d-0000"):
        full_id(c, "gansu", "0a1b2c")
    assert full_id(c, "gansu", "0A1B2C3D-0000-4000-8000-000000000002") == matches[1]


def test_the_audit_trail_says_who_in_words(run: Run) -> None:
    run(*REGISTER, "--user", "张三")
    [row] = run.json("audit", "trail", "--office", "gansu")["items"]
    assert (row["actor_name"], row["actor_office"], row["actor_role"]) == (
        "张三",
        "gansu",
        "supervisor",
    )
    shown = run("audit", "trail", "--office", "gansu")
    assert f"张三 (gansu, supervisor, cli:{getpass.getuser()})" in shown
