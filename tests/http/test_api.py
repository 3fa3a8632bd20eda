"""The API's behaviour: creation, ETags and If-Match, errors, idempotency, time travel."""

from __future__ import annotations

import itertools

from tests.http.conftest import Api

ITEM = {
    "title": "关于推进县域医共体建设的批示",
    "source_kind": "instruction",
    "source_ref": "领导批示〔2026〕12号",
    "issued_on": "2026-03-02",
    "objective": "年底前实现县域全覆盖",
    "content": "制定方案，明确时间表",
    "executing_unit": "卫健委",
    "responsible_person": "孙七",
}


REFERENCES = itertools.count(100)


def create(api: Api, **overrides: object) -> tuple[dict, str]:
    """A new item in gansu; each from its own source unless ``source_ref`` is given."""
    reference = f"领导批示〔2026〕{next(REFERENCES)}号"
    response = api.client.post(
        "/api/v1/offices/gansu/items",
        json={**ITEM, "source_ref": reference, **overrides},
        headers=api.headers("gansu"),
    )
    assert response.status_code == 201, response.json
    return response.json, response.headers["ETag"]


def test_an_item_is_created_with_location_and_etag_and_read_back(api: Api) -> None:
    body, tag = create(api)
    assert tag == '"1"'
    assert body["title"] == ITEM["title"]  # Chinese as written, end to end
    assert body["deadline"] == "2026-04-14"  # instruction: 30 working days (Qingming skipped)
    assert (body["kind"], body["status"], body["version"], body["office"]) == (
        "item",
        "registered",
        1,
        "gansu",
    )
    assert body.pop("warnings") == []  # only the answer to registering has them
    got = api.client.get(f"/api/v1/offices/gansu/items/{body['id']}", headers=api.headers("gansu"))
    assert got.status_code == 200 and got.headers["ETag"] == tag and got.json == body


def test_actions_need_the_current_etag(api: Api) -> None:
    body, tag = create(api)
    base = f"/api/v1/offices/gansu/items/{body['id']}"
    h = api.headers("gansu", "clerk")
    missing = api.client.post(f"{base}/acknowledge", json={}, headers=h)
    assert missing.status_code == 428 and missing.json["code"] == "precondition_required"
    done = api.client.post(f"{base}/acknowledge", json={}, headers={**h, "If-Match": tag})
    assert done.status_code == 200
    assert done.headers["ETag"] == '"2"' and done.json["acknowledged"] is True
    stale = api.client.post(
        f"{base}/report-progress",
        json={"text": "方案已定", "percent": 30},
        headers={**h, "If-Match": tag},
    )
    assert stale.status_code == 412 and stale.json["code"] == "precondition_failed"
    fresh = api.client.post(
        f"{base}/report-progress",
        json={"text": "方案已定", "percent": 30},
        headers={**h, "If-Match": done.headers["ETag"]},
    )
    assert fresh.status_code == 200 and fresh.json["progress_percent"] == 30
    history = api.client.get(f"{base}/history", headers=h)
    assert [e["type"] for e in history.json["items"]] == [
        "Registered",
        "Acknowledged",
        "ProgressReported",
    ]
    assert history.json["total"] == 3
    second = api.client.get(f"{base}/history?per_page=2&page=2", headers=h).json
    assert [e["type"] for e in second["items"]] == ["ProgressReported"]


def test_invalid_input_names_the_field(api: Api) -> None:
    h = api.headers("gansu")
    bad = api.client.post(
        "/api/v1/offices/gansu/items",
        json={**ITEM, "source_kind": "rumour", "importance": 9},
        headers=h,
    )
    assert bad.status_code == 422
    assert set(bad.json["errors"]) == {"source_kind", "importance"}
    blank = api.client.post("/api/v1/offices/gansu/items", json={**ITEM, "title": "   "}, headers=h)
    assert blank.status_code == 422 and "title" in blank.json["errors"]  # the domain's check
    body, tag = create(api)
    percent = api.client.post(
        f"/api/v1/offices/gansu/items/{body['id']}/report-progress",
        json={"text": "x", "percent": 101},  # refused before any domain rule is asked
        headers={**api.headers("gansu", "clerk"), "If-Match": tag},
    )
    assert percent.status_code == 422 and list(percent.json["errors"]) == ["percent"]
    for garbage in (b"{not json", b"[1, 2]", b'"text"'):
        response = api.client.post(
            "/api/v1/offices/gansu/items", data=garbage, content_type="application/json", headers=h
        )
        assert 400 <= response.status_code < 500
        assert set(response.json) == {"code", "message", "errors"}


def test_a_domain_rule_answers_409_in_plain_words(api: Api) -> None:
    body, tag = create(api)
    api.clock.set("2026-04-20")  # past the deadline of 2026-04-14
    late = api.client.post(
        f"/api/v1/offices/gansu/items/{body['id']}/request-extension",
        json={"new_deadline": "2026-05-29", "reason": "施工受阻"},
        headers={**api.headers("gansu", "clerk"), "If-Match": tag},
    )
    assert late.status_code == 409 and late.json["code"] == "rule"
    assert "deadline" in late.json["message"]
    assert len(api.platform.supervision.history("gansu", body["id"])) == 1  # nothing recorded


