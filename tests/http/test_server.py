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
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import pytest

from services.bootstrap import Settings, build_platform
from services.http.common import MAX_BODY_BYTES
from services.kafka.broker import free_port
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


def wait_until_up(base: str, server: subprocess.Popen[str]) -> None:
    """Until the server answers its health check (a minute at most, failing if it died)."""
    deadline = time.monotonic() + 60
    while True:
        try:
            if call(f"{base}/healthz")[0] == 200:
                return
        except (urllib.error.URLError, ConnectionError):
            pass
        assert server.poll() is None, server.stdout.read() if server.stdout else ""
        assert time.monotonic() < deadline, "the server did not come up"
        time.sleep(0.2)


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
    wait_until_up(base, server)
    try:
        yield {"base": base, "item": str(case.id), "token": token, "data": data, "process": server}
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


@contextmanager
def serving(data: Path, **env: str) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """``ducha serve`` (one worker) over ``data``, in a process group of its own so that a
    test can kill -9 the master and its worker at once."""
    port = free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "ducha"), "serve", "--port", str(port)],
        env={**os.environ, "DUCHA_DATA_DIR": str(data), "DUCHA_CLOCK": "2026-03-03", **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    wait_until_up(base, server)
    try:
        yield base, server
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)


def test_a_key_in_flight_when_the_server_is_killed_runs_once_on_retry(tmp_path: Path) -> None:
    """kill -9 while a request holds its Idempotency-Key: the claim expires (its lease), and
    the retry runs the command once; a second retry replays that answer."""
    import sqlite3

    with running_server(tmp_path, "2026-03-03") as first:
        data, item, token = first["data"], first["item"], first["token"]
    url = f"/api/v1/offices/gansu/items/{item}/acknowledge"
    headers = {"Authorization": f"Bearer {token}", "If-Match": '"1"', "Idempotency-Key": "ack-1"}
    store = sqlite3.connect(data / "offices" / "gansu.sqlite", isolation_level=None)
    with serving(data, DUCHA_IDEMPOTENCY_LEASE_SECONDS="1") as (base, server):
        store.execute("BEGIN IMMEDIATE")  # the command's save waits for this lock
        in_flight = threading.Thread(
            target=lambda: _swallow(lambda: call(base + url, "POST", {}, **headers)), daemon=True
        )
        in_flight.start()
        time.sleep(1.5)  # the request has claimed its key and waits on the store
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=10)
        store.execute("ROLLBACK")
    store.close()
    with serving(data, DUCHA_IDEMPOTENCY_LEASE_SECONDS="1") as (base, _):
        time.sleep(1.2)  # past the lease
        status, answer_headers, body = call(base + url, "POST", {}, **headers)
        assert status == 200, body
        assert body["status"] == "acknowledged" and answer_headers["ETag"] == '"2"'
        again = call(base + url, "POST", {}, **headers)
        assert again[0] == 200 and again[1].get("Idempotent-Replayed") == "true"
        _, _, history = call(
            f"{base}/api/v1/offices/gansu/items/{item}/history",
            Authorization=f"Bearer {token}",
        )
        assert [e["type"] for e in history["items"]] == ["Registered", "Acknowledged"]


def _swallow(request: Any) -> None:
    with suppress(OSError):  # the server was killed under it (URLError is an OSError)
        request()


def test_a_413_leaves_the_connection_usable_and_query_tokens_stay_out_of_the_log(
    tmp_path: Path,
) -> None:
    import http.client

    with running_server(tmp_path, "2026-03-03") as served:
        host, port = served["base"].removeprefix("http://").split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        auth = {"Authorization": f"Bearer {served['token']}", "Content-Type": "application/json"}
        # just over the limit: the body fits the loopback socket's buffers, so the client has
        # sent it all before the server answers 413 and closes (a far larger one races that)
        big = b'{"text": "' + b"x" * (MAX_BODY_BYTES + 1_000) + b'"}'
        with suppress(BrokenPipeError):  # the server closed first: its answer is there to read
            conn.request("POST", "/api/v1/offices/gansu/items", body=big, headers=auth)
        too_large = conn.getresponse()
        assert too_large.status == 413
        assert json.loads(too_large.read())["code"] == "too_large"
        conn.request("GET", "/healthz?access_token=s3cr3t-in-the-url")  # the same object
        again = conn.getresponse()
        assert again.status == 422 and json.loads(again.read())["code"] == "invalid"
        conn.request("GET", "/healthz")
        assert conn.getresponse().status == 200
        conn.close()
    log = served["process"].stdout.read()
    assert "GET /healthz?access_token=%5Bredacted%5D" in log, log
    assert "s3cr3t" not in log


def test_the_postgresql_pool_is_sized_by_settings_and_a_wrong_size_is_refused() -> None:
    env = {"DUCHA_PG_POOL_MIN": "2", "DUCHA_PG_POOL_MAX": "7", "DUCHA_PG_POOL_TIMEOUT": "9"}
    settings = Settings.from_env(env)
    assert (settings.pg_pool_min, settings.pg_pool_max, settings.pg_pool_timeout) == (2, 7, 9)
    for wrong, message in (
        ({"DUCHA_PG_POOL_MAX": "0"}, "DUCHA_PG_POOL_MAX must be a whole number of at least 1"),
        ({"DUCHA_PG_POOL_MIN": "x"}, "DUCHA_PG_POOL_MIN must be a whole number of at least 1"),
        ({"DUCHA_PG_POOL_MIN": "5", "DUCHA_PG_POOL_MAX": "4"}, "must not exceed"),
    ):
        with pytest.raises(ValueError, match=message):
            Settings.from_env(wrong)
