"""A real browser for the screens: Debian's Chromium driven by Playwright's Python API
(``executable_path``; never ``playwright install``), against the app served over loopback.

Every request the browser makes is recorded: a page that asked any host but this server's
fails its test. ``axe`` runs the vendored axe-core on the page (WCAG 2 A and AA)."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from werkzeug.serving import make_server

from tests.conftest import IN_CI

HERE = Path(__file__).parent
AXE = HERE / "vendor" / "axe-core" / "axe.min.js"
ARTEFACTS = HERE / "artefacts"


def chromium_path() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        message = "Debian's chromium is not installed (make test installs it as root)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return found


@contextmanager
def served(app: Flask) -> Iterator[str]:
    """The app on a loopback port in a thread of this process; its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


class Browser:
    """One headless Chromium; pages remember every URL they asked for."""

    def __init__(self, base: str) -> None:
        from playwright.sync_api import sync_playwright

        self.base = base
        self.requested: list[str] = []
        self.failed: list[str] = []
        self._playwright = sync_playwright().start()
        self._browser = self._playwright.chromium.launch(
            executable_path=chromium_path(), args=["--no-sandbox", "--disable-gpu"]
        )

    def page(self, width: int = 1366, javascript: bool = True) -> Any:
        context = self._browser.new_context(
            viewport={"width": width, "height": 900},
            java_script_enabled=javascript,
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
        )
        page = context.new_page()
        page.on("request", lambda request: self.requested.append(request.url))
        page.on(
            "response",
            lambda r: self.failed.append(f"{r.status} {r.url}") if r.status >= 400 else None,
        )
        page.set_default_timeout(15_000)
        return page

    def signed_in(self, login: str, width: int = 1366, javascript: bool = True) -> Any:
        """A new page (its own cookies) signed in as ``login`` (``PASSWORD``), on the desk."""
        from tests.web.conftest import PASSWORD

        page = self.page(width, javascript)
        page.goto(self.base + "/signin")
        page.fill("#login", login)
        page.fill("#password", PASSWORD)
        page.click("button.primary")
        page.wait_for_url(self.base + "/desk")
        return page

    def strangers(self) -> list[str]:
        """Every URL asked of a host other than this server's."""
        ours = urlsplit(self.base).netloc
        return [u for u in self.requested if urlsplit(u).netloc not in (ours, "")]

    def close(self) -> None:
        self._browser.close()
        self._playwright.stop()


@contextmanager
def browsing(app: Flask) -> Iterator[Browser]:
    """A browser on ``app`` served for the block, closed after it."""
    with served(app) as base:
        browser = Browser(base)
        try:
            yield browser
        finally:
            browser.close()


def axe(page: Any) -> list[dict[str, Any]]:
    """axe-core's WCAG 2 A/AA violations on the page as it stands."""
    page.add_script_tag(path=str(AXE))
    result: dict[str, Any] = page.evaluate(
        "async () => await axe.run(document, {runOnly: {type: 'tag', "
        "values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})"
    )
    return [
        {"id": v["id"], "nodes": [n["target"] for n in v["nodes"]][:3]}
        for v in result["violations"]
    ]


def screenshot(page: Any, name: str) -> Path:
    ARTEFACTS.mkdir(exist_ok=True)
    path = ARTEFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def fits(page: Any) -> bool:
    """Nothing wider than the viewport (no sideways scrolling on a phone)."""
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
