"""Time as people read it (issue 11 §4): China time with its offset everywhere it is shown,
plain dates wherever the CLI takes them, and a day meaning that whole day in China."""

from __future__ import annotations

from tests.http.conftest import Api, assign_down
from tests.http.test_hostile_input import ITEM


def test_a_plain_day_is_the_whole_day_in_china_and_times_carry_the_offset(api: Api) -> None:
    item = api.item("gansu")  # registered at noon on 2026-03-02, China time: 04:00 UTC
    h = api.headers("gansu", "leader")
    audit = "/api/v1/offices/gansu/audit"
    that_day = api.client.get(f"{audit}?from=2026-03-02&to=2026-03-02", headers=h).json
    assert [e["record_id"] for e in that_day["items"]] == [item["id"]]
    assert that_day["items"][0]["time"] == "2026-03-02T12:00:00+08:00"
    assert api.client.get(f"{audit}?from=2026-03-03", headers=h).json["total"] == 0
    assert api.client.get(f"{audit}?to=2026-03-01", headers=h).json["total"] == 0
    url = f"/api/v1/offices/gansu/items/{item['id']}"
    history = api.client.get(f"{url}/history", headers=h).json["items"]
    assert history[0]["time"] == "2026-03-02T12:00:00+08:00"
    assert api.client.get(url, headers=h).json["registered_at"].endswith("+08:00")


def test_as_of_takes_a_plain_date_on_items_rollups_and_trees(api: Api) -> None:
    item = api.item("gansu")
    api.clock.set("2026-03-10")
    assign_down(api, "gansu", item["id"], "baiyin")
    h = api.headers("gansu", "leader")
    url = f"/api/v1/offices/gansu/items/{item['id']}"
    then = api.client.get(f"{url}?as_of=2026-03-05", headers=h)
    assert then.status_code == 200 and then.json["assignments"] == []
    tree_then = api.client.get(f"{url}/tree?as_of=2026-03-05", headers=h)
    assert tree_then.status_code == 200 and tree_then.json["children"] == []
    tree_now = api.client.get(f"{url}/tree?as_of=2026-03-10", headers=h).json
    assert [c["office"] for c in tree_now["children"]] == ["baiyin"]
    rollup = api.client.get("/api/v1/offices/gansu/rollup?as_of=2026-03-01", headers=h)
    assert rollup.status_code == 200 and rollup.json["records"]["total"] == 0


def test_date_errors_say_the_format(api: Api) -> None:
    h = api.headers("gansu", "leader")
    for query, field in (("as_of=2026-13-05", "as_of"), ("from=yesterday", "from")):
        path = "rollup" if field == "as_of" else "audit"
        got = api.client.get(f"/api/v1/offices/gansu/{path}?{query}", headers=h)
        assert got.status_code == 422
        assert "YYYY-MM-DD" in got.json["errors"][field][0]


def test_registering_with_a_deadline_already_passed_warns(api: Api) -> None:
    body = {**ITEM, "source_kind": "document", "issued_on": "2026-02-02"}
    h = api.headers("gansu", "supervisor")
    late = api.client.post(
        "/api/v1/offices/gansu/items", json={**body, "deadline": "2026-03-01"}, headers=h
    )
    assert late.status_code == 201 and "already passed" in late.json["warnings"][0]
    fine = api.client.post(
        "/api/v1/offices/gansu/items",
        json={**body, "deadline": "2026-03-31", "source_ref": "甘政发〔2026〕1号"},
        headers=h,
    )
    assert fine.status_code == 201 and fine.json["warnings"] == []


def test_the_audit_trail_names_people_not_user_ids(api: Api) -> None:
    h = api.headers("gansu", "supervisor")
    assert api.client.post("/api/v1/offices/gansu/items", json=ITEM, headers=h).status_code == 201
    api.item("gansu")  # recorded by a system-like actor id, not a user
    rows = api.client.get("/api/v1/offices/gansu/audit", headers=h).json["items"]
    assert [r["actor_name"] for r in rows] == ["gansu的supervisor", "gansu-supervisor"]
    assert rows[0]["actor_user"] != rows[0]["actor_name"]
