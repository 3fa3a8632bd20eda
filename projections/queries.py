"""Queries on the read models. Lights and overdue flags are derived here, as of ``today``.

May import: the standard library, ``domain`` (lights, values), ``projections`` (readstore,
rollup) and ``services`` (views).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from domain.lights import AWAITING_WORK, ENDED, light, yellow_until
from domain.values import WorkingCalendar
from projections.readstore import ReadStore
from projections.rollup import (
    as_read,
    as_rows,
    brief,
    brief_parameters,
    brief_query,
    counters_at_end_of,
    stored,
    summarize_rollup,
    with_matters,
)
from services.views import Page

LIGHTS = ("green", "yellow", "red")
RULE = {
    "zh": (
        "按事项按时办结率排名：按时办结的事项数 ÷ 到期事项数（已办结或已超期未办结）；"
        "率相同的，超期事项少者在前，再按单位名称；没有到期事项的单位不排名，列在最后。"
        "不以登录、报送次数等活跃度排名。"
    ),
    "en": (
        "Ranked by the on-time rate of matters: matters completed on time ÷ matters due "
        "(completed, or past their deadline and not done); at equal rates, fewer overdue "
        "first, then by name; offices with nothing due are listed last, unranked. "
        "Activity (logins, reports sent) never counts."
    ),
}


def ranking_key(entry: dict[str, Any]) -> tuple[int, float, int, str, str]:
    """Ranked first (by on-time rate, highest first), then fewer overdue, then name, code."""
    matters = entry["matters"]
    rate = matters["on_time_rate"]
    unranked = rate is None
    return (unranked, -(rate or 0.0), matters["overdue"], entry["name"], entry["office"])


AWAITING = "(" + ", ".join(f"'{s}'" for s in AWAITING_WORK) + ")"


class ReadModels:
    def __init__(
        self,
        read: ReadStore,
        calendar: WorkingCalendar,
        today: Callable[[], date],
        children: Callable[[str], list[tuple[str, str]]],
    ) -> None:
        self.read = read
        self.calendar = calendar
        self.today = today
        self.children = children

    # -- items ------------------------------------------------------------------------
    def items(
        self,
        office: str,
        *,
        status: str | None = None,
        light_: str | None = None,
        source_kind: str | None = None,
        kind: str | None = None,
        importance: int | None = None,
        urgency: int | None = None,
        assignee: str | None = None,
        text: str | None = None,
        page: int = 1,
        per_page: int = 50,
    ) -> Page:
        where: list[str] = ["office = ?"]
        params: list[Any] = [office]
        for column, value in (
            ("status", status),
            ("source_kind", source_kind),
            ("kind", kind),
            ("importance", importance),
            ("urgency", urgency),
        ):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        if assignee:
            where.append("assignees LIKE ?")
            params.append(f"% {assignee} %")
        if text:
            where.append("search LIKE ?")
            params.append(f"%{text}%")
        if light_ is not None:
            where.append(self._light_clause(light_, params))
        clause = " AND ".join(where)
        total = self.read.all(f"SELECT COUNT(*) AS n FROM items WHERE {clause}", params)[0]["n"]
        rows = self.read.all(
            f"SELECT doc FROM items WHERE {clause} "
            "ORDER BY registered_at, created_position LIMIT ? OFFSET ?",
            [*params, per_page, (page - 1) * per_page],
        )
        return Page([self._doc(r["doc"]) for r in rows], page, per_page, int(total))

    def _light_clause(self, wanted: str, params: list[Any]) -> str:
        if wanted not in LIGHTS:
            raise ValueError(f"light must be one of {', '.join(LIGHTS)}")
        today = self.today()
        red = f"(status IN {AWAITING} AND deadline < ?)"
        yellow = f"(status IN {AWAITING} AND deadline BETWEEN ? AND ?)"
        if wanted == "red":
            params.append(today.isoformat())
            return red
        if wanted == "yellow":
            params.extend([today.isoformat(), yellow_until(today, self.calendar).isoformat()])
            return yellow
        params.extend(
            [today.isoformat(), today.isoformat(), yellow_until(today, self.calendar).isoformat()]
        )
        return f"NOT {red} AND NOT {yellow}"

    def _doc(self, doc: str) -> dict[str, Any]:
        item: dict[str, Any] = json.loads(doc)
        item.setdefault("deadline_provisional", False)  # docs stored before the field existed
        item.setdefault("deadline_working_days", None)
        deadline = date.fromisoformat(item["deadline"])
        today = self.today()
        item["light"] = light(item["status"], deadline, today, self.calendar)
        reported = item.get("completion_reported_on")
        item["overdue"] = (
            date.fromisoformat(reported) > deadline
            if reported
            else item["status"] not in ENDED and today > deadline
        )
        return item

    def ids_starting(self, office: str, prefix: str, limit: int = 10) -> list[str]:
        """Ids of the office's records that begin with ``prefix`` (at most ``limit``)."""
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        rows = self.read.all(
            "SELECT id FROM items WHERE office = ? AND id LIKE ? ESCAPE '\\' ORDER BY id LIMIT ?",
            (office, f"{escaped}%", limit),
        )
        return [str(r["id"]) for r in rows]

    def item(self, office: str, item_id: str) -> dict[str, Any] | None:
        rows = self.read.all("SELECT doc FROM items WHERE office = ? AND id = ?", (office, item_id))
        return self._doc(rows[0]["doc"]) if rows else None

    # -- responsibility tree ----------------------------------------------------------
    def tree(self, office: str, item_id: str) -> dict[str, Any] | None:
        """The whole tree of the item's chain, from its root, across offices."""
        found = self.item(office, item_id)
        if found is None:
            return None
        root = found["root"]
        rows = [
            self._doc(r["doc"])
            for r in self.read.all(
                "SELECT doc FROM items WHERE root_office = ? AND root_id = ? "
                "ORDER BY registered_at, created_position",
                (root["office"], root["id"]),
            )
        ]
        children: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for row in rows:
            if row["parent"]:
                children.setdefault((row["parent"]["office"], row["parent"]["id"]), []).append(row)

        def node(row: dict[str, Any]) -> dict[str, Any]:
            order = [a["target"] for a in row["assignments"]]  # lead first, as assigned
            below = sorted(
                children.get((row["office"], row["id"]), []),
                key=lambda c: order.index(c["office"]) if c["office"] in order else len(order),
            )
            return {
                "office": row["office"],
                "id": row["id"],
                "kind": row["kind"],
                "unit": row["executing_unit"],
                "responsible_person": row["responsible_person"],
                "status": row["status"],
                "deadline": row["deadline"],
                "deadline_provisional": row["deadline_provisional"],
                "light": row["light"],
                "last_report": row["last_report"],
                "assignments": row["assignments"],
                "children": [node(c) for c in below],
            }

        top = next(
            (r for r in rows if r["office"] == root["office"] and r["id"] == root["id"]), None
        )
        return node(top) if top else None

    # -- roll-up and circular ---------------------------------------------------------
    def rollup(self, office: str) -> dict[str, Any]:
        """The office's roll-up (matters once, records, flags) and ``by_office``: each child
        office's figures for its subtree, for drill-down."""
        summary = self.summary(office)
        summary["by_office"] = self.by_office(office)
        return summary

    def summary(self, office: str) -> dict[str, Any]:
        rows = self.read.all("SELECT metric, key, value FROM rollup WHERE office = ?", (office,))
        return summarize_rollup(office, as_read(rows), self.today(), self.calendar)

    def briefs(self, offices: list[str]) -> dict[str, dict[str, Any]]:
        """Several offices' roll-ups, as far as ``brief`` and the flags go (their lights and
        breakdowns are not filled in), read in one query that adds up the overdue counters
        in the database: a few rows per office."""
        if not offices:
            return {}
        rows: dict[str, list[dict[str, Any]]] = {code: [] for code in offices}
        today = self.today()
        for row in self.read.all(brief_query(len(offices)), brief_parameters(offices, today)):
            rows[row["office"]].append(row)
        return {
            code: summarize_rollup(code, as_read(found), today, self.calendar)
            for code, found in rows.items()
        }

    def by_office(self, office: str) -> list[dict[str, Any]]:
        """One entry per child office: code, name, and its subtree's records and matters
        (total, overdue, completed, on time, due, on-time rate)."""
        children = self.children(office)
        found = self.briefs([code for code, _ in children])
        return [{"office": code, "name": name, **brief(found[code])} for code, name in children]

    def rollup_at_end_of(self, office: str, day: date) -> dict[str, Any]:
        """The roll-up as it stood at the end of ``day`` (China time), lights judged on that
        day: a sum over the daily changes, no replay. (Without ``by_office``.)"""
        with self.read.transaction() as tx:
            counters = counters_at_end_of(tx, office, day)
        return summarize_rollup(office, as_rows(counters), day, self.calendar)

    def rollup_changes(self, office: str, first: date, last: date) -> dict[str, dict[str, int]]:
        """What each roll-up counter of ``office`` changed by, per day from ``first`` to
        ``last`` on which anything changed (``{"2026-03-02": {"total|all": 3, …}}``): the
        basis of trend charts (new records: ``total|all``; completed: ``completion|count``;
        matters: the same names prefixed ``m.``)."""
        rows = self.read.all(
            "SELECT day, metric, key, value FROM rollup_daily "
            "WHERE office = ? AND day BETWEEN ? AND ? AND value <> 0 ORDER BY day, metric, key",
            (office, first.isoformat(), last.isoformat()),
        )
        by_day: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            by_day.setdefault(row["day"], []).append(row)
        found = {day: with_matters(stored(day_rows)) for day, day_rows in by_day.items()}
        return {day: changes for day, changes in found.items() if changes}

    def circular(self, office: str) -> dict[str, Any]:
        """通报: the office's subordinates ranked by the on-time rate of their matters (on-time
        completions ÷ matters due: completed or overdue), then fewer overdue, then name;
        those with nothing due follow, unranked. Activity (logins, reports sent) never
        counts. The rule is part of the answer."""
        children = self.children(office)
        found = self.briefs([code for code, _ in children])
        ranking = [
            {
                "office": code,
                "name": name,
                **brief(found[code]),
                "commended": found[code]["commended"],
                "under_rectification": found[code]["under_rectification"],
            }
            for code, name in children
        ]
        ranking.sort(key=ranking_key)
        rank = 0
        for entry in ranking:
            ranked = entry["matters"]["on_time_rate"] is not None
            rank += ranked
            entry["rank"] = rank if ranked else None
        return {
            "office": office,
            "on": self.today().isoformat(),
            "rule": RULE,
            "ranking": ranking,
            "commended": [e["office"] for e in ranking if e["commended"]],
            "under_rectification": [e["office"] for e in ranking if e["under_rectification"]],
        }

    # -- audit trail ------------------------------------------------------------------
    def audit(
        self,
        office: str,
        *,
        record_id: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        actor: str | None = None,
        type_: str | None = None,
        page: int = 1,
        per_page: int = 100,
    ) -> Page:
        where: list[str] = ["office = ?"]
        params: list[Any] = [office]
        for clause, value in (
            ("record_id = ?", record_id),
            ("time >= ?", start and start.astimezone(UTC).isoformat()),
            ("time <= ?", end and end.astimezone(UTC).isoformat()),
            ("actor_user = ?", actor),
            ("type = ?", type_),
        ):
            if value:
                where.append(clause)
                params.append(value)
        clause = " AND ".join(where)
        total = self.read.all(f"SELECT COUNT(*) AS n FROM audit WHERE {clause}", params)[0]["n"]
        rows = self.read.all(
            f"SELECT * FROM audit WHERE {clause} ORDER BY position LIMIT ? OFFSET ?",
            [*params, per_page, (page - 1) * per_page],
        )
        return Page(rows, page, per_page, int(total))

    # -- public disclosure ------------------------------------------------------------
    def public(self, page: int = 1, per_page: int = 50) -> Page:
        """Published items with their progress, nothing else."""
        total = self.read.all("SELECT COUNT(*) AS n FROM items WHERE published = 1")[0]["n"]
        rows = self.read.all(
            "SELECT doc FROM items WHERE published = 1 "
            "ORDER BY registered_at, created_position LIMIT ? OFFSET ?",
            (per_page, (page - 1) * per_page),
        )
        shown = []
        for row in rows:
            item = self._doc(row["doc"])
            shown.append(
                {
                    "office": item["office"],
                    "title": item["title"],
                    "summary": item["public_summary"],
                    "status": item["status"],
                    "progress_percent": item["progress_percent"],
                    "deadline": item["deadline"],
                }
            )
        return Page(shown, page, per_page, int(total))
