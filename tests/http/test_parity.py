"""Everything an office does in the CLI it can do over HTTP, within its role (issue 11 §6)."""

from __future__ import annotations

import pytest

from tests.http.conftest import Api

CIRCULAR = {
    "title": "关于2026年第三季度督查情况的通报",
    "scope": "各市州人民政府",
    "text": "现将督查情况通报如下。",
    "commend": ["白银市"],
    "criticise": [],
}


def test_the_offices_a_user_may_see_are_listed(api: Api) -> None:
    gansu = api.client.get("/api/v1/offices", headers=api.headers("gansu", "clerk")).json
    assert [o["code"] for o in gansu["items"]] == ["state-council", "gansu", "baiyin", "pingchuan"]
    everyone = api.client.get("/api/v1/offices?per_page=2", headers=api.headers("gansu", "admin"))
    assert everyone.json["total"] == 6 and len(everyone.json["items"]) == 2
    assert api.client.get("/api/v1/offices").status_code == 401


def test_a_leader_issues_a_circular_and_only_a_leader(api: Api) -> None:
    url = "/api/v1/offices/gansu/circulars"
    issued = api.client.post(url, json=CIRCULAR, headers=api.headers("gansu", "leader"))
    assert issued.status_code == 201, issued.json
    assert (issued.json["office"], issued.json["title"]) == ("gansu", CIRCULAR["title"])
    for who, role, status in (
        ("gansu", "supervisor", 403),
        ("state-council", "leader", 404),  # not its own office: commands only at home
        ("sichuan", "leader", 404),
    ):
        got = api.client.post(url, json=CIRCULAR, headers=api.headers(who, role))
        assert got.status_code == status, (who, role, got.json)
    trail = api.client.get(
        "/api/v1/offices/gansu/audit?type=Issued", headers=api.headers("gansu", "leader")
    ).json
    assert trail["total"] == 1


def test_an_admin_sets_the_deadline_policy(api: Api) -> None:
    body = {"escalate": False, "grace_working_days": 3}
    url = "/api/v1/offices/baiyin/policy"
    assert api.client.put(url, json=body, headers=api.headers("gansu", "leader")).status_code == 403
    done = api.client.put(url, json=body, headers=api.headers("gansu", "admin"))
    assert done.status_code == 200
    assert (done.json["escalate"], done.json["grace_working_days"]) == (False, 3)
    assert api.platform.registry.get("baiyin").grace_working_days == 3
    bad = api.client.put(
        url, json={**body, "grace_working_days": 1.5}, headers=api.headers("gansu", "admin")
    )
    assert bad.status_code == 422 and "grace_working_days" in bad.json["errors"]


def test_an_admin_adds_lists_and_revokes_users(api: Api) -> None:
    admin = api.headers("gansu", "admin")
    added = api.client.post(
        "/api/v1/offices/baiyin/users", json={"role": "clerk", "name": "张三"}, headers=admin
    )
    assert added.status_code == 201, added.json
    token = added.json["token"]
    theirs = {"Authorization": f"Bearer {token}"}
    assert api.client.get("/api/v1/offices/baiyin/items", headers=theirs).status_code == 200
    listed = api.client.get("/api/v1/offices/baiyin/users", headers=admin).json
    assert [u["name"] for u in listed["items"]] == ["张三"]
    assert "token" not in listed["items"][0]
    revoked = api.client.post(
        f"/api/v1/users/{added.json['id']}/revoke", json={"reason": "调离"}, headers=admin
    )
    assert revoked.status_code == 200 and revoked.json["revoked"] is True
    assert api.client.get("/api/v1/offices/baiyin/items", headers=theirs).status_code == 401
    leader = api.headers("gansu", "leader")
    assert api.client.get("/api/v1/offices/baiyin/users", headers=leader).status_code == 403


@pytest.fixture
def operations(api: Api) -> list[tuple[str, str, dict[str, str]]]:
    spec = api.client.get("/api/v1/openapi.json").json
    return [
        (path, method, op)
        for path, ops in spec["paths"].items()
        for method, op in ops.items()
        if method in ("get", "post", "put", "delete")
    ]


def test_openapi_says_in_plain_text_who_may_call_each_operation(
    operations: list[tuple[str, str, dict[str, str]]],
) -> None:
    assert len(operations) > 35
    for path, method, op in operations:
        text = f"{op.get('summary', '')} {op.get('description', '')}"
        assert op.get("summary"), (method, path)
        assert "``" not in text, (method, path, text)
        assert any(w in text for w in ("Roles:", "Any role", "No token")), (method, path, text)
