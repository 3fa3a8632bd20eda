"""Roll-ups for an office and all its descendants, maintained incrementally.

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
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

import orjson

from domain.cases import Case
from domain.lights import AWAITING_WORK, yellow_until
from domain.tasks import Task
from domain.values import WorkingCalendar, business_date
from projections.readstore import Table, Tx
from projections.runner import Batch, Envelope, Projection
from services.stores import TenantStore

ROLLUP = Table(
    "rollup",
    (("office", "TEXT"), ("metric", "TEXT"), ("key", "TEXT"), ("value", "BIGINT")),
    key=("office", "metric", "key"),
)
RECORDS = Table(
    "rollup_records",
    (("office", "TEXT"), ("id", "TEXT"), ("contribution", "TEXT")),
    key=("office", "id"),
)
DAILY = Table(
    "rollup_daily",
    (
        ("office", "TEXT"),
        ("day", "TEXT"),
        ("metric", "TEXT"),
        ("key", "TEXT"),
        ("value", "BIGINT"),
    ),
    key=("office", "day", "metric", "key"),
)
DAYS = Table(
    "rollup_days",
    (
        ("office", "TEXT"),
        ("day", "TEXT"),
        ("source", "TEXT"),
        ("first_position", "BIGINT"),
        ("last_position", "BIGINT"),
    ),
    key=("office", "day", "source"),
)
DDL = f"{ROLLUP.create()};\n{RECORDS.create()};\n{DAILY.create()};\n{DAYS.create()}"
ADD = "DO UPDATE SET value = rollup.value + excluded.value"
ADD_DAILY = "DO UPDATE SET value = rollup_daily.value + excluded.value"
WIDEN = (
    "DO UPDATE SET first_position = CASE WHEN excluded.first_position < "
    "rollup_days.first_position THEN excluded.first_position ELSE rollup_days.first_position "
    "END, last_position = CASE WHEN excluded.last_position > rollup_days.last_position "
    "THEN excluded.last_position ELSE rollup_days.last_position END"
)

Counters = dict[str, int]  # "metric|key" → value
Stores = Callable[[str], TenantStore]


def contribution(case: Case, calendar: WorkingCalendar) -> Counters:
    kind = "task" if isinstance(case, Task) else "item"
    c = {
        "total|all": 1,
        f"status|{case.status}": 1,
        f"kind|{kind}": 1,
        f"source_kind|{case.source_kind}": 1,
        f"month|{business_date(case.created_on).strftime('%Y-%m')}": 1,
    }
    if case.status in AWAITING_WORK:
        c[f"due|{case.deadline.isoformat()}"] = 1
    if case.completed_on is not None:
        reported = case.completion_reported_on or case.completed_on
        c["completion|count"] = 1
        c[f"completed_by_source|{case.source_kind}"] = 1
        if reported <= case.deadline:
            c["completion|on_time"] = 1
            c[f"on_time_by_source|{case.source_kind}"] = 1
        c["completion|working_days"] = calendar.working_days_between(case.issued_on, reported)
        c["completion|timed"] = 1
    if case.commendation_count:
        c["flag|commended"] = 1
    if case.rectification in ("ordered", "reported"):
        c["flag|rectification"] = 1
    return c


def add(total: Counters, counters: Counters, sign: int = 1) -> None:
    for key, value in counters.items():
        total[key] = total.get(key, 0) + sign * value


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


class RollupProjection(Projection[Contributions | None]):
    name = "rollup"
    ddl = DDL

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
            self._add_runs(office, record, runs, new, daily)
            for day, run in runs:
                first, last = spans.get(day, (run[0].position, run[-1].position))
                spans[day] = (min(first, run[0].position), max(last, run[-1].position))
        if not records:
            return None
        targets = (office, *self.ancestors(office))
        return Contributions(office, targets, records, total, daily, first_days, spans)

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
    ) -> None:
        """Each day's run moves the record from its contribution before the run to the one
        after it; the last run ends at ``new``. (The contribution before the first run is
        the stored one, taken off in ``write``.)"""
        if len(runs) == 1:
            add(daily.setdefault(runs[0][0], {}), new)
            return
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
            before = after

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
        the day's changes of the day on which each record's first event here happened."""
        if prepared is None:
            return
        delta = dict(prepared.total)
        daily = {day: dict(counters) for day, counters in prepared.daily.items()}
        for row in self._previous(tx, prepared.office, [r[1] for r in prepared.records]):
            old = orjson.loads(row["contribution"])
            add(delta, old, -1)
            add(daily[prepared.first_days[row["id"]]], old, -1)
        self._add(tx, prepared.targets, delta)
        self._add_daily(tx, prepared.targets, daily)
        tx.write(
            DAYS,
            [
                (target, day, prepared.office, first, last)
                for target in prepared.targets
                for day, (first, last) in prepared.spans.items()
            ],
            WIDEN,
        )
        tx.write(RECORDS, prepared.records, RECORDS.update_all())

    @staticmethod
    def _previous(tx: Tx, office: str, ids: list[str]) -> list[dict[str, Any]]:
        marks = ", ".join("?" * len(ids))
        return tx.all(
            f"SELECT id, contribution FROM rollup_records WHERE office = ? AND id IN ({marks})",
            (office, *ids),
        )

    @staticmethod
    def _add(tx: Tx, targets: tuple[str, ...], delta: Counters) -> None:
        rows = [
            (target, *key.split("|", 1), value)
            for target in targets
            for key, value in delta.items()
            if value
        ]
        tx.write(ROLLUP, rows, ADD)

    @staticmethod
    def _add_daily(tx: Tx, targets: tuple[str, ...], daily: dict[str, Counters]) -> None:
        rows = [
            (target, day, *key.split("|", 1), value)
            for target in targets
            for day, counters in daily.items()
            for key, value in counters.items()
            if value
        ]
        tx.write(DAILY, rows, ADD_DAILY)

    def drop(self, tx: Tx, office: str | None) -> None:
        if office is None:
            for table in (ROLLUP, RECORDS, DAILY, DAYS):
                tx.execute(f"DELETE FROM {table.name}")
            return
        targets = (office, *self.ancestors(office))
        delta: Counters = {}
        for row in tx.all("SELECT contribution FROM rollup_records WHERE office = ?", (office,)):
            add(delta, orjson.loads(row["contribution"]), -1)
        self._add(tx, targets, delta)
        own = self._own_daily(tx, office)
        self._add_daily(tx, targets, {day: negated(c) for day, c in own.items()})
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
                "SELECT day, metric, key, value FROM rollup_daily WHERE office = ?", (code,)
            ):
                key = f"{row['metric']}|{row['key']}"
                add(own.setdefault(row["day"], {}), {key: int(row["value"])}, sign)
        return own


