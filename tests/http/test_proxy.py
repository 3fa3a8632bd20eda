"""Forwarded headers are believed only from as many proxies as ``DUCHA_TRUSTED_PROXIES`` says."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask, request

from services.bootstrap import Settings, build_platform
from services.errors import ServiceError
from services.http.app import create_app
from services.http.proxy import trusted_proxies
from tests.conftest import FixedClock

FORWARDED = {  # a TLS proxy in front of an inner one: each adds what it saw
    "X-Forwarded-For": "203.0.113.7, 198.51.100.2",
    "X-Forwarded-Proto": "https, http",
    "X-Forwarded-Host": "ducha.gansu.gov.cn, ducha-internal",
}


def seen_by(app: Flask) -> dict[str, str]:
    app.add_url_rule(
        "/test-seen",
        "test_seen",
        lambda: {"addr": request.remote_addr, "scheme": request.scheme, "host": request.host},
    )
    body: dict[str, str] = app.test_client().get("/test-seen", headers=FORWARDED).json  # type: ignore[assignment]
    return body


@pytest.mark.parametrize(
    ("hops", "addr", "scheme", "host"),
    [
        ("", "127.0.0.1", "http", "localhost"),  # by default nobody is believed
        ("1", "198.51.100.2", "http", "ducha-internal"),  # the last hop only
        ("2", "203.0.113.7", "https", "ducha.gansu.gov.cn"),  # both proxies
    ],
)
def test_forwarded_headers_count_only_from_trusted_proxies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hops: str, addr: str, scheme: str, host: str
) -> None:
    monkeypatch.setenv("DUCHA_TRUSTED_PROXIES", hops)
    platform = build_platform(Settings(data_dir=tmp_path / "var"), clock=FixedClock())
    try:
        seen = seen_by(create_app(platform))
    finally:
        platform.close()
    assert seen == {"addr": addr, "scheme": scheme, "host": host}


@pytest.mark.parametrize("bad", ["-1", "one", "6", "1.5"])
def test_a_bad_setting_is_named(bad: str) -> None:
    with pytest.raises(ServiceError, match="DUCHA_TRUSTED_PROXIES must be a whole number"):
        trusted_proxies({"DUCHA_TRUSTED_PROXIES": bad})


def test_serve_refuses_a_bad_setting_in_one_line(tmp_path: Path) -> None:
    ducha = str(Path(sys.executable).parent / "ducha")
    done = subprocess.run(
        [ducha, "--data-dir", str(tmp_path / "var"), "serve", "--port", "0"],
        env={"PATH": "/usr/bin:/bin", "DUCHA_TRUSTED_PROXIES": "yes"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert done.stderr.strip().splitlines() == [
        "error: DUCHA_TRUSTED_PROXIES must be a whole number from 0 to 5, not 'yes'"
    ]
