"""The HTTP server while its database is not provisioned for this version: every request, the
health check included, answers 503 with a fixed line (``ANSWER``: "run ``ducha migrate``
first") instead of a worker dying with a stack trace. The reason itself (role names, the
statement missing) is for the operator, not for anonymous clients: it goes to the log, at
WARNING, once for each distinct reason. Every few seconds a request tries to build the real
app again, so the server recovers by itself once ``ducha migrate`` has run. May import: the
standard library and ``services.errors``.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from services.errors import StoreUnavailableError

log = logging.getLogger(__name__)

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
RETRY_SECONDS = 5.0
ANSWER = (
    "the database is not ready for this version of the server: run `ducha migrate` (as the "
    "owner role) first; the server's log says what is missing"
)


class Unavailable:
    """A WSGI app answering 503 until ``build`` succeeds, then the app it built."""

    def __init__(self, build: Callable[[], WSGIApp], problem: str, retry: float = RETRY_SECONDS):
        self.build, self.problem, self.retry = build, problem, retry
        self.app: WSGIApp | None = None
        self.next_try = time.monotonic() + retry
        self.lock = threading.Lock()
        self.told: set[str] = set()
        self.note(problem)

    def note(self, problem: str) -> None:
        """Log ``problem`` the first time it is met (a retry meets it every few seconds)."""
        self.problem = problem
        if problem not in self.told:
            self.told.add(problem)
            log.warning("not serving yet: %s", problem)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        app = self.ready()
        if app is not None:
            return app(environ, start_response)
        body = json.dumps(
            {"code": "unavailable", "message": ANSWER, "errors": {}}, ensure_ascii=False
        ).encode()
        start_response(
            "503 SERVICE UNAVAILABLE",
            [
                ("Content-Type", "application/json"),
                ("Content-Length", str(len(body))),
                ("Retry-After", str(int(self.retry))),
            ],
        )
        return [body]

    def ready(self) -> WSGIApp | None:
        with self.lock:
            if self.app is None and time.monotonic() >= self.next_try:
                try:
                    self.app = self.build()
                    log.warning("serving: the database is ready")
                except StoreUnavailableError as e:
                    self.note(str(e))
                    self.next_try = time.monotonic() + self.retry
        return self.app


def when_available(build: Callable[[], WSGIApp]) -> WSGIApp:
    """``build()``, or while it fails for want of its database, ``Unavailable``."""
    try:
        return build()
    except StoreUnavailableError as e:
        return Unavailable(build, str(e))
