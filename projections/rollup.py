"""Roll-ups for an office and all its descendants, maintained incrementally.

Each record (item or task) contributes a few counters — status, kind, source kind, month,
its deadline while the work is due, completion figures, flags. When an event changes a
record, the *difference* between its old and new contribution is added to its office and
every ancestor. A query reads one office's counters (a few dozen rows), never its items;
lights are counted from the due-deadline counters against the query's date.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from typing import Any

from domain.cases import Case
from domain.lights import AWAITING_WORK, yellow_until
from domain.tasks import Task
from domain.values import WorkingCalendar, business_date
from projections.readstore import Table, Tx
from projections.runner import Envelope, Projection
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


def difference(new: Counters, old: Counters) -> Counters:
    keys = new.keys() | old.keys()
    return {k: new.get(k, 0) - old.get(k, 0) for k in keys if new.get(k, 0) != old.get(k, 0)}


class RollupProjection(Projection):
    name = "rollup"
    ddl = DDL

    def __init__(self, ancestors: Callable[[str], list[str]], calendar: WorkingCalendar) -> None:
        self.ancestors = ancestors
        self.calendar = calendar

    def handle_batch(self, tx: Tx, envelopes: list[Envelope]) -> None:
        """One delta per record per batch: per-event deltas add up to final − initial."""
        office = envelopes[0].office
        cases = {
            str(state.id): state
            for state in {id(e.state): e.state for e in envelopes}.values()
            if isinstance(state, Case)
        }
        if not cases:
            return
        marks = ", ".join("?" * len(cases))
        previous = {
            r["id"]: json.loads(r["contribution"])
            for r in tx.all(
                f"SELECT id, contribution FROM rollup_records WHERE office = ? AND id IN ({marks})",
                (office, *cases),
            )
        }
        total: Counters = {}
        records = []
        for record_id, case in cases.items():
            new = contribution(case, self.calendar)
            for key, value in difference(new, previous.get(record_id, {})).items():
                total[key] = total.get(key, 0) + value
            records.append((office, record_id, json.dumps(new, sort_keys=True)))
        total = {k: v for k, v in total.items() if v}
        if total:
            self._add(tx, office, total)
        tx.write(RECORDS, records, RECORDS.update_all())

    def _add(self, tx: Tx, office: str, delta: Counters) -> None:
        rows = [
            (target, *key.split("|", 1), value)
            for target in (office, *self.ancestors(office))
            for key, value in delta.items()
        ]
        tx.write(ROLLUP, rows, ADD)

    def drop(self, tx: Tx, office: str | None) -> None:
        if office is None:
            tx.execute("DELETE FROM rollup")
            tx.execute("DELETE FROM rollup_records")
            return
        total: Counters = {}
        for row in tx.all("SELECT contribution FROM rollup_records WHERE office = ?", (office,)):
            for key, value in json.loads(row["contribution"]).items():
                total[key] = total.get(key, 0) - value
        total = {k: v for k, v in total.items() if v}
        if total:
            self._add(tx, office, total)
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
