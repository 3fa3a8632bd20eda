"""A realistic demo: the State Council General Office, ministries, provinces, prefectures and
counties, with items from all four source kinds at every stage (as of 2026-11-20). May import:
click, the domain's values, ``services.bootstrap`` (the platform), ``services.users`` and the
stories' modules.

Every id is derived from a fixed key, and a story whose first item exists is skipped, so
seeding twice adds nothing. The demo keeps its own clock: each step happens on its own date.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from contextlib import nullcontext
from datetime import date
from pathlib import Path

import click

from domain.values import Actor
from services.bootstrap import Platform, build_platform
from services.demo.decisions import income_decision
from services.demo.documents import business_environment, chengdu_circular, safety_document
from services.demo.instructions import coal_mine_instruction, gansu_river
from services.demo.meetings import employment_meeting, sichuan_rectification
from services.demo.story import OFFICES, DemoClock, Story, Summary, demo_id
from services.passwords import generated_password
from services.users import UserDirectory

__all__ = ["OFFICES", "seed", "seed_users"]

STORIES: list[tuple[str, str, Callable[[Story], None]]] = [
    ("state-council", "coal-mine", coal_mine_instruction),
    ("state-council", "winter-safety", safety_document),
    ("state-council", "employment-meeting", employment_meeting),
    ("state-council", "income-decision", income_decision),
    ("guangdong", "gd-business", business_environment),
    ("sichuan", "sc-flood", sichuan_rectification),
    ("gansu", "gs-river", gansu_river),
    ("chengdu", "cd-elderly", chengdu_circular),
]
"""(office, key of the story's first item, story)."""


def seed(platform: Platform, progress: bool = False) -> Summary:
    """Register the demo offices and play each story not played yet, on the demo's clock."""
    clock = DemoClock()
    demo = build_platform(platform.settings, clock=clock)
    try:
        return play(demo, clock, progress)
    finally:
        demo.close()


def play(demo: Platform, clock: DemoClock, progress: bool) -> Summary:
    admin = Actor("demo", "platform", "admin", channel="demo")
    clock.on(date(2026, 1, 5))
    for code, name, level, parent in OFFICES:
        if not demo.registry.exists(code):
            demo.registry.register(admin, code, name, level, parent)
    story = Story(demo.supervision, clock)
    bar = click.progressbar(STORIES, label="seeding demo", file=sys.stderr, show_pos=True)
    with bar if progress else nullcontext(STORIES) as stories:
        for office, key, play_story in stories:
            if not demo.supervision.exists(office, demo_id(key)):
                play_story(story)
    items = sum(len(demo.supervision.list_cases(code)) for code, *_ in OFFICES)
    return Summary(offices=len(OFFICES), items=items)


DEMO_USERS: list[tuple[str, str, str]] = [
    ("state-council", "admin", "平台管理员"),
    ("state-council", "leader", "国办督查室主任"),
    ("state-council", "supervisor", "国办督查专员"),
    ("state-council", "auditor", "国办审计专员"),
    ("gansu", "leader", "甘肃省政府办公厅督查室主任"),
    ("gansu", "supervisor", "甘肃省督查专员"),
    ("gansu", "clerk", "甘肃省办公厅经办人"),
    ("baiyin", "clerk", "白银市办公室经办人"),
    ("pingchuan", "clerk", "平川区办公室经办人"),
    ("sichuan", "leader", "四川省政府办公厅督查室主任"),
]
"""Who can sign in to the demo: (office, role, name)."""


def seed_users(users: UserDirectory, tokens_file: Path) -> list[dict[str, str]]:
    """Demo users, once, each with an API token and a login and password for the screens
    (login ``OFFICE-ROLE``). Kept in ``tokens_file`` (demo only: a real deployment hands each
    secret to its holder and keeps nothing but the hashes). Demo users seeded before logins
    existed are given one."""
    admin = Actor("demo", "state-council", "admin", channel="demo")
    seeded: list[dict[str, str]] = (
        json.loads(tokens_file.read_text(encoding="utf-8")) if tokens_file.exists() else []
    )
    if not seeded:
        for office, role, name in DEMO_USERS:
            login, password = f"{office}-{role}", generated_password()
            user, token = users.add(admin, office, role, name, login, password)
            seeded.append(
                {"office": office, "role": role, "name": name, "id": user.id, "token": token}
                | {"login": login, "password": password}
            )
    for entry in seeded:
        if "login" not in entry:
            entry["login"], entry["password"] = (
                f"{entry['office']}-{entry['role']}",
                generated_password(),
            )
            users.give_login(admin, entry["id"], entry["login"], entry["password"])
    tokens_file.parent.mkdir(parents=True, exist_ok=True)
    tokens_file.write_text(json.dumps(seeded, ensure_ascii=False, indent=2), encoding="utf-8")
    tokens_file.chmod(0o600)
    return seeded
