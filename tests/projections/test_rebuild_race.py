"""A rebuild racing live writers (issue 10 §3): other processes keep taking commands for the
office being rebuilt, their pumps applying each event as it is recorded, while this process
drops and refills. However the two interleave, the read side must end equal to a quiet rebuild.
"""

from __future__ import annotations

import multiprocessing
import threading
import time
from typing import Any

from domain.assignment import Assignee
from services.bootstrap import Platform, Settings, build_platform
from services.errors import ConflictError
from tests.conftest import FixedClock
from tests.projections.test_golden_rebuild import dump
from tests.scenario import build_hierarchy, new_item, person

WRITERS = 2
SECONDS = 8.0


def work(p: Platform, n: int, tag: str) -> None:
    """One round of commands in gansu: a record registered, acknowledged, reported on, and
    every third one assigned to baiyin (so the process manager writes there too)."""
    s = p.supervision
    item = s.register_item(person("gansu"), "gansu", new_item(f"{tag}-{n}"))
    s.act(person("gansu"), "gansu", item.id, "acknowledge")
    s.act(person("gansu"), "gansu", item.id, "report-progress", text=f"{tag}{n}", percent=n % 100)
    if n % 3 == 0:
        s.act(
            person("gansu", "supervisor"),
            "gansu",
            item.id,
            "assign",
            assignees=[Assignee("office", "baiyin", "lead")],
        )


def writer(settings: Settings, tag: str, stop: Any, results: Any) -> None:
    """A separate process serving commands for gansu until told to stop."""
    platform = build_platform(settings, clock=FixedClock())
    done = 0
    try:
        while not stop.is_set():
            try:
                work(platform, done, tag)
            except ConflictError:  # two writers assigning into baiyin at once: try again
                continue
            done += 1
        results.put(("ok", done))
    except Exception as e:  # reported to the test, which fails on it
        results.put(("error", repr(e)))
    finally:
        platform.close()


def events(p: Platform) -> int:
    return sum(
        len(p.backend.store(o.code).recorder.select_notifications(1, 100_000))
        for o in p.registry.all()
    )


def test_a_rebuild_racing_live_writers_ends_equal_to_a_quiet_rebuild(settings: Settings) -> None:
    p = build_platform(settings, clock=FixedClock())
    try:
        build_hierarchy(p)
        for n in range(5):
            work(p, n, "seed")
        ctx = multiprocessing.get_context("spawn")
        stop, results = ctx.Event(), ctx.Queue()
        procs = [
            ctx.Process(target=writer, args=(settings, f"w{i}", stop, results))
            for i in range(WRITERS)
        ]
        for proc in procs:
            proc.start()
        local_stop, local_errors = threading.Event(), []

        def local_writer() -> None:  # this process's own pump, between the rebuilds
            n = 0
            while not local_stop.is_set():
                try:
                    work(p, n, "local")
                except ConflictError:
                    continue
                except Exception as e:  # reported to the test, which fails on it
                    local_errors.append(repr(e))
                    return
                n += 1
                time.sleep(0.01)

        thread = threading.Thread(target=local_writer, daemon=True)
        rounds = 0
        try:
            while p.backend.last_ids(["gansu"])["gansu"] < 40:  # the writers are under way
                time.sleep(0.05)
            thread.start()
            started = time.monotonic()
            while time.monotonic() - started < SECONDS:
                p.runner.rebuild(office="gansu")
                p.runner.rebuild(["audit"], office="gansu")
                p.runner.rebuild(["rollup", "items"], office="baiyin")
                if rounds % 3 == 2:
                    p.runner.rebuild()  # every office's rows dropped at once
                rounds += 1
                time.sleep(0.02)  # (the writers get the lock between rebuilds too)
        finally:
            stop.set()
            local_stop.set()
            outcomes = [results.get(timeout=120) for _ in procs]
            for proc in procs:
                proc.join(timeout=30)
            thread.join(timeout=30)
        assert [o[0] for o in outcomes] == ["ok"] * WRITERS and not local_errors, outcomes
        assert all(done > 0 for _, done in outcomes)
        assert rounds >= 3

        raced = dump(p)  # what the writers' pumps and the rebuilds left, with no catch-up
        last = p.backend.last_ids(["gansu", "baiyin"])
        with p.read.transaction() as tx:
            for office in ("gansu", "baiyin"):
                positions = tx.positions(office)
                assert {n: positions.get(n) for n in ("items", "audit", "rollup")} == dict.fromkeys(
                    ("items", "audit", "rollup"), last[office]
                ), office
        p.runner.rebuild()
        quiet = dump(p)
        assert len(raced["audit"]) == len(quiet["audit"]) == events(p)  # (ids may have holes)
        assert raced == quiet
    finally:
        p.close()
