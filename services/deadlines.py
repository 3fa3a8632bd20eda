"""The deadline engine (自动催办, 自动督办): run daily, or for a given day.
May import: the standard library, ``domain`` (errors, lights, values), ``projections``
(readstore) and ``services`` (calendar, clock, metrics, registry, supervision, views).

For each office's records still awaiting work (per the items projection): at **yellow**
(≤ 3 working days left) it urges once; at **red** (overdue) it escalates to the assigning
office, if the office's policy escalates and its grace (working days) has passed. Its events
have actor ``system`` and carry the source ``deadline:<deadline>:<level>``, so each happens
once per (record, deadline, level): running twice changes nothing, and a new deadline
(an extension) may be urged again. A closed record or a concluded task (结办: its matter was
closed above it) is never urged or escalated: it is not awaiting work, and the domain refuses.

It never stops for lack of holiday data: a judgement that rests on the provisional calendar
(the record's deadline is provisional, or the days it counted fall in a year whose notice is
not yet published) is made all the same and marked ``provisional`` on its event.

When a year's notice is added (``add_year``), every open record whose deadline was counted in
working days across that year is counted again and, if its deadline moves or stops being
provisional, records ``DeadlineRecomputed`` (actor ``calendar``, role ``system``). Each run
also recounts the provisional deadlines whose year has since been published (by another
process), so none stays provisional once its notice is known.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Final

from domain.errors import DomainError
from domain.lights import AWAITING_WORK, light, yellow_until
from domain.values import Actor, business_date, count_deadline
from projections.readstore import ReadStore
from services.calendar import (
    DEFAULT_DATA_FILE,
    GovernmentCalendar,
    parse_notice,
    provisional_note,
    write_year,
)
from services.clock import Clock, at_noon
from services.metrics import DEADLINE_ACTIONS, counters
from services.registry import OfficeRegistry
from services.supervision import SupervisionService
from services.views import OfficeView, plain

AWAITING = ", ".join(f"'{s}'" for s in AWAITING_WORK)
OPEN: Final = (*AWAITING_WORK, "completion_reported")
"""Statuses of records whose deadline still matters (not completed, not closed)."""
OPEN_SQL = ", ".join(f"'{s}'" for s in OPEN)
log = logging.getLogger(__name__)
PROVISIONAL_DOC = '%"deadline_provisional":true%'
"""How the items projection's document (compact JSON) marks a provisional deadline."""


@dataclass
class EngineReport:
    on: date
    checked: int = 0
    urged: int = 0
    escalated: int = 0
    provisional: int = 0
    """Of the urges and escalations, those judged on the provisional calendar."""
    recomputed: int = 0
    """Provisional deadlines counted again because their year's notice was published."""


def deadline_run_done(report: EngineReport, office: str | None) -> None:
    """Count a run and its actions (``ducha_deadline_*``) and log what it did."""
    done = {action: getattr(report, action) for action in DEADLINE_ACTIONS}
    c = counters()
    c.deadline_runs.labels("ok").inc()
    for action, n in done.items():
        c.deadline_actions.labels(action).inc(n)
    c.deadline_last_run.set(time.time())
    log.info(
        "deadline run on %s%s: checked %d, urged %d, escalated %d (%d provisional), recomputed %d",
        report.on,
        f" for {office}" if office else "",
        *(done[a] for a in ("checked", "urged", "escalated", "provisional", "recomputed")),
        extra={"event": "deadline_run", "on": report.on.isoformat(), "only": office, **done},
    )


@dataclass
class YearAdded:
    """What ``add_year`` did: the notice, the file, and every deadline it recomputed."""

    year: int
    source: str
    file: str
    written: bool
    """False when the file already held this very notice."""
    checked: int = 0
    recomputed: list[dict[str, Any]] = field(default_factory=list)
    """``{office, id, kind, title, old_deadline, new_deadline, provisional}`` per record."""

    def to_dict(self) -> dict[str, Any]:
        return dict(plain(self))


