"""The office aggregate and the circular (通报)."""

from __future__ import annotations

from uuid import uuid4

import pytest

from domain import errors
from domain.circulars import Circular
from domain.offices import Office
from domain.values import Actor
from tests.domain.scenario import ISSUED, on, then

ADMIN = Actor("admin", "platform", "admin")


def test_registered_with_code_name_level_and_parent() -> None:
    office = Office.register(
        ADMIN, on(ISSUED), "baiyin", "白银市人民政府办公室", "prefecture", "gansu"
    )
    (event,) = then(office, "Registered")
    assert (event.code, event.name, event.level, event.parent) == (
        "baiyin",
        "白银市人民政府办公室",
        "prefecture",
        "gansu",
    )
    assert office.id == Office.create_id("baiyin")


@pytest.mark.parametrize("code", ["a", "Gansu", "gan_su", "甘肃", "x" * 41, "gan su"])
def test_a_code_is_2_to_40_lower_case_letters_digits_or_dashes(code: str) -> None:
    with pytest.raises(errors.InvalidFieldError, match="code"):
        Office.register(ADMIN, on(ISSUED), code, "名", "county", "gansu")


def test_level_and_name_are_checked() -> None:
    with pytest.raises(errors.InvalidFieldError, match="level"):
        Office.register(ADMIN, on(ISSUED), "baiyin", "白银", "city", "gansu")
    with pytest.raises(errors.InvalidFieldError, match="name"):
        Office.register(ADMIN, on(ISSUED), "baiyin", " ", "prefecture", "gansu")
    with pytest.raises(errors.InvalidFieldError, match="parent"):
        Office.register(ADMIN, on(ISSUED), "baiyin", "白银", "prefecture", "baiyin")


def test_renamed_and_retired() -> None:
    office = Office.register(ADMIN, on(ISSUED), "baiyin", "白银市政府办", "prefecture", "gansu")
    office.rename(ADMIN, on(ISSUED), "白银市人民政府办公室")
    with pytest.raises(errors.OfficeRuleError, match="already named"):
        office.rename(ADMIN, on(ISSUED), "白银市人民政府办公室")
    office.retire(ADMIN, on(ISSUED), "机构改革")
    then(office, "Registered", "Renamed", "Retired")
    with pytest.raises(errors.OfficeRuleError, match="retired"):
        office.rename(ADMIN, on(ISSUED), "新名")
    with pytest.raises(errors.OfficeRuleError, match="retired"):
        office.retire(ADMIN, on(ISSUED), "again")


def issue(**overrides: object) -> Circular:
    fields: dict[str, object] = dict(
        circular_id=uuid4(),
        actor=Actor("leader", "chengdu", "leader"),
        at=on(ISSUED),
        office="chengdu",
        title="关于养老设施建设进展的通报",
        scope="各区（市）县人民政府",
        text="郫都区进展较快",
        commended=["郫都区"],
        criticised=["某县"],
    )
    fields.update(overrides)
    return Circular.issue(**fields)  # type: ignore[arg-type]


def test_circular_issued_with_commended_and_criticised_units() -> None:
    (event,) = then(issue(), "Issued")
    assert (event.commended, event.criticised) == (["郫都区"], ["某县"])


def test_a_circular_names_someone_and_nobody_both_ways() -> None:
    with pytest.raises(errors.InvalidFieldError, match="at least one"):
        issue(commended=[], criticised=[])
    with pytest.raises(errors.InvalidFieldError, match="cannot be commended"):
        issue(commended=["郫都区"], criticised=["郫都区"])
