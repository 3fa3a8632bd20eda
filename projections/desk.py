"""The desk's queries (工作台): an office's counters, its open records most urgent first, the
records waiting on its decision or returned to it, and when its records were last urged. May
import: the domain, ``projections.queries`` and ``services.views``.

Everything reads the same read models as the API's lists (the ``items`` and ``audit`` tables),
through the office's indexes: the counters are one aggregate query; *open records* are paged
in the database (for records still awaiting work both the light and the working days left
grow with the deadline, so ordering by deadline is ordering by light, then working days
left); *awaiting my decision* narrows in the database to the few records whose document
names a request or a report, then decides exactly in Python; *returned* looks at the audit
trail of the office's tasks in progress only (their ids, then the audit by its record index).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from domain.lights import AWAITING_WORK, ENDED, yellow_until
from domain.tasks import Task
from projections.queries import ReadModels
from services.views import Page

AWAITING = ", ".join(f"'{s}'" for s in AWAITING_WORK)
TO_DO = ", ".join(f"'{s}'" for s in AWAITING_WORK if s != "received")
CHUNK = 500
"""Ids per ``IN (…)`` list: well below every database's limit on parameters."""

COUNTERS_SQL = f"""
SELECT COUNT(*) AS open,
  SUM(CASE WHEN status = 'received' THEN 1 ELSE 0 END) AS received,
  SUM(CASE WHEN status IN ({TO_DO}) THEN 1 ELSE 0 END) AS to_do,
  SUM(CASE WHEN deadline < ? THEN 1 ELSE 0 END) AS overdue,
  SUM(CASE WHEN deadline BETWEEN ? AND ? THEN 1 ELSE 0 END) AS due_soon
FROM items WHERE office = ? AND status IN ({AWAITING})
"""
DECISION_CANDIDATES_SQL = """
SELECT doc FROM items WHERE office = ? AND status NOT IN ('closed', 'concluded') AND (
  (kind = 'item' AND (status = 'completion_reported' OR doc NOT LIKE ? OR doc LIKE ?))
  OR (assignees <> ? AND (doc NOT LIKE ? OR doc LIKE ?)))
ORDER BY deadline, registered_at, created_position
"""
DECISION_PATTERNS = (
    '%"pending_extension":null%',  # an item's own request: its own office decides
    '%"rectification":"reported"%',  # an item's rectification: its own office accepts
    "  ",  # assigned to nobody (the assignees column): no subordinate to hear from
    '%"pending_extensions":{}%',  # a subordinate's request (the doc lacks the empty map)
    '%"kind":"completion"%',  # a subordinate's completion report received
)
"""What a record's document (compact JSON, quotes inside text escaped) says when a decision
may wait on its office; a candidate is then judged exactly (``waits_on_office``)."""


