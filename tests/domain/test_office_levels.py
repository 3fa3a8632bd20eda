"""Office levels: given the offices above / when an office is registered / then its event or
the level rule it breaks. Order: central > ministry, province > prefecture > county; ``other``
anywhere below the root."""

from __future__ import annotations

import pytest

from domain import errors
from domain.offices import Office
from domain.values import Actor
from tests.domain.scenario import ISSUED, on, then

ADMIN = Actor("admin", "platform", "admin")

CENTRAL = [("state-council", "central")]
MINISTRY = [("mem", "ministry"), *CENTRAL]
PROVINCE = [("gansu", "province"), *CENTRAL]
PREFECTURE = [("baiyin", "prefecture"), *PROVINCE]
COUNTY = [("pingchuan", "county"), *PREFECTURE]


def register(level: str, above: list[tuple[str, str]]) -> Office:
    return Office.register(ADMIN, on(ISSUED), "new-office", "新机关", level, above[0][0], above)


@pytest.mark.parametrize(
    ("level", "above"),
    [
        ("ministry", CENTRAL),
        ("province", CENTRAL),
        ("prefecture", PROVINCE),
        ("county", PREFECTURE),
        ("county", PROVINCE),  # a municipality's district, a county run by its province
        *[("other", where) for where in (CENTRAL, MINISTRY, PROVINCE, PREFECTURE, COUNTY)],
        ("prefecture", [("zone", "other"), *PROVINCE]),
        ("county", [("prefecture-office", "other"), *PROVINCE]),  # 地区行署 and its counties
        ("county", [("zone", "other"), ("area", "other"), *PREFECTURE]),
        ("county", [("zone", "other")]),  # below a root of level other: nothing to contradict
    ],
)
def test_a_level_below_its_parents_is_registered(level: str, above: list[tuple[str, str]]) -> None:
    (event,) = then(register(level, above), "Registered")
    assert (event.level, event.parent) == (level, above[0][0])


@pytest.mark.parametrize("level", ["central", "ministry", "province", "other"])
def test_the_root_may_have_any_level(level: str) -> None:
    then(Office.register(ADMIN, on(ISSUED), "root", "根", level, None), "Registered")


def test_a_province_under_a_county_is_refused_naming_both_levels() -> None:
    with pytest.raises(errors.OfficeLevelError) as refused:
        register("province", COUNTY)
    assert str(refused.value) == (
        "an office of level 'province' may not sit under 'pingchuan' (level 'county'): "
        "a province sits directly under a central office"
    )


@pytest.mark.parametrize(
    ("level", "above", "words"),
    [
        ("central", PROVINCE, "only ever the root"),
        ("ministry", PROVINCE, "directly under a central office"),
        ("province", MINISTRY, "directly under a central office"),
        ("province", PROVINCE, "directly under a central office"),
        ("prefecture", CENTRAL, "sits under a province"),
        ("prefecture", MINISTRY, "sits under a province"),  # a ministry's bodies are 'other'
        ("prefecture", PREFECTURE, "sits under a province"),
        ("county", COUNTY, "under a prefecture or a province"),
        ("county", MINISTRY, "under a prefecture or a province"),
        ("county", CENTRAL, "under a prefecture or a province"),
        ("ministry", [("group", "other"), *CENTRAL], "directly under a central office"),
        ("province", [("group", "other"), *CENTRAL], "directly under a central office"),
    ],
)
def test_a_level_not_below_its_parents_is_refused(
    level: str, above: list[tuple[str, str]], words: str
) -> None:
    with pytest.raises(errors.OfficeLevelError, match=words) as refused:
        register(level, above)
    assert f"level '{level}'" in str(refused.value)
    assert f"'{above[0][0]}' (level '{above[0][1]}')" in str(refused.value)


@pytest.mark.parametrize(
    ("level", "above", "ranked"),
    [
        ("prefecture", [("zone", "other"), *COUNTY], "'pingchuan' (level 'county')"),
        ("prefecture", [("zone", "other"), *CENTRAL], "'state-council' (level 'central')"),
        ("county", [("bureau", "other"), *MINISTRY], "'mem' (level 'ministry')"),
    ],
)
def test_an_other_office_does_not_lift_the_offices_under_it(
    level: str, above: list[tuple[str, str]], ranked: str
) -> None:
    """An office of level other sits somewhere below its nearest ranked ancestor: what is
    registered under it is judged by that ancestor."""
    with pytest.raises(errors.OfficeLevelError) as refused:
        register(level, above)
    assert f"(level 'other') below {ranked}" in str(refused.value)
