"""The demo: realistic, at every stage, and idempotent."""

from __future__ import annotations

from collections import Counter

from services.bootstrap import Settings, build_platform
from services.demo import OFFICES, seed


def event_counts(settings: Settings) -> dict[str, int]:
    platform = build_platform(settings)
    try:
        return {
            code: len(platform.backend.store(code).recorder.select_notifications(1, 10_000))
            for code, *_ in OFFICES
        }
    finally:
        platform.close()


def test_the_demo_covers_every_stage_and_seeding_twice_adds_nothing(
    sqlite_settings: Settings,
) -> None:
    platform = build_platform(sqlite_settings)
    try:
        first = seed(platform)
    finally:
        platform.close()
    before = event_counts(sqlite_settings)

    platform = build_platform(sqlite_settings)
    try:
        second = seed(platform)
        cases = [c for code, *_ in OFFICES for c in platform.supervision.list_cases(code)]
    finally:
        platform.close()

    assert second == first
    assert event_counts(sqlite_settings) == before
    assert {c.source_kind for c in cases} == {"decision", "document", "meeting", "instruction"}
    statuses = Counter(c.status for c in cases)
    assert {"received", "acknowledged", "in_progress", "completion_reported", "completed"} <= set(
        statuses
    )
    assert statuses["closed"] == 1
    assert any(c.extensions_granted for c in cases)
    assert any(c.commendation_count for c in cases)
    assert any(c.rectification == "reported" for c in cases)
    assert any(c.escalation_count for c in cases) and any(c.urge_count for c in cases)
    chain = [c for c in cases if c.office == "pingchuan"]
    assert chain and chain[0].root["office"] == "state-council"
    assert chain[0].parent and chain[0].parent["office"] == "baiyin"
