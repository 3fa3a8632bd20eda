"""``report-progress`` under gunicorn with concurrent clients on loopback, against the same
commands through the services layer directly (same concurrency, same embedded default with
the read side kept current). Each client works on its own items, so no command conflicts."""

from __future__ import annotations

import http.client
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from domain.values import Actor
from services.bootstrap import Settings, build_platform
from services.clock import at_noon
from services.kafka.broker import free_port
from services.users import UserDirectory
from tests.bench.items import bench_item

OFFICE = "bench-root"
DAY = "2026-03-03"


def prepare(data: Path, clients: int, per_client: int) -> tuple[list[list[tuple[str, str]]], str]:
    """Items, acknowledged, grouped per client as (office, id); and a clerk's token."""
    platform = build_platform(Settings(data_dir=data), clock=lambda: at_noon(date(2026, 3, 2)))
    try:
        admin = Actor("bench", OFFICE, "admin")
        platform.registry.register(admin, OFFICE, "基准机关", "central")
        users = UserDirectory(platform.registry, platform.clock)
        _, token = users.add(admin, OFFICE, "clerk", "基准经办人")
        groups: list[list[tuple[str, str]]] = []
        for c in range(clients):
            mine = []
            for n in range(per_client):
                office = OFFICE
                item = platform.supervision.register_item(
                    Actor("bench", office, "supervisor"),
                    office,
                    bench_item(c * per_client + n),
                )
                platform.supervision.act(
                    Actor("bench", office, "clerk"), office, item.id, "acknowledge"
                )
                mine.append((office, item.id))
            groups.append(mine)
        return groups, token
    finally:
        platform.close()


def concurrently(
    groups: list[list[tuple[str, str]]],
    work: Callable[[int, list[tuple[str, str]], list[float], Callable[[], object]], None],
) -> tuple[float, list[float]]:
    latencies: list[float] = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(groups) + 1)

    def client(n: int, items: list[tuple[str, str]]) -> None:
        mine: list[float] = []
        work(n, items, mine, barrier.wait)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(n, g)) for n, g in enumerate(groups)]
    for t in threads:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    for t in threads:
        t.join()
    return time.perf_counter() - start, latencies


def services_round(
    data: Path, groups: list[list[tuple[str, str]]], round_: int
) -> tuple[float, list[float]]:
    platform = build_platform(Settings(data_dir=data), clock=lambda: at_noon(date(2026, 3, 3)))
    try:

        def work(
            n: int, items: list[tuple[str, str]], out: list[float], go: Callable[[], object]
        ) -> None:
            actor = Actor("bench", OFFICE, "clerk")
            versions = [platform.supervision.get(o, i).version for o, i in items]
            go()  # timing starts when every client has read its items
            for (office, item_id), version in zip(items, versions, strict=True):
                start = time.perf_counter()
                platform.supervision.act(
                    actor,
                    office,
                    item_id,
                    "report-progress",
                    version,
                    text=f"第{round_}轮进展",
                    percent=round_ % 100,
                    attachments=[],
                )
                out.append(time.perf_counter() - start)

        return concurrently(groups, work)
    finally:
        platform.close()


@contextmanager
def server(data: Path, workers: int, threads: int) -> Iterator[int]:
    port = free_port()
    env = {**os.environ, "DUCHA_DATA_DIR": str(data), "DUCHA_CLOCK": DAY}
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "ducha"),
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--threads",
            str(threads),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("the server did not come up")
            time.sleep(0.2)
        yield port
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def http_round(
    port: int, token: str, groups: list[list[tuple[str, str]]], round_: int
) -> tuple[float, list[float]]:
    def work(
        n: int, items: list[tuple[str, str]], out: list[float], go: Callable[[], object]
    ) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        auth = {"Authorization": f"Bearer {token}"}
        tags = []
        for office, item_id in items:
            conn.request("GET", f"/api/v1/offices/{office}/items/{item_id}", headers=auth)
            got = conn.getresponse()
            got.read()
            tags.append(got.getheader("ETag") or "")
        go()  # timing starts when every client has read its items
        for (office, item_id), tag in zip(items, tags, strict=True):
            path = f"/api/v1/offices/{office}/items/{item_id}"
            body = json.dumps({"text": f"第{round_}轮进展", "percent": round_ % 100})
            start = time.perf_counter()
            conn.request(
                "POST",
                f"{path}/report-progress",
                body=body.encode(),
                headers={**auth, "If-Match": tag, "Content-Type": "application/json"},
            )
            answer = conn.getresponse()
            answer.read()
            out.append(time.perf_counter() - start)
            if answer.status != 200:
                raise RuntimeError(f"report-progress answered {answer.status}")
        conn.close()

    return concurrently(groups, work)


def p99(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[98] * 1000


def http_figure(
    root: Path,
    clients: int = 8,
    per_client: int = 40,
    rounds: int = 3,
    workers: int = 2,
    threads: int = 4,
) -> bool:
    data = root / "http"
    groups, token = prepare(data, clients, per_client)
    commands = clients * per_client
    best_s = best_h = float("inf")
    lat_s: list[float] = []
    lat_h: list[float] = []
    for r in range(rounds):
        took, lat = services_round(data, groups, 2 * r)
        if took < best_s:
            best_s, lat_s = took, lat
        with server(data, workers, threads) as port:
            took, lat = http_round(port, token, groups, 2 * r + 1)
        if took < best_h:
            best_h, lat_h = took, lat
    ratio = best_s / best_h
    ok = ratio >= 0.5
    print(
        f"{'sqlite':10} {workers}×{threads} HTTP {commands / best_h:6.0f} cmd/s "
        f"p99 {p99(lat_h):6.1f} ms   "
        f"services {commands / best_s:6.0f} cmd/s p99 {p99(lat_s):6.1f} ms   "
        f"ratio {ratio:.2f}  " + ("ok" if ok else "BELOW TARGET 0.5")
    )
    return ok
