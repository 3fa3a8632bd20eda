"""What every demo story uses: the demo's clock (each step on its own date), ids derived from fixed
keys (so seeding twice adds nothing), the offices, and ``Story``, the steps a story takes through
the supervision service. May import: the standard library, the domain, ``services.clock`` and
``services.supervision``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from uuid import NAMESPACE_URL, UUID, uuid5

from domain.assignment import Assignee
from domain.tasks import Task
from domain.values import Actor
from services.clock import at_noon
from services.supervision import NewItem, SupervisionService

DEMO_NAMESPACE = uuid5(NAMESPACE_URL, "urn:ducha:demo")
DEMO_TODAY = date(2026, 11, 20)

OFFICES: list[tuple[str, str, str, str | None]] = [
    ("state-council", "国务院办公厅", "central", None),
    ("ndrc", "国家发展和改革委员会", "ministry", "state-council"),
    ("mof", "财政部", "ministry", "state-council"),
    ("mem", "应急管理部", "ministry", "state-council"),
    ("guangdong", "广东省人民政府办公厅", "province", "state-council"),
    ("guangzhou", "广州市人民政府办公厅", "prefecture", "guangdong"),
    ("tianhe", "广州市天河区人民政府办公室", "county", "guangzhou"),
    ("shenzhen", "深圳市人民政府办公厅", "prefecture", "guangdong"),
    ("sichuan", "四川省人民政府办公厅", "province", "state-council"),
    ("chengdu", "成都市人民政府办公厅", "prefecture", "sichuan"),
    ("pidu", "成都市郫都区人民政府办公室", "county", "chengdu"),
    ("mianyang", "绵阳市人民政府办公室", "prefecture", "sichuan"),
    ("gansu", "甘肃省人民政府办公厅", "province", "state-council"),
    ("lanzhou", "兰州市人民政府办公室", "prefecture", "gansu"),
    ("baiyin", "白银市人民政府办公室", "prefecture", "gansu"),
    ("pingchuan", "白银市平川区人民政府办公室", "county", "baiyin"),
    ("jingyuan", "靖远县人民政府办公室", "county", "baiyin"),
]


class DemoClock:
    """The demo's own time: set to each step's day."""

    def __init__(self) -> None:
        self.now = at_noon(DEMO_TODAY)

    def __call__(self) -> datetime:
        return self.now

    def on(self, day: date) -> None:
        self.now = at_noon(day)


@dataclass(frozen=True)
class Summary:
    offices: int
    items: int


class Story:
    """Helpers a story uses to act as the people of each office."""

    def __init__(self, service: SupervisionService, clock: DemoClock) -> None:
        self.s = service
        self.clock = clock

    @staticmethod
    def person(office: str, role: str) -> Actor:
        return Actor(f"{office}-{role}", office, role, channel="demo")

    def register(self, key: str, office: str, day: date, new: NewItem) -> str:
        self.clock.on(day)
        item_id = demo_id(key)
        self.s.register_item(self.person(office, "supervisor"), office, new, item_id)
        return str(item_id)

    def act(
        self, day: date, office: str, role: str, item_id: str, action: str, **params: object
    ) -> None:
        self.clock.on(day)
        self.s.act(self.person(office, role), office, item_id, action, None, **params)

    def assign_down(
        self,
        day: date,
        office: str,
        item_id: str,
        lead: str,
        co: tuple[str, ...] = (),
        **kw: object,
    ) -> dict[str, str]:
        """Assign to offices; the process manager creates their tasks (ids are derived)."""
        assignees = [Assignee("office", lead, "lead")] + [Assignee("office", c, "co") for c in co]
        self.act(day, office, "supervisor", item_id, "assign", assignees=assignees, **kw)
        return {t: str(Task.create_id(office, item_id, t)) for t in (lead, *co)}


def demo_id(key: str) -> UUID:
    return uuid5(DEMO_NAMESPACE, key)
