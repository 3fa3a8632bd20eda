"""Events are permanent contracts: every stored version must still load, unchanged."""

from __future__ import annotations

import json
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from tests.golden.scenario import FIXTURE, encode, every_event, store

EVERY_EVENT_TYPE = {
    "Office.Registered",
    "Office.Renamed",
    "Office.Retired",
    "SupervisionItem.Registered",
    "Task.Received",
    "Circular.Issued",
    "User.Registered",
    "User.PasswordSet",
    "User.Revoked",
    "Login.Claimed",
    *(
        f"{kind}.{name}"
        for kind in ("SupervisionItem",)
        for name in (
            "Assigned",
            "Acknowledged",
            "ProgressReported",
            "CompletionReported",
            "CompletionAccepted",
            "CompletionReturned",
            "ExtensionRequested",
            "ExtensionGranted",
            "ExtensionDenied",
            "Urged",
            "Escalated",
            "Commended",
            "RectificationOrdered",
            "RectificationReported",
            "RectificationAccepted",
            "Closed",
            "Reopened",
            "FindingRecorded",
            "Published",
            "Unpublished",
            "DeadlineRecomputed",
        )
    ),
    "Task.Closed",
    "Task.Concluded",
}


def stored() -> list[dict[str, str]]:
    return json.loads(FIXTURE.read_text("utf-8"))


def test_the_fixture_holds_every_event_type() -> None:
    assert {row["topic"].split(":")[1] for row in stored()} == EVERY_EVENT_TYPE


def fields(state: str) -> dict[str, object]:
    decoded: dict[str, object] = json.loads(state)
    return decoded


def test_every_stored_event_still_decodes_with_every_field_it_had() -> None:
    """Fields may be added (with defaults); none may be lost or change its value."""
    mapper = store().mapper
    for row in stored():
        event = mapper.to_domain_event(
            StoredEvent(UUID(int=0), 1, row["topic"], row["state"].encode("utf-8"))
        )
        assert type(event).__qualname__ == row["topic"].split(":")[1]
        again = fields(mapper.to_stored_event(event).state.decode("utf-8"))
        old = fields(row["state"])
        assert {k: again.get(k) for k in old} == old, row["topic"]


def test_no_field_of_a_stored_version_was_removed_or_renamed() -> None:
    """Today's events of each type still carry every field of the stored version."""
    today = {row["topic"]: set(fields(row["state"])) for row in encode(every_event())}
    for row in stored():
        missing = set(fields(row["state"])) - today[row["topic"]]
        assert not missing, f"{row['topic']} lost {missing}: add a class_version and upcaster"
