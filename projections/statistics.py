"""统计考评, an office's statistics for a period: per child office (its whole subtree), outcome
measures only — matters assigned, completed, completed on time, overdue at the period's end,
the on-time rate, mean working days to completion — and the decisions recorded on its
records (extensions granted, completions returned, commendations, rectifications ordered).

Matters come from the roll-up's daily changes (``rollup_daily``, metrics prefixed ``m.``: each
matter once per subtree), so a period costs a sum over its days, never a scan of items; the
decisions are counted from the audit read model over the subtree's offices. Nothing counts
activity (logins, time online, reports sent): the 2026 rules for government apps forbid
ranking by it. May import: the standard library, ``domain.values`` and ``projections.queries``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from domain.values import CHINA_TZ
from projections.queries import ReadModels

DECISIONS = {
    "ExtensionGranted": "extensions",
    "CompletionReturned": "returns",
    "Commended": "commendations",
    "RectificationOrdered": "rectifications",
}
RULE = {
    "zh": "按期内按时办结率（按时办结数÷应办结数：期内办结数加期末逾期数）排序，"
    "相同者逾期少者在前，再按单位名称；无应办结事项的单位列后，不排名。不统计登录、在线时长、上报次数等活动量。",
    "en": "Ranked by the period's on-time rate (on-time completions ÷ what was due: completed "
    "in the period plus overdue at its end), then fewer overdue, then name; offices with "
    "nothing due come last, unranked. No activity (logins, time online, reports sent) counts.",
}


def period_figures(
    models: ReadModels, office: str, subtree: Sequence[str], first: date, last: date
) -> dict[str, Any]:
    """One child office's figures for the days ``first``..``last`` (China days)."""
    totals: dict[str, int] = {}
    for changes in models.rollup_changes(office, first, last).values():
        for key, value in changes.items():
            totals[key] = totals.get(key, 0) + value
    overdue = models.rollup_at_end_of(office, last)["matters"]["overdue"]
    completed = totals.get("m.completion|count", 0)
    on_time = totals.get("m.completion|on_time", 0)
    timed = totals.get("m.completion|timed", 0)
    due = completed + overdue
    return {
        "assigned": totals.get("m.total|all", 0),
        "completed": completed,
        "on_time": on_time,
        "overdue": overdue,
        "due": due,
        "on_time_rate": round(on_time / due, 4) if due else None,
        "mean_working_days": (
            round(totals.get("m.completion|working_days", 0) / timed, 1) if timed else None
        ),
        **decisions(models, subtree, first, last),
    }


def decisions(
    models: ReadModels, offices: Sequence[str], first: date, last: date
) -> dict[str, int]:
    """The decisions recorded on the offices' records in the period, by kind."""
    found = dict.fromkeys(DECISIONS.values(), 0)
    if not offices:
        return found
    start = datetime.combine(first, time.min, CHINA_TZ).astimezone(UTC).isoformat()
    end = datetime.combine(last + timedelta(days=1), time.min, CHINA_TZ).astimezone(UTC)
    marks = ", ".join("?" * len(offices))
    kinds = ", ".join("?" * len(DECISIONS))
    rows = models.read.all(
        f"SELECT type, COUNT(*) AS n FROM audit WHERE office IN ({marks}) "
        f"AND type IN ({kinds}) AND time >= ? AND time < ? GROUP BY type",
        [*offices, *DECISIONS, start, end.isoformat()],
    )
    for row in rows:
        found[DECISIONS[row["type"]]] = int(row["n"])
    return found


def ranked(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``rows`` (each with ``name`` and figures) in the order of ``RULE``, each with ``rank``
    (None: nothing due)."""
    due = sorted(
        (r for r in rows if r["on_time_rate"] is not None),
        key=lambda r: (-r["on_time_rate"], r["overdue"], r["name"]),
    )
    rest = sorted((r for r in rows if r["on_time_rate"] is None), key=lambda r: r["name"])
    for n, r in enumerate(due, start=1):
        r["rank"] = n
    for r in rest:
        r["rank"] = None
    return due + rest
