"""``ducha worker health``: the compose healthcheck of a worker, from its health file alone."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

DUCHA = str(Path(sys.executable).parent / "ducha")


def health(file: Path, *more: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [DUCHA, "worker", "health", "--health-file", str(file), *more],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin"},
    )


def test_a_fresh_poll_is_healthy(tmp_path: Path) -> None:
    file = tmp_path / "w.json"
    file.write_text(json.dumps({"partitions": [], "polled_at": time.time() - 5}))
    done = health(file)
    assert done.returncode == 0 and done.stdout.startswith("ok: polled 5."), done.stderr


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (None, "no health file at {file}: not polling yet"),
        ("{", "cannot read the health file {file}: "),
        ('{"partitions": [0]}', "cannot read the health file {file}: 'polled_at'"),
        ('{"polled_at": "x"}', "cannot read the health file {file}: could not convert"),
        (json.dumps({"polled_at": 1_000}), "the worker last polled "),
    ],
)
def test_a_stuck_or_missing_worker_is_one_line_and_exit_1(
    tmp_path: Path, content: str | None, said: str
) -> None:
    file = tmp_path / "w.json"
    if content is not None:
        file.write_text(content)
    done = health(file, "--max-age", "30")
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and done.stderr.startswith(
        "error: " + said.format(file=file)
    )
    if "last polled" in said:
        assert done.stderr.rstrip().endswith("s ago (over 30 s)")
