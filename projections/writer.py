"""A writer thread: transactions on the read store, run in order, off the projecting thread. May
import: the standard library and ``projections.readstore``.

A rebuild spends its time in two kinds of work: Python (reading, decoding, replaying states,
building rows) and the database (inserting rows, updating indexes, committing). The database
half runs without Python's GIL — SQLite inside one statement per table, PostgreSQL in its own
process — so handing it to a thread lets it overlap the projection of the next batch.

Several rebuild processes writing one SQLite file (``--jobs N``) take turns on its one writer
lock. SQLite's own wait polls, sleeping up to 100 ms between looks, so a process may sleep
through the other's gaps; with ``file_gate`` they queue on a lock file instead, which the
kernel hands over the moment it is released.
"""

from __future__ import annotations

import fcntl
import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from types import TracebackType

from projections.readstore import ReadStore, Tx

Job = Callable[[Tx], None]
"""One transaction's worth of writes."""
Gate = Callable[[], AbstractContextManager[None]]
"""Held around each transaction: taking turns with other processes writing the same store."""


def file_gate(read: ReadStore) -> Gate | None:
    """For a read store in a SQLite file: a lock on ``FILE.writers`` held around each of the
    writer's transactions, so that rebuild processes queue for the file's writer lock in the
    kernel rather than poll for it. None for any other store (PostgreSQL writes side by side)."""
    if read.dialect != "sqlite":
        return None
    found = [r for r in read.all("PRAGMA database_list") if r["name"] == "main"]
    if not found or not found[0]["file"]:
        return None  # in memory: one process only
    path = f"{found[0]['file']}.writers"

    @contextmanager
    def held() -> Iterator[None]:
        with open(path, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file is closed
            yield

    return held


class Writer:
    """Runs each submitted job in a transaction, in submission order, off the submitting thread.

    A job submitted with ``commit=False`` leaves its transaction open for the next job, which
    continues it (a rebuild keeps one office in one transaction where the store cannot lock
    it across transactions). A job that is a whole transaction and fails with one of the
    ``retry`` errors (a deadlock, say) is run again, up to ``ATTEMPTS`` times. At most
    ``depth`` jobs wait, so the projecting thread never runs far ahead. The first failure
    stops the writing (its transaction is rolled back and later jobs are dropped: each
    transaction carries its own positions, so nothing is half-applied) and is raised in the
    submitting thread, at its next ``submit`` or when the ``with`` block ends. If the
    submitting thread fails, a transaction left open is rolled back. ``finally_`` calls run
    whatever happened, in order with the jobs.
    """

    ATTEMPTS = 3

    def __init__(
        self,
        read: ReadStore,
        depth: int = 2,
        retry: tuple[type[BaseException], ...] = (),
        gate: Gate | None = None,
    ) -> None:
        self.read = read
        self.retry = retry
        self.gate: Gate = gate or nullcontext
        self._held: AbstractContextManager[None] | None = None
        self.jobs: queue.Queue[tuple[Job | Callable[[], None], str] | None] = queue.Queue(
            maxsize=depth
        )
        self.error: BaseException | None = None
        self.abandoned = False
        self._open: AbstractContextManager[Tx] | None = None
        self._tx: Tx | None = None
        self.thread = threading.Thread(target=self._run, name="ducha-read-writer", daemon=True)

    def __enter__(self) -> Writer:
        self.thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.abandoned = error is not None
        self.jobs.put(None)
        self.thread.join()
        if error is None:
            self._raise()

    def submit(self, job: Job, commit: bool = True) -> None:
        self._raise()
        self.jobs.put((job, "commit" if commit else "continue"))

    def finally_(self, call: Callable[[], None]) -> None:
        """Run ``call`` (not in a transaction) once the jobs submitted before it are done,
        even if they failed: releasing what the submitter holds for them."""
        self.jobs.put((call, "finally"))

    def _raise(self) -> None:
        if self.error is not None:
            raise self.error

    def _run(self) -> None:
        while (item := self.jobs.get()) is not None:
            call, mode = item
            if mode == "finally":
                try:
                    call()  # type: ignore[call-arg]
                except BaseException as e:
                    self.error = self.error or e
            elif self.error is None:  # else: keep taking jobs, so the submitter never blocks
                self._job(call, commit=mode == "commit")  # type: ignore[arg-type]
        if self._open is not None:  # left open: committed only if the submitter ended well
            self._end(RuntimeError("the rebuild stopped") if self.abandoned else None)

    def _job(self, job: Job, commit: bool) -> None:
        whole = self._open is None  # the job is a whole transaction: it may be run again
        for attempt in range(1, self.ATTEMPTS + 1):
            try:
                if self._open is None:
                    self._held = self.gate()
                    self._held.__enter__()
                    self._open = self.read.transaction()
                    self._tx = self._open.__enter__()
                assert self._tx is not None
                job(self._tx)
                if commit:
                    self._end(None)
                return
            except BaseException as e:
                if self._open is not None:
                    self._end(e)
                self._leave_gate()
                if not (whole and commit and isinstance(e, self.retry) and attempt < self.ATTEMPTS):
                    self.error = e  # handed to the submitting thread
                    return

    def _end(self, error: BaseException | None) -> None:
        """Commit the open transaction, or roll it back after ``error``."""
        ending, self._open, self._tx = self._open, None, None
        assert ending is not None
        try:
            ending.__exit__(
                type(error) if error else None, error, error.__traceback__ if error else None
            )
        finally:
            self._leave_gate()

    def _leave_gate(self) -> None:
        if self._held is not None:
            held, self._held = self._held, None
            held.__exit__(None, None, None)
