"""What a Ducha process counts for Prometheus: HTTP requests and their latency, commands
recorded, the Kafka relay's publishing, a worker's deliveries, deadline runs and their actions.
May import: the standard library and prometheus-client.

The counters of a process live in one registry of its own, built on first use
(``counters()``), never at import: ``ducha serve`` first switches prometheus-client to its
multiprocess mode (``use_multiprocess``: every gunicorn worker writes its counters to files in
one directory, and a scrape answered by any worker sums them all, a dead worker's included, so
no counter goes backwards when gunicorn replaces one). What is read from the platform when
scraped (lag, dead letters, the calendar's horizon) is ``services.platform_metrics``.
``exposition`` is the text a scrape gets; ``start_metrics_server`` serves it on a port of its
own (``ducha relay run`` and ``ducha worker run`` with ``--metrics-port``).
"""

from __future__ import annotations

import glob
import os
import shutil
import tempfile
import threading
from collections.abc import Iterable, Iterator
from contextlib import suppress
from pathlib import Path
from typing import Any, Protocol

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    disable_created_metrics,
    generate_latest,
    multiprocess,
    start_http_server,
    values,
)
from prometheus_client.metrics_core import Metric

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
DEADLINE_ACTIONS = ("checked", "urged", "escalated", "provisional", "recomputed")
"""The counts of a deadline run (``services.deadlines.EngineReport``), each a label."""


class Collector(Protocol):
    def collect(self) -> Iterable[Metric]: ...


class Counters:
    """Every counter a process may move; each process moves the ones of its role."""

    def __init__(self, registry: CollectorRegistry) -> None:
        r = registry
        self.http_requests = Counter(
            "ducha_http_requests",
            "HTTP requests answered, by method, route template and status",
            ["method", "route", "status"],
            registry=r,
        )
        self.http_seconds = Histogram(
            "ducha_http_request_duration_seconds",
            "Time to answer an HTTP request, by method and route template",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.commands = Counter(
            "ducha_commands",
            "Commands recorded on items, tasks and circulars, by the event they recorded and "
            "the channel they came by (api, web, cli, system: the engines and process manager)",
            ["type", "channel"],
            registry=r,
        )
        self._kafka(r)
        self._deadlines(r)

    def _kafka(self, r: CollectorRegistry) -> None:
        self.relay_published = Counter(
            "ducha_relay_published_events", "Events the relay published (acknowledged)", registry=r
        )
        self.relay_failures = Counter(
            "ducha_relay_failures", "Relay passes that failed and backed off", registry=r
        )
        self.worker_received = Counter(
            "ducha_worker_received_messages", "Messages a worker polled", ["group"], registry=r
        )
        self.worker_applied = Counter(
            "ducha_worker_applied_events", "Events a worker applied (new)", ["group"], registry=r
        )
        self.worker_failures = Counter(
            "ducha_worker_failures",
            "A worker's consumer restarted on failure",
            ["group"],
            registry=r,
        )
        self.worker_polled = Gauge(
            "ducha_worker_last_poll_timestamp_seconds",
            "When a worker last polled (Unix time)",
            ["group"],
            multiprocess_mode="max",
            registry=r,
        )

    def _deadlines(self, r: CollectorRegistry) -> None:
        self.deadline_runs = Counter(
            "ducha_deadline_runs",
            "Deadline engine runs, by outcome (ok, failed)",
            ["outcome"],
            registry=r,
        )
        self.deadline_actions = Counter(
            "ducha_deadline_actions",
            "What deadline runs did: records checked, urged, escalated, judged on the "
            "provisional calendar, deadlines recomputed",
            ["action"],
            registry=r,
        )
        self.deadline_last_run = Gauge(
            "ducha_deadline_last_run_timestamp_seconds",
            "When a deadline run last completed (Unix time)",
            multiprocess_mode="max",
            registry=r,
        )
        for outcome in ("ok", "failed"):  # present at 0 before the first run: alerts see them
            self.deadline_runs.labels(outcome)
        for action in DEADLINE_ACTIONS:
            self.deadline_actions.labels(action)


class _Process:
    """This process's counters (one per process, as the multiprocess files are per process)."""

    lock = threading.Lock()
    registry: CollectorRegistry | None = None
    counters: Counters | None = None


def counters() -> Counters:
    with _Process.lock:
        if _Process.counters is None:
            disable_created_metrics()  # type: ignore[no-untyped-call]  # *_created: noise
            _Process.registry = CollectorRegistry()
            _Process.counters = Counters(_Process.registry)
        return _Process.counters


def commands_recorded(events: Iterable[Any]) -> None:
    """Count a command's events by type (``SupervisionItem.ProgressReported``) and channel
    (the actor's: ``api``, ``web``, ``cli``; else ``system`` for the engines, or ``other``)."""
    c = counters()
    for event in events:
        actor = getattr(event, "actor", None)
        role, channel = getattr(actor, "role", ""), getattr(actor, "channel", "")
        fallback = "system" if role == "system" else "other"
        c.commands.labels(type(event).__qualname__, channel or fallback).inc()


def use_multiprocess(directory: Path | None = None) -> Path:
    """Switch this process (and the ones it forks) to prometheus-client's multiprocess mode,
    over ``directory`` (emptied; default: a new temporary one). prometheus-client decides its
    mode as it is imported, so the decision is taken again here, and counters built earlier
    are built anew (call it before forking any worker)."""
    found = Path(directory or tempfile.mkdtemp(prefix="ducha-metrics-"))
    found.mkdir(parents=True, exist_ok=True)
    for stale in found.glob("*.db"):
        stale.unlink()
    os.environ[MULTIPROC_ENV] = str(found)
    values.ValueClass = values.get_value_class()  # type: ignore[no-untyped-call]
    with _Process.lock:
        _Process.registry = _Process.counters = None
    return found


def stop_multiprocess(directory: Path, remove: bool) -> None:
    """Leave multiprocess mode (counters built in it are built anew); ``remove`` the
    directory (one ``use_multiprocess`` made)."""
    os.environ.pop(MULTIPROC_ENV, None)
    values.ValueClass = values.get_value_class()  # type: ignore[no-untyped-call]
    with _Process.lock:
        _Process.registry = _Process.counters = None
    if remove:
        shutil.rmtree(directory, ignore_errors=True)


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_ENV)


