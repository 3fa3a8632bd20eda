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
        )
    ),
    "Task.Closed",
}


def stored() -> list[dict[str, str]]:
    return json.loads(FIXTURE.read_text("utf-8"))


def test_the_fixture_holds_every_event_type() -> None:
    assert {row["topic"].split(":")[1] for row in stored()} == EVERY_EVENT_TYPE


def test_every_stored_event_still_decodes_and_encodes_the_same() -> None:
    mapper = store().mapper
    for row in stored():
        event = mapper.to_domain_event(
            StoredEvent(UUID(int=0), 1, row["topic"], row["state"].encode("utf-8"))
        )
        assert type(event).__qualname__ == row["topic"].split(":")[1]
        assert mapper.to_stored_event(event).state.decode("utf-8") == row["state"]


def test_todays_events_encode_as_the_fixture_says() -> None:
    """Fails when an event's shape changes without a new class_version and upcaster."""
    assert encode(every_event()) == stored()
