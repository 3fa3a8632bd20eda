"""The golden test: incrementally built projections equal a full rebuild from the stores."""

from __future__ import annotations

import tempfile
from contextlib import suppress
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.assignment import Assignee
from domain.errors import DomainError
from projections import runner
from services.bootstrap import Platform, Settings, build_platform
from services.errors import ServiceError
from tests.conftest import FixedClock, fresh_database
from tests.scenario import HIERARCHY, build_hierarchy, new_item, person

OFFICES = [code for code, *_ in HIERARCHY]
CHILDREN = {code: [c for c, _, _, p in HIERARCHY if p == code] for code in OFFICES}
OPS = [
    "register",
    "assign",
    "acknowledge",
    "report-progress",
    "report-completion",
    "accept-completion",
    "accept-assignee",
    "request-extension",
    "grant-assignee",
    "grant-own",
    "urge",
    "commend",
    "order-rectification",
    "report-rectification",
    "close",
    "publish",
]
steps = st.lists(
    st.tuples(st.sampled_from(OPS), st.integers(0, 99), st.integers(0, 99), st.integers(0, 3)),
    min_size=5,
    max_size=40,
)


def attempt(p: Platform, clock: FixedClock, op: str, a: int, b: int, days: int) -> None:
    clock.now += timedelta(days=days)
    cases = [(r["office"], r["id"]) for r in p.read.all("SELECT office, id FROM items")]
    office = OFFICES[a % len(OFFICES)]
    if op == "register":
        p.supervision.register_item(
            person(office), office, new_item(f"事项{a}", deadline=date(2026, 4, 1 + b % 20))
        )
        return
    if not cases:
        return
    office, record = cases[a % len(cases)]
    s, who = p.supervision, person(office)
    children = CHILDREN[office]
    child = children[b % len(children)] if children else ""
    if op in ("assign", "accept-assignee", "grant-assignee") and not child:
        return
    act: dict[str, tuple[str, dict[str, Any]]] = {
        "assign": ("assign", {"assignees": [Assignee("office", child or "xx", "lead")]}),
        "acknowledge": ("acknowledge", {}),
        "report-progress": ("report-progress", {"text": "进展", "percent": b}),
        "report-completion": ("report-completion", {"text": "完成"}),
        "accept-completion": ("accept-completion", {}),
        "accept-assignee": ("accept-completion", {"assignee": child}),
        "request-extension": (
            "request-extension",
            {"new_deadline": date(2026, 5, 1 + b % 20), "reason": "复核"},
        ),
        "grant-assignee": ("grant-extension", {"assignee": child}),
        "grant-own": ("grant-extension", {}),  # an item extends itself, then may extend below
        "urge": ("urge", {"message": "请加快"}),
        "commend": ("commend", {"reason": "好"}),
        "order-rectification": ("order-rectification", {"requirements": "整改"}),
        "report-rectification": ("report-rectification", {"text": "已整改"}),
        "close": ("close", {"reason": "撤销", "leader_closure": True}),
        "publish": ("publish", {"summary": "公开"}),
    }
    action, params = act[op]
    leading = ("close", "accept-completion", "accept-assignee", "grant-own")
    role = "leader" if op in leading else "clerk"
    # A random step may break a rule: it is refused and records nothing.
    with suppress(DomainError, ServiceError):
        s.act(person(office, role) if role != "clerk" else who, office, record, action, **params)


def dump(p: Platform) -> dict[str, list[tuple[Any, ...]]]:
    tables = {
        "items": "SELECT * FROM items ORDER BY office, id",
        "audit": "SELECT * FROM audit ORDER BY office, position",
        "rollup": "SELECT * FROM rollup WHERE value <> 0 ORDER BY office, metric, key",
        "rollup_records": "SELECT * FROM rollup_records ORDER BY office, id",
        "rollup_daily": (
            "SELECT * FROM rollup_daily WHERE value <> 0 ORDER BY office, day, metric, key"
        ),
        "rollup_days": "SELECT * FROM rollup_days ORDER BY office, day, source",
        "rollup_record_days": ("SELECT * FROM rollup_record_days ORDER BY matter, office, id, day"),
    }
    return {name: [tuple(r.values()) for r in p.read.all(sql)] for name, sql in tables.items()}


def check_matters_counted_once(p: Platform) -> None:
    """Each office's matter count is the number of distinct root items among the records of
    its subtree, counted from the items table (not from the roll-up's own rows); on-time
    rates are over what is due."""
    records = p.read.all("SELECT office, root_office, root_id FROM items")
    for office in OFFICES:
        subtree = {office, *(o.code for o in p.registry.descendants(office))}
        roots = {(r["root_office"], r["root_id"]) for r in records if r["office"] in subtree}
        mine = [r for r in records if r["office"] in subtree]
        counted = p.views.rollup(office)
        assert counted["matters"]["total"] == len(roots)
        assert counted["records"]["total"] == len(mine)
        for part in ("records", "matters"):
            figures = counted[part]
            assert figures["due"] == figures["completed"] + figures["overdue"]
            if figures["overdue"]:  # never 100 % while anything is overdue
                assert figures["on_time_rate"] is not None and figures["on_time_rate"] < 1
            assert (figures["on_time_rate"] is None) == (figures["due"] == 0)


def check(settings_: Settings, scenario: list[tuple[str, int, int, int]]) -> None:
    clock = FixedClock("2026-03-02")
    p = build_platform(settings_, clock=clock)
    try:
        build_hierarchy(p)
        for step in [("register", 0, 0, 0), *scenario]:
            attempt(p, clock, *step)
        incremental = dump(p)
        assert incremental["audit"]  # the scenario recorded something
        check_matters_counted_once(p)
        p.runner.rebuild()
        assert dump(p) == incremental
        # again in batches of three events with two records' states kept: records' histories
        # split across batches, and states evicted and reloaded from the stores mid-batch
        with patch.multiple(runner, REBUILD_BATCH=3, REBUILD_STATES=2):
            p.runner.rebuild()
        assert dump(p) == incremental
    finally:
        p.close()


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=steps)
def test_incremental_equals_rebuild_on_sqlite(scenario: list[tuple[str, int, int, int]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        check(Settings(data_dir=Path(tmp) / "var"), scenario)


@pytest.mark.postgres
def test_incremental_equals_rebuild_on_postgres(pg_server_url: str) -> None:
    @settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(scenario=steps)
    def run(scenario: list[tuple[str, int, int, int]]) -> None:
        with fresh_database(pg_server_url, "g") as url:
            check(Settings(database_url=url), scenario)

    run()
