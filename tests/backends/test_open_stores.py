"""Thousands of offices, a bounded number of open stores (issue 10 §6).

On SQLite each office that ran a query holds three open files (database, WAL, shared memory);
only the most recently used offices keep them, and a store whose connections were closed opens
them again on its next query. Nothing a thread is using is ever closed. On both backends an
office beyond the bound also drops its cached aggregates.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from uuid import UUID

import pytest

from domain.offices import Office
from services.bootstrap import Platform, Settings, build_platform
from services.stores import SQLiteBackend
from tests.conftest import FixedClock
from tests.scenario import ADMIN, build_hierarchy, new_item, person

ROOT = Path(__file__).resolve().parents[2]


def open_files(under: Path) -> list[str]:
    """This process's open files below ``under``."""
    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith(str(under)):
            found.append(target)
    return found


def offices_backend(tmp_path: Path, count: int, open_stores: int) -> SQLiteBackend:
    backend = SQLiteBackend(tmp_path, open_stores=open_stores)
    for n in range(count):
        backend.provision(f"o{n}")
    return backend


def test_only_the_most_recently_used_offices_keep_their_files(tmp_path: Path) -> None:
    backend = offices_backend(tmp_path, 12, open_stores=4)
    try:
        for n in range(12):
            assert backend.store(f"o{n}").recorder.max_notification_id() is None
        files = open_files(tmp_path)
        assert len(files) == 4 * 3  # database, WAL and shared memory of o8 … o11
        assert {Path(f).name.split(".")[0] for f in files} == {"o8", "o9", "o10", "o11"}
        assert len(backend.recent) == 4 and "o0" not in backend.recent
    finally:
        backend.close()
    assert open_files(tmp_path) == []  # closing the backend closes every connection


def test_a_store_kept_by_a_caller_reopens_after_eviction_and_forgets_its_cache(
    platform: Platform,
) -> None:
    build_hierarchy(platform)
    platform.backend.recent.limit = 2
    item = platform.supervision.register_item(person("gansu"), "gansu", new_item())
    store = platform.backend.store("gansu")
    assert store.repository.cache is not None
    item_id = UUID(item.id)
    store.repository.cache.get(item_id)  # cached by the command
    for code in ("state-council", "sichuan", "baiyin"):  # other offices used since
        platform.backend.store(code).recorder.max_notification_id()
    assert "gansu" not in platform.backend.recent
    with pytest.raises(KeyError):
        store.repository.cache.get(item_id)  # given back with the files
    assert store is platform.backend.store("gansu")  # the same object, working again
    assert store.recorder.max_notification_id() == 1
    platform.supervision.act(person("gansu"), "gansu", item.id, "acknowledge")
    assert platform.views.item("gansu", item.id)["status"] == "acknowledged"  # type: ignore[index]


def test_a_connection_in_use_is_never_closed(tmp_path: Path) -> None:
    backend = offices_backend(tmp_path, 6, open_stores=2)
    busy = backend.store("o0")
    datastore = busy.recorder.datastore  # type: ignore[attr-defined]
    holding, done = threading.Event(), threading.Event()
    seen: list[int] = []

    def long_read() -> None:  # a rebuild or a pump reading a long log, in another thread
        with datastore.transaction(commit=False) as cursor:
            holding.set()
            done.wait(10)
            cursor.execute("SELECT COUNT(*) FROM stored_events")
            seen.append(cursor.fetchone()[0])

    worker = threading.Thread(target=long_read)
    worker.start()
    try:
        assert holding.wait(10)
        for n in range(1, 6):  # o0 is the least recently used, again and again
            backend.store(f"o{n}").recorder.max_notification_id()
        assert "o0" in backend.recent  # busy: kept, tried again later
        assert len(backend.recent) <= 3
    finally:
        done.set()
        worker.join(10)
    assert seen == [0]
    for n in range(1, 6):
        backend.store(f"o{n}").recorder.max_notification_id()
    assert "o0" not in backend.recent  # idle now: released
    assert busy.recorder.max_notification_id() is None
    backend.close()


