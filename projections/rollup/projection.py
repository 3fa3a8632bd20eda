"""Roll-ups for an office and all its descendants, maintained incrementally.
May import: the standard library, orjson, ``domain`` (cases, values), ``projections``
(readstore, rollup, rollup.counters, rollup.matters, rollup.tables, runner) and ``services``
(stores).

Each record (item or task) contributes a few counters — status, kind, source kind, month,
its deadline while the work is due, completion figures, flags. When an event changes a
record, the *difference* between its old and new contribution is added to its office and
every ancestor. A query reads one office's counters (a few dozen rows), never its items;
lights are counted from the due-deadline counters against the query's date.

The same differences are also kept per China business day on which events happened
(``rollup_daily``: what each counter of an office's roll-up changed by that day), so that the
counters as they stood at the end of any day are a sum over that table, and a time-travel
roll-up replays only the events of its own day (``projections.timetravel``). Days come from
the events' timestamps, never from the clock, so an incrementally built table equals a rebuilt
one however the events were batched: a record whose events in a batch fall on several days is
replayed from its state before the batch to find its contribution at the end of each day.
``rollup_days`` keeps, per office of the roll-up and day, the positions of the first and last
event each office of its subtree recorded that day: where that replay starts and ends.

The contribution at the end of each day's run is also what matters are counted from
(``projections.rollup.matters``): each batch hands its records' day rows to it, in the same
transaction, and stores what the matters moved by less what its records moved by
(``counters.stored_matters``: nothing, where each matter has one record). In a rebuild the
counters a transaction adds are summed in memory and written once (``collecting``). Imports
the domain, the read store, the runner's interface and the stores' type.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from uuid import UUID

import orjson

from domain.cases import Case
from domain.values import WorkingCalendar, business_date
from projections.readstore import Tx
from projections.rollup import matters
from projections.rollup.counters import (
    MATTER,
    Counters,
    add,
    contribution,
    matter_of,
    negated,
    since,
    stored_matters,
)
from projections.rollup.matters import RecordDay
from projections.rollup.tables import (
    DDL,
    RECORDS,
    TABLES,
    add_daily,
    add_now,
    collecting,
    flush,
    widen_days,
)
from projections.runner import Batch, Envelope, Projection
from services.stores import TenantStore

Stores = Callable[[str], TenantStore]


def day_runs(envelopes: list[Envelope]) -> list[tuple[str, list[Envelope]]]:
    """A record's envelopes in runs of one China business day each: (ISO day, run). Days come
    from the events' own timestamps."""
    runs: list[tuple[date, list[Envelope]]] = []
    for envelope in envelopes:
        day = business_date(envelope.event.timestamp)
        if runs and runs[-1][0] == day:
            runs[-1][1].append(envelope)
        else:
            runs.append((day, [envelope]))
    return [(day.isoformat(), run) for day, run in runs]


@dataclass(frozen=True)
class Contributions:
    """A batch's records' new contributions, and their sum; and the same by day."""

    office: str
    targets: tuple[str, ...]  # the office and its ancestors: every roll-up a record feeds
    records: list[tuple[str, str, str]]  # (office, record id, contribution as JSON)
    total: Counters
    daily: dict[str, Counters]  # day → change that day, before the old contributions leave
    first_days: dict[str, str]  # record id → day of its first event here: its old one leaves
    spans: dict[str, tuple[int, int]]  # day → positions of the first and last event that day
    record_days: list[RecordDay] = field(default_factory=list)  # what matters are counted from


