"""Operating commands: the demo, serving, the deadline engine, the Kafka relay and
workers, and the cross-office process manager's skipped relays.
May import: the standard library, click, ``services.cli`` (common) and ``services`` (users,
views; logs and metrics, and the server and Kafka modules, when their command runs).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import click

from services.cli.common import DATE, Context, emit_json, json_option, pass_ctx
from services.users import UserDirectory
from services.views import plain

log = logging.getLogger("ducha")


# -- demo and run ------------------------------------------------------------------------
@click.command("demo")
@pass_ctx
def demo_command(c: Context) -> None:
    """Seed the realistic demo (offices, items at every stage); seeding twice adds nothing."""
    from services.demo import seed

    summary = seed(c.platform, progress=True)
    click.echo(f"demo: {summary.offices} offices, {summary.items} items and tasks")


@click.command("run")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, type=int, show_default=True)
@pass_ctx
def run_command(c: Context, host: str, port: int) -> None:
    """Seed the demo into an empty store (or bring the read models an earlier version built up
    to date), print the demo users' tokens, and serve the API."""
    from services.demo import seed, seed_users
    from services.upgrade import outdated, upgrade_projections

    platform = c.platform
    if not platform.registry.all():
        seed(platform, progress=True)
    elif stale := outdated(platform):  # a demo kept from an earlier version: brought up to date
        click.echo(f"upgrading the read models an earlier version built: {', '.join(stale)}")
        upgrade_projections(platform, stale)
    tokens = seed_users(UserDirectory(platform.registry, platform.clock), demo_tokens_file(c))
    click.echo(f"demo users (kept in {demo_tokens_file(c)}): sign in at http://{host}:{port}/")
    for t in tokens:
        click.echo(
            f"  {t['office']:14} {t['role']:10} {t['name']}\n"
            f"      login {t['login']}  password {t['password']}\n      token {t['token']}"
        )
    click.echo(
        f"try: curl -H 'Authorization: Bearer {tokens[1]['token']}' "
        f"http://{host}:{port}/api/v1/offices/state-council/items"
    )
    serve(c, host, port, workers=1, log_format="text")


def demo_tokens_file(c: Context) -> Path:
    return c.settings.data_dir / "demo-tokens.json"


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, type=int, show_default=True)
@click.option(
    "--workers",
    default=1,
    type=click.IntRange(1, 64),
    show_default=True,
    help="Processes (each with --threads threads).",
)
@click.option("--threads", default=8, type=click.IntRange(1, 256), show_default=True)
@pass_ctx
def serve_command(c: Context, host: str, port: int, workers: int, threads: int) -> None:
    """Serve the HTTP API (/api/v1, docs at /api/v1/docs) under gunicorn.

    Logs one JSON line per request on stderr (DUCHA_LOG_FORMAT=text for plain lines);
    Prometheus metrics at /metrics for an admin's bearer token (all workers summed)."""
    serve(c, host, port, workers, threads)


def serve(
    c: Context, host: str, port: int, workers: int, threads: int = 8, log_format: str = "json"
) -> None:
    from services.http.proxy import trusted_proxies
    from services.http.server import run_server

    trusted_proxies()  # a bad setting is said here, not by every worker failing to boot
    logs(log_format)
    c.close()  # each worker builds its own platform
    log.info(
        "serving on http://%s:%d/api/v1 (docs: /api/v1/docs, metrics: /metrics)",
        host,
        port,
        extra={"workers": workers, "threads": threads},
    )
    run_server(c.settings, host, port, workers, threads)


def logs(default: str | None) -> None:
    """Log in ``DUCHA_LOG_FORMAT`` (else ``default``; None: leave logging as it is unless the
    setting asks). A wrong setting is one line, exit 1."""
    import os

    from services.logs import FORMAT_ENV, configure_logging

    if default is None and not os.environ.get(FORMAT_ENV):
        return
    try:
        configure_logging(default or "text")
    except ValueError as e:
        raise click.ClickException(str(e)) from None


