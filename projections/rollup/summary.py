"""The roll-up people read, from an office's counters: each matter once (``matters``), each
office's own records (``records``), lights judged on a given day. Also the counters as they
stood at the end of a past day (a sum over ``rollup_daily``). Imports the read store's ``Tx``,
the calendar and the roll-up's counters.
May import: the standard library, ``domain`` (lights, values) and ``projections`` (readstore,
rollup.counters).

Matter counters are stored less the records' (``counters.with_matters``): whatever reads the
tables goes through ``counters_at_end_of``, ``stored`` or ``as_read``.

The **on-time rate** is on-time completions ÷ what is *due*: completed, or past its deadline
and not done. It is never 100 % while anything is overdue, and None when nothing is due yet.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from domain.lights import yellow_until
from domain.values import WorkingCalendar
from projections.readstore import Tx
from projections.rollup.counters import MATTER, Counters, as_rows, with_matters

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
BRIEF = ("total", "overdue", "completed", "on_time", "due", "on_time_rate")
PAST_DUE = "0000-00-00"  # one key for every deadline already passed: all that ``brief`` needs


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
    return with_matters(stored(rows))


def stored(rows: list[dict[str, Any]]) -> Counters:
    """Rows of ``rollup`` or ``rollup_daily`` as counters, as stored (see ``with_matters``)."""
    found: Counters = {}
    for r in rows:
        if r["value"]:
            key = f"{r['metric']}|{r['key']}"
            found[key] = found.get(key, 0) + int(r["value"])
    return found


def as_read(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Stored rows (matters less records) as rows people read (matters whole)."""
    return as_rows(with_matters(stored(rows)))


def on_time_rate(on_time: int, completed: int, overdue: int) -> float | None:
    """On-time completions ÷ what is due (completed, or overdue); None when nothing is."""
    due = completed + overdue
    return round(on_time / due, 4) if due else None


def grouped(rows: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """``rollup`` rows (or ``as_rows``) as metric → key → value, without zeros."""
    by: dict[str, dict[str, int]] = {}
    for row in rows:
        if row["value"]:
            keys = by.setdefault(row["metric"], {})
            keys[row["key"]] = keys.get(row["key"], 0) + int(row["value"])
    return by


def figures(
    by: dict[str, dict[str, int]], today: date, calendar: WorkingCalendar, prefix: str = ""
) -> dict[str, Any]:
    """Records' figures (or, with ``prefix`` ``m.``, matters') from grouped counters."""

    def metric(name: str) -> dict[str, int]:
        return by.get(f"{prefix}{name}", {})

    due = metric("due")
    last_yellow = yellow_until(today, calendar).isoformat()
    red = sum(v for k, v in due.items() if k < today.isoformat())
    yellow = sum(v for k, v in due.items() if today.isoformat() <= k <= last_yellow)
    total = metric("total").get("all", 0)
    completion = metric("completion")
    completed, on_time = completion.get("count", 0), completion.get("on_time", 0)
    timed = completion.get("timed", 0)
    return {
        "total": total,
        "by_status": metric("status"),
        "by_kind": metric("kind"),
        "by_light": {"green": total - red - yellow, "yellow": yellow, "red": red},
        "overdue": red,
        "completed": completed,
        "on_time": on_time,
        "due": completed + red,
        "on_time_rate": on_time_rate(on_time, completed, red),
        "mean_working_days_to_completion": (
            round(completion.get("working_days", 0) / timed, 2) if timed else None
        ),
        "by_source_kind": {
            s: {
                "count": count,
                "completed": metric("completed_by_source").get(s, 0),
                "on_time": metric("on_time_by_source").get(s, 0),
            }
            for s, count in sorted(metric("source_kind").items())
        },
        "by_month": dict(sorted(metric("month").items())),
    }


def summarize_rollup(
    office: str, rows: list[dict[str, Any]], today: date, calendar: WorkingCalendar
) -> dict[str, Any]:
    """Turn one office's counters into the roll-up users read, with lights as of ``today``:
    its matters (each once) and its records, and the flags of its records. (``by_office``,
    its children's figures, is added by the query.)"""
    by = grouped(rows)
    return {
        "office": office,
        "on": today.isoformat(),
        "matters": figures(by, today, calendar, MATTER),
        "records": figures(by, today, calendar),
        "commended": by.get("flag", {}).get("commended", 0),
        "under_rectification": by.get("flag", {}).get("rectification", 0),
    }


def brief_query(offices: int) -> str:
    """The counters ``brief`` reads for several offices: totals, completions and flags as
    they are; and what is overdue, added up by the database into one key per office and
    metric from the deadlines' months before this month and this month's days before today,
    so a few dozen rows per office whatever the history. Parameters: ``brief_parameters``."""
    marks = ", ".join("?" * offices)
    metric = "CASE metric WHEN 'due_month' THEN 'due' ELSE 'm.due' END"
    return (
        "SELECT office, metric, key, value FROM rollup "
        f"WHERE office IN ({marks}) "
        "AND metric IN ('total', 'm.total', 'completion', 'm.completion', 'flag') "
        f"UNION ALL SELECT office, {metric} AS metric, '{PAST_DUE}' AS key, SUM(value) AS value "
        f"FROM rollup WHERE office IN ({marks}) AND metric IN ('due_month', 'm.due_month') "
        f"AND key < ? GROUP BY office, metric "
        f"UNION ALL SELECT office, metric, '{PAST_DUE}' AS key, SUM(value) AS value FROM rollup "
        f"WHERE office IN ({marks}) AND metric IN ('due', 'm.due') AND key >= ? AND key < ? "
        "GROUP BY office, metric"
    )


def brief_parameters(offices: list[str], today: date) -> tuple[str, ...]:
    month = today.strftime("%Y-%m")
    return (*offices, *offices, month, *offices, f"{month}-01", today.isoformat())


def brief(summary: dict[str, Any]) -> dict[str, Any]:
    """The few figures of a roll-up that a breakdown by office shows: records' and matters'
    total, overdue, completed, on time, due and on-time rate."""
    return {part: {name: summary[part][name] for name in BRIEF} for part in ("records", "matters")}
