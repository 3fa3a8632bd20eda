"""``ducha serve`` with two gunicorn workers: ``/metrics`` sums both workers' counters, whichever
takes the scrape, and the log is JSON lines, one per request, with the request's id."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from services.bootstrap import Settings, build_platform
from services.kafka.broker import free_port
from services.users import UserDirectory
from tests.conftest import FixedClock
from tests.http.test_server import call, wait_until_up
from tests.scenario import ADMIN, build_hierarchy

ROUNDS = 60
HEALTHZ = frozenset({("method", "GET"), ("route", "/healthz"), ("status", "200")})


def healthz_count(base: str, token: str) -> float:
    request = urllib.request.Request(
        f"{base}/metrics", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        text = answer.read().decode()
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == "ducha_http_requests_total" and frozenset(s.labels.items()) == HEALTHZ:
                return s.value
    return 0.0


def test_two_workers_counters_are_summed_in_every_scrape(tmp_path: Path) -> None:
    data = tmp_path / "var"
    platform = build_platform(Settings(data_dir=data), clock=FixedClock("2026-03-02"))
    build_hierarchy(platform)
    _, token = UserDirectory(platform.registry, platform.clock).add(
        ADMIN, "gansu", "admin", "管理员"
    )
    platform.close()
    metrics_dir = tmp_path / "metrics"
    port = free_port()
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "ducha"),
            "serve",
            "--port",
            str(port),
            "--workers",
            "2",
        ],
        env={
            **os.environ,
            "DUCHA_DATA_DIR": str(data),
            "DUCHA_CLOCK": "2026-03-03",
            "DUCHA_METRICS_DIR": str(metrics_dir),
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base, server)
        total = healthz_count(base, token)  # wait_until_up's own
        for n in range(ROUNDS):
            status, headers, _ = call(f"{base}/healthz", **{"X-Request-ID": f"probe-{n}"})
            assert status == 200 and headers["X-Request-ID"] == f"probe-{n}"
            total += 1
            assert healthz_count(base, token) == total  # every worker's, not one's share
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    lines = [
        json.loads(line) for line in (server.stdout.read() if server.stdout else "").splitlines()
    ]
    probes = [x for x in lines if str(x.get("request_id", "")).startswith("probe-")]
    assert len(probes) == ROUNDS and {x["route"] for x in probes} == {"/healthz"}
    scrapes = [x for x in lines if x.get("route") == "/metrics"]
    assert len({x["pid"] for x in probes}) == 2  # both workers answered probes
    assert len({x["pid"] for x in scrapes}) == 2  # and scrapes: each saw the other's counts
