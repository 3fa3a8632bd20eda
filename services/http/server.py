"""``ducha serve``: gunicorn in-process, one platform per worker (built after the fork). May import:
gunicorn, Flask, the domain's values, ``services.bootstrap`` (the platform),
``services.follower`` and ``services.http.app`` / ``common`` / ``unmigrated``.

Each worker also runs the deadline engine once a day (DeadlineDaily): its events are
idempotent per (record, deadline, level), so workers running it alike record it once.
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Any
from urllib.parse import parse_qsl, urlencode

from flask import Flask
from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger

from services.bootstrap import Settings, build_platform
from services.follower import Follower
from services.http.app import create_app
from services.http.common import MAX_BODY_BYTES
from services.http.unmigrated import when_available

log = logging.getLogger(__name__)


class Server(BaseApplication):  # type: ignore[misc]
    def __init__(self, settings: Settings, options: dict[str, Any]) -> None:
        self.settings = settings
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        return when_available(lambda: app_for(self.settings))  # 503 until migrated


def app_for(settings: Settings) -> Flask:
    """The WSGI app with its platform, a daily deadline run and, on the embedded bus, the
    read side's follower (``gunicorn`` factory). Both start in the background: the server
    answers at once, whatever the number of offices."""
    platform = build_platform(settings)
    if settings.bus == "embedded":
        Follower(platform.runner, platform.backend).start()
    DeadlineDaily(platform).start()
    return create_app(platform)


SECRET_PARAMETER = re.compile(r"token|key|secret|pass|auth|session", re.IGNORECASE)
REQUEST_TIMEOUT_SECONDS = 30
"""gunicorn's worker timeout; idempotency claims outlive it (``idempotency.LEASE_SECONDS``)."""


def redacted_query(query: str) -> str:
    """The query string with the value of anything that looks like a credential hidden."""
    pairs = parse_qsl(query, keep_blank_values=True)
    return urlencode([(k, "[redacted]" if SECRET_PARAMETER.search(k) else v) for k, v in pairs])


class RedactingLogger(Logger):  # type: ignore[misc]
    """The access log without credentials that a client put in a query string (the API never
    takes them there, but a careless client may send them anyway)."""

    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> Any:
        atoms = super().atoms(resp, req, environ, request_time)
        query = environ.get("QUERY_STRING") or ""
        if query:
            safe = redacted_query(query)
            path = environ.get("RAW_URI", "").split("?", 1)[0]
            atoms["q"] = safe
            atoms["r"] = f"{environ['REQUEST_METHOD']} {path}?{safe} {environ['SERVER_PROTOCOL']}"
        return atoms


def close_after_an_oversized_body(worker: Any, req: Any) -> None:
    """gunicorn's ``pre_request`` hook. A body larger than the app takes is refused unread
    (413), and gunicorn drains at most 64 KiB of it before dropping the connection — after
    having answered ``Connection: keep-alive``, so the client's next request on it fails.
    Saying ``Connection: close`` up front makes the client open a new one instead."""
    for name, value in req.headers:
        if name == "CONTENT-LENGTH" and value.isdigit() and int(value) > MAX_BODY_BYTES:
            req.must_close = True


def run_server(settings: Settings, host: str, port: int, workers: int, threads: int) -> None:
    Server(
        settings,
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "threads": threads,
            "worker_class": "gthread",
            "accesslog": "-",
            "logger_class": RedactingLogger,
            "pre_request": close_after_an_oversized_body,
            "timeout": REQUEST_TIMEOUT_SECONDS,
            "graceful_timeout": 10,
            "control_socket_disable": True,  # one fixed path per user: two servers would clash
        },
    ).run()


class DeadlineDaily(threading.Thread):
    """Runs the deadline engine for the business date, at start and whenever it changes."""

    def __init__(self, platform: Any, check_every: float = 600.0) -> None:
        super().__init__(name="deadlines-daily", daemon=True)
        self.platform = platform
        self.check_every = check_every
        self.last_run: Any = None
        self.stopped = threading.Event()

    def run(self) -> None:
        from domain.values import business_date

        while not self.stopped.is_set():
            today = business_date(self.platform.clock())
            if today != self.last_run:
                try:
                    self.platform.deadlines.run(today)
                    self.last_run = today
                except Exception:
                    log.exception("the daily deadline run failed; retrying later")
            self.stopped.wait(self.check_every)
