"""The screens' cost: ``/desk`` and ``/ledger`` against the JSON list route for the same rows.

One office with a few hundred items of varied deadlines; the app (API and screens) served by
werkzeug's threaded server on loopback; 8 concurrent clients, each a signed-in person with a
session cookie (the screens) and a bearer token (the API). The server's own time per request
is measured around the WSGI call, body included, so client threads do not count; rounds
alternate between the routes so that machine noise hits them all, and the best round's p95
counts. Figures: p95(JSON list) / p95(page) for each page (target ≥ 0.5: a page costs at most
twice the JSON of its rows), and the desk's weight (HTML + CSS + JS it loads, target ≤ 150 kB).
Run alone with ``python -m tests.bench.web``.
"""

from __future__ import annotations

import dataclasses
import re
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from urllib.request import HTTPCookieProcessor, OpenerDirector, Request, build_opener

from werkzeug.serving import WSGIRequestHandler, make_server

from domain.values import Actor
from services.bootstrap import Settings, build_platform
from services.clock import at_noon
from services.http.app import create_app
from services.users import UserDirectory
from tests.bench.items import bench_item

OFFICE = "bench-web"
PASSWORD = "基准口令-correct-horse-2026"
RATIO_TARGET = 0.5
WEIGHT_TARGET = 150_000
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
ASSET = re.compile(r'(?:href|src)="(/assets/[^"]+\.(?:css|js))"')
ROUTES = {
    "desk": "/desk",
    "ledger": "/ledger",
    "json": f"/api/v1/offices/{OFFICE}/items?" + urlencode({"sort": "deadline", "per_page": 50}),
}
"""The ledger's default view is the office's records by deadline, 50 a page: the JSON route is
asked for exactly those rows."""


class Timed:
    """WSGI middleware: the server's time for each request, by path, body included."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.times: dict[str, list[float]] = {}
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        start = time.perf_counter()
        body = list(self.app(environ, start_response))
        spent = time.perf_counter() - start
        with self.lock:
            self.times.setdefault(environ["PATH_INFO"], []).append(spent)
        return body


class Quiet(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        """No line per request: thousands of them would bury the figures."""


@contextmanager
def served(app: Any) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


def prepare(data: Path, items: int, clients: int) -> list[tuple[str, str]]:
    """The office, its items (deadlines spread over four months, some acknowledged) and the
    clients' (login, token)."""
    platform = build_platform(Settings(data_dir=data), clock=lambda: at_noon(date(2026, 3, 2)))
    try:
        admin = Actor("bench", OFFICE, "admin")
        platform.registry.register(admin, OFFICE, "基准机关", "central")
        supervisor, clerk = Actor("bench", OFFICE, "supervisor"), Actor("bench", OFFICE, "clerk")
        for n in range(items):
            due = date(2026, 2, 20) + timedelta(days=n % 120)
            case = platform.supervision.register_item(
                supervisor,
                OFFICE,
                dataclasses.replace(bench_item(n), issued_on=date(2026, 2, 2), deadline=due),
            )
            if n % 3 == 0:
                platform.supervision.act(clerk, OFFICE, case.id, "acknowledge")
        users = UserDirectory(platform.registry, platform.clock)
        people = []
        for c in range(clients):
            login = f"bench-clerk-{c}"
            _, token = users.add(admin, OFFICE, "clerk", f"基准经办人{c}", login, PASSWORD)
            people.append((login, token))
        return people
    finally:
        platform.close()


def signed_in(base: str, login: str) -> OpenerDirector:
    opener = build_opener(HTTPCookieProcessor(CookieJar()))
    token = TOKEN.search(opener.open(base + "/signin").read().decode())
    assert token, "no CSRF token on the sign-in page"
    form = urlencode({"login": login, "password": PASSWORD, "csrf_token": token.group(1)})
    landed = opener.open(base + "/signin", data=form.encode())
    assert landed.url.endswith("/desk"), landed.url
    return opener


def load(base: str, clients: list[tuple[OpenerDirector, str]], path: str, per: int) -> None:
    """``per`` requests of ``path`` by each client at once."""
    barrier = threading.Barrier(len(clients))
    failures: list[str] = []

    def client(opener: OpenerDirector, token: str) -> None:
        barrier.wait()
        for _ in range(per):
            request = Request(base + path, headers={"Authorization": f"Bearer {token}"})
            with opener.open(request) as response:
                response.read()
                if response.status != 200:
                    failures.append(f"{response.status} {path}")

    threads = [threading.Thread(target=client, args=c) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures, failures[:3]


def p95(times: list[float]) -> float:
    return statistics.quantiles(times, n=20)[-1]


def page_weight(base: str, opener: OpenerDirector) -> tuple[int, int]:
    """The desk's HTML and the bytes of the styles and scripts it loads."""
    html = opener.open(base + "/desk").read()
    assets = sorted(set(ASSET.findall(html.decode())))
    return len(html), sum(len(opener.open(base + a).read()) for a in assets)


def web_figure(root: Path, clients: int = 8, per_client: int = 25, rounds: int = 3) -> bool:
    data = root / "web"
    people = prepare(data, 300, clients)
    platform = build_platform(Settings(data_dir=data), clock=lambda: at_noon(date(2026, 3, 2)))
    try:
        app = create_app(platform, UserDirectory(platform.registry, platform.clock))
        timed = Timed(app.wsgi_app)
        app.wsgi_app = timed  # type: ignore[method-assign]
        with served(app) as base:
            openers = [(signed_in(base, login), token) for login, token in people]
            html, assets = page_weight(base, openers[0][0])
            best = {name: float("inf") for name in ROUTES}
            for round_ in range(rounds + 1):  # the first round warms up
                for name, path in ROUTES.items():
                    timed.times.clear()
                    load(base, openers, path, per_client)
                    if round_:
                        best[name] = min(best[name], p95(timed.times[path.split("?")[0]]))
    finally:
        platform.close()
    return report(best, html, assets)


def report(best: dict[str, float], html: int, assets: int) -> bool:
    passed = True
    for name in ("desk", "ledger"):
        ratio = best["json"] / best[name]
        ok = ratio >= RATIO_TARGET
        passed &= ok
        print(
            f"{'/' + name:10} p95 {best[name] * 1000:6.1f} ms   JSON list, same rows, "
            f"p95 {best['json'] * 1000:6.1f} ms   ratio {ratio:.2f}  "
            + ("ok" if ok else f"BELOW TARGET {RATIO_TARGET}")
        )
    weight = html + assets
    light = weight <= WEIGHT_TARGET
    print(
        f"/desk weight {weight / 1000:.1f} kB (HTML {html / 1000:.1f} kB + CSS and JS "
        f"{assets / 1000:.1f} kB)  " + ("ok" if light else f"ABOVE TARGET {WEIGHT_TARGET} B")
    )
    return passed and light


def main() -> int:
    print(
        "screens: /desk and /ledger vs the JSON list route, 8 signed-in clients "
        "(server p95, best round):"
    )
    with tempfile.TemporaryDirectory(prefix="ducha-bench-web-") as tmp:
        return 0 if web_figure(Path(tmp)) else 1


if __name__ == "__main__":
    sys.exit(main())
