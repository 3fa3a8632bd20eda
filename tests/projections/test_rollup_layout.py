"""Upgrading a read store whose roll-up an earlier version built (version 1: matters stored
whole, before they were stored less their records): this version (2) leaves it alone until
``ducha projections upgrade rollup`` builds the new rows beside it and switches them in; the
answers are then those of a rebuild, and a store already at version 2 keeps its rows."""

from __future__ import annotations

from domain.assignment import Assignee
from projections.readstore import ReadStore
from services.bootstrap import Platform, Settings, build_platform
from services.upgrade import outdated, upgrade_projections
from tests.conftest import FixedClock
from tests.scenario import build_hierarchy, new_item, person

TABLES = ("rollup", "rollup_daily", "rollup_days", "rollup_records", "rollup_record_days")


def counts(read: ReadStore) -> dict[str, int]:
    return {t: int(read.all(f"SELECT COUNT(*) AS n FROM {t}")[0]["n"]) for t in TABLES}


def rollup_position(p: Platform, office: str) -> int:
    rows = p.read.all(
        "SELECT position FROM tracking WHERE consumer = 'rollup' AND office = ?", (office,)
    )
    return int(rows[0]["position"]) if rows else 0


def test_an_earlier_versions_rollup_is_left_alone_until_upgraded(settings: Settings) -> None:
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
        with p.read.transaction() as tx:  # as version 1 left it: other rows, version 1
            tx.execute("UPDATE rollup SET value = value + 5 WHERE metric = 'total'")
            tx.execute("UPDATE read_models SET version = 1 WHERE consumer = 'rollup'")
        stale = p.views.rollup("state-council")
        assert stale != expected
    finally:
        p.close()
    p = build_platform(settings, clock=clock, catch_up=False)  # starts, whatever it finds
    try:
        assert outdated(p) == ["rollup"]
        before = rollup_position(p, "gansu")
        p.supervision.register_item(person("gansu"), "gansu", new_item("升级前登记"))
        assert rollup_position(p, "gansu") == before  # version 2 never writes version 1's rows
        assert p.views.rollup("state-council") == stale
        upgrade_projections(p, outdated(p))
        assert outdated(p) == []
        upgraded = p.views.rollup("state-council")
        assert upgraded["records"]["total"] == 4 and upgraded["matters"]["total"] == 3
        p.runner.rebuild(["rollup"])  # the oracle: version 2 rebuilt in place
        assert p.views.rollup("state-council") == upgraded
        rebuilt = counts(p.read)
    finally:
        p.close()
    p = build_platform(settings, clock=clock, catch_up=False)  # current: nothing moves
    try:
        assert outdated(p) == [] and counts(p.read) == rebuilt != built
        assert p.views.rollup("state-council") == upgraded
    finally:
        p.close()
