"""The registry places each office below its parent's level (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest

from domain.errors import OfficeLevelError
from domain.offices import Office
from services.bootstrap import Platform
from tests.scenario import ADMIN, build_hierarchy


def test_a_province_under_a_county_is_refused_and_nothing_is_provisioned(
    platform: Platform,
) -> None:
    build_hierarchy(platform)
    before = [o.code for o in platform.registry.all()]
    with pytest.raises(OfficeLevelError) as refused:
        platform.registry.register(ADMIN, "qinghai", "青海省政府办", "province", "pingchuan")
    assert str(refused.value) == (
        "an office of level 'province' may not sit under 'pingchuan' (level 'county'): "
        "a province sits directly under a central office"
    )
    assert [o.code for o in platform.registry.all()] == before
    assert not platform.backend.is_provisioned("qinghai")


def test_offices_are_judged_by_the_nearest_ranked_office_above(platform: Platform) -> None:
    build_hierarchy(platform)
    registry = platform.registry
    registry.register(ADMIN, "jiayuguan", "嘉峪关市人民政府办公室", "prefecture", "gansu")
    registry.register(ADMIN, "gaolan", "皋兰县人民政府办公室", "county", "gansu")  # 省直管县
    registry.register(ADMIN, "wangjiashan", "王家山镇人民政府", "other", "pingchuan")
    with pytest.raises(OfficeLevelError, match="below 'pingchuan' \\(level 'county'\\)"):
        registry.register(ADMIN, "new-city", "新市", "prefecture", "wangjiashan")
    with pytest.raises(OfficeLevelError, match="'state-council' \\(level 'central'\\)"):
        registry.register(ADMIN, "xigu", "西固区", "county", "state-council")
    assert [o.code for o in registry.children("gansu")] == ["baiyin", "gaolan", "jiayuguan"]


def test_offices_registered_before_the_rule_are_not_judged_again(platform: Platform) -> None:
    """Events are history: a registration stored before the rule still loads, and its level
    is the one offices under it are judged by."""
    build_hierarchy(platform)
    legacy = Office.register(ADMIN, platform.clock(), "old-prov", "旧省", "province", "pingchuan")
    platform.registry.store.save(legacy)
    platform.backend.provision("old-prov")
    assert platform.registry.get("old-prov").level == "province"
    assert platform.registry.ancestors("old-prov")[0].code == "pingchuan"
    platform.registry.register(ADMIN, "old-city", "旧市", "prefecture", "old-prov")
    assert platform.registry.get("old-city").parent == "old-prov"
