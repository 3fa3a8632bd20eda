"""Fixtures of the read-side tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from services.bootstrap import Platform, Settings, build_platform
from tests.conftest import FixedClock
from tests.scenario import build_hierarchy


@pytest.fixture
def ducha(settings: Settings) -> Iterator[Platform]:
    """The test hierarchy, on each backend, on 2 March 2026."""
    platform = build_platform(settings, clock=FixedClock("2026-03-02"))
    build_hierarchy(platform)
    yield platform
    platform.close()


@pytest.fixture
def busy(settings: Settings) -> Platform:
    """The test hierarchy after a seeded mix of every kind of step (``scenario``); the test
    closes it."""
    from tests.projections.test_rebuild_jobs import scenario

    p = build_platform(settings, clock=FixedClock("2026-03-02"))
    build_hierarchy(p)
    scenario(p)
    return p
