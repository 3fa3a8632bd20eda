"""The HTTP server while its database needs ``ducha migrate``: each failed try to build the app
leaves no platform (pool, threads, deadline run) behind, and the 503 it answers says what to
do without telling anonymous clients the role or the statement; the log says those, once."""

from __future__ import annotations

import json
import logging
import threading
from typing import Any

import pytest
from werkzeug.test import Client

from services.bootstrap import Platform, Settings, build_platform
from services.http import server
from services.http.app import context_of
from services.http.server import app_for
from services.http.unmigrated import Unavailable, when_available
from services.stores.pgprovision import NotMigratedError

SECRET_PROBLEM = "role 'app_7f3a' was granted nothing here: CREATE TABLE IF NOT EXISTS items"


def daily_threads() -> int:
    return sum(1 for t in threading.enumerate() if t.name == "deadlines-daily" and t.is_alive())


def test_a_failed_build_leaves_no_platform_or_thread(
    sqlite_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[Platform] = []
    closed: list[Platform] = []
    failures = [3]

    def tracked(settings: Settings) -> Platform:
        platform = build_platform(settings)
        built.append(platform)
        real_close = platform.close

        def close() -> None:
            closed.append(platform)
            real_close()

        platform.close = close  # type: ignore[method-assign]
        return platform

    real_create = server.create_app

    def create_app(platform: Platform) -> Any:
        if failures[0]:
            failures[0] -= 1
            raise NotMigratedError(SECRET_PROBLEM)
        return real_create(platform)

    monkeypatch.setattr(server, "build_platform", tracked)
    monkeypatch.setattr(server, "create_app", create_app)
    before = daily_threads()
    waiting = Unavailable(lambda: app_for(sqlite_settings), "not yet", retry=0)
    for _ in range(3):  # three retries, each failing in create_app
        assert Client(waiting).get("/healthz").status_code == 503
    assert len(built) == 3 and closed == built
    assert daily_threads() == before
    assert Client(waiting).get("/healthz").status_code == 200  # the fourth try serves
    assert len(built) == 4 and closed == built[:3]
    assert daily_threads() == before + 1  # the one app's deadline run, started after it
    app = waiting.app
    assert app is not None
    context_of(app).platform.close()  # type: ignore[arg-type]


def test_the_503_says_to_migrate_and_only_the_log_says_why(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls = [0]

    def build() -> Any:
        calls[0] += 1
        raise NotMigratedError(SECRET_PROBLEM if calls[0] < 4 else "another problem")

    with caplog.at_level(logging.WARNING, logger="services.http.unmigrated"):
        waiting = when_available(build)
        assert isinstance(waiting, Unavailable)
        waiting.retry, waiting.next_try = 0, 0.0  # retry at every request
        for _ in range(4):
            answer = Client(waiting).get("/api/offices")
            assert answer.status_code == 503
            body = json.loads(answer.get_data())
            assert body["code"] == "unavailable"
            assert "run `ducha migrate`" in body["message"]
            assert "app_7f3a" not in body["message"] and "CREATE" not in body["message"]
            assert "another problem" not in body["message"]
    told = [r.getMessage() for r in caplog.records if "not serving yet" in r.getMessage()]
    assert calls[0] == 5  # the first build, then four retries
    assert told == [f"not serving yet: {SECRET_PROBLEM}", "not serving yet: another problem"]
    assert all(r.levelno == logging.WARNING for r in caplog.records if "not serving" in r.msg)
