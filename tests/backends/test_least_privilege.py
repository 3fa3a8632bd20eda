"""Least privilege on real PostgreSQL: ``ducha migrate`` as the owner role provisions everything;
the server, the relay and a worker (real Kafka-protocol broker) run as a role that is no
superuser and may create nothing, register an office through the admin path and carry an item
to the read side; that role is told to run migrate on a database that has not had it, and
cannot create a table."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from uuid import uuid4

import psycopg
import pytest
from werkzeug.test import Client

from services.bootstrap import Settings, build_platform
from services.http.app import context_of
from services.http.server import app_for
from services.http.unmigrated import Unavailable, when_available
from services.kafka.broker import free_port
from services.kafka.settings import wait_for
from services.stores.pgprovision import NotMigratedError
from tests.conftest import with_database
from tests.http.test_server import call, wait_until_up
from tests.kafka.conftest import Broker, broker  # noqa: F401 - the session's broker fixture
from tests.kafka.test_stack import ITEM

pytestmark = pytest.mark.postgres
DUCHA = str(Path(sys.executable).parent / "ducha")
WORKER = ["worker", "run", "--max-poll-interval-ms", "1000"]  # Tansu joins after it


@dataclass(frozen=True)
class Roles:
    owner: str
    """DSN of the database's owner role (no superuser either)."""
    app: str
    """DSN of the runtime role: LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE."""
    owner_name: str
    app_name: str


def as_role(url: str, role: str) -> str:
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=f"{role}:pw-{role}@{host}"))