def metrics_options(f: Callable[..., Any]) -> Callable[..., Any]:
    f = click.option(
        "--metrics-host",
        envvar="DUCHA_METRICS_HOST",
        default="127.0.0.1",
        show_default=True,
        help="Address for --metrics-port (0.0.0.0: every interface; no authentication).",
    )(f)
    return click.option(
        "--metrics-port",
        envvar="DUCHA_METRICS_PORT",
        type=click.IntRange(1, 65535),
        help="Serve Prometheus metrics on this port at /metrics (env DUCHA_METRICS_PORT).",
    )(f)


def metrics_server(port: int | None, host: str) -> Any:
    """The process's metrics on ``host:port`` (None: no server); a busy port is one line."""
    if port is None:
        return None
    from services.metrics import start_metrics_server

    try:
        server = start_metrics_server(port, host)
    except OSError as e:
        raise click.ClickException(f"cannot serve metrics on {host}:{port}: {e}") from None
    log.info("metrics on http://%s:%d/metrics", host, port)
    return server


@click.group("deadlines")
def deadlines() -> None:
    """The deadline engine: urge at yellow, escalate at red (once each)."""


@deadlines.command("run")
@click.option("--on", "day", type=DATE, help="Check as of this day (default: today).")
@click.option("--office", metavar="CODE", help="Only this office.")
@json_option
@pass_ctx
def deadlines_run(c: Context, day: date | None, office: str | None, as_json: bool) -> None:
    """Urge records with ≤ 3 working days left; escalate overdue ones to the assigning office."""
    logs(None)  # a person reads the line below; a scheduler sets DUCHA_LOG_FORMAT=json
    if office:
        c.platform.registry.get(office)
    report = c.platform.deadlines.run(day, office)
    if as_json:
        emit_json(plain(report))
        return
    extra = f" ({report.provisional} on the provisional calendar)" if report.provisional else ""
    if report.recomputed:
        extra += f", recomputed {report.recomputed} deadlines"
    click.echo(
        f"{report.on}: checked {report.checked}, urged {report.urged}, "
        f"escalated {report.escalated}{extra}"
    )


@click.group("relay")
def relay_group() -> None:
    """The Kafka relay: publishes every office's events to one topic."""


def kafka_options(f: Callable[..., Any]) -> Callable[..., Any]:
    f = click.option(
        "--topic", envvar="DUCHA_KAFKA_TOPIC", default="ducha.events", show_default=True
    )(f)
    f = click.option(
        "--bootstrap",
        envvar="DUCHA_KAFKA_BOOTSTRAP",
        default="127.0.0.1:9092",
        show_default=True,
        help="Kafka bootstrap servers (env DUCHA_KAFKA_BOOTSTRAP).",
    )(f)
    return f


def stop_on_sigterm(stopped: Any) -> None:
    import signal

    def stop(signum: int, frame: Any) -> None:
        stopped.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)


@relay_group.command("run")
@kafka_options
@click.option("--once", is_flag=True, help="Publish what is pending, then exit.")
@click.option(
    "--safety-poll",
    type=click.FloatRange(min=0.05),
    default=10.0,
    show_default=True,
    help="Seconds between looks at every office's last event (PostgreSQL tells the relay "
    "which offices commit; the look catches what it missed). SQLite: every 0.2 s.",
)
@metrics_options
@pass_ctx
def relay_run(
    c: Context,
    bootstrap: str,
    topic: str,
    once: bool,
    safety_poll: float,
    metrics_port: int | None,
    metrics_host: str,
) -> None:
    """Publish every office's events to Kafka (key = office), from each office's checkpoint.

    A checkpoint moves only after the broker acknowledges; on failure the relay backs off and
    retries from the checkpoints (it never skips). New offices are picked up as they come.
    Logs JSON lines on stderr (DUCHA_LOG_FORMAT=text for plain ones).
    """
    from services.kafka.relay import KafkaRelay
    from services.kafka.settings import KafkaSettings

    logs("json")
    relay = KafkaRelay(c.platform, KafkaSettings(bootstrap, topic))
    stop_on_sigterm(relay.stopped)
    server = metrics_server(metrics_port, metrics_host)
    log.info("relay: publishing to %s on %s", topic, bootstrap)
    total = relay.run(once=once, safety_poll=safety_poll)
    log.info("relay: published %d events", total, extra={"published": total})
    if server is not None:
        server.shutdown()


