"""The deadline engine (自动催办, 自动督办): run daily, or for a given day.

For each office's records still awaiting work (per the items projection): at **yellow**
(≤ 3 working days left) it urges once; at **red** (overdue) it escalates to the assigning
office, if the office's policy escalates and its grace (working days) has passed. Its events
have actor ``system`` and carry the source ``deadline:<deadline>:<level>``, so each happens
once per (record, deadline, level): running twice changes nothing, and a new deadline
(an extension) may be urged again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

from domain.errors import DomainError
from domain.lights import AWAITING_WORK, light
from domain.values import Actor, business_date
from projections.readstore import ReadStore
from services.calendar import CalendarDataMissingError, GovernmentCalendar
from services.clock import Clock, at_noon
from services.registry import OfficeRegistry
from services.supervision import SupervisionService
from services.views import OfficeView

AWAITING = ", ".join(f"'{s}'" for s in AWAITING_WORK)


@dataclass
class EngineReport:
    on: date
    checked: int = 0
    urged: int = 0
    escalated: int = 0


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
        codes = [office] if office else [o.code for o in self.registry.all() if not o.retired]
        for code in codes:
            self._run_office(acting, code, day, report)
        return report

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
            deadline = date.fromisoformat(row["deadline"])
            level = light(row["status"], deadline, day, self.calendar)
            source = f"deadline:{deadline.isoformat()}:{level}"
            try:
                if level == "yellow":
                    report.urged += self._act(
                        service,
                        engine,
                        office,
                        row["id"],
                        source,
                        "urge",
                        message=f"距完成时限（{deadline}）不足3个工作日，请抓紧办理并按时报送",
                    )
                elif level == "red" and self._escalates(policy, deadline, day):
                    assigning = (json.loads(row["doc"])["parent"] or {}).get("office", office)
                    report.escalated += self._act(
                        service,
                        engine,
                        office,
                        row["id"],
                        source,
                        "escalate",
                        to=assigning,
                        reason=f"已超过完成时限（{deadline}），自动督办",
                    )
            except CalendarDataMissingError:
                continue  # a deadline in a year without holiday data is never guessed at

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
        **params: str,
    ) -> int:
        """1 if the event was recorded now, 0 if it had been (same source) or no longer applies."""
        before = service.get(office, record).version
        try:
            after = service.act(engine, office, record, action, None, source=source, **params)
        except DomainError:
            return 0
        return int(after.version > before)
