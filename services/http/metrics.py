"""What the HTTP app tells operators: ``GET /metrics`` (Prometheus' text format, admins only:
anyone else gets 404, as for a missing route) and one log line per request. May import:
Flask, ``services.metrics`` and ``services.platform_metrics`` (the counters and the
platform's gauges), ``services.logs`` (the request's id, redaction) and ``services.http``'s
``common`` (the platform, the caller) and ``admin`` (``check_admin``).

``observe(app)`` installs the hooks: each request gets an id (the client's ``X-Request-ID``
if it is sane, else a new one, answered in the same header), is counted by method, route
template and status, timed by route, and logged once with its id, user, office, route, status
and latency (never a token: the query string is redacted, the headers are not logged).
"""

from __future__ import annotations

import logging
import os
import re
import time
from uuid import uuid4

from flask import Flask, Response, current_app, g, request

from services.http.admin import check_admin
from services.http.common import platform
from services.logs import redacted_query, request_id
from services.metrics import counters, exposition
from services.platform_metrics import TOP, PlatformGauges

log = logging.getLogger("ducha.http")

REQUEST_ID = "X-Request-ID"
SANE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
"""A client's request id is kept if it is 1 to 128 of these characters, else replaced."""
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def observe(app: Flask) -> None:
    """Count, time and log every request of ``app``, and answer ``/metrics``. Call it before
    any other hook is registered: its ``before_request`` then runs first and its
    ``after_request`` last (after the idempotency keys stored their answer)."""
    app.before_request(start)
    app.after_request(finish)
    app.teardown_request(forget)
    app.add_url_rule("/metrics", "metrics", metrics_view, methods=["GET"])
    top = os.environ.get("DUCHA_METRICS_TOP", "")
    app.extensions["ducha_metrics_top"] = int(top) if top.isdigit() else TOP


def metrics_view() -> Response:
    """Every counter of the server's processes, and the platform's gauges read now."""
    check_admin()
    gauges = PlatformGauges(platform(), current_app.extensions["ducha_metrics_top"])
    return Response(exposition(gauges), content_type=CONTENT_TYPE)


METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
"""The methods counted by name; any other a client invents is counted as ``other``."""


def start() -> None:
    given = request.headers.get(REQUEST_ID, "")
    g.request_id = given if SANE_ID.fullmatch(given) else uuid4().hex
    g.request_token = request_id.set(g.request_id)
    g.started = time.perf_counter()


def finish(response: Response) -> Response:
    started = g.get("started")
    if started is None:  # a request this hook never saw start
        return response
    seconds = time.perf_counter() - started
    route = request.url_rule.rule if request.url_rule else "unmatched"
    status = response.status_code
    method = request.method if request.method in METHODS else "other"  # series stay bounded
    counters().http_requests.labels(method, route, str(status)).inc()
    counters().http_seconds.labels(method, route).observe(seconds)
    response.headers[REQUEST_ID] = g.request_id
    user = g.get("caller") or g.get("user")
    query = request.query_string.decode("utf-8", "replace")
    target = request.path + (f"?{redacted_query(query)}" if query else "")
    log.info(
        "%s %s %d",
        request.method,
        target,
        status,
        extra={
            "request_id": g.request_id,
            "method": request.method,
            "route": route,
            "status": status,
            "latency_ms": round(seconds * 1000, 1),
            "user": user.id if user else None,
            "office": user.office if user else None,
            "role": user.role if user else None,
            "pid": os.getpid(),  # which of the server's workers answered
        },
    )
    return response


def forget(error: BaseException | None) -> None:
    token = g.pop("request_token", None)
    if token is not None:
        try:
            request_id.reset(token)
        except ValueError:  # set in another context (a copied one): it ends with it
            request_id.set(None)
