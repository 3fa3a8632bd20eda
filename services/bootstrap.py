"""Settings from the environment and the composition root that wires the services. May import:
everything: every adapter (``services.stores``, ``projections.readstore``), the read side
(``projections``), the application services and the domain; it is the only module that knows
every adapter.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from domain.values import business_date
from projections.audit import AuditProjection
from projections.items import ItemsProjection
from projections.queries import ReadModels
from projections.readstore import PostgresReadStore, ReadStore, SQLiteReadStore
from projections.rollup import RollupProjection
from projections.runner import Projection, Runner
from projections.timetravel import ReplayGate, as_of
from projections.tlog import NAME as TLOG
from projections.tlog import TlogProjection
from services.calendar import GovernmentCalendar
from services.clock import Clock, clock_from_env
from services.deadlines import DeadlineEngine
from services.liaison import Liaison, SkippedRelays
from services.registry import OfficeRegistry
from services.stores import DEFAULT_OPEN_STORES, Backend, PostgresBackend, SQLiteBackend
from services.supervision import SupervisionService
from services.tlog_proofs import Ledger, build_ledger


@dataclass(frozen=True)
class Settings:
    """``DUCHA_DATA_DIR`` (default ``./var``), ``DUCHA_DATABASE_URL`` (PostgreSQL, else SQLite),
    ``DUCHA_CLOCK`` (pins domain time), ``DUCHA_HOLIDAYS_FILE`` (holiday data after 2026),
    ``DUCHA_BUS`` (``embedded``: this process keeps the read side current; ``kafka``: relay and
    workers do), ``DUCHA_KAFKA_BOOTSTRAP``, ``DUCHA_KAFKA_TOPIC``, ``DUCHA_OPEN_STORES`` (offices
    kept open), ``DUCHA_AS_OF_REPLAYS`` (time-travel replays at once per process),
    ``DUCHA_KEYS_DIR`` (the ledger's private keys; default ``DATA_DIR/keys``),
    ``DUCHA_CHECKPOINT_EVERY`` and ``DUCHA_CHECKPOINT_SECONDS`` (a ledger checkpoint after so
    many events or seconds; default 1000 and 3600)."""

    data_dir: Path = Path("var")
    database_url: str | None = None
    clock: str | None = None
    holidays_file: Path | None = None
    bus: str = "embedded"
    kafka_bootstrap: str = "127.0.0.1:9092"
    kafka_topic: str = "ducha.events"
    open_stores: int = DEFAULT_OPEN_STORES
    as_of_replays: int = 2
    pg_pool_min: int = 1
    pg_pool_max: int = 10
    pg_pool_timeout: int = 30
    keys_dir: Path | None = None
    checkpoint_every: int = 1000
    checkpoint_seconds: int = 3600
    provisioning: str = "auto"
    """``auto``: PostgreSQL's marker decides whether this process may run DDL
    (``services.stores.pgprovision``); ``migrate``: ``ducha migrate`` (not from the env)."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        env = os.environ if env is None else env
        holidays = env.get("DUCHA_HOLIDAYS_FILE")
        values: dict[str, object] = {
            "data_dir": Path(env.get("DUCHA_DATA_DIR") or "var"),
            "database_url": env.get("DUCHA_DATABASE_URL") or None,
            "clock": env.get("DUCHA_CLOCK") or None,
            "holidays_file": Path(holidays) if holidays else None,
            "bus": env.get("DUCHA_BUS") or "embedded",
            "kafka_bootstrap": env.get("DUCHA_KAFKA_BOOTSTRAP") or "127.0.0.1:9092",
            "kafka_topic": env.get("DUCHA_KAFKA_TOPIC") or "ducha.events",
            "open_stores": positive(env, "DUCHA_OPEN_STORES", DEFAULT_OPEN_STORES),
            "as_of_replays": positive(env, "DUCHA_AS_OF_REPLAYS", 2),
            "pg_pool_min": positive(env, "DUCHA_PG_POOL_MIN", 1),
            "pg_pool_max": positive(env, "DUCHA_PG_POOL_MAX", 10),
            "pg_pool_timeout": positive(env, "DUCHA_PG_POOL_TIMEOUT", 30),
            "keys_dir": Path(env["DUCHA_KEYS_DIR"]) if env.get("DUCHA_KEYS_DIR") else None,
            "checkpoint_every": positive(env, "DUCHA_CHECKPOINT_EVERY", 1000),
            "checkpoint_seconds": positive(env, "DUCHA_CHECKPOINT_SECONDS", 3600),
        }
        if values["bus"] not in ("embedded", "kafka"):
            raise ValueError("DUCHA_BUS must be 'embedded' or 'kafka'")
        if values["pg_pool_min"] > values["pg_pool_max"]:  # type: ignore[operator]
            raise ValueError("DUCHA_PG_POOL_MIN must not exceed DUCHA_PG_POOL_MAX")
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]