class RollupProjection(Projection[Contributions | None]):
    name = "rollup"
    ddl = DDL
    version = 2  # matter counters stored less their records' (``counters.stored_matters``)

    def __init__(
        self,
        ancestors: Callable[[str], list[str]],
        calendar: WorkingCalendar,
        stores: Stores | None = None,
    ) -> None:
        """``stores`` (``Backend.store``) gives a record's earlier states when a batch holds
        its events of several days: without it such a batch cannot be split by day."""
        self.ancestors = ancestors
        self.calendar = calendar
        self.stores = stores

    def prepare(self, batch: Batch) -> Contributions | None:
        """One contribution per record per batch: per-event deltas add up to final − initial.
        By day: the contribution at the end of each day's run of the record's events, less
        the one before it."""
        office = batch.envelopes[0].office
        chain = "/".join(reversed((office, *self.ancestors(office))))
        record_days: list[RecordDay] = []
        total: Counters = {}
        daily: dict[str, Counters] = {}
        first_days: dict[str, str] = {}
        spans: dict[str, tuple[int, int]] = {}
        records = []
        for record, envelopes in self._by_record(batch).items():
            state = batch.records[record][0]
            if not isinstance(state, Case):
                continue
            new = contribution(state, self.calendar)
            add(total, new)
            records.append((office, str(record), orjson.dumps(new).decode()))
            runs = day_runs(envelopes)
            first_days[str(record)] = runs[0][0]
            ends = self._add_runs(office, record, runs, new, daily)
            matter = "/".join(matter_of(state))
            record_days.extend(
                RecordDay(matter, office, str(record), day, chain, since(state), counters)
                for day, counters in ends
            )
            for day, run in runs:
                first, last = spans.get(day, (run[0].position, run[-1].position))
                spans[day] = (min(first, run[0].position), max(last, run[-1].position))
        if not records:
            return None
        targets = (office, *self.ancestors(office))
        return Contributions(office, targets, records, total, daily, first_days, spans, record_days)

    @staticmethod
    def _by_record(batch: Batch) -> dict[UUID, list[Envelope]]:
        found: dict[UUID, list[Envelope]] = {}
        for envelope in batch.envelopes:
            found.setdefault(envelope.event.originator_id, []).append(envelope)
        return found

    def _add_runs(
        self,
        office: str,
        record: UUID,
        runs: list[tuple[str, list[Envelope]]],
        new: Counters,
        daily: dict[str, Counters],
    ) -> list[tuple[str, Counters]]:
        """Each day's run moves the record from its contribution before the run to the one
        after it; the last run ends at ``new``. (The contribution before the first run is
        the stored one, taken off in ``write``.) Returns the contribution at the end of each
        day's run."""
        if len(runs) == 1:
            add(daily.setdefault(runs[0][0], {}), new)
            return [(runs[0][0], new)]
        ends = []
        state = self._state_before(office, record, runs[0][1][0])
        before: Counters = {}
        for n, (day, run) in enumerate(runs):
            if n == len(runs) - 1:
                after = new
            else:
                for envelope in run:
                    state = envelope.event.mutate(state)
                after = contribution(state, self.calendar)
            add(daily.setdefault(day, {}), after)
            add(daily[day], before, -1)
            ends.append((day, after))
            before = after
        return ends

    def _state_before(self, office: str, record: UUID, first: Envelope) -> Any:
        """A fresh copy of the record as it stood before ``first`` (None before its first
        event): the batch's own states have moved on to its end."""
        version = first.event.originator_version
        if version == 1:
            return None
        if self.stores is None:
            raise RuntimeError(
                "RollupProjection needs the stores to split a batch by day (pass stores=)"
            )
        return self.stores(office).repository.get(record, version=version - 1)

    def write(self, tx: Tx, prepared: Contributions | None) -> None:
        """The roll-ups move by the new contributions less the ones they replace, and so do
        the day's changes of the day on which each record's first event here happened; the
        matters of the batch's records move to what their records' days now make them."""
        if prepared is None:
            return
        delta = dict(prepared.total)
        daily = {day: dict(counters) for day, counters in prepared.daily.items()}
        for row in self._previous(tx, prepared.office, [r[1] for r in prepared.records]):
            old = orjson.loads(row["contribution"])
            add(delta, old, -1)
            add(daily[prepared.first_days[row["id"]]], old, -1)
        moves = matters.update(tx, prepared.targets, prepared.record_days)
        self._add(tx, prepared.targets, delta, daily, moves)
        widen_days(
            tx,
            {
                (target, day, prepared.office): span
                for target in prepared.targets
                for day, span in prepared.spans.items()
            },
        )
        tx.write(RECORDS, prepared.records, RECORDS.update_all())

    @staticmethod
    def _add(
        tx: Tx,
        targets: tuple[str, ...],
        delta: Counters,
        daily: dict[str, Counters],
        moves: matters.Moves,
    ) -> None:
        """Add to each of ``targets`` the records' changes (now: ``delta``; by day: ``daily``)
        and the matters' (``moves``), these stored less the records' (``stored_matters``)."""
        moved_now, moved_daily = moves
        days = {day for (_, day) in moved_daily} | daily.keys()
        add_now(
            tx,
            {t: {**delta, **stored_matters(moved_now.get(t, {}), delta)} for t in targets},
        )
        add_daily(
            tx,
            {
                (t, day): {
                    **daily.get(day, {}),
                    **stored_matters(moved_daily.get((t, day), {}), daily.get(day, {})),
                }
                for t in targets
                for day in days
            },
        )

    @staticmethod
    def _previous(tx: Tx, office: str, ids: list[str]) -> list[dict[str, Any]]:
        marks = ", ".join("?" * len(ids))
        return tx.all(
            f"SELECT id, contribution FROM rollup_records WHERE office = ? AND id IN ({marks})",
            (office, *ids),
        )

    def collecting(self, tx: Tx) -> AbstractContextManager[None]:
        """Within: the counters' additions are summed in memory and written once, at the end,
        in ``tx`` (a rebuild's many offices in one transaction: ``tables.collecting``)."""
        return collecting(tx)

    def drop(self, tx: Tx, office: str | None) -> None:
        flush(tx)  # what this thread collected is read back below
        if office is None:
            for table in TABLES:
                tx.execute(f"DELETE FROM {table.name}")
            return
        targets = (office, *self.ancestors(office))
        delta: Counters = {}
        for row in tx.all("SELECT contribution FROM rollup_records WHERE office = ?", (office,)):
            add(delta, orjson.loads(row["contribution"]), -1)
        own = {day: negated(c) for day, c in self._own_daily(tx, office).items()}
        self._add(tx, targets, delta, own, matters.forget(tx, targets, office))
        tx.execute("DELETE FROM rollup_records WHERE office = ?", (office,))
        tx.execute("DELETE FROM rollup_days WHERE source = ?", (office,))

    def _own_daily(self, tx: Tx, office: str) -> dict[str, Counters]:
        """What ``office``'s own records changed each day: its roll-up's changes less its
        children's (each child's roll-up holds its whole subtree, and parents never change)."""
        sources = tx.all("SELECT DISTINCT source FROM rollup_days WHERE office = ?", (office,))
        children = set()
        for row in sources:
            chain = [row["source"], *self.ancestors(row["source"])]
            if row["source"] != office and office in chain:
                children.add(chain[chain.index(office) - 1])
        own: dict[str, Counters] = {}
        for sign, code in ((1, office), *((-1, child) for child in sorted(children))):
            for row in tx.all(
                "SELECT day, metric, key, value FROM rollup_daily "
                "WHERE office = ? AND metric NOT LIKE ?",
                (code, f"{MATTER}%"),
            ):
                key = f"{row['metric']}|{row['key']}"
                add(own.setdefault(row["day"], {}), {key: int(row["value"])}, sign)
        return own
