"""The same source reference (文号, 批示编号) registered twice in one office: 409 with the item
that has it, unless the caller says it really is a second item from the same source."""

from __future__ import annotations

import pytest

from tests.http.conftest import Api
from tests.http.test_api import ITEM

ITEMS = "/api/v1/offices/gansu/items"


@pytest.fixture(params=["sqlite", "postgres"])
def either(request: pytest.FixtureRequest) -> Api:
    found: Api = request.getfixturevalue("api" if request.param == "sqlite" else "pg_api")
    return found


def test_a_second_item_with_the_same_reference_is_refused_naming_the_first(either: Api) -> None:
    h = either.headers("gansu", "supervisor")
    first = either.client.post(ITEMS, json=ITEM, headers=h)
    assert first.status_code == 201
    written_otherwise = {**ITEM, "title": "重复登记", "source_ref": "领导批示 [2026] 12 号"}
    again = either.client.post(ITEMS, json=written_otherwise, headers=h)
    assert again.status_code == 409, again.json
    assert again.json["code"] == "duplicate_source"
    assert again.json["existing"] == [
        {
            "id": first.json["id"],
            "title": ITEM["title"],
            "registered_at": first.json["registered_at"],
        }
    ]
    assert first.json["id"] in again.json["message"] and "allow_duplicate" in again.json["message"]
    listed = either.client.get(ITEMS, headers=h).json
    assert listed["total"] == 1  # nothing was recorded
    anyway = either.client.post(
        ITEMS, json={**written_otherwise, "allow_duplicate": True}, headers=h
    )
    assert anyway.status_code == 201 and anyway.json["title"] == "重复登记"
    assert "allow_duplicate" not in anyway.json
    assert either.client.get(ITEMS, headers=h).json["total"] == 2


def test_other_references_offices_and_received_tasks_do_not_count(api: Api) -> None:
    h = api.headers("gansu", "supervisor")
    assert api.client.post(ITEMS, json=ITEM, headers=h).status_code == 201
    near = {**ITEM, "source_ref": "领导批示〔2026〕120号"}  # contains the first, is not it
    assert api.client.post(ITEMS, json=near, headers=h).status_code == 201
    elsewhere = api.client.post(
        "/api/v1/offices/sichuan/items", json=ITEM, headers=api.headers("sichuan", "supervisor")
    )
    assert elsewhere.status_code == 201  # another office's register is its own


def test_a_retried_registration_is_a_replay_not_a_duplicate(api: Api) -> None:
    h = api.headers("gansu", "supervisor", **{"Idempotency-Key": "立项-重试"})
    first = api.client.post(ITEMS, json=ITEM, headers=h)
    again = api.client.post(ITEMS, json=ITEM, headers=h)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json["id"] == first.json["id"]


def test_the_flag_is_documented_and_must_be_a_boolean(api: Api) -> None:
    spec = api.client.get("/api/v1/openapi.json").json
    item_in = spec["components"]["schemas"]["ItemIn"]["properties"]
    assert item_in["allow_duplicate"]["type"] == "boolean"
    bad = api.client.post(
        ITEMS, json={**ITEM, "allow_duplicate": "也许"}, headers=api.headers("gansu", "supervisor")
    )
    assert bad.status_code == 422 and "allow_duplicate" in bad.json["errors"]


def test_the_audit_trail_says_an_action_came_over_the_api(api: Api) -> None:
    h = api.headers("gansu", "supervisor")
    assert api.client.post(ITEMS, json=ITEM, headers=h).status_code == 201
    (entry,) = api.client.get("/api/v1/offices/gansu/audit", headers=h).json["items"]
    assert (entry["actor_channel"], entry["actor_os_user"]) == ("api", "")
