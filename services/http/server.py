"""``ducha serve``: gunicorn in-process, one platform per worker (built after the fork). May import:
gunicorn, Flask, the domain's values, ``services.bootstrap`` (the platform),
``services.follower``, ``services.logs`` and ``services.metrics`` (the format of gunicorn's
lines; the workers' shared counters) and ``services.http.app`` / ``common`` / ``unmigrated``.

Each worker also runs the deadline engine once a day (DeadlineDaily): its events are
idempotent per (record, deadline, level), so workers running it alike record it once.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger

from services.bootstrap import Settings, build_platform
from services.follower import Follower
from services.http.app import create_app
from services.http.common import MAX_BODY_BYTES
from services.http.unmigrated import when_available
from services.logs import current_formatter
from services.metrics import counters, process_exited, stop_multiprocess, use_multiprocess

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
    read side's follower (``gunicorn`` factory). Both start in the background, once the app
    exists: the server answers at once, whatever the number of offices. An app that cannot be
    built (the database needs ``ducha migrate``) closes its platform, leaving no pool or
    thread behind the next try (``unmigrated.Unavailable``)."""
    platform = build_platform(settings)
    try:
        app = create_app(platform)
    except BaseException:
        platform.close()
        raise
    if settings.bus == "embedded":
        Follower(platform.runner, platform.backend).start()
    DeadlineDaily(platform).start()
    return app


REQUEST_TIMEOUT_SECONDS = 30
"""gunicorn's worker timeout; idempotency claims outlive it (``idempotency.LEASE_SECONDS``)."""


class DuchaLogger(Logger):  # type: ignore[misc]
    """gunicorn's own lines (starting, a worker's timeout) in the format of every other line
    (``services.logs``). Its access log is off: the app logs each request itself, with its id,
    user and latency, and its query string redacted (``services.http.metrics``)."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        found = current_formatter()
        if found is not None:
            for handler in self.error_log.handlers:
                handler.setFormatter(found)


def close_after_an_oversized_body(worker: Any, req: Any) -> None:
    """gunicorn's ``pre_request`` hook. A body larger than the app takes is refused unread
    (413), and gunicorn drains at most 64 KiB of it before dropping the connection — after
    having answered ``Connection: keep-alive``, so the client's next request on it fails.
    Saying ``Connection: close`` up front makes the client open a new one instead."""
    for name, value in req.headers:
        if name == "CONTENT-LENGTH" and value.isdigit() and int(value) > MAX_BODY_BYTES:
            req.must_close = True


def worker_exited(server: Any, worker: Any) -> None:
    """gunicorn's ``child_exit`` hook: a dead worker's live gauges are dropped."""
    process_exited(worker.pid)


def run_server(settings: Settings, host: str, port: int, workers: int, threads: int) -> None:
    """Serve until stopped. The workers' counters are summed through files in one directory
    (``DUCHA_METRICS_DIR``, else a temporary one removed at exit): ``/metrics`` answers the
    same whichever worker takes the scrape."""
    given = os.environ.get("DUCHA_METRICS_DIR")
    directory = use_multiprocess(Path(given) if given else None)
    master = os.getpid()
    try:
        serve_forever(settings, host, port, workers, threads)
    finally:
        if os.getpid() == master:  # a worker leaves through here too, as it exits
            stop_multiprocess(directory, remove=not given)


def serve_forever(settings: Settings, host: str, port: int, workers: int, threads: int) -> None:
    Server(
        settings,
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "threads": threads,
            "worker_class": "gthread",
            "accesslog": None,
            "logger_class": DuchaLogger,
            "child_exit": worker_exited,
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
                    counters().deadline_runs.labels("failed").inc()
                    log.exception("the daily deadline run failed; retrying later")
            self.stopped.wait(self.check_every)
