"""The registry reads registrations straight from their JSON on its first query (issue 15 §1:
a process's start costs little whatever the number of offices): what it knows then is exactly
what decoding every event the long way gives, on both backends."""

from __future__ import annotations

from dataclasses import asdict

from services.bootstrap import Platform
from services.registry import OfficeRegistry
from tests.scenario import ADMIN, build_hierarchy


class LongWay(OfficeRegistry):
    def _registered(self, notification: object) -> None:
        self._apply(self.store.mapper.to_domain_event(notification))  # type: ignore[arg-type]


def test_the_short_way_knows_what_the_long_way_knows(platform: Platform) -> None:
    build_hierarchy(platform)
    registry = platform.registry
    registry.rename(ADMIN, "baiyin", "白银市人民政府办公室（新）")
    registry.set_deadline_policy(ADMIN, "gansu", True, 3)
    registry.retire(ADMIN, "pingchuan", "撤并")
    fresh = OfficeRegistry(platform.backend, platform.clock)
    slow = LongWay(platform.backend, platform.clock)
    assert [asdict(o) for o in fresh.all()] == [asdict(o) for o in slow.all()]
    assert fresh._codes == slow._codes
    assert fresh.get("baiyin").name == "白银市人民政府办公室（新）"
    assert fresh.get("pingchuan").retired and fresh.get("gansu").grace_working_days == 3
