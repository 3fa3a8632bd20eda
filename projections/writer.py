"""A writer thread: transactions on the read store, run in order, off the projecting thread.

A rebuild spends its time in two kinds of work: Python (reading, decoding, replaying states,
building rows) and the database (inserting rows, updating indexes, committing). The database
half runs without Python's GIL — SQLite inside one statement per table, PostgreSQL in its own
process — so handing it to a thread lets it overlap the projection of the next batch.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from types import TracebackType

from projections.readstore import ReadStore, Tx

Job = Callable[[Tx], None]
"""One transaction's worth of writes."""


class Writer:
    """Runs each submitted job in a transaction of its own, in submission order.

    At most ``depth`` jobs wait, so the projecting thread never runs far ahead. The first
    failure stops the writing (later jobs are dropped: each job carries its own positions,
    so nothing is half-applied) and is raised in the submitting thread, at its next
    ``submit`` or when the ``with`` block ends.
    """

    def __init__(self, read: ReadStore, depth: int = 2) -> None:
        self.read = read
        self.jobs: queue.Queue[Job | None] = queue.Queue(maxsize=depth)
        self.error: BaseException | None = None
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
        self.jobs.put(None)
        self.thread.join()
        if error is None:
            self._raise()

    def submit(self, job: Job) -> None:
        self._raise()
        self.jobs.put(job)

    def _raise(self) -> None:
        if self.error is not None:
            raise self.error

    def _run(self) -> None:
        while (job := self.jobs.get()) is not None:
            if self.error is not None:
                continue  # keep taking jobs, so that the submitter never blocks
            try:
                with self.read.transaction() as tx:
                    job(tx)
            except BaseException as e:  # handed to the submitting thread
                self.error = e
