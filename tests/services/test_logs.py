"""Logs as JSON lines: the shape of a line, one line per HTTP request with its id, user, office,
route, status and latency, the deadline run's counts, and never a password, token or session."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from services.cli import main
from services.logs import configure_logging, redact
from tests.web.conftest import PASSWORD, Screens, post
from tests.web.conftest import compiled_catalogs as compiled_catalogs  # the pages' catalogs
from tests.web.conftest import screens as screens  # a fixture: the screens over the API


class Captured:
    """Everything logged meanwhile: the lines as written, and the records before formatting."""

    def __init__(self) -> None:
        self.out = io.StringIO()
        self.records: list[logging.LogRecord] = []

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.out.getvalue().splitlines()]

    def requests(self) -> list[dict[str, Any]]:
        return [line for line in self.lines() if line["logger"] == "ducha.http"]


class Keep(logging.Handler):
    def __init__(self, into: list[logging.LogRecord]) -> None:
        super().__init__(logging.DEBUG)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        self.into.append(record)


@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch) -> Iterator[Captured]:
    """JSON lines at DEBUG from every logger, as ``ducha serve`` sets them up; restored after."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    monkeypatch.setenv("DUCHA_LOG_LEVEL", "DEBUG")
    monkeypatch.delenv("DUCHA_LOG_FORMAT", raising=False)
    found = Captured()
    configure_logging("json", stream=found.out)
    keep = Keep(found.records)
    root.addHandler(keep)
    yield found
    root.handlers[:] = handlers
    root.setLevel(level)


def test_a_line_has_china_time_level_logger_message_and_the_extra_fields(
    captured: Captured,
) -> None:
    logging.getLogger("ducha.test").warning("办结 %d 件", 3, extra={"office": "gansu"})
    [line] = captured.lines()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+08:00", line["time"])
    assert {k: line[k] for k in ("level", "logger", "message", "office")} == {
        "level": "WARNING",
        "logger": "ducha.test",
        "message": "办结 3 件",
        "office": "gansu",
    }


def test_an_exception_stays_on_its_line_and_secrets_in_free_text_are_redacted(
    captured: Captured,
) -> None:
    try:
        raise RuntimeError("cannot connect with password=hunter2 and Bearer dch_abc123")
    except RuntimeError:
        logging.getLogger("ducha.test").exception("failed", extra={"auth_token": "dch_zzz"})
    [line] = captured.lines()  # one line, the traceback inside it
    text = captured.out.getvalue()
    assert "RuntimeError" in line["exception"] and line["auth_token"] == "[redacted]"
    for secret in ("hunter2", "dch_abc123", "dch_zzz"):
        assert secret not in text
    assert redact("GET /x?token=abc&password=def&page=2") == (
        "GET /x?token=[redacted]&password=[redacted]&page=2"
    )


def test_each_request_logs_one_line_with_its_id_user_office_route_and_latency(
    screens: Screens, captured: Captured
) -> None:
    api = screens.api
    item = api.item()
    url = f"/api/v1/offices/gansu/items/{item['id']}"
    given = api.client.get(url, headers=api.headers("gansu", "clerk", **{"X-Request-ID": "abc-1"}))
    assert given.headers["X-Request-ID"] == "abc-1"
    hostile = api.client.get(url, headers=api.headers("gansu", "clerk", **{"X-Request-ID": "x\ty"}))
    new_id = hostile.headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", new_id)
    clerk = api.users.authenticate(api.token("gansu", "clerk"))
    assert clerk is not None
    first, second = captured.requests()[-2:]
    assert first["request_id"] == "abc-1" and second["request_id"] == new_id
    assert {k: first[k] for k in ("method", "route", "status", "user", "office", "role")} == {
        "method": "GET",
        "route": "/api/v1/offices/<code>/items/<item_id>",
        "status": 200,
        "user": clerk.id,
        "office": "gansu",
        "role": "clerk",
    }
    assert first["latency_ms"] >= 0 and first["message"] == f"GET {url} 200"
    screens.signed_in("baiyin", "leader").get("/")
    desk = captured.requests()[-1]
    assert (desk["route"], desk["office"], desk["role"]) == ("/", "baiyin", "leader")
    assert api.client.get("/nowhere").status_code == 404
    assert captured.requests()[-1]["route"] == "unmatched"


def test_no_password_token_or_session_is_ever_logged(screens: Screens, captured: Captured) -> None:
    """Sign in with a password (and fail once with another), browse with the session's
    cookie, call the API with a bearer token, and put both in query strings: neither the
    lines written nor the records behind them hold any of them."""
    api = screens.api
    token = api.token("gansu", "clerk")
    login = screens.person("gansu", "leader")
    browser = screens.client()
    wrong = "不是这个密码-wrong-9f3c"
    post(browser, "/signin", {"login": login, "password": wrong})
    assert post(browser, "/signin", {"login": login, "password": PASSWORD}).status_code == 302
    session = browser.get_cookie("ducha_session")
    assert session is not None
    assert browser.get("/", follow_redirects=True).status_code == 200
    bearer = {"Authorization": f"Bearer {token}"}
    assert api.client.get("/api/v1/offices/gansu/items", headers=bearer).status_code == 200
    api.client.get(f"/api/v1/offices/gansu/items?token={token}&password={PASSWORD}", headers=bearer)
    browser.get(f"/?access_token={token}&password={wrong}")
    api.client.get("/api/v1/offices/gansu/items", headers={"Authorization": f"Bearer {token}x"})
    assert len(captured.requests()) >= 8  # every request above was logged
    written = captured.out.getvalue()
    raw = "\n".join(json.dumps(vars(r), default=str) + r.getMessage() for r in captured.records)
    for secret in (PASSWORD, wrong, token, session.value):
        assert secret not in written
        assert secret not in raw


def test_a_deadline_run_from_the_cli_logs_its_counts_when_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    monkeypatch.setenv("DUCHA_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("DUCHA_CLOCK", "2026-03-02T10:00:00+08:00")
    monkeypatch.delenv("DUCHA_DATABASE_URL", raising=False)
    assert main(["offices", "add", "gansu", "--name", "甘肃省", "--level", "province"]) == 0
    try:
        assert main(["deadlines", "run"]) == 0
        assert capsys.readouterr().err == ""  # a person at the terminal: the summary only
        monkeypatch.setenv("DUCHA_LOG_FORMAT", "json")
        assert main(["deadlines", "run"]) == 0
        out, err = capsys.readouterr()
        [line] = [json.loads(x) for x in err.splitlines() if "deadline_run" in x]
        assert (line["event"], line["checked"], line["escalated"]) == ("deadline_run", 0, 0)
        assert out.startswith("2026-03-02: checked 0")
        monkeypatch.setenv("DUCHA_LOG_FORMAT", "yaml")
        assert main(["deadlines", "run"]) == 1
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "DUCHA_LOG_FORMAT must be json or text" in err
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
