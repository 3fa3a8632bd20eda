"""A concluded task over HTTP, and ``GET /api/v1/offices/{code}/skipped`` at both ends.

Each test runs on SQLite and on PostgreSQL (stores and read store).
"""

from __future__ import annotations

from typing import Any

import pytest

from domain.tasks import Task
from tests.http.conftest import Api, assign_down

SC = "state-council"


@pytest.fixture(params=["api", pytest.param("pg_api", marks=pytest.mark.postgres)])
def either(request: pytest.FixtureRequest) -> Api:
    found: Api = request.getfixturevalue(request.param)
    return found


def post(api: Api, office: str, record: str, action: str, body: dict[str, Any]) -> Any:
    version = api.platform.supervision.get(office, record).version
    return api.client.post(
        f"/api/v1/offices/{office}/items/{record}/{action}",
        json=body,
        headers=api.headers(office, "leader", **{"If-Match": f'"{version}"'}),
    )


def closed_matter(api: Api) -> tuple[str, str]:
    """A State Council item assigned to gansu, closed by a leader's decision, reopened and
    urged: the urge cannot reach gansu's concluded task. Returns (item id, task id)."""
    item = api.item(SC)["id"]
    assign_down(api, SC, item, "gansu")
    task = str(Task.create_id(SC, item, "gansu"))
    close = {"reason": "领导决定销号", "leader_closure": True}
    assert post(api, SC, item, "close", close).status_code == 200
    assert post(api, SC, item, "reopen", {"reason": "问题反弹"}).status_code == 200
    assert post(api, SC, item, "urge", {"message": "请加快进度"}).status_code == 200
    return item, task


def test_a_concluded_task_is_shown_and_refuses_every_action(either: Api) -> None:
    _, task = closed_matter(either)
    shown = either.client.get(
        f"/api/v1/offices/gansu/items/{task}", headers=either.headers("gansu", "clerk")
    ).json
    assert (shown["status"], shown["light"], shown["urge_count"]) == ("concluded", "green", 0)
    refused = post(either, "gansu", task, "acknowledge", {})
    assert refused.status_code == 409
    assert refused.json == {
        "code": "rule",
        "message": "the task was concluded: the matter was closed by 'state-council'; "
        "nothing more can be done on it",
        "errors": {},
    }
    history = either.client.get(
        f"/api/v1/offices/gansu/items/{task}/history", headers=either.headers("gansu", "clerk")
    ).json
    (end,) = [e for e in history["items"] if e["type"] == "Concluded"]
    assert end["data"]["reason"] == "matter closed by state-council"


def test_skipped_relays_are_listed_at_both_ends(either: Api) -> None:
    item, task = closed_matter(either)
    ours = either.client.get(
        f"/api/v1/offices/{SC}/skipped", headers=either.headers(SC, "supervisor")
    )
    assert ours.status_code == 200
    (row,) = ours.json["items"]
    assert row == {
        "office": SC,
        "position": row["position"],
        "record_id": item,
        "event_type": "Urged",
        "target": "gansu",
        "target_record": task,
        "reason": "the task was concluded: the matter was closed by 'state-council'; "
        "nothing more can be done on it",
        "at": "2026-03-02T12:00:00+08:00",
        "side": "ours to relay",
    }
    theirs = either.client.get(
        "/api/v1/offices/gansu/skipped", headers=either.headers("gansu", "leader")
    ).json
    assert theirs["total"] == 1
    assert theirs["items"][0] == {**row, "side": "waiting on us"}
    from_above = either.client.get(
        "/api/v1/offices/gansu/skipped", headers=either.headers(SC, "supervisor")
    ).json
    assert from_above == theirs  # the office above sees what waits below it
    assert (
        either.client.get(
            "/api/v1/offices/baiyin/skipped", headers=either.headers("baiyin", "supervisor")
        ).json["total"]
        == 0
    )


def test_the_skipped_list_is_paginated_and_guarded(either: Api) -> None:
    closed_matter(either)
    item, _ = closed_matter(either)
    h = either.headers(SC, "supervisor")
    page = either.client.get(f"/api/v1/offices/{SC}/skipped?per_page=1&page=2", headers=h).json
    assert (page["page"], page["per_page"], page["total"], len(page["items"])) == (2, 1, 2, 1)
    assert page["items"][0]["record_id"] == item  # oldest first: the second matter's is last
    bad = either.client.get(f"/api/v1/offices/{SC}/skipped?per_page=0", headers=h)
    assert bad.status_code == 422 and "per_page" in bad.json["errors"]
    unknown = either.client.get(f"/api/v1/offices/{SC}/skipped?since=1", headers=h)
    assert unknown.status_code == 422
    above = either.client.get(
        f"/api/v1/offices/{SC}/skipped", headers=either.headers("gansu", "supervisor")
    )
    assert above.status_code == 404 and above.json["message"] == f"no office '{SC}'"
    clerk = either.client.get(f"/api/v1/offices/{SC}/skipped", headers=either.headers(SC, "clerk"))
    assert clerk.status_code == 403
    admin = either.headers("gansu", "admin")
    assert either.client.get(f"/api/v1/offices/{SC}/skipped", headers=admin).json["total"] == 2
    missing = either.client.get("/api/v1/offices/no-such/skipped", headers=admin)
    assert missing.status_code == 404