def test_a_retry_with_the_same_idempotency_key_records_nothing_new(api: Api) -> None:
    h = api.headers("gansu", **{"Idempotency-Key": "立项-001"})
    first = api.client.post("/api/v1/offices/gansu/items", json=ITEM, headers=h)
    again = api.client.post("/api/v1/offices/gansu/items", json=ITEM, headers=h)
    assert first.status_code == again.status_code == 201
    assert again.json == first.json and again.headers["Location"] == first.headers["Location"]
    assert again.headers.get("Idempotent-Replayed") == "true"
    listed = api.client.get("/api/v1/offices/gansu/items", headers=api.headers("gansu")).json
    assert listed["total"] == 1
    other = api.client.post(
        "/api/v1/offices/gansu/items", json={**ITEM, "title": "另一事项"}, headers=h
    )
    assert other.status_code == 422 and other.json["code"] == "idempotency_key_reused"
    # keys belong to their user: another user's same key is a new request
    mine = api.client.post(
        "/api/v1/offices/gansu/items",
        json={**ITEM, "source_ref": "领导批示〔2026〕13号"},
        headers=api.headers("gansu", "supervisor", **{"Idempotency-Key": "立项-001"}),
    )
    assert mine.status_code == 201 and mine.json["id"] != first.json["id"]


def test_an_idempotent_action_retry_returns_the_first_answer(api: Api) -> None:
    body, tag = create(api)
    h = {**api.headers("gansu", "clerk"), "If-Match": tag, "Idempotency-Key": "ack-1"}
    url = f"/api/v1/offices/gansu/items/{body['id']}/acknowledge"
    first = api.client.post(url, json={}, headers=h)
    retry = api.client.post(url, json={}, headers=h)  # the stale If-Match does not matter
    assert first.status_code == retry.status_code == 200
    assert retry.json == first.json and retry.headers["ETag"] == '"2"'
    assert len(api.platform.supervision.history("gansu", body["id"])) == 2


def test_lists_are_paginated_and_filtered(api: Api) -> None:
    for n in range(5):
        create(api, title=f"事项{n}", importance=5 if n % 2 else 1)
    h = api.headers("gansu")
    page = api.client.get("/api/v1/offices/gansu/items?per_page=2&page=2", headers=h).json
    assert (page["page"], page["per_page"], page["total"]) == (2, 2, 5)
    assert [i["title"] for i in page["items"]] == ["事项2", "事项3"]
    important = api.client.get("/api/v1/offices/gansu/items?importance=5", headers=h).json
    assert important["total"] == 2
    text = api.client.get("/api/v1/offices/gansu/items?text=事项4", headers=h).json
    assert [i["title"] for i in text["items"]] == ["事项4"]
    too_many = api.client.get("/api/v1/offices/gansu/items?per_page=501", headers=h)
    assert too_many.status_code == 422 and "per_page" in too_many.json["errors"]


def test_time_travel_on_an_item_and_a_rollup(api: Api) -> None:
    body, tag = create(api)
    api.clock.set("2026-03-10")
    h = {**api.headers("gansu", "clerk"), "If-Match": tag}
    api.client.post(f"/api/v1/offices/gansu/items/{body['id']}/acknowledge", json={}, headers=h)
    lead = api.headers("gansu")
    before = api.client.get(
        f"/api/v1/offices/gansu/items/{body['id']}?as_of=2026-03-05T12:00:00%2B08:00", headers=lead
    )
    assert before.status_code == 200
    assert (before.json["status"], before.headers["ETag"]) == ("registered", '"1"')
    now = api.client.get(f"/api/v1/offices/gansu/items/{body['id']}", headers=lead).json
    assert now["status"] == "acknowledged"
    rollup = api.client.get(
        "/api/v1/offices/gansu/rollup?as_of=2026-03-01T12:00:00%2B08:00", headers=lead
    )
    assert rollup.status_code == 200 and rollup.json["records"]["total"] == 0
    now = api.client.get("/api/v1/offices/gansu/rollup", headers=lead).json
    assert now["records"]["total"] == 1
    naive = api.client.get("/api/v1/offices/gansu/rollup?as_of=2026-03-01T12:00:00", headers=lead)
    assert naive.status_code == 200
    assert naive.json["records"]["total"] == 0  # China time, as in the CLI
    bad = api.client.get("/api/v1/offices/gansu/rollup?as_of=3/1/2026", headers=lead)
    assert bad.status_code == 422 and "YYYY-MM-DD" in bad.json["errors"]["as_of"][0]


def test_the_public_page_shows_published_items_only(api: Api) -> None:
    body, tag = create(api)
    create(api, title="不公开的事项")
    published = api.client.post(
        f"/api/v1/offices/gansu/items/{body['id']}/publish",
        json={"summary": "医共体建设进展公开"},
        headers={**api.headers("gansu", "supervisor"), "If-Match": tag},
    )
    assert published.status_code == 200
    shown = api.client.get("/api/v1/public/items").json  # no token
    assert shown["total"] == 1
    assert shown["items"][0] == {
        "office": "gansu",
        "title": ITEM["title"],
        "summary": "医共体建设进展公开",
        "status": "registered",
        "progress_percent": 0,
        "deadline": "2026-04-14",
    }


def test_health_and_docs_work_offline(api: Api) -> None:
    assert api.client.get("/healthz").json == {"status": "ok"}
    spec = api.client.get("/api/v1/openapi.json").json
    assert "/api/v1/offices/{code}/items/{item_id}/report-progress" in spec["paths"]
    page = api.client.get("/api/v1/docs").get_data(as_text=True)
    assert (
        "/api/v1/docs/assets/swagger-ui-bundle.js" in page and "http" not in page.split("<body>")[0]
    )
    asset = api.client.get("/api/v1/docs/assets/swagger-ui-bundle.js")
    assert asset.status_code == 200 and len(asset.data) > 100_000


def test_health_answers_503_when_a_store_is_gone(api: Api) -> None:
    api.platform.read.close()
    response = api.client.get("/healthz")
    assert response.status_code == 503 and response.json["code"] == "unavailable"
