"""``ducha serve``: gunicorn in-process, one platform per worker (built after the fork).

Each worker also runs the deadline engine once a day (DeadlineDaily): its events are
idempotent per (record, deadline, level), so workers running it alike record it once.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

from services.bootstrap import Settings, build_platform
from services.http.app import create_app

log = logging.getLogger(__name__)


class Server(BaseApplication):  # type: ignore[misc]
    def __init__(self, settings: Settings, options: dict[str, Any]) -> None:
        self.settings = settings
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return app_for(self.settings)


def app_for(settings: Settings) -> Flask:
    """The WSGI app with its platform and a daily deadline run (``gunicorn`` factory)."""
    platform = build_platform(settings)
    DeadlineDaily(platform).start()
    return create_app(platform)


def run_server(settings: Settings, host: str, port: int, workers: int, threads: int) -> None:
    Server(
        settings,
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "threads": threads,
            "worker_class": "gthread",
            "accesslog": "-",
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
