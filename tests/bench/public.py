"""The public site's list (``/public/``): its p95 server time with a few thousand published items.

``OFFICES`` offices under one root, ``ITEMS`` items in all, each published (a third also
acknowledged and reported on), on the embedded default (SQLite). The app is served by
werkzeug's threaded server on loopback to concurrent anonymous clients; each asks for the
list's first page, a filtered page (office, status) and a later page in turn, with no
validators (every answer a whole 200). The server's own time per request is measured around the
WSGI call, body included (``tests.bench.web.Timed``); the first round warms up and the best
round's p95 counts. Target (issue 14): p95 ≤ 50 ms with ``CLIENTS`` clients, one per core of
the 2-core machine we measure on (more clients in one process only queue for its GIL: 8 are
measured too, informative). Run alone with ``python -m tests.bench.public``.
"""

from __future__ import annotations

import dataclasses
import sys
import tempfile
import threading
from datetime import date, timedelta
from pathlib import Path
from urllib.request import urlopen

from domain.values import Actor
from services.bootstrap import Settings, build_platform
from services.clock import at_noon
from services.http.app import create_app
from services.users import UserDirectory
from tests.bench.items import bench_item
from tests.bench.web import Timed, p95, served

ITEMS = 3_000
OFFICES = 10
CLIENTS = 2
CROWD = 8
TARGET_MS = 50.0
PATHS = ("/public/", "/public/?office=bench-public-3&status=in_progress", "/public/?page=40")


def prepare(data: Path, items: int) -> None:
    """The offices and their published items, written fast, then projected in one catch-up."""
    platform = build_platform(Settings(data_dir=data), clock=lambda: at_noon(date(2026, 3, 2)))
    try:
        admin = Actor("bench", "platform", "admin")
        platform.registry.register(admin, "bench-public", "基准国务院办公厅", "central")
        codes = [f"bench-public-{n}" for n in range(OFFICES)]
        for n, code in enumerate(codes):
            platform.registry.register(
                admin, code, f"基准省人民政府办公厅{n}", "province", "bench-public"
            )
        platform.supervision.listeners.clear()
        s = platform.supervision
        for n in range(items):
            code = codes[n % OFFICES]
            supervisor, clerk = Actor("bench", code, "supervisor"), Actor("bench", code, "clerk")
            due = date(2026, 3, 20) + timedelta(days=n % 120)
            new = dataclasses.replace(bench_item(n), issued_on=date(2026, 3, 2), deadline=due)
            item = s.register_item(supervisor, code, new)
            s.act(supervisor, code, item.id, "publish", summary=f"第{n}项的公开摘要")
            if n % 3 == 0:
                s.act(clerk, code, item.id, "acknowledge")
                s.act(clerk, code, item.id, "report-progress", text="进展", percent=n % 100)
        platform.runner.catch_up_all()
        assert platform.views.public(1, 1).total == items  # every item is published
    finally:
        platform.close()


def load(base: str, clients: int, per_client: int) -> None:
    barrier = threading.Barrier(clients)
    failures: list[str] = []

    def client() -> None:
        barrier.wait()
        for n in range(per_client):
            path = PATHS[n % len(PATHS)]
            with urlopen(base + path) as response:
                response.read()
                if response.status != 200:
                    failures.append(f"{response.status} {path}")

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures, failures[:3]


def public_figure(root: Path, items: int = ITEMS, rounds: int = 3, per_client: int = 30) -> bool:
    data = root / "public"
    prepare(data, items)
    platform = build_platform(Settings(data_dir=data), clock=lambda: at_noon(date(2026, 3, 3)))
    try:
        app = create_app(platform, UserDirectory(platform.registry, platform.clock))
        timed = Timed(app.wsgi_app)
        app.wsgi_app = timed  # type: ignore[method-assign]
        best = {CLIENTS: float("inf"), CROWD: float("inf")}
        with served(app) as base:
            for round_ in range(rounds + 1):  # the first round warms up
                for clients in best:  # alternating, so that machine noise hits both
                    timed.times.clear()
                    load(base, clients, per_client)
                    if round_:
                        best[clients] = min(best[clients], p95(timed.times["/public/"]))
    finally:
        platform.close()
    ok = best[CLIENTS] * 1000 <= TARGET_MS
    print(
        f"/public/   p95 {best[CLIENTS] * 1000:6.1f} ms with {items:,} published items, "
        f"{CLIENTS} clients (target ≤ {TARGET_MS:.0f} ms)  "
        + ("ok" if ok else "MISSED")
        + f"; {CROWD} clients p95 {best[CROWD] * 1000:.1f} ms (informative)"
    )
    return ok


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="ducha-bench-public-") as tmp:
        return 0 if public_figure(Path(tmp)) else 1


if __name__ == "__main__":
    sys.exit(main())
