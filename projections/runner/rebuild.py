"""Rebuilding projections from the stores (``Rebuilding``, between ``Consumers`` and
``Runner``): an office's rows dropped and replayed from its whole log, pipelined (this thread
reads, decodes and projects the next batch while a writer thread stores the last one,
``projections.writer``), with live consumers kept out of the office meanwhile. May import: the
standard library, ``projections.readstore``, ``projections.writer`` and the other modules of
``projections.runner``.

Consecutive offices share one transaction (``Transactions``), up to ``GROUP_EVENTS`` events,
handed to the writer as one job once they are all projected: a transaction's fixed costs are
paid once per group rather than per office (3,233 offices of a few events each are mostly
fixed costs), SQLite's one writer lock is held only while that job writes, and a projection
that sums counters shared by many offices (the roll-up's ancestors, ``Collecting``) writes
each of them once per transaction instead of once per office.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, ExitStack, suppress
from functools import partial
from typing import Any, Protocol, runtime_checkable

import projections.runner as tuning
from projections.readstore import Tx
from projections.runner.consumers import ALL_OFFICES, SET_VERSION_SQL, Consumers, office_lock
from projections.runner.contract import Projection
from projections.runner.failures import AT_ONCE, Unprepared, infrastructure
from projections.runner.states import States, bulk
from projections.writer import Job, Writer, file_gate

GROUP_EVENTS = 2_000
GROUP_OFFICES = 48
"""Where offices are kept whole in one transaction: up to this many events, and offices, of
consecutive offices in one. (The last job of each office reads its store again: a group stays
well within the stores a process keeps open, ``DUCHA_OPEN_STORES``, 128 by default.)"""


@runtime_checkable
class Collecting(Protocol):
    """A projection that can sum its writes in memory for a transaction and write them once
    at its end (``collecting(tx)``: a context around the transaction's jobs)."""

    def collecting(self, tx: Tx) -> AbstractContextManager[None]: ...


class Transactions:
    """How a rebuild hands its jobs to the writer: gathered, whole offices at a time, into one
    job and transaction per ``GROUP_EVENTS`` events or ``GROUP_OFFICES`` offices, handed over
    once those offices are projected. An office larger than ``GROUP_EVENTS`` is streamed
    instead, its jobs handed over as they come (committed or continued as asked: one
    transaction per batch where the office's lock outlives transactions, else one for the
    office), so that memory stays bounded. Each job runs within the ``Collecting``
    projections' ``collecting``."""

    def __init__(self, writer: Writer, chosen: list[Projection[Any]]) -> None:
        self.writer = writer
        self.collecting = [p for p in chosen if isinstance(p, Collecting)]
        self.jobs: list[Job] = []  # whole offices'
        self.current: list[Job] = []  # the office being replayed
        self.streaming = False  # the office being replayed is handed over as it comes
        self.events = self.offices = 0
        self.after: list[Callable[[], None]] = []

    def submit(self, job: Job, commit: bool = True) -> None:
        if self.streaming:
            self.writer.submit(partial(self._run, [job]), commit)
        else:
            self.current.append(job)

    def finally_(self, call: Callable[[], None]) -> None:
        """``call`` once what was submitted before it has ended (``Writer.finally_``)."""
        if self.jobs or self.current:
            self.after.append(call)
        else:
            self.writer.finally_(call)

    def stream(self) -> None:
        """The office being replayed is large: hand over the offices before it, then its
        jobs so far (its transaction continued), then each of its jobs as it comes."""
        if self.streaming:
            return
        self.flush()
        current, self.current = self.current, []
        if current:
            self.writer.submit(partial(self._run, current), commit=False)
        self.streaming = True

    def office_done(self, events: int) -> None:
        if self.streaming:  # its last job committed its transaction
            self.streaming = False
            return
        self.jobs += self.current
        self.current = []
        self.events += events
        self.offices += 1
        if self.events >= GROUP_EVENTS or self.offices >= GROUP_OFFICES:
            self.flush()

    def flush(self) -> None:
        """Hand the whole offices gathered to the writer, as one transaction (an office left
        part-way, its replay having failed, is left out)."""
        if self.jobs:
            self.writer.submit(partial(self._run, self.jobs))
        self.jobs, self.events, self.offices = [], 0, 0
        for call in self.after:
            self.writer.finally_(call)
        self.after = []

    def _run(self, jobs: list[Job], tx: Tx) -> None:
        with ExitStack() as stack:
            for projection in self.collecting:
                stack.enter_context(projection.collecting(tx))
            for job in jobs:
                job(tx)


class Rebuilding(Consumers):
    """Consumers that can also be rebuilt from the stores."""

    def rebuild(
        self,
        names: list[str] | None = None,
        office: str | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> int:
        """Drop the named projections' rows (for one office, or all) and replay the stores.

        Only those projections move; other consumers keep their positions. Live consumers
        are kept out of an office from its drop to its last batch (``_rebuild_office``), then
        apply what follows. Dropping every office's rows at once takes the lock on all
        offices for that moment; a live consumer that comes before the rebuild reaches its
        office catches up from the start itself, and the rebuild then finds its positions.
        Within an office, each batch is projected here and written by the writer thread while
        the next batch is read and projected. A projection that fails on an event stops there
        (a dead letter); the others go on. The named projections' dead letters are cleared
        with their rows. Returns how many events were replayed.
        """
        with self._lock:
            if office is None:
                self.drop(names)
            offices = [office] if office else list(self.offices())
            return self.replay(names, offices, office is not None, progress)

    def drop(self, names: list[str] | None = None) -> None:
        """Every office's rows of the named projections (or all), their positions and dead
        letters, at once: under the lock on all offices, so no live consumer is mid-batch."""
        with self._lock, self.read.transaction() as tx:
            self._drop_all(self._chosen(names), tx)

    def replay(
        self,
        names: list[str] | None,
        offices: list[str],
        drop: bool = False,
        progress: Callable[[int], None] | None = None,
        finished: Callable[[str], None] | None = None,
    ) -> int:
        """Replay ``offices``' logs into the named projections (or all), pipelined; ``drop``:
        drop each office's rows first (else the caller dropped them, ``drop``). ``finished``
        is told each office whose last transaction committed. Returns the events replayed."""
        chosen = self._chosen(names)
        applied = 0
        with self._lock, bulk():
            self._states.clear()
            with Writer(self.read, retry=AT_ONCE, gate=file_gate(self.read)) as writer:
                transactions = Transactions(writer, chosen)
                try:
                    for code in offices:
                        applied += self._rebuild_office(transactions, chosen, code, drop, progress)
                        if finished is not None:
                            transactions.finally_(partial(self._told, writer, finished, code))
                except BaseException:
                    with suppress(BaseException):  # the offices before the failure are whole
                        transactions.flush()
                    raise
                transactions.flush()
        return applied

    def _chosen(self, names: list[str] | None) -> list[Projection[Any]]:
        return [p for p in self.projections if names is None or p.name in names]

    @staticmethod
    def _told(writer: Writer, finished: Callable[[str], None], office: str) -> None:
        if writer.error is None:  # else that office's transaction, or an earlier one, failed
            finished(office)

    def _rebuild_office(
        self,
        writer: Transactions,
        chosen: list[Projection[Any]],
        office: str,
        drop: bool,
        progress: Callable[[int], None] | None,
    ) -> int:
        """One office: a first job (dropping its rows), one per batch, and a last one applying
        what was recorded meanwhile, in the transaction it shares with the offices around it
        (``Transactions``). Live consumers are kept out by the office's lock held until that
        transaction ends (PostgreSQL), or, where the store cannot hold a lock across
        transactions (SQLite, whose one writer lock a transaction holds), by keeping the
        office in one transaction even when it is streamed."""
        store = self.backend.store(office)
        release = self.read.hold(office_lock(office), within=ALL_OFFICES)
        commit = release is not None  # else: one transaction, committed by the last job
        try:
            if drop:  # else nothing to do before the first batch: no transaction open yet
                writer.submit(partial(self._start_office, chosen, office), commit)
            states, position, applied = States(store, tuning.REBUILD_STATES), 0, 0
            while read := store.recorder.select_notifications(position + 1, tuning.REBUILD_BATCH):
                events, failure = self._decode(store, read)
                # a short batch is the log's end for now: the last job, which reads what
                # follows, continues its transaction (one transaction fewer per office)
                end = len(read) < tuning.REBUILD_BATCH and failure is None
                if events:
                    prepared = self._prepare(office, states, chosen, events)
                    job = partial(self._write_prepared, office, chosen, position, events, prepared)
                    writer.submit(job, commit and not end)
                position = read[-1].id
                applied += len(read)
                if applied > GROUP_EVENTS:
                    writer.stream()
                if progress:
                    progress(len(read))
                if failure is not None:
                    names = [p.name for p in chosen]
                    stop = partial(self._stop_all, office=office, consumers=names, lock=False)
                    writer.submit(partial(stop, failure=failure), commit)
                if end or failure is not None:
                    break
            writer.submit(partial(self._finish_office, office, chosen, position))
            writer.office_done(applied)
        finally:
            if release is not None:
                writer.finally_(release)  # once the office's last transaction has ended
        return applied

    def _prepare(
        self,
        office: str,
        states: States,
        chosen: list[Projection[Any]],
        events: list[tuple[int, Any]],
    ) -> list[Any]:
        """Each projection's rows for a batch (None: nothing to write), or what failed."""
        try:
            batch = self._batch(office, states, events)
        except Exception as e:
            states.cache.clear()
            if infrastructure(e) or not self.isolate_failures:
                raise
            return [Unprepared(e)] * len(chosen)
        prepared: list[Any] = []
        for projection in chosen:
            try:
                prepared.append(projection.prepare(batch) if batch.envelopes else None)
            except Exception as e:
                if infrastructure(e) or not self.isolate_failures:
                    raise
                prepared.append(Unprepared(e))
        return prepared

    @staticmethod
    def _drop_all(chosen: list[Projection[Any]], tx: Tx) -> None:
        """Every office's rows, with no live consumer in the middle of a transaction."""
        tx.lock(ALL_OFFICES)
        for projection in chosen:
            projection.drop(tx, None)
        names = [p.name for p in chosen]
        tx.forget_positions(names)
        tx.forget_dead_letters(names)
        for projection in chosen:  # rebuilt in place: by this version, from now on
            tx.execute(SET_VERSION_SQL, (projection.name, projection.version))

    @staticmethod
    def _start_office(chosen: list[Projection[Any]], office: str, tx: Tx) -> None:
        names = [p.name for p in chosen]
        for projection in chosen:
            projection.drop(tx, office)
        tx.forget_positions(names, office)
        tx.forget_dead_letters(names, office)

    def _write_prepared(
        self,
        office: str,
        chosen: list[Projection[Any]],
        after: int,
        events: list[tuple[int, Any]],
        prepared: list[Any],
        tx: Tx,
    ) -> None:
        """The writer thread's half of a rebuild batch. Positions decide, as in ``_project``:
        a projection already past the batch's start (another consumer applied part of it
        before the office was locked) applies the rest afresh from the store, since this
        thread's states have moved on; one that fails applies it event by event."""
        rows = dict(zip((p.name for p in chosen), prepared, strict=True))

        def apply(tx: Tx, projection: Projection[Any], done: int) -> None:
            if done > after:
                self._apply_afresh(office, events, tx, projection, done)
            elif isinstance(written := rows[projection.name], Unprepared):
                raise written.error
            elif written is not None:
                projection.write(tx, written)

        self._advance(tx, office, chosen, after, events, apply, guarded=True, lock=False)

    def _finish_office(
        self, office: str, chosen: list[Projection[Any]], position: int, tx: Tx
    ) -> None:
        """Still excluding live consumers: what was recorded while the office was replayed (a
        live consumer that applied it before the office was locked had its rows dropped)."""
        store = self.backend.store(office)
        while read := store.recorder.select_notifications(position + 1, tuning.BATCH):
            events, failure = self._decode(store, read)
            if events:
                afresh = partial(self._apply_afresh, office, events)
                self._advance(
                    tx, office, chosen, position, events, afresh, guarded=True, lock=False
                )
            if failure is not None:
                self._stop_all(tx, office, [p.name for p in chosen], failure, lock=False)
                return
            position = read[-1].id
