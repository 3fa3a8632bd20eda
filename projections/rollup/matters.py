"""Matters counted once: a matter (a root item and everything assigned from it) counts once
in an office's roll-up, with the contribution of its record *nearest* to the office.
May import: the standard library, orjson and ``projections`` (readstore, rollup.counters,
rollup.tables).

The records of a matter that lie in office T's subtree are ordered by their distance from T
(levels down the office chain; T's own record first), then by when they came into being,
then by office code and id: the first that exists on a day is the matter's record at T that
day. Each record's contribution at the end of every day on which it had events is kept
(``rollup_record_days``), so the matter's contribution at T on any day is a pure function of
those rows, whatever order offices' events were applied in (a rebuild applies a county's task
before its province's item): an incrementally built roll-up equals a rebuilt one. When rows
change, the matter's timeline at each office above them is computed from the old rows and
from the new ones, and the difference is handed back to the projection, which stores it
under the ``m.`` metrics less the records' own changes (``counters.stored_matters``). A matter
has a handful of records, so this reads a handful of rows.

Imports the read store's ``Tx`` and the roll-up's counters and tables.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

import orjson

from projections.readstore import Tx
from projections.rollup.counters import Counters, add, prefixed
from projections.rollup.tables import RECORD_DAYS

CHUNK = 500  # matters per query


@dataclass(frozen=True)
class RecordDay:
    """One record's contribution at the end of one day on which it had events."""

    matter: str
    office: str
    id: str
    day: str
    chain: str
    since: str
    contribution: Counters

    @property
    def key(self) -> tuple[str, str, str]:
        return self.office, self.id, self.day

    def row(self) -> tuple[str, ...]:
        return (
            self.matter,
            self.office,
            self.id,
            self.day,
            self.chain,
            self.since,
            orjson.dumps(self.contribution).decode(),
        )

    @classmethod
    def of(cls, row: dict[str, object]) -> RecordDay:
        return cls(
            str(row["matter"]),
            str(row["office"]),
            str(row["id"]),
            str(row["day"]),
            str(row["chain"]),
            str(row["since"]),
            orjson.loads(str(row["contribution"])),
        )


def distance(chain: str, target: str) -> int | None:
    """Levels from ``target`` down to the chain's office; None outside its subtree."""
    offices = chain.split("/")
    if target not in offices:
        return None
    return len(offices) - 1 - offices.index(target)


def nearest_first(rows: Iterable[RecordDay], target: str) -> list[list[RecordDay]]:
    """The matter's records in ``target``'s subtree, each as its days in order, nearest to
    ``target`` first (ties: the earlier record, then office code, then id)."""
    records: dict[tuple[str, str], list[RecordDay]] = {}
    ranks: dict[tuple[str, str], tuple[int, str, str, str]] = {}
    for row in rows:
        far = distance(row.chain, target)
        if far is None:
            continue
        records.setdefault((row.office, row.id), []).append(row)
        ranks[(row.office, row.id)] = (far, row.since, row.office, row.id)
    ordered = sorted(records, key=ranks.__getitem__)
    return [sorted(records[record], key=lambda r: r.day) for record in ordered]


def value_at(records: list[list[RecordDay]], day: str) -> Counters:
    """The matter's contribution at the end of ``day``: its nearest record existing then."""
    for days in records:
        found = None
        for row in days:
            if row.day > day:
                break
            found = row
        if found is not None:
            return found.contribution
    return {}


def changes(old: Iterable[RecordDay], new: Iterable[RecordDay], target: str) -> dict[str, Counters]:
    """Per day, what the matter's contribution at ``target`` changed by under the ``new``
    rows, less what it changed by under the ``old`` ones (only days with a difference)."""
    before, after = nearest_first(old, target), nearest_first(new, target)
    days = sorted({row.day for records in (before, after) for days in records for row in days})
    found: dict[str, Counters] = {}
    last_before: Counters = {}
    last_after: Counters = {}
    for day in days:
        was, now = value_at(before, day), value_at(after, day)
        change: Counters = {}
        add(change, now)
        add(change, last_after, -1)
        add(change, was, -1)
        add(change, last_before)
        if change := {key: value for key, value in change.items() if value}:
            found[day] = change
        last_before, last_after = was, now
    return found


def load(tx: Tx, matters: Collection[str]) -> list[RecordDay]:
    """The record-day rows of ``matters``."""
    ordered = sorted(matters)
    found: list[RecordDay] = []
    for start in range(0, len(ordered), CHUNK):
        chunk = ordered[start : start + CHUNK]
        marks = ", ".join("?" * len(chunk))
        found.extend(
            RecordDay.of(row)
            for row in tx.all(
                f"SELECT * FROM rollup_record_days WHERE matter IN ({marks})", tuple(chunk)
            )
        )
    return found