@pytest.fixture
def roles(pg_server_url: str) -> Iterator[Roles]:
    suffix = uuid4().hex[:10]
    owner, app, db = f"own_{suffix}", f"app_{suffix}", f"lp_{suffix}"
    with psycopg.connect(pg_server_url, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {owner} LOGIN NOSUPERUSER PASSWORD 'pw-{owner}'")
        conn.execute(
            f"CREATE ROLE {app} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD 'pw-{app}'"
        )
        conn.execute(f'CREATE DATABASE "{db}" OWNER {owner}')
    url = with_database(pg_server_url, db)
    try:
        yield Roles(as_role(url, owner), as_role(url, app), owner, app)
    finally:
        with psycopg.connect(pg_server_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE "{db}" WITH (FORCE)')
            conn.execute(f"DROP ROLE {app}")
            conn.execute(f"DROP ROLE {owner}")


def ducha(
    dsn: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [DUCHA, *args],
        env={**os.environ, **(env or {}), "DUCHA_DATABASE_URL": dsn},
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def one_line_saying_migrate(done: subprocess.CompletedProcess[str]) -> None:
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert "run `ducha migrate" in lines[0]


def test_the_restricted_role_is_told_to_run_migrate_first(roles: Roles, tmp_path: Path) -> None:
    one_line_saying_migrate(ducha(roles.app, "offices", "list"))
    one_line_saying_migrate(ducha(roles.app, "migrate", "--grant-to", roles.app_name))
    one_line_saying_migrate(
        ducha(roles.app, "init", "--root", "sc", "--name", "国务院", "--admin", "a")
    )
    settings = Settings(data_dir=tmp_path / "var", database_url=roles.app, bus="kafka")
    answer = Client(when_available(lambda: app_for(settings))).get("/healthz")
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "5"
    assert "run `ducha migrate`" in json.loads(answer.get_data())["message"]
    with psycopg.connect(roles.app, autocommit=True) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("CREATE SCHEMA ducha_read")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("CREATE TABLE public.anything (x int)")
    with psycopg.connect(roles.owner, autocommit=True) as conn:  # nothing was created
        found = conn.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'ducha%' OR nspname LIKE 'office%'"
        ).fetchall()
        assert found == []
    assert ducha(roles.owner, "migrate").returncode == 0  # granting nothing to anyone
    one_line_saying_migrate(told := ducha(roles.app, "relay", "run", "--once"))
    assert f"run `ducha migrate --grant-to {roles.app_name}`" in told.stderr

    waiting = Unavailable(lambda: app_for(settings), "not yet", retry=0)
    assert Client(waiting).get("/healthz").status_code == 503
    migrated(roles)
    assert Client(waiting).get("/healthz").status_code == 200  # served once migrated
    context_of(waiting.app).platform.close()  # type: ignore[arg-type]


@contextmanager
def running(args: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        process = subprocess.Popen([DUCHA, *args], env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def migrated(roles: Roles) -> list[str]:
    done = ducha(roles.owner, "migrate", "--grant-to", roles.app_name)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout.splitlines()


def test_migrate_provisions_and_the_restricted_role_runs_everything(
    roles: Roles,
    broker: Broker,  # noqa: F811
    tmp_path: Path,
) -> None:
    first = migrated(roles)
    assert "was none" in first[-1] and not [line for line in first if "warning" in line]
    again = migrated(roles)  # idempotent: nothing new
    assert "(0 new)" in again[1] and "was 1" in again[-1], again

    env = {
        **os.environ,
        "DUCHA_DATABASE_URL": roles.app,
        "DUCHA_DATA_DIR": str(tmp_path / "var"),
        "DUCHA_BUS": "kafka",
        "DUCHA_KAFKA_BOOTSTRAP": broker.bootstrap,
        "DUCHA_KAFKA_TOPIC": f"ducha.lp.{uuid4().hex[:8]}",
    }
    init = ducha(roles.app, "init", "--root", "sc", "--name", "国务院办公厅", "--admin",
                 "root-admin", "--generate-password", "--json", env=env)  # fmt: skip
    assert init.returncode == 0, init.stderr
    admin_token = json.loads(init.stdout)["token"]
    port = free_port()
    logs = tmp_path / "logs"
    logs.mkdir()
    with (
        running(["serve", "--port", str(port), "--workers", "1"], env, logs / "http.log") as http,
        running(["relay", "run", "--safety-poll", "1"], env, logs / "relay.log"),
        running(
            ["worker", "run", "--group", "lp", "--max-poll-interval-ms", "1000"],
            env,
            logs / "worker.log",
        ),  # fmt: skip
    ):
        base = f"http://127.0.0.1:{port}/api/v1"
        wait_until_up(f"http://127.0.0.1:{port}", http)  # type: ignore[arg-type]
        office = {"code": "gansu", "name": "甘肃省人民政府办公厅", "level": "province"}
        office["parent"] = "sc"
        status, _, body = call(
            f"{base}/offices", "POST", office, Authorization=f"Bearer {admin_token}"
        )
        assert status == 201, body
        added = ducha(roles.app, "users", "add", "--office", "gansu", "--role", "supervisor",
                      "--name", "张三", env=env)  # fmt: skip
        assert added.returncode == 0, added.stderr
        auth = {"Authorization": f"Bearer {added.stdout.strip()}"}
        status, _, item = call(f"{base}/offices/gansu/items", "POST", ITEM, **auth)
        assert status == 201, item
        query = urllib.parse.urlencode({"text": "分布式栈"})

        def listed() -> bool:  # the read side is built by the worker, through Kafka
            answer: Any = call(f"{base}/offices/gansu/items?{query}", **auth)[2]
            return bool(answer["total"] == 1)

        assert wait_for(listed, 90, every=0.3), (logs / "worker.log").read_text()
    for name in ("http", "relay", "worker"):
        assert "Traceback" not in (logs / f"{name}.log").read_text(), name
    rebuilt = ducha(roles.app, "projections", "rebuild", env=env)  # deletes, then bulk writes
    assert rebuilt.returncode == 0, rebuilt.stderr
    listed = ducha(roles.app, "items", "list", "--office", "gansu", env=env)
    assert "分布式栈事项" in listed.stdout, listed.stderr

    with psycopg.connect(roles.app, autocommit=True) as conn:
        for statement in (
            "CREATE TABLE ducha_read.sneaky (x int)",
            "CREATE TABLE office_gansu.sneaky (x int)",
            "CREATE TABLE public.sneaky (x int)",
            "CREATE SCHEMA sneaky",
            "DELETE FROM office_gansu.stored_events",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
        with conn.transaction(), conn.cursor() as cur:  # how a bulk upsert stages its rows
            cur.execute("CREATE TEMPORARY TABLE stage (LIKE ducha_read.tracking) ON COMMIT DROP")
            with cur.copy("COPY stage (consumer, office, position) FROM STDIN") as copy:
                copy.write_row(("c", "gansu", 1))
        with pytest.raises(psycopg.errors.InvalidParameterValue):
            conn.execute("SELECT ducha_platform.provision_office('x; DROP SCHEMA public')")
        owner = conn.execute(
            "SELECT nspowner::regrole::text AS o FROM pg_namespace WHERE nspname = 'office_gansu'"
        ).fetchone()
        assert owner == (roles.owner_name,)
        acl = conn.execute(
            "SELECT proacl::text FROM pg_proc WHERE proname = 'provision_office'"
        ).fetchone()
        assert acl and not any(entry.startswith("=") for entry in acl[0].strip("{}").split(","))

    newer = build_platform(Settings(data_dir=tmp_path / "var", database_url=roles.app))
    try:  # a version that needs a table migrate never made is told so, even as a known role
        with pytest.raises(NotMigratedError, match="run `ducha migrate`"):
            newer.read.ensure("CREATE TABLE IF NOT EXISTS a_newer_table (x TEXT)")
    finally:
        newer.close()
