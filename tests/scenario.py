"""A small hierarchy and item used by service, backend and CLI tests."""

from __future__ import annotations

from datetime import date

from domain.values import Actor
from services.bootstrap import Platform
from services.supervision import NewItem

ADMIN = Actor("admin", "platform", "admin")

HIERARCHY = [
    ("state-council", "国务院办公厅", "central", None),
    ("gansu", "甘肃省人民政府办公厅", "province", "state-council"),
    ("sichuan", "四川省人民政府办公厅", "province", "state-council"),
    ("baiyin", "白银市人民政府办公室", "prefecture", "gansu"),
    ("pingchuan", "白银市平川区人民政府办公室", "county", "baiyin"),
]


def build_hierarchy(platform: Platform) -> None:
    for code, name, level, parent in HIERARCHY:
        platform.registry.register(ADMIN, code, name, level, parent)


def new_item(title: str = "关于煤矿安全事故的批示", **overrides: object) -> NewItem:
    fields: dict[str, object] = dict(
        title=title,
        source_kind="instruction",
        source_ref="国办督〔2026〕37号",
        issued_on=date(2026, 3, 2),
        objective="查明事故原因",
        content="开展事故调查",
        executing_unit="督查室",
        responsible_person="王建国",
    )
    fields.update(overrides)
    return NewItem(**fields)  # type: ignore[arg-type]


def person(office: str, role: str = "clerk") -> Actor:
    return Actor(f"{office}-{role}", office, role)
