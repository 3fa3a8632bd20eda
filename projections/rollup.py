"""Roll-ups for an office and all its descendants, maintained incrementally.

Each record (item or task) contributes a few counters — status, kind, source kind, month,
its deadline while the work is due, completion figures, flags. When an event changes a
record, the *difference* between its old and new contribution is added to its office and
every ancestor. A query reads one office's counters (a few dozen rows), never its items;
lights are counted from the due-deadline counters against the query's date.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import orjson

from domain.cases import Case
from domain.lights import AWAITING_WORK, yellow_until
from domain.tasks import Task
from domain.values import WorkingCalendar, business_date
from projections.readstore import Table, Tx
from projections.runner import Batch, Projection
from services.calendar import CalendarDataMissingError

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
DDL = f"{ROLLUP.create()};\n{RECORDS.create()}"
ADD = "DO UPDATE SET value = rollup.value + excluded.value"

Counters = dict[str, int]  # "metric|key" → value


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
        try:
            c["completion|working_days"] = calendar.working_days_between(case.issued_on, reported)
            c["completion|timed"] = 1
        except CalendarDataMissingError:
            c["completion|untimed"] = 1
    if case.commendation_count:
        c["flag|commended"] = 1
    if case.rectification in ("ordered", "reported"):
        c["flag|rectification"] = 1
    return c


def add(total: Counters, counters: Counters, sign: int = 1) -> None:
    for key, value in counters.items():
        total[key] = total.get(key, 0) + sign * value


@dataclass(frozen=True)
class Contributions:
    """A batch's records' new contributions, and their sum."""

    office: str
    targets: tuple[str, ...]  # the office and its ancestors: every roll-up a record feeds
    records: list[tuple[str, str, str]]  # (office, record id, contribution as JSON)
    total: Counters


class RollupProjection(Projection[Contributions | None]):
    name = "rollup"
    ddl = DDL

    def __init__(self, ancestors: Callable[[str], list[str]], calendar: WorkingCalendar) -> None:
        self.ancestors = ancestors
        self.calendar = calendar

    def prepare(self, batch: Batch) -> Contributions | None:
        """One contribution per record per batch: per-event deltas add up to final − initial."""
        office = batch.envelopes[0].office
        total: Counters = {}
        records = []
        for record, (state, _) in batch.records.items():
            if isinstance(state, Case):
                new = contribution(state, self.calendar)
                add(total, new)
                records.append((office, str(record), orjson.dumps(new).decode()))
        if not records:
            return None
        return Contributions(office, (office, *self.ancestors(office)), records, total)

    def write(self, tx: Tx, prepared: Contributions | None) -> None:
        """The roll-ups move by the new contributions less the ones they replace."""
        if prepared is None:
            return
        delta = dict(prepared.total)
        for row in self._previous(tx, prepared.office, [r[1] for r in prepared.records]):
            add(delta, orjson.loads(row["contribution"]), -1)
        self._add(tx, prepared.targets, delta)
        tx.write(RECORDS, prepared.records, RECORDS.update_all())

    @staticmethod
    def _previous(tx: Tx, office: str, ids: list[str]) -> list[dict[str, Any]]:
        marks = ", ".join("?" * len(ids))
        return tx.all(
            f"SELECT contribution FROM rollup_records WHERE office = ? AND id IN ({marks})",
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

    def drop(self, tx: Tx, office: str | None) -> None:
        if office is None:
            tx.execute("DELETE FROM rollup")
            tx.execute("DELETE FROM rollup_records")
            return
        delta: Counters = {}
        for row in tx.all("SELECT contribution FROM rollup_records WHERE office = ?", (office,)):
            add(delta, orjson.loads(row["contribution"]), -1)
        self._add(tx, (office, *self.ancestors(office)), delta)
        tx.execute("DELETE FROM rollup_records WHERE office = ?", (office,))


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
