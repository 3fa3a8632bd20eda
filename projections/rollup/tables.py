"""The roll-up projection's tables, and the statements that add to its counters. Imports the
read store's ``Table`` and ``Tx`` only.
May import: ``projections`` (readstore, rollup.counters).

``rollup``: each office's counters now (its subtree's records, and its matters ``m.…``).
``rollup_daily``: what each counter changed by on each China business day (time travel sums
it). ``rollup_records``: each record's contribution now. ``rollup_days``: per office of a
roll-up and day, the positions of the first and last event each office of its subtree
recorded that day. ``rollup_record_days``: each record's contribution at the end of each day
on which it had events, with its matter and its office's chain: what matters are counted from.
"""

from __future__ import annotations

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


def add_now(tx: Tx, changes: dict[str, Counters]) -> None:
    """Add to offices' counters: office → changes."""
    rows = [
        (office, *key.split("|", 1), value)
        for office, counters in changes.items()
        for key, value in counters.items()
        if value
    ]
    tx.write(ROLLUP, rows, ADD)


def add_daily(tx: Tx, changes: dict[tuple[str, str], Counters]) -> None:
    """Add to offices' daily changes: (office, day) → changes."""
    rows = [
        (office, day, *key.split("|", 1), value)
        for (office, day), counters in changes.items()
        for key, value in counters.items()
        if value
    ]
    tx.write(DAILY, rows, ADD_DAILY)
