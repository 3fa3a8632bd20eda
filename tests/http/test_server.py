"""``ducha serve`` for real: gunicorn, two worker processes, concurrent clients on loopback."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from services.bootstrap import Settings, build_platform
from services.broker import free_port
from services.users import UserDirectory
from tests.conftest import FixedClock
from tests.scenario import ADMIN, build_hierarchy, new_item, person


def call(url: str, method: str = "GET", body: Any = None, **headers: str) -> tuple[int, dict, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), json.loads(e.read())


@pytest.fixture
def served(tmp_path: Path) -> Iterator[dict[str, Any]]:
    with running_server(tmp_path, "2026-03-03") as server:
        yield server


@contextmanager
def running_server(tmp_path: Path, today: str) -> Iterator[dict[str, Any]]:
    """``ducha serve`` with two workers over a store holding one item of gansu's, due
    2026-04-14, with the business date pinned to ``today``."""
    data = tmp_path / "var"
    platform = build_platform(Settings(data_dir=data), clock=FixedClock("2026-03-02"))
    build_hierarchy(platform)
    case = platform.supervision.register_item(person("gansu", "supervisor"), "gansu", new_item())
    _, token = UserDirectory(platform.registry, platform.clock).add(
        ADMIN, "gansu", "clerk", "经办人"
    )
    platform.close()
    port = free_port()
    env = {**os.environ, "DUCHA_DATA_DIR": str(data), "DUCHA_CLOCK": today}
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "ducha"),
            "serve",
            "--port",
            str(port),
            "--workers",
            "2",
            "--threads",
            "4",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if call(f"{base}/healthz")[0] == 200:
                break
        except (urllib.error.URLError, ConnectionError):
            pass
        assert server.poll() is None, server.stdout.read() if server.stdout else ""
        assert time.monotonic() < deadline, "the server did not come up"
        time.sleep(0.2)
    try:
        yield {"base": base, "item": str(case.id), "token": token, "data": data}
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def test_two_clients_with_the_same_etag_one_wins_one_gets_412(served: dict[str, Any]) -> None:
    url = f"{served['base']}/api/v1/offices/gansu/items/{served['item']}"
    auth = {"Authorization": f"Bearer {served['token']}"}
    status, headers, body = call(f"{url}/acknowledge", "POST", {}, **auth, **{"If-Match": '"1"'})
    assert status == 200, body
    tag = headers["ETag"]
    results: list[int] = []
    barrier = threading.Barrier(6)

    def report(n: int) -> None:
        barrier.wait()
        got = call(
            f"{url}/report-progress",
            "POST",
            {"text": f"第{n}次报告", "percent": 10 * n},
            **auth,
            **{"If-Match": tag},
        )
        results.append(got[0])

    threads = [threading.Thread(target=report, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [200] + [412] * 5
    _, _, history = call(f"{url}/history", **auth)
    assert [e["type"] for e in history["items"]] == [
        "Registered",
        "Acknowledged",
        "ProgressReported",
    ]
    _, headers, item = call(url, **auth)
    assert headers["ETag"] == '"3"' and item["last_report"].startswith("第")


def test_the_server_runs_the_deadline_engine_on_start(tmp_path: Path) -> None:
    """Started after the deadline, each worker's daily run escalates the late item — once."""
    with running_server(tmp_path, "2026-04-20") as server:
        url = f"{server['base']}/api/v1/offices/gansu/items/{server['item']}"
        auth = {"Authorization": f"Bearer {server['token']}"}
        deadline = time.monotonic() + 30
        while True:
            _, _, history = call(f"{url}/history", **auth)
            types = [e["type"] for e in history["items"]]
            if "Escalated" in types or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        time.sleep(1)  # both workers have had their run
        _, _, history = call(f"{url}/history", **auth)
        types = [e["type"] for e in history["items"]]
        assert types.count("Escalated") == 1, types
        escalated = next(e for e in history["items"] if e["type"] == "Escalated")
        assert escalated["actor"]["role"] == "system"