def test_concurrent_commands_in_more_offices_than_the_bound(tmp_path: Path) -> None:
    platform = build_platform(Settings(data_dir=tmp_path / "var"), clock=FixedClock())
    try:
        platform.backend.recent.limit = 2
        build_hierarchy(platform)
        offices = ["gansu", "sichuan", "baiyin", "pingchuan", "state-council"]
        errors: list[BaseException] = []

        def work(office: str) -> None:
            try:
                for n in range(8):
                    item = platform.supervision.register_item(
                        person(office), office, new_item(f"事项{n}")
                    )
                    platform.supervision.act(person(office), office, item.id, "acknowledge")
            except BaseException as error:
                errors.append(error)

        threads = [threading.Thread(target=work, args=(o,)) for o in offices]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert errors == []
        for office in offices:
            assert platform.views.items(office).total == 8
        assert platform.views.rollup("state-council")["records"]["total"] == 40
        assert len(open_files(tmp_path / "var" / "offices")) <= 2 * 5  # 2 offices, 2 connections
    finally:
        platform.close()


SERVER = """
import resource, sys
from datetime import date
from pathlib import Path

resource.setrlimit(resource.RLIMIT_NOFILE, (1024, 1024))

from services.bootstrap import Settings, build_platform
from services.clock import at_noon
from tests.scenario import new_item, person

platform = build_platform(
    Settings(data_dir=Path(sys.argv[1])), clock=lambda: at_noon(date(2026, 3, 2))
)
offices = [o.code for o in platform.registry.all()]
assert len(offices) == int(sys.argv[2]), len(offices)
for office in offices[:: len(offices) // 7]:
    item = platform.supervision.register_item(person(office), office, new_item())
    platform.supervision.act(person(office), office, item.id, "acknowledge")
    assert platform.views.items(office).items[0]["status"] == "acknowledged"
assert platform.views.rollup(offices[0])["records"]["total"] == 8
platform.close()
print("served")
"""


def provision_offices(data_dir: Path, provinces: int, prefectures: int, counties: int) -> int:
    """Offices as a real server would have them, written quickly: one registered office's empty
    store copied for the others, and every registration saved to the registry at once."""
    platform = build_platform(Settings(data_dir=data_dir), clock=FixedClock(), catch_up=False)
    try:
        platform.registry.register(ADMIN, "root", "国务院办公厅", "central")
        backend = platform.backend
        assert isinstance(backend, SQLiteBackend)
        template = backend.path("root")
        now = platform.clock()
        offices = []
        for p in range(provinces):
            province = f"p{p:02d}"
            offices.append(Office.register(ADMIN, now, province, province, "province", "root"))
            for f in range(prefectures):
                prefecture = f"{province}-f{f:02d}"
                offices.append(
                    Office.register(ADMIN, now, prefecture, prefecture, "prefecture", province)
                )
                offices += [
                    Office.register(ADMIN, now, f"{prefecture}-c{c}", "县", "county", prefecture)
                    for c in range(counties)
                ]
        for office in offices:
            shutil.copyfile(template, backend.path(office.code))
        platform.registry.store.save(*offices)
        return len(platform.registry.all())
    finally:
        platform.close()


def test_a_server_with_3233_offices_boots_and_serves_under_ulimit_1024(tmp_path: Path) -> None:
    """Failed before the bound: every office's store stayed open after the start's catch-up
    (3 files each), and the server died with "unable to open database file"."""
    data_dir = tmp_path / "var"
    started = time.perf_counter()
    count = provision_offices(data_dir, provinces=32, prefectures=10, counties=9)
    assert count == 3233
    provisioned = time.perf_counter() - started
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(SERVER), str(data_dir), str(count)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == "served"
    assert provisioned < 60