@click.group("worker")
def worker_group() -> None:
    """Kafka consumer-group workers running the read side and the process managers."""


@worker_group.command("run")
@click.option("--group", required=True, help="Consumer group name, e.g. ducha-read.")
@kafka_options
@click.option("--max-poll-interval-ms", default=3000, show_default=True, type=int)
@click.option(
    "--fetch-max-wait-ms",
    default=50,
    show_default=True,
    type=click.IntRange(1, 60_000),
    help="How long the broker may hold a fetch while nothing is new (a bound on latency).",
)
@click.option(
    "--health-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the member's partitions, counts and last poll time here every second (JSON).",
)
@click.option(
    "--deadlines/--no-deadlines",
    default=False,
    show_default=True,
    help="Also run the daily deadline pass (one place is enough: the HTTP server runs it too).",
)
@metrics_options
@pass_ctx
def worker_run(
    c: Context,
    group: str,
    bootstrap: str,
    topic: str,
    max_poll_interval_ms: int,
    fetch_max_wait_ms: int,
    health_file: Path | None,
    deadlines: bool,
    metrics_port: int | None,
    metrics_host: str,
) -> None:
    """Consume the topic in GROUP and apply each office's events (deduped by notification id;
    gaps filled from the office's store). Stops cleanly on SIGTERM. Logs JSON lines on
    stderr (DUCHA_LOG_FORMAT=text for plain ones)."""
    from services.follower import Follower
    from services.http.server import DeadlineDaily
    from services.kafka.settings import KafkaSettings
    from services.kafka.worker import Worker

    logs("json")
    platform = c.platform
    platform.supervision.listeners.clear()  # effects in other offices come back via Kafka
    worker = Worker(
        platform.runner,
        KafkaSettings(bootstrap, topic),
        group,
        max_poll_interval_ms,
        fetch_max_wait_ms,
        health_file,
        # the ledger's checkpoints: here, where the log's tiles grow under DUCHA_BUS=kafka
        applied_to=platform.ledger.checkpoints.maybe_checkpoint,
    )
    stop_on_sigterm(worker.stopped)
    Follower(platform.runner, platform.backend, listen=False).start()  # what Kafka lost
    daily = DeadlineDaily(platform)
    if deadlines:
        daily.start()
    server = metrics_server(metrics_port, metrics_host)
    log.info("worker %s: consuming %s on %s", group, topic, bootstrap)
    worker.run()
    daily.stopped.set()
    log.info(
        "worker %s: applied %d of %d received",
        group,
        worker.applied,
        worker.received,
        extra={"applied": worker.applied, "received": worker.received},
    )
    if server is not None:
        server.shutdown()


@worker_group.command("health")
@click.option(
    "--health-file",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The file the worker writes (worker run --health-file).",
)
@click.option(
    "--max-age",
    default=60,
    type=click.IntRange(1),
    show_default=True,
    help="Seconds since the worker's last poll beyond which it counts as stuck.",
)
def worker_health(health_file: Path, max_age: int) -> None:
    """Exit 0 if the worker writing HEALTH_FILE polled in the last MAX_AGE seconds, else say
    why in one line and exit 1 (a container healthcheck; opens no store)."""
    import json
    import time

    try:
        polled = float(json.loads(health_file.read_text("utf-8"))["polled_at"])
    except FileNotFoundError:
        raise click.ClickException(f"no health file at {health_file}: not polling yet") from None
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise click.ClickException(f"cannot read the health file {health_file}: {e}") from None
    age = time.time() - polled
    if age > max_age:
        raise click.ClickException(f"the worker last polled {age:.0f} s ago (over {max_age} s)")
    click.echo(f"ok: polled {age:.1f} s ago")


COMMANDS = [
    demo_command,
    run_command,
    serve_command,
    deadlines,
    relay_group,
    worker_group,
]