class DeskQueries(ReadModels):
    """The read models, with the desk's queries."""

    @classmethod
    def over(cls, views: ReadModels) -> DeskQueries:
        return cls(views.read, views.calendar, views.today, views.children)

    def counters(self, office: str) -> dict[str, int]:
        """待签收, 待办理, 临期 (yellow), 逾期 (red), and every open record, in one query."""
        today = self.today()
        soon = yellow_until(today, self.calendar)
        row = self.read.all(
            COUNTERS_SQL, (today.isoformat(), today.isoformat(), soon.isoformat(), office)
        )[0]
        names = ("open", "received", "to_do", "overdue", "due_soon")
        return {name: int(row[name] or 0) for name in names}

    def open_records(
        self,
        office: str,
        page: int = 1,
        per_page: int = 50,
        to_do: bool = False,
        counted: dict[str, int] | None = None,
    ) -> Page:
        """Records still awaiting work (``to_do``: signed for, not those to sign for), red
        first, then by working days left. ``counted``: the office's ``counters`` if read."""
        counted = counted or self.counters(office)
        statuses = TO_DO if to_do else AWAITING
        rows = self.read.all(
            f"SELECT doc FROM items WHERE office = ? AND status IN ({statuses}) "
            "ORDER BY deadline, registered_at, created_position LIMIT ? OFFSET ?",
            (office, per_page, (page - 1) * per_page),
        )
        total = counted["to_do" if to_do else "open"]
        return Page([self._doc(r["doc"]) for r in rows], page, per_page, total)

    def awaiting_decision(self, office: str) -> list[dict[str, Any]]:
        """待审核: the office's records on which a request or report waits for its decision."""
        candidates = [
            self._doc(r["doc"])
            for r in self.read.all(DECISION_CANDIDATES_SQL, (office, *DECISION_PATTERNS))
        ]
        reported = self._completions_waiting(candidates)
        return [r for r in candidates if waits_on_office(r, reported)]

    def _completions_waiting(self, records: list[dict[str, Any]]) -> set[tuple[str, str]]:
        """(office, task id) of the subordinates' tasks whose completion report is undecided:
        a task stays ``completion_reported`` until its parent's decision reaches it."""
        tasks = [
            (sub, str(Task.create_id(r["office"], r["id"], sub)))
            for r in records
            for sub, report in r["received_reports"].items()
            if report.get("kind") == "completion"
        ]
        found: set[tuple[str, str]] = set()
        for start in range(0, len(tasks), CHUNK):
            part = tasks[start : start + CHUNK]
            pairs = " OR ".join("(office = ? AND id = ?)" for _ in part)
            rows = self.read.all(
                f"SELECT office, id FROM items WHERE status = 'completion_reported' AND ({pairs})",
                [value for pair in part for value in pair],
            )
            found.update((r["office"], r["id"]) for r in rows)
        return found

    def returned(self, office: str) -> list[dict[str, Any]]:
        """被退回: the office's tasks whose own completion report was returned from above and
        not reported again since (a return puts a task back in progress). Only the ids of the
        tasks in progress are read, then their audit trail (by the record index), then the
        documents of those returned."""
        ids = [
            str(r["id"])
            for r in self.read.all(
                "SELECT id FROM items "
                "WHERE office = ? AND status = 'in_progress' AND kind = 'task'",
                (office,),
            )
        ]
        last: dict[str, dict[str, int]] = {}
        for part in chunks(ids):
            marks = ", ".join("?" for _ in part)
            for r in self.read.all(
                "SELECT record_id, type, MAX(position) AS at FROM audit "
                f"WHERE office = ? AND record_id IN ({marks}) AND ("
                "(type = 'CompletionReturned' AND actor_office <> office) "
                "OR type IN ('CompletionReported', 'Reopened')) GROUP BY record_id, type",
                (office, *part),
            ):
                last.setdefault(r["record_id"], {})[r["type"]] = int(r["at"])
        returned = [
            record
            for record, at in last.items()
            if at.get("CompletionReturned", -1)
            > max(at.get("CompletionReported", -1), at.get("Reopened", -1))
        ]
        return self.records(office, returned)

    def records(self, office: str, ids: list[str]) -> list[dict[str, Any]]:
        """The office's records of ``ids``, most urgent first."""
        found = []
        for part in chunks(ids):
            marks = ", ".join("?" for _ in part)
            found += self.read.all(
                "SELECT doc, deadline, registered_at, created_position FROM items "
                f"WHERE office = ? AND id IN ({marks})",
                (office, *part),
            )
        found.sort(key=lambda r: (r["deadline"], r["registered_at"], r["created_position"]))
        return [self._doc(r["doc"]) for r in found]

    def last_urged(self, office: str, records: Iterable[str]) -> dict[str, str]:
        """When each of ``records`` was last urged (催办; UTC, ISO 8601), if ever."""
        found: dict[str, str] = {}
        for part in chunks(list(records)):
            marks = ", ".join("?" for _ in part)
            for r in self.read.all(
                "SELECT record_id, MAX(time) AS at FROM audit "
                f"WHERE office = ? AND record_id IN ({marks}) AND type = 'Urged' "
                "GROUP BY record_id",
                (office, *part),
            ):
                found[r["record_id"]] = r["at"]
        return found


def chunks(ids: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def waits_on_office(record: dict[str, Any], reported: set[tuple[str, str]]) -> bool:
    """Whether a decision of the record's own office is awaited: on a subordinate's extension
    request or completion report; and on an item (its office is its own assigning office) its
    own completion, extension request or rectification report."""
    if record["status"] in ENDED:
        return False
    if record["pending_extensions"] and record["status"] != "completed":
        return True
    if any(
        (sub, str(Task.create_id(record["office"], record["id"], sub))) in reported
        for sub, report in record["received_reports"].items()
        if report.get("kind") == "completion"
    ):
        return True
    own = (
        record["status"] == "completion_reported",
        record["pending_extension"] is not None and record["status"] != "completed",
        record["rectification"] == "reported",
    )
    return record["kind"] == "item" and any(own)
