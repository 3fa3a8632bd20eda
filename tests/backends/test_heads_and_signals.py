"""Which offices moved, without asking every office (issue 15 §1–2).

A process opens an office's store only when it needs it. Every office's last notification id
comes from one query on PostgreSQL (the heads the recorders keep in their committing
transactions) and from each file, read-only, on SQLite; on PostgreSQL a commit also signals
the office's code (``NOTIFY``), and only a commit does. The library's ``subscribe()`` works on
our recorder.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from uuid import uuid4

import psycopg
import pytest
from eventsourcing.persistence import IntegrityError, StoredEvent

from services.bootstrap import Platform, Settings, build_platform
from services.stores import PLATFORM
from services.stores.signals import PostgresSignals
from tests.conftest import FixedClock
from tests.scenario import HIERARCHY, build_hierarchy, new_item, person

OFFICES = [code for code, *_ in HIERARCHY]


def record(p: Platform, office: str, count: int = 1) -> list[str]:
    return [
        p.supervision.register_item(
            person(office, "supervisor"), office, new_item(source_ref=f"批示{uuid4().hex[:8]}")
        ).id
        for _ in range(count)
    ]


@pytest.fixture
def pg_platform(pg_url: str) -> Iterator[Platform]:
    p = build_platform(Settings(database_url=pg_url), clock=FixedClock())
    build_hierarchy(p)
    yield p
    p.close()


def test_a_fresh_platform_opens_no_office_and_a_command_opens_only_its_own(
    settings: Settings,
) -> None:
    first = build_platform(settings, clock=FixedClock())
    build_hierarchy(first)
    first.close()
    again = build_platform(settings, clock=FixedClock())
    try:
        assert set(again.backend._stores) == {PLATFORM}
        item = record(again, "gansu")[0]
        assert set(again.backend._stores) == {PLATFORM, "gansu"}
        assert again.views.item("gansu", item) is not None  # and its read side is current
    finally:
        again.close()


def test_every_offices_last_id_at_once_equals_each_stores_own(platform: Platform) -> None:
    build_hierarchy(platform)
    record(platform, "gansu", 3)
    record(platform, "sichuan")
    platform.backend._stores.clear()  # a look at the heads needs no store
    heads = platform.backend.last_ids(OFFICES)
    assert platform.backend._stores == {}
    own = {o: platform.backend.store(o).recorder.max_notification_id() or 0 for o in OFFICES}
    assert heads == own
    assert (heads["gansu"], heads["sichuan"], heads["baiyin"]) == (3, 1, 0)


def conflicting(p: Platform, office: str) -> StoredEvent:
    """A copy of the office's first event: inserting it again violates (id, version)."""
    first = p.backend.store(office).recorder.select_notifications(1, 1)[0]
    return StoredEvent(first.originator_id, first.originator_version, first.topic, first.state)


@pytest.mark.postgres
def test_a_commit_moves_the_head_and_signals_its_office_and_a_failed_insert_neither(
    pg_platform: Platform, pg_url: str
) -> None:
    signals = PostgresSignals(pg_url)
    try:
        record(pg_platform, "gansu", 2)
        assert signals.wait(5) == {"gansu"}
        with pytest.raises(IntegrityError):
            pg_platform.backend.store("gansu").recorder.insert_events(
                [conflicting(pg_platform, "gansu")]
            )
        assert signals.wait(0.5) == set()  # rolled back: no signal
        assert pg_platform.backend.last_ids(["gansu"]) == {"gansu": 2}
        record(pg_platform, "gansu")  # after the hole the failed insert left (DESIGN §6.2)
        assert signals.wait(5) == {"gansu"}
        # the failed insert burnt its one id, once: it was not taken for a lost connection and
        # tried again (each try burns another)
        assert pg_platform.backend.store("gansu").recorder.max_notification_id() == 4
        assert pg_platform.backend.last_ids(["gansu"]) == {"gansu": 4}
    finally:
        signals.close()


@pytest.mark.postgres
def test_a_database_from_before_the_heads_gets_them_filled(pg_platform: Platform) -> None:
    record(pg_platform, "gansu", 2)
    record(pg_platform, "baiyin")
    with psycopg.connect(pg_platform.settings.database_url or "", autocommit=True) as conn:
        conn.execute("DROP TABLE ducha_platform.log_heads")
    pg_platform.close()
    again = build_platform(pg_platform.settings, clock=FixedClock())
    try:
        heads = again.backend.last_ids(OFFICES)
        assert (heads["gansu"], heads["baiyin"], heads["sichuan"]) == (2, 1, 0)
        record(again, "sichuan")
        assert again.backend.last_ids(["sichuan"]) == {"sichuan": 1}
    finally:
        again.close()


@pytest.mark.postgres
def test_the_librarys_subscribe_follows_one_office(pg_platform: Platform) -> None:
    before = record(pg_platform, "gansu")
    recorder = pg_platform.backend.store("gansu").recorder
    seen: list[int] = []
    with recorder.subscribe(gt=0) as subscription:

        def later() -> None:
            record(pg_platform, "sichuan")  # another office: not in this subscription
            record(pg_platform, "gansu", 2)

        threading.Thread(target=later).start()
        for notification in subscription:
            seen.append(notification.id)
            if len(seen) == 3:
                break
    assert seen == [1, 2, 3] and before


@pytest.mark.postgres
def test_the_shared_pool_takes_its_size_and_timeout_from_the_settings(pg_url: str) -> None:
    p = build_platform(
        Settings(database_url=pg_url, pg_pool_min=2, pg_pool_max=3, pg_pool_timeout=7),
        clock=FixedClock(),
    )
    try:
        pool = p.backend.pool  # type: ignore[attr-defined]
        assert (pool.min_size, pool.max_size, pool.timeout) == (2, 3, 7)
        assert p.read.pool is pool  # type: ignore[attr-defined]  # one pool per process
    finally:
        p.close()
