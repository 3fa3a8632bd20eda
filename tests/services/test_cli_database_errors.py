"""A database the command line cannot reach or that refuses it is said in one line (where, as
whom, why; never the password) with exit 1, not a stack trace."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from services.cli.common import database_problem
from services.kafka.broker import free_port

DUCHA = str(Path(sys.executable).parent / "ducha")
PASSWORD = "s3cret-pw"


def ducha(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [DUCHA, *args],
        env={**os.environ, "DUCHA_DATABASE_URL": url, "DUCHA_PG_POOL_TIMEOUT": "2"},
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.parametrize("args", [["migrate"], ["offices", "list"]])
def test_a_closed_port_is_one_line_and_exit_1(args: list[str]) -> None:
    port = free_port()  # nobody listens there
    done = ducha(f"postgresql://ducha_owner:{PASSWORD}@127.0.0.1:{port}/ducha", *args)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr and PASSWORD not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(
        f"error: cannot reach the database at 127.0.0.1:{port} as ducha_owner: "
    )
    assert "refused" in lines[0].lower()


def test_the_line_never_holds_the_password() -> None:
    url = f"postgresql://app:{PASSWORD}@db.example:6543/ducha"
    said = database_problem(url, psycopg.OperationalError(f"failed with {PASSWORD} in it"))
    assert said == "cannot reach the database at db.example:6543 as app: failed with *** in it"
    refused = database_problem(url, psycopg.errors.InsufficientPrivilege("permission denied"))
    assert refused == "the database at db.example:6543 as app refused: permission denied"
