"""The rebuild's writer thread: order, failures, and the settings a rebuild borrows."""

from __future__ import annotations

import gc
import sys
import threading
from pathlib import Path

import pytest

from projections.readstore import SQLiteReadStore, Tx
from projections.runner import bulk
from projections.writer import Writer


@pytest.fixture
def read(tmp_path: Path) -> SQLiteReadStore:
    store = SQLiteReadStore(tmp_path / "read.sqlite")
    store.ensure("CREATE TABLE log (n INTEGER NOT NULL, thread TEXT NOT NULL)")
    return store


def logged(read: SQLiteReadStore) -> list[int]:
    return [r["n"] for r in read.all("SELECT n FROM log ORDER BY rowid")]


def append(n: int, tx: Tx) -> None:
    tx.execute("INSERT INTO log VALUES (?, ?)", (n, threading.current_thread().name))


def test_jobs_run_in_order_in_their_own_thread(read: SQLiteReadStore) -> None:
    with Writer(read, depth=2) as writer:
        for n in range(50):
            writer.submit(lambda tx, n=n: append(n, tx))
    assert logged(read) == list(range(50))
    threads = {r["thread"] for r in read.all("SELECT thread FROM log")}
    assert threads == {"ducha-read-writer"}


def test_a_failed_job_is_raised_to_the_submitter_and_later_jobs_are_dropped(
    read: SQLiteReadStore,
) -> None:
    def fail(tx: Tx) -> None:
        append(99, tx)  # rolled back with its transaction
        raise ValueError("the database said no")

    with pytest.raises(ValueError, match="said no"), Writer(read, depth=1) as writer:
        writer.submit(lambda tx: append(1, tx))
        writer.submit(fail)
        for n in range(2, 10):  # never blocks, whatever the writer's state
            writer.submit(lambda tx, n=n: append(n, tx))
    assert logged(read) == [1]


def test_a_failure_in_the_submitting_thread_still_ends_the_writer(read: SQLiteReadStore) -> None:
    with pytest.raises(KeyError), Writer(read) as writer:
        writer.submit(lambda tx: append(1, tx))
        raise KeyError("the reader failed")
    assert not writer.thread.is_alive()
    assert logged(read) == [1]  # what was handed over is written


def test_bulk_settings_are_put_back_even_after_a_failure() -> None:
    thresholds, interval = gc.get_threshold(), sys.getswitchinterval()
    with pytest.raises(RuntimeError), bulk():
        assert gc.get_threshold()[0] >= 10_000
        assert sys.getswitchinterval() <= 0.0002
        raise RuntimeError
    assert (gc.get_threshold(), sys.getswitchinterval()) == (thresholds, interval)