def positive(env: Mapping[str, str], name: str, default: int) -> int:
    value = env.get(name) or str(default)
    if not value.isascii() or not value.isdigit() or int(value) < 1:
        raise ValueError(f"{name} must be a whole number of at least 1")
    return int(value)


@dataclass
class Platform:
    """Everything a command or a server needs, built once per process."""

    settings: Settings
    backend: Backend
    clock: Clock
    calendar: GovernmentCalendar
    registry: OfficeRegistry
    supervision: SupervisionService
    read: ReadStore
    runner: Runner
    views: ReadModels
    skipped: SkippedRelays
    ledger: Ledger
    replays: ReplayGate = field(default_factory=ReplayGate)

    @property
    def deadlines(self) -> DeadlineEngine:
        return DeadlineEngine(self.supervision, self.registry, self.read, self.calendar, self.clock)

    def close(self) -> None:
        self.read.close()
        self.backend.close()

    def as_of(self, until: datetime, offices: list[str]) -> ReadModels:
        """The read models of ``offices`` as they stood at ``until``, replayed from the stores."""
        return as_of(
            until,
            self.backend,
            offices,
            [p for p in projections(self.registry, self.calendar) if p.name != TLOG],
            self.calendar,
            self.views.children,
            live=self.read,
            gate=self.replays,
        )


def build_backend(settings: Settings) -> Backend:
    if settings.database_url:
        if not settings.database_url.startswith(("postgresql://", "postgres://")):
            raise ValueError("DUCHA_DATABASE_URL must be a postgresql:// URL")
        return PostgresBackend(
            settings.database_url,
            pool_max=settings.pg_pool_max,
            open_stores=settings.open_stores,
            pool_min=settings.pg_pool_min,
            pool_timeout=settings.pg_pool_timeout,
            provisioning=settings.provisioning,
        )
    return SQLiteBackend(settings.data_dir, open_stores=settings.open_stores)


def projections(registry: OfficeRegistry, calendar: GovernmentCalendar) -> list[Projection[Any]]:
    return [
        ItemsProjection(),
        AuditProjection(),
        RollupProjection(registry.ancestor_codes, calendar, registry.backend.store),
        TlogProjection(),
    ]


def build_read_store(settings: Settings, backend: Backend) -> ReadStore:
    if isinstance(backend, PostgresBackend):
        return PostgresReadStore(backend.pool, backend.ddl_gate)
    return SQLiteReadStore(settings.data_dir / "read.sqlite")


def build_platform(
    settings: Settings, clock: Clock | None = None, catch_up: bool = False
) -> Platform:
    """Wire the services, opening no office's store: each is opened when first needed, so
    that a process starts in the same time whatever the number of offices. With
    ``catch_up``, first apply what was recorded while nothing ran (every office's head is
    read: long-running processes do it in the background instead, ``services.follower``)."""
    clock = clock or clock_from_env(settings.clock)
    calendar = GovernmentCalendar.from_file(settings.holidays_file)
    backend = build_backend(settings)
    try:
        return wire(settings, clock, calendar, backend, catch_up)
    except BaseException:  # e.g. the database needs ``ducha migrate``: no pool left open
        backend.close()
        raise


def wire(
    settings: Settings,
    clock: Clock,
    calendar: GovernmentCalendar,
    backend: Backend,
    catch_up: bool,
) -> Platform:
    registry = OfficeRegistry(backend, clock)
    supervision = SupervisionService(backend, registry, clock, calendar)
    read = build_read_store(settings, backend)
    skips = SkippedRelays(read)
    runner = Runner(
        backend,
        offices=lambda: [o.code for o in registry.all()],
        read=read,
        projections=projections(registry, calendar),
        managers=[Liaison(supervision, skips.record)],
    )
    ledger = build_ledger(
        backend,
        read,
        registry,
        clock,
        settings.keys_dir or settings.data_dir / "keys",
        settings.checkpoint_every,
        settings.checkpoint_seconds,
    )
    if settings.bus == "embedded":
        supervision.listeners.append(runner.notify)  # else: the relay and workers do it
        supervision.listeners.append(ledger.checkpoints.maybe_checkpoint)
    views = ReadModels(
        read,
        calendar,
        today=lambda: business_date(clock()),
        children=lambda code: [(o.code, o.name) for o in registry.children(code)],
    )
    platform = Platform(
        settings,
        backend,
        clock,
        calendar,
        registry,
        supervision,
        read,
        runner,
        views,
        skips,
        ledger,
        ReplayGate(settings.as_of_replays),
    )
    if catch_up and settings.bus == "embedded":
        runner.catch_up_all()
    return platform
