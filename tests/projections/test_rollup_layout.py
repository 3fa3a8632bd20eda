"""Upgrading a read store whose roll-up has an older layout (matters stored whole, before
they were stored less their records): its roll-up rows and positions are dropped when a
process first opens it, start-up goes on, and a rebuild of ``rollup`` (or a catch-up) fills
the tables anew; a read store already in the current layout keeps its rows."""

from __future__ import annotations

from domain.assignment import Assignee
from projections.readstore import ReadStore
from services.bootstrap import Settings, build_platform
from tests.conftest import FixedClock
from tests.scenario import build_hierarchy, new_item, person

TABLES = ("rollup", "rollup_daily", "rollup_days", "rollup_records", "rollup_record_days")


def counts(read: ReadStore) -> dict[str, int]:
    return {t: int(read.all(f"SELECT COUNT(*) AS n FROM {t}")[0]["n"]) for t in TABLES}


def test_an_older_layout_is_dropped_on_start_and_rebuilt(settings: Settings) -> None:
    clock = FixedClock("2026-03-02")
    p = build_platform(settings, clock=clock)
    try:
        build_hierarchy(p)
        s = p.supervision
        item = s.register_item(person("state-council"), "state-council", new_item("交办事项"))
        lead = [Assignee("office", "gansu", "lead")]
        s.act(person("state-council"), "state-council", item.id, "assign", assignees=lead)
        s.register_item(person("gansu"), "gansu", new_item("自办事项"))
        expected = p.views.rollup("state-council")
        assert expected["matters"]["total"] == 2 and expected["records"]["total"] == 3
        built = counts(p.read)
        with p.read.transaction() as tx:  # as an earlier version left it
            tx.execute("DROP TABLE rollup_layout")
            tx.execute("UPDATE rollup SET value = value + 5 WHERE metric = 'm.total'")
    finally:
        p.close()
    p = build_platform(settings, clock=clock, catch_up=False)  # starts, whatever it finds
    try:
        assert counts(p.read) == dict.fromkeys(TABLES, 0)
        assert not p.read.all("SELECT * FROM tracking WHERE consumer = 'rollup'")
        assert p.read.all("SELECT version FROM rollup_layout") == [{"version": 2}]
        assert p.read.all("SELECT * FROM tracking WHERE consumer = 'items'")  # others kept
        p.runner.rebuild(["rollup"])
        assert p.views.rollup("state-council") == expected
        assert counts(p.read) == built
    finally:
        p.close()
    p = build_platform(settings, clock=clock, catch_up=False)  # current: nothing dropped
    try:
        assert counts(p.read) == built
        assert p.views.rollup("state-council") == expected
    finally:
        p.close()
