"""The gauges read from the platform when Prometheus scrapes: how far each consumer of the read
side is behind the offices' logs (aggregated, plus the top-N laggards), its dead letters, and
the holiday calendar's horizon. May import: the standard library, prometheus-client,
``domain.values`` (the business date) and ``services.bootstrap`` (the ``Platform``, typed).

Lag costs a few queries whatever the number of offices: ``Runner.status`` reads every
office's last notification id at once (the heads table on PostgreSQL) and every position and
dead letter in one query each. Only the top-N laggards of each consumer have their *seconds*
behind measured (the age of the first event they have not applied, one event read from the
office's store), so 3,233 offices make a handful of series, not 3,233.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from domain.values import business_date
from projections.runner import ConsumerStatus
from services.bootstrap import Platform

log = logging.getLogger(__name__)

TOP = 10
"""How many laggards of each consumer get a series of their own (``DUCHA_METRICS_TOP``)."""


def gauge(name: str, doc: str, labels: tuple[str, ...] = ()) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, labels=list(labels))


class PlatformGauges:
    """A prometheus-client collector over one platform (read at each scrape)."""

    def __init__(self, platform: Platform, top: int = TOP) -> None:
        self.platform = platform
        self.top = top

    def collect(self) -> Iterator[Metric]:
        started = time.perf_counter()
        readable = gauge("ducha_platform_readable", "1 if the last scrape could read the read side")
        try:
            found = list(self._lag()) + list(self._horizon())
            readable.add_metric([], 1)
        except Exception as e:  # the database is down, say: the counters still answer
            log.error("metrics: the platform could not be read: %r", e)
            found = []
            readable.add_metric([], 0)
        yield from found
        yield readable
        took = gauge("ducha_metrics_collect_seconds", "Time this scrape took to read the platform")
        took.add_metric([], time.perf_counter() - started)
        yield took

    # -- lag and dead letters ----------------------------------------------------------
    def _lag(self) -> Iterator[Metric]:
        statuses = self.platform.runner.status()
        by_consumer: dict[tuple[str, str], list[ConsumerStatus]] = defaultdict(list)
        for s in statuses:
            by_consumer[(s.consumer, s.kind)].append(s)
        families = {
            "sum": gauge(
                "ducha_consumer_events_behind",
                "Events not yet applied, summed over offices",
                ("consumer", "kind"),
            ),
            "max": gauge(
                "ducha_consumer_events_behind_max",
                "Events not yet applied by the office furthest behind",
                ("consumer",),
            ),
            "count": gauge(
                "ducha_consumer_offices_behind",
                "Offices with events not yet applied",
                ("consumer",),
            ),
            "dead": gauge(
                "ducha_dead_letters",
                "Offices where the consumer is stopped at a dead letter",
                ("consumer",),
            ),
            "top": gauge(
                "ducha_consumer_laggard_events_behind",
                "Events not yet applied, for each consumer's top-N offices furthest behind",
                ("consumer", "office"),
            ),
            "age": gauge(
                "ducha_consumer_laggard_seconds_behind",
                "Age of the first event not yet applied, for the same top-N offices",
                ("consumer", "office"),
            ),
            "oldest": gauge(
                "ducha_consumer_seconds_behind_max",
                "The oldest first-unapplied event's age among the consumer's top-N laggards",
                ("consumer",),
            ),
        }
        ages: dict[tuple[str, int], float] = {}
        for (consumer, kind), found in sorted(by_consumer.items()):
            self._consumer(consumer, kind, found, families, ages)
        unreadable = gauge(
            "ducha_offices_unreadable", "Offices whose notification log could not be read"
        )
        unreadable.add_metric([], len({s.office for s in statuses if s.last is None}))
        offices = gauge("ducha_offices", "Offices registered")
        offices.add_metric([], len({s.office for s in statuses}))
        yield from (*families.values(), unreadable, offices)

    def _consumer(
        self,
        consumer: str,
        kind: str,
        found: list[ConsumerStatus],
        families: dict[str, GaugeMetricFamily],
        ages: dict[tuple[str, int], float],
    ) -> None:
        behind = sorted((s for s in found if s.lag), key=lambda s: (-(s.lag or 0), s.office))
        families["sum"].add_metric([consumer, kind], sum(s.lag or 0 for s in behind))
        families["max"].add_metric([consumer], behind[0].lag or 0 if behind else 0)
        families["count"].add_metric([consumer], len(behind))
        families["dead"].add_metric([consumer], sum(1 for s in found if s.dead_letter))
        oldest = 0.0
        for s in behind[: self.top]:
            families["top"].add_metric([consumer, s.office], s.lag or 0)
            key = (s.office, s.position)
            if key not in ages:
                ages[key] = self._age(s.office, s.position)
            families["age"].add_metric([consumer, s.office], ages[key])
            oldest = max(oldest, ages[key])
        families["oldest"].add_metric([consumer], oldest)

    def _age(self, office: str, position: int) -> float:
        """Seconds since the first event after ``position`` was recorded (domain time)."""
        store = self.platform.backend.store(office)
        batch = store.recorder.select_notifications(position + 1, 1)
        if not batch:
            return 0.0
        event: Any = store.mapper.to_domain_event(batch[0])
        recorded: datetime = event.timestamp  # every event of ours has one
        return max(0.0, (self.platform.clock() - recorded).total_seconds())

    # -- the calendar --------------------------------------------------------------------
    def _horizon(self) -> Iterator[Metric]:
        """The last day of the last year published without a gap from this year on."""
        today = business_date(self.platform.clock())
        calendar = self.platform.calendar
        year = today.year - 1
        while calendar.covers(year + 1) and year < today.year + 50:
            year += 1
        days = gauge(
            "ducha_calendar_horizon_days",
            "Days until the last published holiday year ends (negative: this year is "
            "counted on the provisional calendar)",
        )
        days.add_metric([], (date(year, 12, 31) - today).days)
        last = gauge("ducha_calendar_last_published_year", "The last year published without a gap")
        last.add_metric([], year)
        yield from (days, last)