def process_exited(pid: int) -> None:
    """gunicorn's ``child_exit``: a dead worker's live gauges go; its counters stay summed."""
    if multiprocess_dir():
        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]


class Joined:
    """Several collectors as one (what ``generate_latest`` and the port's server read)."""

    def __init__(self, *collectors: Collector) -> None:
        self.collectors = collectors

    def collect(self) -> Iterator[Metric]:
        for c in self.collectors:
            yield from c.collect()


class _Files(multiprocess.MultiProcessCollector):
    """Every process's files summed, except files still empty. prometheus-client makes a
    process's file first and sizes it after, so a scrape at that instant read a file of 0
    bytes and failed whole (a 500 on ``/metrics``; prometheus/client_python#1199); a worker
    killed at that instant would leave it so for good. An empty file has nothing recorded."""

    def collect(self) -> Any:
        files = []
        for found in glob.glob(os.path.join(self._path, "*.db")):
            with suppress(FileNotFoundError):  # gone since the glob: as the library's own
                if os.path.getsize(found) >= 8:  # its header: bytes used, then padding
                    files.append(found)
        return self.merge(files, accumulate=True)  # type: ignore[no-untyped-call]


def own_collector() -> Collector:
    """This process's counters, or, in multiprocess mode, every process's summed."""
    directory = multiprocess_dir()
    if directory:
        collector: Collector = _Files(None, path=directory)  # type: ignore[no-untyped-call]
        return collector
    counters()
    assert _Process.registry is not None
    return _Process.registry


def exposition(*more: Collector) -> bytes:
    """The text format of a scrape: the counters, then ``more`` (read when called)."""
    return bytes(generate_latest(Joined(own_collector(), *more)))


def start_metrics_server(port: int, host: str, *more: Collector) -> Any:
    """Serve ``/metrics`` on ``host:port`` in a daemon thread: the counters, the process's
    CPU and memory, and ``more``. Returns the server (``shutdown()`` stops it)."""
    process = ProcessCollector(registry=None)
    server, _ = start_http_server(port, host, registry=Joined(own_collector(), process, *more))
    return server
