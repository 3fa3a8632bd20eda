"""``make up`` / ``make down`` for real: every process of the local distributed stack."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.parse
from pathlib import Path

from services.kafka import wait_for
from services.kafka.broker import free_port
from services.stack import alive
from tests.http.test_server import call

ITEM = {
    "title": "分布式栈事项",
    "source_kind": "document",
    "source_ref": "测〔2026〕1号",
    "issued_on": "2026-11-20",
    "objective": "确认读侧经由 Kafka 更新",
    "content": "登记、签收",
    "executing_unit": "督查室",
    "responsible_person": "张三",
    "deadline": "2026-12-30",
}


def stack(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "services.stack", *args],
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_the_stack_comes_up_serves_through_kafka_and_goes_down(tmp_path: Path) -> None:
    data = tmp_path / "var"
    http_port, kafka_port = free_port(), free_port()
    started = stack(
        "up", "--data", str(data), "--http-port", str(http_port), "--kafka-port", str(kafka_port)
    )
    state_path = data / "stack" / "state.json"
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        assert f"http://127.0.0.1:{http_port}/api/v1" in started.stdout
        state = json.loads(state_path.read_text())
        assert set(state["pids"]) == {"broker", "relay", "worker-1", "worker-2", "http"}
        for name in ("relay", "worker-1", "http"):
            assert (data / "log" / f"{name}.log").exists()
        tokens = json.loads((data / "stack" / "demo-tokens.json").read_text())
        token = next(
            t["token"] for t in tokens if (t["office"], t["role"]) == ("gansu", "supervisor")
        )
        auth = {"Authorization": f"Bearer {token}"}
        base = f"http://127.0.0.1:{http_port}/api/v1/offices/gansu/items"
        status, _, item = call(base, "POST", ITEM, **auth)
        assert status == 201, item
        query = urllib.parse.urlencode({"text": "分布式栈"})

        def listed() -> bool:  # the read side is built by the workers, through Kafka
            return call(f"{base}?{query}", **auth)[2]["total"] == 1

        assert wait_for(listed, 60, every=0.2)
        demo = call(f"{base}?per_page=1", **auth)[2]
        assert demo["total"] > 1  # the seeded demo is there too
    finally:
        stopped = stack("down", "--data", str(data))
    assert stopped.returncode == 0, stopped.stderr
    assert not state_path.exists()
    assert not [name for name, pid in state["pids"].items() if alive(pid)]
