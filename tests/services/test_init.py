"""``ducha init`` and ``ducha migrate`` on a new installation, on both backends: the root office
and its first admin, once; run again, nothing is recorded twice; another root is refused."""

from __future__ import annotations

import json
from typing import Any

import pytest

from services.bootstrap import Settings, build_platform
from services.signin import SignIn
from services.users import UserDirectory
from tests.test_cli import Run

INIT = ("init", "--root", "sc", "--name", "国务院办公厅", "--admin", "wang", "--admin-name", "王五")


@pytest.fixture
def run(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Run:
    monkeypatch.setenv("DUCHA_DATA_DIR", str(settings.data_dir))
    if settings.database_url:
        monkeypatch.setenv("DUCHA_DATABASE_URL", settings.database_url)
    else:
        monkeypatch.delenv("DUCHA_DATABASE_URL", raising=False)
    monkeypatch.setenv("DUCHA_CLOCK", "2026-03-02T10:00:00+08:00")
    return Run(capsys)


def recorded(settings: Settings) -> int:
    """How many events the platform's store holds (offices and users)."""
    platform = build_platform(settings)
    try:
        return platform.registry.store.recorder.max_notification_id() or 0
    finally:
        platform.close()


def signed_in(settings: Settings, login: str, password: str, token: str) -> list[Any]:
    platform = build_platform(settings)
    try:
        users = UserDirectory(platform.registry, platform.clock)
        by_password = SignIn(users, platform.read, platform.clock)(login, password)
        by_token = users.authenticate(token)
        assert by_token is not None
        return [(u.office, u.role, u.name) for u in (by_password, by_token)]
    finally:
        platform.close()


def test_init_makes_the_root_and_an_admin_who_can_sign_in(run: Run, settings: Settings) -> None:
    run("migrate")
    out = run(*INIT, "--generate-password", "--url", "https://ducha.example.gov.cn")
    assert out.startswith("initialised: root office sc (国务院办公厅, central), admin wang")
    token = out.split("API token (shown once, only its hash is kept): ")[1].split()[0]
    password = out.split("password for wang: ")[1].split()[0]
    assert signed_in(settings, "wang", password, token) == [("sc", "admin", "王五")] * 2
    assert "sign in at https://ducha.example.gov.cn/signin as wang" in out
    assert "ducha offices add CODE --name 名称 --level province --parent sc" in out
    listed = run.json("offices", "list")
    assert [(o["code"], o["parent"]) for o in listed["items"]] == [("sc", None)]


def test_init_again_with_the_same_options_records_nothing(run: Run, settings: Settings) -> None:
    first = json.loads(run(*INIT, "--generate-password", "--json"))
    assert not first["already_initialised"] and first["token"].startswith("dch_")
    before = recorded(settings)
    again = run(*INIT)  # no password is asked: stdin is not read
    assert again.strip() == "already initialised: root office sc (国务院办公厅), admin wang"
    second = json.loads(run(*INIT, "--json"))
    assert second["already_initialised"] and second["token"] is None
    assert second["admin"]["id"] == first["admin"]["id"]
    assert recorded(settings) == before


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (("--root", "gansu"), "already initialised with root office 'sc' (国务院办公厅, central)"),
        (("--name", "国务院"), "not 'sc' (国务院, central)"),
        (("--level", "province"), "not 'sc' (国务院办公厅, province)"),
        (("--admin", "li"), "already initialised: 'sc' has its admin 'wang'"),
    ],
)
def test_init_with_another_root_or_admin_is_refused_in_one_line(
    run: Run, settings: Settings, change: tuple[str, str], said: str
) -> None:
    run(*INIT, "--generate-password")
    before = recorded(settings)
    args = list(INIT)
    if change[0] in args:
        args[args.index(change[0]) + 1] = change[1]
    else:
        args += change
    run(*args, "--generate-password", code=1)
    assert run.err.count("\n") == 1 and run.err.startswith("error: ") and said in run.err
    assert recorded(settings) == before


def test_init_gives_a_root_registered_without_admin_its_admin(run: Run) -> None:
    run("offices", "add", "sc", "--name", "国务院办公厅", "--level", "central")
    out = run(*INIT, "--generate-password")
    assert out.startswith("initialised:") and "API token" in out


def test_a_login_someone_else_holds_is_refused(run: Run) -> None:
    run("offices", "add", "sc", "--name", "国务院办公厅", "--level", "central")
    run("offices", "add", "gs", "--name", "甘肃", "--level", "province", "--parent", "sc")
    run("users", "add", "--office", "gs", "--role", "clerk", "--name", "王五", "--login", "wang",
        "--generate-password")  # fmt: skip
    run(*INIT, "--generate-password", code=1)
    assert "the login 'wang' belongs to 王五 (gs clerk), not to an admin of 'sc'" in run.err


def test_migrate_on_sqlite_creates_what_is_missing_then_has_nothing_to_do(
    sqlite_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DUCHA_DATA_DIR", str(sqlite_settings.data_dir))
    monkeypatch.delenv("DUCHA_DATABASE_URL", raising=False)
    run = Run(capsys)
    first = run("migrate")
    assert "created what was missing" in first and "tracking" in first and "items" in first
    assert "nothing to do" in run("migrate")
    run("migrate", "--grant-to", "ducha_app", code=1)
    assert (
        run.err == "error: --grant-to needs PostgreSQL (DUCHA_DATABASE_URL); SQLite has no roles\n"
    )
