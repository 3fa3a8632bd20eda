"""``ducha users``: logins and passwords for the screens, beside the API tokens."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from services.bootstrap import Settings, build_platform
from services.signin import SignIn, SignInError
from services.users import UserDirectory
from tests.test_cli import Run, three_offices

PASSWORD = "黄河之水天上来-2026"


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Run:
    return three_offices(tmp_path, monkeypatch, capsys)


def sign_in(tmp_path: Path, login: str, password: str) -> str:
    """Sign in as the screens do, in a platform of its own over the same data."""
    platform = build_platform(Settings(data_dir=tmp_path / "var"))
    try:
        users = UserDirectory(platform.registry, platform.clock)
        return SignIn(users, platform.read, platform.clock)(login, password).name
    finally:
        platform.close()


def add(run: Run, *more: str, code: int = 0) -> str:
    return run(
        "users", "add", "--office", "gansu", "--role", "clerk", "--name", "张三", *more, code=code
    )


def test_a_login_takes_its_password_from_stdin(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    token = add(run, "--login", "zhangsan")
    assert token.startswith("dch_") and PASSWORD not in run.err
    assert sign_in(tmp_path, "zhangsan", PASSWORD) == "张三"
    listed = run.json("users", "list", "--office", "gansu")
    assert [(u["login"], u["locked_until"]) for u in listed] == [("zhangsan", None)]
    assert "password" not in str(listed) and "hash" not in str(listed)


def test_a_generated_password_is_printed_once_and_a_reset_replaces_it(
    run: Run, tmp_path: Path
) -> None:
    add(run, "--login", "zhangsan", "--generate-password")
    first = run.err.rsplit("password (shown once): ", 1)[1].strip()
    assert len(first) >= 10 and sign_in(tmp_path, "zhangsan", first) == "张三"
    second = run("users", "password", "zhangsan", "--generate-password").strip()
    assert second != first and sign_in(tmp_path, "zhangsan", second) == "张三"
    with pytest.raises(SignInError):
        sign_in(tmp_path, "zhangsan", first)


def test_logins_are_unique_well_formed_and_need_a_good_password(
    run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    add(run, "--login", "zhangsan", "--generate-password")
    assert add(run, "--login", "zhangsan", "--generate-password", code=1) == ""
    assert run.err == "error: the login 'zhangsan' is taken\n"
    assert add(run, "--login", "张三", "--generate-password", code=1) == ""
    assert run.err.startswith("error: login: 2 to 40 lower-case letters")
    assert run.err.count("\n") == 1
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert add(run, "--login", "lisi", code=2) == ""
    assert "at least 10 characters" in run.err
    assert len(run.json("users", "list", "--office", "gansu")) == 1  # nothing else recorded


def test_admins_see_and_lift_a_sign_in_lock(run: Run, tmp_path: Path) -> None:
    add(run, "--login", "zhangsan", "--generate-password")
    for _ in range(5):
        with pytest.raises(SignInError):
            sign_in(tmp_path, "zhangsan", "wrong password")
    assert "(locked until " in run("users", "list")
    assert run.json("users", "list")[0]["locked_until"].endswith("+08:00")
    assert run("users", "unlock", "zhangsan") == "zhangsan may sign in again\n"
    assert "(locked" not in run("users", "list")
    assert run("users", "unlock", "nobody", code=1) == ""
