"""The roll-up projection's tables, and the statements that add to its counters. Imports the
read store's ``Table`` and ``Tx`` only.
May import: ``projections`` (readstore, rollup.counters).

``rollup``: each office's counters now (its subtree's records, and its matters ``m.…``).
``rollup_daily``: what each counter changed by on each China business day (time travel sums
it). ``rollup_records``: each record's contribution now. ``rollup_days``: per office of a
roll-up and day, the positions of the first and last event each office of its subtree
recorded that day. ``rollup_record_days``: each record's contribution at the end of each day
on which it had events, with its matter and its office's chain: what matters are counted from.

The first three are counters added to by every batch of every office below: a rebuild, which
applies thousands of offices in turn, would upsert the same ancestors' rows again for each.
A rebuild's writer thread instead sums what it adds in memory while it applies many offices
in one transaction (``collecting``) and writes each row once, in one statement per table.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from projections.readstore import Table, Tx
from projections.rollup.counters import Counters

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
RECORD_DAYS = Table(
    "rollup_record_days",
    (
        ("matter", "TEXT"),  # the root item: "office/id"
        ("office", "TEXT"),
        ("id", "TEXT"),
        ("day", "TEXT"),
        ("chain", "TEXT"),  # the record's office and its ancestors, root first: "a/b/c"
        ("since", "TEXT"),  # when the record came into being (UTC, ISO)
        ("contribution", "TEXT"),  # at the end of that day, as JSON
    ),
    key=("matter", "office", "id", "day"),
)
TABLES = (ROLLUP, RECORDS, DAILY, DAYS, RECORD_DAYS)
DDL = ";\n".join(
    [
        *(table.create() for table in TABLES),
        "CREATE INDEX IF NOT EXISTS rollup_record_days_office ON rollup_record_days (office)",
    ]
)
ADD = "DO UPDATE SET value = rollup.value + excluded.value"
ADD_DAILY = "DO UPDATE SET value = rollup_daily.value + excluded.value"
WIDEN = (
    "DO UPDATE SET first_position = CASE WHEN excluded.first_position < "
    "rollup_days.first_position THEN excluded.first_position ELSE rollup_days.first_position "
    "END, last_position = CASE WHEN excluded.last_position > rollup_days.last_position "
    "THEN excluded.last_position ELSE rollup_days.last_position END"
)


Spans = dict[tuple[str, str, str], tuple[int, int]]
"""(office of the roll-up, day, source office) → first and last position that day."""


class Collected:
    """What one thread's transaction added, not yet written: the sums by row key."""

    def __init__(self) -> None:
        self.now: dict[tuple[str, str, str], int] = {}
        self.daily: dict[tuple[str, str, str, str], int] = {}
        self.days: Spans = {}


_collecting = threading.local()


def _collected() -> Collected | None:
    found: Collected | None = getattr(_collecting, "rows", None)
    return found


@contextmanager
def collecting(tx: Tx) -> Iterator[None]:
    """Within: this thread's additions to the counters are summed in memory, then written
    in ``tx`` in one statement per table (if the block ends well; else forgotten)."""
    if _collected() is not None:  # already collecting: the outer block writes
        yield
        return
    _collecting.rows = Collected()
    try:
        yield
        flush(tx)
    finally:
        _collecting.rows = None


def flush(tx: Tx) -> None:
    """Write what this thread has collected so far (before reading the counters back)."""
    if (rows := _collected()) is None:
        return
    _collecting.rows = Collected()
    tx.write(ROLLUP, [(*k, v) for k, v in sorted(rows.now.items()) if v], ADD)
    tx.write(DAILY, [(*k, v) for k, v in sorted(rows.daily.items()) if v], ADD_DAILY)
    tx.write(DAYS, [(*k, *span) for k, span in sorted(rows.days.items())], WIDEN)


def add_now(tx: Tx, changes: dict[str, Counters]) -> None:
    """Add to offices' counters: office → changes."""
    if (collected := _collected()) is None:
        rows = [
            (office, *key.split("|", 1), value)
            for office, counters in changes.items()
            for key, value in counters.items()
            if value
        ]
        tx.write(ROLLUP, rows, ADD)
        return
    now = collected.now
    for office, counters in changes.items():
        for name, value in counters.items():
            metric, key = name.split("|", 1)
            now[office, metric, key] = now.get((office, metric, key), 0) + value


def add_daily(tx: Tx, changes: dict[tuple[str, str], Counters]) -> None:
    """Add to offices' daily changes: (office, day) → changes."""
    if (collected := _collected()) is None:
        rows = [
            (office, day, *key.split("|", 1), value)
            for (office, day), counters in changes.items()
            for key, value in counters.items()
            if value
        ]
        tx.write(DAILY, rows, ADD_DAILY)
        return
    daily = collected.daily
    for (office, day), counters in changes.items():
        for name, value in counters.items():
            metric, key = name.split("|", 1)
            at = (office, day, metric, key)
            daily[at] = daily.get(at, 0) + value


def widen_days(tx: Tx, spans: Spans) -> None:
    """Widen where each office's events of a day lie, in each roll-up it feeds."""
    if (collected := _collected()) is None:
        tx.write(DAYS, [(*k, *span) for k, span in spans.items()], WIDEN)
        return
    days = collected.days
    for at, (first, last) in spans.items():
        was = days.get(at)
        days[at] = (first, last) if was is None else (min(was[0], first), max(was[1], last))