def negated(counters: Counters) -> Counters:
    return {key: -value for key, value in counters.items() if value}


FORWARD = (
    "SELECT metric, key, SUM(value) AS value FROM rollup_daily "
    "WHERE office = ? AND day <= ? GROUP BY metric, key"
)
BACKWARD = (
    "SELECT metric, key, SUM(value) AS value FROM ("
    "SELECT metric, key, value FROM rollup WHERE office = ? UNION ALL "
    "SELECT metric, key, -value AS value FROM rollup_daily WHERE office = ? AND day > ?"
    ") AS changes GROUP BY metric, key"
)


def counters_at_end_of(tx: Tx, office: str, day: date) -> Counters:
    """``office``'s roll-up counters as they stood at the end of ``day`` (China time), as far
    as the roll-up projection has applied events: the changes up to that day added up, or
    (when fewer days follow it than precede it) the current counters less the changes after
    it. Either way one statement, so one consistent view of the read side."""
    bounds = tx.one(
        "SELECT (SELECT MIN(day) FROM rollup_daily WHERE office = ?) AS first, "
        "(SELECT MAX(day) FROM rollup_daily WHERE office = ?) AS last",
        (office, office),
    )
    if bounds is None or bounds["first"] is None or day.isoformat() < bounds["first"]:
        return {}
    first, last = date.fromisoformat(bounds["first"]), date.fromisoformat(bounds["last"])
    iso = day.isoformat()
    if (day - first) <= (last - day):
        rows = tx.all(FORWARD, (office, iso))
    else:
        rows = tx.all(BACKWARD, (office, office, iso))
    return {f"{r['metric']}|{r['key']}": int(r["value"]) for r in rows if r["value"]}


def as_rows(counters: Counters) -> list[dict[str, Any]]:
    """Counters in the shape of ``rollup`` rows, as ``summarize_rollup`` takes them."""
    rows = []
    for key, value in sorted(counters.items()):
        metric, name = key.split("|", 1)
        rows.append({"metric": metric, "key": name, "value": value})
    return rows


def summarize_rollup(
    office: str, rows: list[dict[str, Any]], today: date, calendar: WorkingCalendar
) -> dict[str, Any]:
    """Turn one office's counters into the roll-up users read, with lights as of ``today``."""
    by: dict[str, dict[str, int]] = {}
    for row in rows:
        if row["value"]:
            by.setdefault(row["metric"], {})[row["key"]] = int(row["value"])
    due = by.get("due", {})
    last_yellow = yellow_until(today, calendar).isoformat()
    red = sum(v for k, v in due.items() if k < today.isoformat())
    yellow = sum(v for k, v in due.items() if today.isoformat() <= k <= last_yellow)
    total = by.get("total", {}).get("all", 0)
    completion = by.get("completion", {})
    completed = completion.get("count", 0)
    timed = completion.get("timed", 0)
    sources = sorted(by.get("source_kind", {}))
    return {
        "office": office,
        "on": today.isoformat(),
        "total": total,
        "by_status": by.get("status", {}),
        "by_kind": by.get("kind", {}),
        "by_light": {"green": total - red - yellow, "yellow": yellow, "red": red},
        "overdue": red,
        "completed": completed,
        "on_time_rate": round(completion.get("on_time", 0) / completed, 4) if completed else None,
        "mean_working_days_to_completion": (
            round(completion.get("working_days", 0) / timed, 2) if timed else None
        ),
        "by_source_kind": {
            s: {
                "count": by["source_kind"][s],
                "completed": by.get("completed_by_source", {}).get(s, 0),
                "on_time": by.get("on_time_by_source", {}).get(s, 0),
            }
            for s in sources
        },
        "by_month": dict(sorted(by.get("month", {}).items())),
        "commended": by.get("flag", {}).get("commended", 0),
        "under_rectification": by.get("flag", {}).get("rectification", 0),
    }
