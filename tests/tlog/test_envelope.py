"""Leaf envelopes: one stored event as canonical JSON, personal fields only as commitments under
their subject's key, and the fixed hole leaf."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest

from services.tlog.envelope import Personal, StoredEvent, commitment, event_leaf, hole_leaf

CHINA = timezone(timedelta(hours=8))
AGGREGATE = uuid.UUID("12345678-1234-5678-1234-567812345678")
BODY = '{"title":"关于督办事项的通知"}'.encode()
ZHANG = "张三的主体密钥 (a subject key)".encode()


def event(**changes: object) -> StoredEvent:
    fields: dict[str, object] = {
        "office": "广东省/深圳市",
        "notification_id": 7,
        "topic": "domain.cases:Case.Registered",
        "aggregate_id": AGGREGATE,
        "aggregate_version": 3,
        "timestamp": datetime(2026, 3, 2, 10, 0, 0, 123456, tzinfo=CHINA),
        "actor_role": "clerk",
        "body": BODY,
    }
    fields.update(changes)
    return StoredEvent(**fields)  # type: ignore[arg-type]


def test_an_event_leaf_is_its_canonical_envelope() -> None:
    personal = [Personal("responsible", "张三", ZHANG), Personal("phone", "13800000000", ZHANG)]
    leaf = event_leaf(event(), personal)

    def commit(field: str, value: str) -> str:
        return hmac.new(ZHANG, f"{field}\x00{value}".encode(), hashlib.sha256).hexdigest()

    expected = (
        '{"aggregate":"12345678-1234-5678-1234-567812345678","at":"2026-03-02T02:00:00.123456Z",'
        f'"body":"{hashlib.sha256(BODY).hexdigest()}","id":7,"kind":"event",'
        '"office":"广东省/深圳市",'
        f'"personal":{{"phone":"{commit("phone", "13800000000")}",'
        f'"responsible":"{commit("responsible", "张三")}"}},'
        '"role":"clerk","topic":"domain.cases:Case.Registered","v":1,"version":3}'
    )
    assert leaf == expected.encode()
    assert "张三".encode() not in leaf and b"13800000000" not in leaf
    assert event_leaf(event(), list(reversed(personal))) == leaf  # the caller's order is irrelevant


def test_every_field_is_committed_to() -> None:
    leaf = event_leaf(event())
    assert "personal" not in json.loads(leaf)
    for change in (
        {"office": "广东省"},
        {"notification_id": 8},
        {"topic": "domain.cases:Case.Assigned"},
        {"aggregate_id": uuid.UUID(int=1)},
        {"aggregate_version": 4},
        {"timestamp": datetime(2026, 3, 2, 2, 0, 0, 123457, tzinfo=UTC)},
        {"actor_role": "leader"},
        {"body": BODY + b" "},
    ):
        assert event_leaf(event(**change)) != leaf, change
    same_instant = datetime(2026, 3, 2, 2, 0, 0, 123456, tzinfo=UTC)
    assert event_leaf(event(timestamp=same_instant)) == leaf


def test_commitments_hide_the_value_and_depend_on_the_subject_key() -> None:
    one = commitment(Personal("responsible", "张三", ZHANG))
    assert one != commitment(Personal("responsible", "张三", b"another subject's key.........."))
    assert one != commitment(Personal("responsible", "李四", ZHANG))
    assert one != commitment(Personal("responsiblе", "张三", ZHANG))  # a Cyrillic е
    # the field and value are separated: ("ab", "c") and ("a", "bc") differ
    assert commitment(Personal("ab", "c", ZHANG)) != commitment(Personal("a", "bc", ZHANG))


def test_refusals() -> None:
    with pytest.raises(ValueError, match="time zone"):
        event_leaf(event(timestamp=datetime(2026, 3, 2, 10, 0)))
    with pytest.raises(ValueError, match="start at 1"):
        event_leaf(event(notification_id=0))
    with pytest.raises(ValueError, match="repeat"):
        event_leaf(event(), [Personal("phone", "1", ZHANG), Personal("phone", "2", ZHANG)])
    with pytest.raises(ValueError, match="16 bytes"):
        event_leaf(event(), [Personal("phone", "1", b"short")])
    with pytest.raises(ValueError, match="NUL"):
        event_leaf(event(), [Personal("a\x00b", "1", ZHANG)])
    with pytest.raises(ValueError, match="over"):
        event_leaf(event(actor_role="x" * 70000))
    with pytest.raises(ValueError, match="start at 1"):
        hole_leaf("gd", 0)


def test_a_hole_is_fixed_by_office_and_id() -> None:
    assert hole_leaf("广东省", 12) == '{"id":12,"kind":"hole","office":"广东省","v":1}'.encode()
    assert hole_leaf("广东省", 12) == hole_leaf("广东省", 12)
    assert hole_leaf("广东省", 13) != hole_leaf("广东省", 12) != hole_leaf("广西", 12)
    assert hole_leaf("gd", 7) != event_leaf(event(office="gd"))
