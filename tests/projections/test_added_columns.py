"""A read model made by an earlier version gains the columns added since, when it starts: the
audit trail's channel and operating-system user, on SQLite and PostgreSQL."""

from __future__ import annotations

from services.bootstrap import Settings, build_platform
from services.cli.common import operator
from tests.conftest import FixedClock
from tests.scenario import build_hierarchy, new_item

OLD_AUDIT = """CREATE TABLE audit (
    office TEXT NOT NULL, position BIGINT NOT NULL, record_id TEXT NOT NULL,
    record_type TEXT NOT NULL, version INTEGER NOT NULL, type TEXT NOT NULL,
    time TEXT NOT NULL, actor_user TEXT NOT NULL, actor_office TEXT NOT NULL,
    actor_role TEXT NOT NULL, summary TEXT NOT NULL, PRIMARY KEY (office, position))"""


def test_an_old_audit_table_gains_the_channel_and_keeps_its_rows(settings: Settings) -> None:
    first = build_platform(settings, clock=FixedClock())
    try:
        with first.read.transaction() as tx:
            tx.execute("DROP TABLE audit")
            tx.execute(OLD_AUDIT)
            tx.execute(
                "INSERT INTO audit VALUES ('gansu', 999, 'r', 'SupervisionItem', 1, 'Registered', "
                "'2026-03-01T04:00:00+00:00', 'u', 'gansu', 'clerk', '旧的记录')"
            )
    finally:
        first.close()
    again = build_platform(settings, clock=FixedClock())  # starts on the old table
    try:
        build_hierarchy(again)
        ops = operator("张三", "gansu", "supervisor")
        case = again.supervision.register_item(ops, "gansu", new_item())
        new, old = again.views.audit("gansu").items  # by position: ours is 1
        assert (old["summary"], old["actor_channel"], old["actor_os_user"]) == ("旧的记录", "", "")
        assert new["record_id"] == str(case.id)
        assert (new["actor_channel"], new["actor_os_user"]) == ("cli", ops.os_user)
    finally:
        again.close()
