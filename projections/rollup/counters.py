"""What one record (item or task) contributes to the roll-ups it feeds: a few counters —
status, kind, source kind, month, its deadline while the work is due, completion figures,
flags — and the arithmetic on such counters. Pure: the domain and the standard library only.
May import: the standard library and ``domain`` (cases, lights, tasks, values).

A counter's name is ``metric|key``. Records' counters are stored under their own metric
names; matters' (each matter once, with its record nearest to the office) under the same
names prefixed with ``m.`` (``MATTER``), in the same tables, *less the records' counters*
(``stored_matters``; read back with ``with_matters``). Where each matter has one record in
an office's subtree (an item no one assigned, a county's task) the two are equal, so most
offices store no matter rows at all; only where a matter has several records (an instruction
assigned down, at the offices above its records) does a matter row differ from nothing.
"""

from __future__ import annotations

from typing import Any

from domain.cases import Case
from domain.lights import AWAITING_WORK
from domain.tasks import Task
from domain.values import WorkingCalendar, business_date

Counters = dict[str, int]  # "metric|key" → value
MATTER = "m."  # the prefix of matters' metrics


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
        c[f"due_month|{case.deadline.strftime('%Y-%m')}"] = 1  # overdue counted in few rows
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


def counted(state: Any, calendar: WorkingCalendar) -> Counters:
    """A record's contribution; nothing for a state that is not (yet) a record."""
    return contribution(state, calendar) if isinstance(state, Case) else {}


def matter_of(case: Case) -> tuple[str, str]:
    """(office, id) of the root item of the record's matter: an item is its own."""
    return case.root


def since(case: Case) -> str:
    """When the record came into being (UTC, ISO): the first tie-break between two records
    equally near an office."""
    return case.created_on.isoformat()


def add(total: Counters, counters: Counters, sign: int = 1) -> None:
    for key, value in counters.items():
        total[key] = total.get(key, 0) + sign * value


def difference(new: Counters, old: Counters) -> Counters:
    """``new`` less ``old``, without the counters that did not change."""
    changed = dict(new)
    add(changed, old, -1)
    return {key: value for key, value in changed.items() if value}


def negated(counters: Counters) -> Counters:
    return {key: -value for key, value in counters.items() if value}


def prefixed(counters: Counters, prefix: str = MATTER) -> Counters:
    return {f"{prefix}{key}": value for key, value in counters.items()}


def with_matters(stored: Counters) -> Counters:
    """Counters as stored (matters less records) → as read: each matter counter plus the
    record counter of the same name."""
    found = dict(stored)
    for key, value in stored.items():
        if not key.startswith(MATTER):
            found[MATTER + key] = found.get(MATTER + key, 0) + value
    return {key: value for key, value in found.items() if value}


def stored_matters(matters: Counters, records: Counters) -> Counters:
    """What the store adds under ``m.`` when matters (unprefixed) move by ``matters`` and
    records by ``records``: the difference, prefixed (see ``with_matters``)."""
    return prefixed(difference(matters, records))


def as_rows(counters: Counters) -> list[dict[str, Any]]:
    """Counters in the shape of ``rollup`` rows, as ``summarize_rollup`` takes them."""
    rows = []
    for key, value in sorted(counters.items()):
        metric, name = key.split("|", 1)
        rows.append({"metric": metric, "key": name, "value": value})
    return rows
