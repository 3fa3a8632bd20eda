"""The backup drill (issue 17 §3), once per backend, PostgreSQL real: a scenario is seeded, a
thread keeps giving commands (items registered and assigned down, the process manager turning
each assignment into a task in the child office), ``ducha backup`` runs meanwhile, and the
backup is restored with ``ducha restore --jobs 2`` into an empty database or data directory.

Then, up to the backup's point (the manifest's last ids):

- every office's events and the registry's are the source's, byte for byte, none beyond;
- the audit trail (one row per event) equals the one the source built incrementally as the
  commands arrived, and every read model, table by table and row by row, equals the one a
  rebuild of the source's stores cut at the manifest's ids makes;
- a catch-up after the restore applies nothing twice: each office's audit holds each event
  once, every consumer ends at its office's last id, and no assignment became two tasks.

Every person named is named before the backup (``PEOPLE``); a person first named by an event
the tlog projection applies only after the read store's copy keeps their key through
``subject-keys.json``: ``tests/backends/test_backup_hardening.py`` tests that.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest
from psycopg.sql import SQL, Identifier

from domain.assignment import Assignee
from services.bootstrap import Platform, Settings, build_platform
from services.stores import PLATFORM, PostgresBackend, SQLiteBackend
from tests.conftest import FixedClock, fresh_database
from tests.scenario import HIERARCHY, build_hierarchy, new_item, person

CLOCK = "2026-03-02T12:00:00+08:00"  # FixedClock's instant, for the CLI's processes
PEOPLE = ("王建国", "李明", "张伟")
NOT_REBUILT = {
    "tracking",  # compared apart: only the projections' positions are rebuilt
    "dead_letters",
    "relay_skips",
    "idempotency",
    "sign_in_failures",
    "user_preferences",
    "tlog_subject_keys",
    "tlog_checkpoints",
    "tlog_witness_states",
    "tlog_alerts",
}
"""Read-store tables no projection rebuilds: kept from the backup, not compared row by row."""
MIGRATED = {"idempotency", "sign_in_failures", "user_preferences"}
"""The tables ``ducha migrate`` makes for the HTTP app's services, which the source, never
migrated, made none of: a restore on PostgreSQL provisions them."""
PROJECTIONS = ("items", "audit", "rollup", "tlog")
COUNTERS = {"rollup", "rollup_daily"}
"""Counters: a row at zero is no count, as the golden rebuild test compares them (offices
replayed in several processes, ``--jobs``, can leave a counter at zero that one leaves out)."""


def ducha(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, DUCHA_DATA_DIR=str(settings.data_dir), DUCHA_CLOCK=CLOCK)
    env.pop("DUCHA_DATABASE_URL", None)
    if settings.database_url:
        env["DUCHA_DATABASE_URL"] = settings.database_url
    command = [str(Path(sys.executable).parent / "ducha"), *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)


class Writer(threading.Thread):
    """Commands arriving: each turn registers an item in a parent office and assigns it to a
    child office (three events in two offices), until told to stop."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(name="drill-writer", daemon=True)
        self.settings = settings
        self.count = 0
        self.halt = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        platform = build_platform(self.settings, clock=FixedClock())
        try:
            while not self.halt.is_set():
                self.turn(platform, self.count)
                self.count += 1
        except BaseException as e:  # reported by the test
            self.error = e
        finally:
            platform.close()

    @staticmethod
    def turn(platform: Platform, n: int) -> None:
        pairs = [(code, parent) for code, _, _, parent in HIERARCHY if parent]
        child, parent = pairs[n % len(pairs)]
        s = platform.supervision
        item = s.register_item(
            person(parent, "supervisor"),
            parent,
            new_item(
                f"追加督查事项{n}",
                source_ref=f"国办督〔2026〕{1000 + n}号",
                responsible_person=PEOPLE[n % 3],
            ),
        )
        s.act(
            person(parent, "supervisor"),
            parent,
            item.id,
            "assign",
            assignees=[Assignee("office", child, "lead")],
            responsible_person=PEOPLE[(n + 1) % 3],
        )

    def wait_for(self, count: int, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while self.count < count:
            assert self.error is None, self.error
            assert time.monotonic() < deadline, f"the writer did {self.count} of {count} turns"
            time.sleep(0.02)


def seed(settings: Settings) -> None:
    platform = build_platform(settings, clock=FixedClock())
    try:
        build_hierarchy(platform)
        for n, (code, *_) in enumerate(HIERARCHY):
            platform.supervision.register_item(
                person(code, "supervisor"),
                code,
                new_item(
                    f"督查事项{n}",
                    source_ref=f"国办督〔2026〕{n}号",
                    responsible_person=PEOPLE[n % 3],
                ),
            )
    finally:
        platform.close()


@contextmanager
def opened(settings: Settings) -> Iterator[Platform]:
    platform = build_platform(settings, clock=FixedClock())
    try:
        yield platform
    finally:
        platform.close()


Event = tuple[int, str, int, str, bytes]


def events(platform: Platform, tenant: str, upto: int | None = None) -> list[Event]:
    recorder = platform.backend.store(tenant).recorder
    found: list[Event] = []
    while True:
        start = found[-1][0] + 1 if found else 1
        batch = recorder.select_notifications(start, 500, stop=upto)
        if not batch:
            return found
        found += [
            (n.id, str(n.originator_id), n.originator_version, n.topic, bytes(n.state))
            for n in batch
        ]


def plain(value: Any) -> Any:
    return bytes(value) if isinstance(value, memoryview) else value


def rows(platform: Platform, table: str, where: str = "") -> list[tuple[Any, ...]]:
    if table in COUNTERS:
        where = where or "WHERE value <> 0"
    found = platform.read.all(f"SELECT * FROM {table} {where}")
    return sorted((tuple(plain(v) for v in row.values()) for row in found), key=repr)


def tables(platform: Platform) -> set[str]:
    if platform.read.dialect == "postgres":
        query = (
            "SELECT table_name AS name FROM information_schema.tables "
            "WHERE table_schema = 'ducha_read'"
        )
    else:
        query = "SELECT name FROM sqlite_master WHERE type = 'table'"
    return {str(r["name"]) for r in platform.read.all(query)}


def projection_positions(platform: Platform) -> list[tuple[Any, ...]]:
    marks = ", ".join(f"'{name}'" for name in PROJECTIONS)
    return rows(platform, "tracking", f"WHERE consumer IN ({marks})")


def cut_clone(
    settings: Settings, clone: Settings, manifest: dict[str, Any], server: str | None
) -> None:
    """A copy of the source (quiet now) whose stores end at the manifest's ids."""
    cut = {PLATFORM: manifest["registry"], **manifest["offices"]}
    if server is None:
        shutil.copytree(settings.data_dir, clone.data_dir)
        files = SQLiteBackend(clone.data_dir)
        for tenant, last in cut.items():
            with sqlite3.connect(files.path(tenant)) as conn:
                conn.execute("DELETE FROM stored_events WHERE rowid > ?", (last,))
            conn.close()
        return
    assert settings.database_url and clone.database_url
    source, target = (
        urlsplit(url).path.lstrip("/") for url in (settings.database_url, clone.database_url)
    )
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(SQL("DROP DATABASE {}").format(Identifier(target)))  # made empty: a copy
        conn.execute(
            SQL("CREATE DATABASE {} TEMPLATE {}").format(Identifier(target), Identifier(source))
        )
    with psycopg.connect(clone.database_url, autocommit=True) as conn:
        for tenant, last in cut.items():
            table = SQL("{}.stored_events").format(Identifier(PostgresBackend.schema(tenant)))
            conn.execute(SQL("DELETE FROM {} WHERE notification_id > %s").format(table), (last,))
            conn.execute(
                "UPDATE ducha_platform.log_heads SET last = %s WHERE schema_name = %s",
                (last, PostgresBackend.schema(tenant)),
            )


@pytest.fixture
def server(settings: Settings, request: pytest.FixtureRequest) -> str | None:
    return str(request.getfixturevalue("pg_server_url")) if settings.database_url else None


@contextmanager
def empty_target(settings: Settings, server: str | None, name: str) -> Iterator[Settings]:
    data_dir = settings.data_dir.parent / name
    if server is None:
        yield replace(settings, data_dir=data_dir)
        return
    with fresh_database(server, name) as url:
        yield replace(settings, data_dir=data_dir, database_url=url)


def test_backup_while_commands_arrive_restores_to_the_backup_point(
    settings: Settings, server: str | None, tmp_path: Path
) -> None:
    seed(settings)
    with opened(settings) as platform:
        seeded = platform.backend.last_ids([code for code, *_ in HIERARCHY])
    writer = Writer(settings)
    writer.start()
    try:
        writer.wait_for(5)
        before = writer.count
        backed = ducha(settings, "backup", "--to", str(tmp_path / "backup"))
        during = writer.count - before
        writer.wait_for(writer.count + 5)
    finally:
        writer.halt.set()
        writer.join(60)
    assert writer.error is None, writer.error
    assert backed.returncode == 0, backed.stderr
    assert during > 0, "no command arrived while the backup ran"
    manifest = json.loads((tmp_path / "backup" / "MANIFEST.json").read_text(encoding="utf-8"))
    offices = manifest["offices"]
    assert sorted(offices) == sorted(code for code, *_ in HIERARCHY)

    with opened(settings) as source:
        final = source.backend.last_ids(list(offices))
        assert any(offices[c] > seeded[c] for c in offices), "nothing after the seed was backed up"
        assert any(final[c] > offices[c] for c in offices), "nothing arrived after the backup"
        expected = {
            t: events(source, t, last)
            for t, last in [(PLATFORM, manifest["registry"]), *offices.items()]
        }
        live_audit = {
            c: rows(source, "audit", f"WHERE office = '{c}' AND position <= {offices[c]}")
            for c in offices
        }

    with empty_target(settings, server, "restored") as restored:
        done = ducha(restored, "restore", "--from", str(tmp_path / "backup"), "--jobs", "2")
        assert done.returncode == 0, done.stderr
        with opened(restored) as target:
            for tenant, want in expected.items():
                assert events(target, tenant) == want, f"{tenant}: events differ from the source's"
            for code in offices:
                assert rows(target, "audit", f"WHERE office = '{code}'") == live_audit[code], code
            with empty_target(settings, server, "clone") as clone:
                cut_clone(settings, clone, manifest, server)
                with opened(clone) as reference:
                    reference.runner.rebuild(None, None)
                    compare_read_models(target, reference)
            catch_up_applies_nothing_twice(target, list(offices))


def compare_read_models(target: Platform, reference: Platform) -> None:
    names = tables(reference)
    if target.read.dialect == "postgres":  # restore provisions as migrate does (the source did not)
        names |= MIGRATED
    assert tables(target) == names
    compared = sorted(names - NOT_REBUILT)
    assert {"items", "audit", "tlog_tiles"} <= set(compared)
    for table in compared:
        got, want = rows(target, table), rows(reference, table)
        assert got == want, f"read model {table} differs: {sorted(set(got) ^ set(want))}"
    assert projection_positions(target) == projection_positions(reference)


def catch_up_applies_nothing_twice(target: Platform, offices: list[str]) -> None:
    target.runner.catch_up_all()
    last = target.backend.last_ids(offices)
    for code in offices:
        positions = [
            r["position"]
            for r in target.read.all(f"SELECT position FROM audit WHERE office = '{code}'")
        ]
        ids = [e[0] for e in events(target, code)]
        assert sorted(positions) == ids, f"{code}: audit rows are not one per event"
    for row in target.read.all("SELECT consumer, office, position FROM tracking"):
        assert row["position"] == last[row["office"]], row
    tasks = target.read.all(
        "SELECT office, parent_office, parent_id, count(*) AS n FROM items "
        "WHERE kind = 'task' GROUP BY office, parent_office, parent_id"
    )
    assert tasks and all(t["n"] == 1 for t in tasks), "an assignment became two tasks"
