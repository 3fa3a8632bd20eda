"""A county's extension past the State Council's deadline, told across four offices: each
office grants only within its own deadline, so the request climbs to the top and the grants
come back down (SQLite and PostgreSQL, through the process manager)."""

from __future__ import annotations

from datetime import date
from itertools import pairwise

import pytest

from domain.assignment import Assignee
from domain.errors import ExtensionAssigneeRequiredError, ExtensionBeyondOwnDeadlineError
from domain.tasks import Task
from services.bootstrap import Platform
from tests.scenario import build_hierarchy, new_item, person

CHAIN = ["state-council", "gansu", "baiyin", "pingchuan"]
OWN = date(2026, 4, 14)  # the instruction's 30th working day, every record's deadline
ASKED = date(2026, 5, 29)


def assign_chain(p: Platform) -> dict[str, str]:
    """An instruction at the State Council assigned down to the county: record ids by office."""
    s = p.supervision
    top = s.register_item(person("state-council"), "state-council", new_item())
    ids = {"state-council": top.id}
    for parent, child in pairwise(CHAIN):
        assignee = [Assignee("office", child, "lead")]
        s.act(person(parent, "supervisor"), parent, ids[parent], "assign", assignees=assignee)
        ids[child] = str(Task.create_id(parent, ids[parent], child))
        s.act(person(child), child, ids[child], "acknowledge")
    return ids


def request(p: Platform, ids: dict[str, str], office: str, until: date) -> None:
    p.supervision.act(
        person(office), office, ids[office], "request-extension", new_deadline=until, reason="复核"
    )


def grant(p: Platform, ids: dict[str, str], office: str) -> None:
    """``office`` grants without naming anyone: the one request waiting (or its own)."""
    p.supervision.act(person(office, "leader"), office, ids[office], "grant-extension")


def test_a_county_extension_climbs_to_the_top_and_comes_back_down(platform: Platform) -> None:
    build_hierarchy(platform)
    ids = assign_chain(platform)
    s = platform.supervision
    request(platform, ids, "pingchuan", ASKED)
    assert s.get("baiyin", ids["baiyin"]).pending_extensions == {"pingchuan": ASKED}

    for office, above in (("baiyin", "gansu"), ("gansu", "state-council")):
        with pytest.raises(
            ExtensionBeyondOwnDeadlineError,
            match=f"request an extension from your own assigning office '{above}' first",
        ):
            grant(platform, ids, office)
        request(platform, ids, office, ASKED)  # the way out: ask one's own assigning office
    with pytest.raises(
        ExtensionBeyondOwnDeadlineError, match="extend this item's own deadline first"
    ):
        grant(platform, ids, "state-council")
    version = s.get("state-council", ids["state-council"]).version

    # The State Council extends its own item, then each office grants the one below.
    request(platform, ids, "state-council", date(2026, 6, 30))
    grant(platform, ids, "state-council")  # its own request first
    assert s.get("state-council", ids["state-council"]).version == version + 2
    for office in CHAIN[:-1]:
        grant(platform, ids, office)  # the one subordinate's request waiting
    records = {office: s.get(office, ids[office]) for office in CHAIN}
    assert {o: r.deadline for o, r in records.items()} == {
        "state-council": date(2026, 6, 30),
        "gansu": ASKED,
        "baiyin": ASKED,
        "pingchuan": ASKED,
    }
    assert all(not r.pending_extensions and r.pending_extension is None for r in records.values())


def test_several_requests_waiting_must_be_named(platform: Platform) -> None:
    build_hierarchy(platform)
    s = platform.supervision
    item = s.register_item(person("state-council"), "state-council", new_item()).id
    s.act(
        person("state-council", "supervisor"),
        "state-council",
        item,
        "assign",
        assignees=[Assignee("office", "gansu", "lead"), Assignee("office", "sichuan", "co")],
        deadline=date(2026, 4, 1),
    )
    for office in ("sichuan", "gansu"):
        task = str(Task.create_id("state-council", item, office))
        s.act(person(office), office, task, "acknowledge")
        s.act(person(office), office, task, "request-extension", new_deadline=OWN, reason="复核")
    leader = person("state-council", "leader")
    with pytest.raises(ExtensionAssigneeRequiredError, match="from gansu, sichuan are waiting"):
        s.act(leader, "state-council", item, "deny-extension", reason="理由不充分")
    s.act(leader, "state-council", item, "grant-extension", assignee="sichuan")
    assert s.get("sichuan", str(Task.create_id("state-council", item, "sichuan"))).deadline == OWN
    assert s.get("state-council", item).pending_extensions == {"gansu": OWN}
