"""The broker goes away: commands keep succeeding; when it returns (empty: Tansu keeps
nothing), the relay's backlog drains and the workers fill what they missed from the stores."""

from __future__ import annotations

from collections.abc import Iterator
from uuid import uuid4

import pytest

from services.bootstrap import Settings, build_platform
from services.kafka.broker import free_port
from tests.conftest import FixedClock
from tests.kafka.conftest import Broker
from tests.kafka.test_bus import running, settled, some_work
from tests.kafka.test_crash import applied
from tests.projections.test_golden_rebuild import dump
from tests.scenario import build_hierarchy


@pytest.fixture
def own_broker() -> Iterator[Broker]:
    b = Broker(free_port())
    b.start()
    yield b
    b.stop()


def test_commands_succeed_while_the_broker_is_down_and_the_backlog_drains(
    pg_url: str, own_broker: Broker
) -> None:
    settings = Settings(
        database_url=pg_url,
        bus="kafka",
        kafka_bootstrap=own_broker.bootstrap,
        kafka_topic=f"ducha.outage.{uuid4().hex[:8]}",
    )
    p = build_platform(settings, clock=FixedClock())
    try:
        build_hierarchy(p)
        with running(settings):
            some_work(p, items=3)
            assert settled(p)
            before = applied(p)
            own_broker.stop()
            some_work(p, "gansu", items=4)  # 12 more events, recorded while the broker is down
            assert applied(p) == before  # nothing could flow meanwhile
            own_broker.start()
            assert settled(p, timeout=120), "the backlog did not drain"
            assert applied(p) == before + 12
        incremental = dump(p)
        p.runner.rebuild()
        assert dump(p) == incremental
    finally:
        p.close()
