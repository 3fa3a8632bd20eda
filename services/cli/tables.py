"""Roll-ups and circular rankings as the CLI prints them: plain-text tables, aligned for
Chinese names too (a CJK character takes two columns). Only shapes what the read models
return; imports the standard library.
May import: the standard library.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import Any

Cell = str | int | float | None
RATE = "on-time rate"


def width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def cell(value: Cell) -> str:
    return "-" if value is None else str(value)


def rate(value: float | None) -> str:
    """An on-time rate as a percentage; '-' when nothing is due."""
    return "-" if value is None else f"{value:.0%}"


def table(headers: Sequence[str], rows: Sequence[Sequence[Cell]], left: int = 1) -> list[str]:
    """Lines of a table: the first ``left`` columns left-aligned, the others right-aligned."""
    texts = [[cell(v) for v in row] for row in [list(headers), *rows]]
    widths = [max(width(row[n]) for row in texts) for n in range(len(headers))]
    lines = []
    for row in texts:
        parts = [
            text + " " * (widths[n] - width(text))
            if n < left
            else " " * (widths[n] - width(text)) + text
            for n, text in enumerate(row)
        ]
        lines.append("  ".join(parts).rstrip())
    lines.insert(1, "  ".join("-" * w for w in widths))
    return lines


def side_by_side(
    title: str, matters: dict[str, Any], records: dict[str, Any], keys: Sequence[str] = ()
) -> list[str]:
    """A breakdown (by status, light, month) of matters and records, one row per key."""
    shown = list(keys) or sorted(matters.keys() | records.keys())
    return table(
        [title, "matters", "records"],
        [[key, matters.get(key, 0), records.get(key, 0)] for key in shown],
    )


def headline(r: dict[str, Any]) -> list[str]:
    m, rec = r["matters"], r["records"]
    rows: list[list[Cell]] = [
        ["total", m["total"], rec["total"]],
        ["overdue", m["overdue"], rec["overdue"]],
        ["completed", m["completed"], rec["completed"]],
        ["  on time", m["on_time"], rec["on_time"]],
        ["due (completed + overdue)", m["due"], rec["due"]],
        [RATE, rate(m["on_time_rate"]), rate(rec["on_time_rate"])],
        [
            "mean working days to completion",
            m["mean_working_days_to_completion"],
            rec["mean_working_days_to_completion"],
        ],
    ]
    return table(["", "matters", "records"], rows)


def by_source(r: dict[str, Any]) -> list[str]:
    m, rec = r["matters"]["by_source_kind"], r["records"]["by_source_kind"]
    rows: list[list[Cell]] = []
    none = {"count": 0, "completed": 0, "on_time": 0}
    for kind in sorted(m.keys() | rec.keys()):
        a, b = m.get(kind, none), rec.get(kind, none)
        rows.append([kind, *(a[n] for n in none), *(b[n] for n in none)])
    headers = ["source kind", "matters", "completed", "on time", "records", "completed", "on time"]
    return table(headers, rows)


def by_office(entries: list[dict[str, Any]], ranked: bool = False) -> list[str]:
    """Child offices: their subtree's matters and records (with the rank, in a circular)."""
    headers = [
        *(["rank"] if ranked else []),
        "office",
        "matters",
        "overdue",
        RATE,
        "records",
        "overdue",
        RATE,
    ]
    rows: list[list[Cell]] = []
    for e in entries:
        m, rec = e["matters"], e["records"]
        flags = " 表彰" * bool(e.get("commended")) + " 整改中" * bool(e.get("under_rectification"))
        rows.append(
            [
                *([e["rank"]] if ranked else []),
                f"{e['name']} ({e['office']}){flags}",
                m["total"],
                m["overdue"],
                rate(m["on_time_rate"]),
                rec["total"],
                rec["overdue"],
                rate(rec["on_time_rate"]),
            ]
        )
    return table(headers, rows, left=2 if ranked else 1)


def rollup_lines(r: dict[str, Any]) -> list[str]:
    """The whole roll-up: headline figures, then by light, status, source kind, month, and
    the child offices."""
    m, rec = r["matters"], r["records"]
    lines = [
        f"{r['office']} on {r['on']}: {m['total']} matters ({m['overdue']} overdue), "
        f"{rec['total']} records ({rec['overdue']} overdue); "
        f"commended {r['commended']}, under rectification {r['under_rectification']}",
        "matters: each once, with its record nearest to this office; "
        "records: every office's own item or task",
        "",
        *headline(r),
        "",
        *side_by_side("light", m["by_light"], rec["by_light"], ("green", "yellow", "red")),
        "",
        *side_by_side("status", m["by_status"], rec["by_status"]),
        "",
        *by_source(r),
        "",
        *side_by_side("month", m["by_month"], rec["by_month"]),
    ]
    if r.get("by_office"):
        lines += ["", *by_office(r["by_office"])]
    return lines


def circular_lines(r: dict[str, Any]) -> list[str]:
    return [
        f"{r['office']} on {r['on']}",
        f"rule: {r['rule']['zh']}",
        f"      {r['rule']['en']}",
        "",
        *by_office(r["ranking"], ranked=True),
    ]
