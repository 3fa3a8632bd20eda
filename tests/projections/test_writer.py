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


def test_chained_jobs_share_one_transaction_rolled_back_whole(read: SQLiteReadStore) -> None:
    """A rebuild keeps one office in one transaction where the store cannot lock it across
    transactions: a failure part-way leaves nothing of that office."""

    def fail(tx: Tx) -> None:
        raise ValueError("the third batch failed")

    with pytest.raises(ValueError, match="third"), Writer(read) as writer:
        writer.submit(lambda tx: append(1, tx))  # a transaction of its own: committed
        writer.submit(lambda tx: append(2, tx), commit=False)
        writer.submit(lambda tx: append(3, tx), commit=False)
        writer.submit(fail)
    assert logged(read) == [1]


def test_a_chain_the_submitter_abandons_is_rolled_back(read: SQLiteReadStore) -> None:
    with pytest.raises(KeyError), Writer(read) as writer:
        writer.submit(lambda tx: append(1, tx), commit=False)
        raise KeyError("the reader failed")
    assert logged(read) == []


def test_finally_calls_run_in_order_even_after_a_failure(read: SQLiteReadStore) -> None:
    calls: list[str] = []

    def fail(tx: Tx) -> None:
        raise ValueError("no")

    with pytest.raises(ValueError), Writer(read) as writer:
        writer.submit(lambda tx: append(1, tx))
        writer.finally_(lambda: calls.append(f"after {logged(read)}"))
        writer.submit(fail)
        writer.finally_(lambda: calls.append("released"))
    assert calls == ["after [1]", "released"]


def test_a_whole_transaction_that_meets_a_retry_error_runs_again(read: SQLiteReadStore) -> None:
    class Deadlock(Exception):
        pass

    tries: list[int] = []

    def flaky(tx: Tx) -> None:
        append(len(tries), tx)
        tries.append(1)
        if len(tries) < 3:
            raise Deadlock

    with Writer(read, retry=(Deadlock,)) as writer:
        writer.submit(flaky)
    assert logged(read) == [2]  # the failed attempts' writes were rolled back
    with pytest.raises(Deadlock), Writer(read, retry=(Deadlock,)) as writer:
        tries.clear()
        writer.submit(lambda tx: append(7, tx), commit=False)
        writer.submit(flaky)  # part of a longer transaction: not run again alone
    assert logged(read) == [2]