def lock(tx: Tx, matters: Iterable[str]) -> None:
    """Keep other transactions out of these matters until this one ends: a matter's records
    lie in several offices, whose consumers may run at once. One lock per root office (a
    batch's matters have at most as many roots as its office has levels), in order."""
    for root in sorted({matter.rsplit("/", 1)[0] for matter in matters}):
        tx.lock(f"rollup matters rooted at {root}")


Moves = tuple[dict[str, Counters], dict[tuple[str, str], Counters]]
"""What matters (unprefixed counters) move by: per office, and per (office, day)."""


def apply(targets: Iterable[str], old: list[RecordDay], new: list[RecordDay]) -> Moves:
    """What the matter counters of ``targets`` move by from what ``old`` rows make them to
    what the ``new`` rows make them (both: all rows of the matters concerned)."""
    now: dict[str, Counters] = {}
    daily: dict[tuple[str, str], Counters] = {}
    before, after = by_matter(old), by_matter(new)
    chain = list(targets)
    for matter in sorted(before.keys() | after.keys()):
        was, now_ = before.get(matter, []), after.get(matter, [])
        alone = lone_record(was, now_, chain)
        for target in chain:
            # a matter of one record moves alike at every office above it: computed once
            moved = alone if alone is not None else changes(was, now_, target)
            for day, change in moved.items():
                add(now.setdefault(target, {}), change)
                add(daily.setdefault((target, day), {}), change)
    return now, daily


def lone_record(
    was: list[RecordDay], now: list[RecordDay], targets: list[str]
) -> dict[str, Counters] | None:
    """The matter's changes at every one of ``targets``, if its rows are all one record's
    and that record lies below each of them; else None (each office counts it its way)."""
    rows = was + now
    if not rows or not targets:
        return None
    first = rows[0]
    if any((row.office, row.id) != (first.office, first.id) for row in rows):
        return None
    if any(distance(row.chain, target) is None for row in rows for target in targets):
        return None
    return changes(was, now, targets[0])


def by_matter(rows: Iterable[RecordDay]) -> dict[str, list[RecordDay]]:
    found: dict[str, list[RecordDay]] = {}
    for row in rows:
        found.setdefault(row.matter, []).append(row)
    return found


def replaced(old: list[RecordDay], new: Iterable[RecordDay]) -> list[RecordDay]:
    """``old`` rows with ``new`` ones in place of those of the same record and day."""
    rows = {row.key: row for row in old}
    rows.update((row.key, row) for row in new)
    return list(rows.values())


def save(tx: Tx, rows: list[RecordDay]) -> None:
    tx.write(RECORD_DAYS, [row.row() for row in rows], RECORD_DAYS.update_all())


def update(tx: Tx, targets: Iterable[str], rows: list[RecordDay]) -> Moves:
    """A batch's new record-day rows (all from one office, whose chain is ``targets``) are
    kept; returns what they move the matters by."""
    if not rows:
        return {}, {}
    matters = {row.matter for row in rows}
    lock(tx, matters)
    old = load(tx, matters)
    moves = apply(targets, old, replaced(old, rows))
    save(tx, rows)
    return moves


def forget(tx: Tx, targets: Iterable[str], office: str) -> Moves:
    """``office``'s records leave its matters (a rebuild of that office refills them);
    returns what that moves the matters by."""
    query = "SELECT DISTINCT matter FROM rollup_record_days WHERE office = ?"
    matters = [str(r["matter"]) for r in tx.all(query, (office,))]
    lock(tx, matters)
    old = load(tx, matters)
    moves = apply(targets, old, [row for row in old if row.office != office])
    tx.execute("DELETE FROM rollup_record_days WHERE office = ?", (office,))
    return moves


def moved_since(tx: Tx, target: str, base: str, touched: list[RecordDay]) -> Counters:
    """Time travel within a day: what the matters of the ``touched`` records (each as it
    stood at the instant, dated that day) changed at ``target`` since the end of ``base``,
    the day before. Other records count as they stood at the end of ``base``."""
    rows = load(tx, {row.matter for row in touched})
    known = {(row.office, row.id): row for row in rows}
    now = [
        RecordDay(t.matter, t.office, t.id, t.day, seen.chain, seen.since, t.contribution)
        for t in touched
        if (seen := known.get((t.office, t.id))) is not None  # applied by the projection
    ]
    earlier = by_matter(row for row in rows if row.day <= base)
    total: Counters = {}
    for matter, later in by_matter(replaced(earlier_rows(earlier), now)).items():
        was = value_at(nearest_first(earlier.get(matter, []), target), base)
        day = max(row.day for row in later)
        add(total, prefixed(was), -1)
        add(total, prefixed(value_at(nearest_first(later, target), day)))
    return {key: value for key, value in total.items() if value}


def earlier_rows(earlier: dict[str, list[RecordDay]]) -> list[RecordDay]:
    return [row for rows in earlier.values() for row in rows]