class DeadlineEngine:
    def __init__(
        self,
        supervision: SupervisionService,
        registry: OfficeRegistry,
        read: ReadStore,
        calendar: GovernmentCalendar,
        clock: Clock,
    ) -> None:
        self.supervision = supervision
        self.registry = registry
        self.read = read
        self.calendar = calendar
        self.clock = clock

    def run(self, on: date | None = None, office: str | None = None) -> EngineReport:
        """Check every office (or one) as of ``on`` (default: today); act where due."""
        day = on or business_date(self.clock())
        acting = self._service_on(day) if on else self.supervision
        report = EngineReport(day)
        self.calendar.refresh()
        codes = [office] if office else self._active_offices()
        for code in codes:
            report.recomputed += len(self._recount(code, self._provisional_rows(code)))
            self._run_office(acting, code, day, report)
        deadline_run_done(report, office)
        return report

    # -- a year's holiday notice ----------------------------------------------------------
    def add_year(
        self, year: int, notice: Mapping[str, Any], data_file: Path | None = None
    ) -> YearAdded:
        """Add ``year``'s holiday notice and recompute the deadlines it changes.

        ``notice`` is the year's entry as in the data file (``{"source": …, "holidays": […],
        "workdays": […]}``, optionally wrapped in ``{"2027": …}``); it is validated first
        (``services.calendar.NoticeError`` names every problem, and nothing is written).
        Then it is written into ``data_file`` (default: the calendar's own file, else the
        shipped one), the calendar counts the year on it, and every open record of every active
        office whose deadline was counted across the year is counted again: one
        ``DeadlineRecomputed`` per record whose deadline moved or stopped being provisional.
        Running it again records nothing new."""
        data = parse_notice(year, notice)
        path = data_file or self.calendar.path or DEFAULT_DATA_FILE
        written = write_year(path, year, data)
        self.calendar.publish(year, data)
        added = YearAdded(year, data.source, str(path), written)
        for code in self._active_offices():
            rows = self.read.all(
                f"SELECT id, doc FROM items WHERE office = ? AND status IN ({OPEN_SQL}) "
                "AND deadline >= ?",
                (code, f"{year}-01-01"),
            )
            added.checked += len(rows)
            added.recomputed += self._recount(code, rows)
        return added

    def provisional_records(self, office: str | None = None) -> list[dict[str, Any]]:
        """Open records whose deadline is provisional (every active office, or one): office,
        id, kind, title, deadline and the note saying which notices are awaited."""
        found = []
        for code in [office] if office else self._active_offices():
            for row in self._provisional_rows(code):
                doc = json.loads(row["doc"])
                issued, deadline = (date.fromisoformat(doc[k]) for k in ("issued_on", "deadline"))
                years = self.calendar.provisional_years_between(issued, deadline)
                found.append(
                    {
                        "office": code,
                        "id": doc["id"],
                        "kind": doc["kind"],
                        "title": doc["title"],
                        "deadline": doc["deadline"],
                        "provisional_years": list(years),
                        "note": provisional_note(years),
                    }
                )
        return found

    def _provisional_rows(self, office: str) -> list[dict[str, Any]]:
        return self.read.all(
            f"SELECT id, doc FROM items WHERE office = ? AND status IN ({OPEN_SQL}) AND doc LIKE ?",
            (office, PROVISIONAL_DOC),
        )

    def _recount(self, office: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Recompute the rows whose counted deadline differs on the calendar as it now stands
        (worked out from the read model first, so unchanged records are not even loaded)."""
        done = []
        for row in rows:
            doc = json.loads(row["doc"])
            working_days = doc.get("deadline_working_days")
            if working_days is None:
                continue
            issued, old = date.fromisoformat(doc["issued_on"]), date.fromisoformat(doc["deadline"])
            counted = count_deadline(self.calendar, issued, working_days)
            if (counted.day, counted.provisional) == (old, bool(doc.get("deadline_provisional"))):
                continue
            reason, notice = self._reason(issued, max(old, counted.day))
            try:
                before = self.supervision.get(office, row["id"]).version
                after = self.supervision.recompute_deadline(office, row["id"], reason, notice)
            except DomainError:
                continue  # closed or completed meanwhile: its deadline no longer matters
            if after.version > before:
                done.append(
                    {
                        "office": office,
                        "id": after.id,
                        "kind": after.kind,
                        "title": after.title,
                        "old_deadline": old,
                        "new_deadline": after.deadline,
                        "provisional": after.deadline_provisional,
                    }
                )
        return done

    def _reason(self, issued: date, until: date) -> tuple[str, str]:
        """Why a count changed: the notices now known for the years it spans."""
        years = [
            y
            for y in range(issued.year, until.year + 1)
            if y in self.calendar.extra_years and self.calendar.extra_years[y].source
        ]
        notices = "；".join(f"{y}年：{self.calendar.extra_years[y].source}" for y in years)
        if not years:
            return "按现行节假日数据重新计算完成时限", ""
        listed = "、".join(str(y) for y in years)
        return f"{listed}年节假日安排已公布，按公布的安排重新计算完成时限（{notices}）", notices

    # -- urging and escalating ------------------------------------------------------------
    def _active_offices(self) -> list[str]:
        return [o.code for o in self.registry.all() if not o.retired]

    def _service_on(self, day: date) -> SupervisionService:
        """The same services, acting at noon on ``day`` (for backfills and demos)."""
        service = SupervisionService(
            self.supervision.backend, self.registry, lambda: at_noon(day), self.calendar
        )
        service.listeners = self.supervision.listeners
        return service

    def _run_office(
        self, service: SupervisionService, office: str, day: date, report: EngineReport
    ) -> None:
        policy = self.registry.get(office)
        engine = Actor("deadline-engine", office, "system")
        rows = self.read.all(
            "SELECT id, deadline, status, doc FROM items "
            f"WHERE office = ? AND status IN ({AWAITING})",
            (office,),
        )
        for row in rows:
            report.checked += 1
            doc = json.loads(row["doc"])
            deadline = date.fromisoformat(row["deadline"])
            level = light(row["status"], deadline, day, self.calendar)
            source = f"deadline:{deadline.isoformat()}:{level}"
            years = self._provisional_years(doc, deadline, day, level, policy)
            note = self._note(years)
            if level == "yellow":
                acted = self._act(
                    service,
                    engine,
                    office,
                    row["id"],
                    source,
                    "urge",
                    message=f"距完成时限（{deadline}）不足3个工作日，请抓紧办理并按时报送{note}",
                    provisional=bool(years),
                )
                report.urged += acted
            elif level == "red" and self._escalates(policy, deadline, day):
                assigning = (doc["parent"] or {}).get("office", office)
                acted = self._act(
                    service,
                    engine,
                    office,
                    row["id"],
                    source,
                    "escalate",
                    to=assigning,
                    reason=f"已超过完成时限（{deadline}），自动督办{note}",
                    provisional=bool(years),
                )
                report.escalated += acted
            else:
                continue
            report.provisional += acted if years else 0

    def _provisional_years(
        self, doc: dict[str, Any], deadline: date, day: date, level: str, policy: OfficeView
    ) -> tuple[int, ...]:
        """The unpublished years a judgement rests on: the deadline's own count, and the
        working days counted today (to the yellow horizon, or the grace past the deadline)."""
        years: set[int] = set()
        if doc.get("deadline_provisional"):
            issued = date.fromisoformat(doc["issued_on"])
            years.update(self.calendar.provisional_years_between(issued, deadline))
        if level == "yellow":
            horizon = yellow_until(day, self.calendar)
            years.update(self.calendar.provisional_years_between(day, horizon))
        elif level == "red" and policy.grace_working_days:
            years.update(self.calendar.provisional_years_between(deadline, day))
        return tuple(sorted(years))

    @staticmethod
    def _note(years: tuple[int, ...]) -> str:
        if not years:
            return ""
        listed = "、".join(str(y) for y in years)
        return f"（按暂定日历推算：{listed}年节假日安排尚未公布）"

    def _escalates(self, policy: OfficeView, deadline: date, day: date) -> bool:
        """Escalation is on for the office and its grace (working days) has passed."""
        late = self.calendar.working_days_between(deadline, day)
        return policy.escalate and late > policy.grace_working_days

    @staticmethod
    def _act(
        service: SupervisionService,
        engine: Actor,
        office: str,
        record: str,
        source: str,
        action: str,
        **params: Any,
    ) -> int:
        """1 if the event was recorded now, 0 if it had been (same source) or no longer applies."""
        before = service.get(office, record).version
        try:
            after = service.act(engine, office, record, action, None, source=source, **params)
        except DomainError:
            return 0
        return int(after.version > before)
