"""Every route × (same office, parent, child, sibling, unrelated, no token) × role.

The expected policy is written out here from the README's matrix, independently of
``domain.policy`` and ``services.http.auth``, and checked both ways: what a user may see or do
succeeds (or fails only on a domain rule), and what they may not answers 404 — exactly as a
missing resource — or, for an own-office command beyond the role, 403.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.http.conftest import RELATIONS, ROLES, SUBJECT, Api, assign_down
from tests.scenario import ADMIN

WHO = [*RELATIONS, "none"]

CLERK = {
    "acknowledge",
    "report-progress",
    "report-completion",
    "request-extension",
    "report-rectification",
}
SUPERVISOR = CLERK | {
    "register",
    "assign",
    "urge",
    "escalate",
    "record-finding",
    "publish",
    "unpublish",
}
LEADER = SUPERVISOR | {
    "accept-completion",
    "return-completion",
    "grant-extension",
    "deny-extension",
    "commend",
    "order-rectification",
    "accept-rectification",
    "close",
    "reopen",
}
MATRIX = {
    "clerk": CLERK,
    "supervisor": SUPERVISOR,
    "leader": LEADER,
    "auditor": set(),
    "admin": set(),
}

BODIES: dict[str, dict[str, Any]] = {
    "assign": {"to": "baiyin"},
    "acknowledge": {},
    "report-progress": {"text": "进展顺利", "percent": 50},
    "report-completion": {"text": "已办结"},
    "accept-completion": {},
    "return-completion": {"reason": "材料不全"},
    "request-extension": {"new_deadline": "2026-05-29", "reason": "汛期施工受阻"},
    "grant-extension": {},
    "deny-extension": {"reason": "不符合延期条件"},
    "urge": {"message": "请加快进度"},
    "escalate": {"to": "分管领导", "reason": "进展滞后"},
    "commend": {"reason": "成效显著"},
    "order-rectification": {"requirements": "限期整改"},
    "report-rectification": {"text": "已整改"},
    "accept-rectification": {},
    "close": {"reason": "领导决定销号", "leader_closure": True},
    "reopen": {"reason": "问题反弹"},
    "publish": {"summary": "向社会公开办理进展"},
    "unpublish": {"reason": "涉及敏感信息"},
    "record-finding": {"kind": "experience", "text": "建立台账"},
}


def sees_office(who: str, role: str) -> bool:
    return role == "admin" or who in ("same", "parent", "child")


def sees_subtree(who: str, role: str) -> bool:
    return role == "admin" or who in ("same", "parent")


def sees_items(who: str, role: str) -> bool:
    return who == "same" or (role == "auditor" and who == "parent")


def expected_read(kind: str, who: str, role: str) -> int:
    if who == "none":
        return 401
    if kind == "office":
        return 200 if sees_office(who, role) else 404
    if kind in ("children", "rollup", "circular"):
        return 200 if sees_subtree(who, role) else 404
    if kind == "audit":
        if not sees_items(who, role):
            return 404
        return 200 if role in ("supervisor", "leader", "auditor") else 403
    if kind == "skipped":
        if not sees_subtree(who, role):
            return 404
        return 200 if role in ("supervisor", "leader", "admin") else 403
    return 200 if sees_items(who, role) else 404  # items, item, history, tree


@pytest.fixture(scope="module")
def world(shared_api: Api) -> dict[str, Any]:
    item = shared_api.item(SUBJECT)
    assign_down(shared_api, SUBJECT, item["id"], "baiyin")
    return {"item": item["id"]}


def headers(api: Api, who: str, role: str, **more: str) -> dict[str, str]:
    return api.headers(None if who == "none" else RELATIONS[who], role, **more)


READS = {
    "office": "/api/v1/offices/gansu",
    "children": "/api/v1/offices/gansu/children",
    "items": "/api/v1/offices/gansu/items",
    "item": "/api/v1/offices/gansu/items/{item}",
    "history": "/api/v1/offices/gansu/items/{item}/history",
    "tree": "/api/v1/offices/gansu/items/{item}/tree",
    "rollup": "/api/v1/offices/gansu/rollup",
    "audit": "/api/v1/offices/gansu/audit",
    "circular": "/api/v1/offices/gansu/circular",
    "skipped": "/api/v1/offices/gansu/skipped",
}


@pytest.mark.parametrize("kind", READS)
def test_reads_follow_the_isolation_rules(
    shared_api: Api, world: dict[str, Any], kind: str
) -> None:
    wrong = []
    for who in WHO:
        for role in ROLES:
            url = READS[kind].format(**world)
            got = shared_api.client.get(url, headers=headers(shared_api, who, role))
            want = expected_read(kind, who, role)
            if got.status_code != want:
                wrong.append((who, role, got.status_code, want))
            body = got.json or {}
            if want in (401, 403, 404):
                assert set(body) == {"code", "message", "errors"}, body
    assert not wrong, f"(who, role, got, wanted): {wrong}"


def test_a_hidden_office_answers_exactly_as_a_missing_one(shared_api: Api) -> None:
    h = shared_api.headers("gansu", "leader")
    hidden = shared_api.client.get("/api/v1/offices/sichuan/items", headers=h)
    missing = shared_api.client.get("/api/v1/offices/no-such-office/items", headers=h)
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json == {"code": "not_found", "message": "no office 'sichuan'", "errors": {}}
    assert missing.json == {
        "code": "not_found",
        "message": "no office 'no-such-office'",
        "errors": {},
    }
    hidden_item = shared_api.client.get(
        f"/api/v1/offices/sichuan/items/{shared_api.item('sichuan')['id']}", headers=h
    )
    assert hidden_item.json == hidden.json


@pytest.mark.parametrize("action", BODIES)
def test_commands_follow_the_role_matrix(shared_api: Api, action: str) -> None:
    item = shared_api.item(SUBJECT)["id"]
    url = f"/api/v1/offices/gansu/items/{item}/{action}"
    wrong = []
    for who in WHO:
        for role in ROLES:
            version = shared_api.platform.supervision.get(SUBJECT, item).version
            got = shared_api.client.post(
                url,
                json=BODIES[action],
                headers=headers(shared_api, who, role, **{"If-Match": f'"{version}"'}),
            )
            if who == "none":
                ok = got.status_code == 401
            elif not sees_items(who, role):
                ok = got.status_code == 404
            elif who != "same" or action not in MATRIX[role]:
                ok = got.status_code == 403
            else:  # allowed: it succeeds, or a domain rule (409) refuses it in this state
                ok = got.status_code in (200, 409)
            if not ok:
                wrong.append((who, role, got.status_code, (got.json or {}).get("message")))
    assert not wrong, f"(who, role, got, message): {wrong}"


def test_registering_items_and_offices(shared_api: Api) -> None:
    body = {
        "title": "关于防汛工作的通知",
        "source_kind": "document",
        "source_ref": "甘政办发〔2026〕9号",
        "issued_on": "2026-03-02",
        "objective": "确保安全度汛",
        "content": "排查隐患",
        "executing_unit": "应急办",
        "responsible_person": "赵六",
        "deadline": "2026-06-30",
    }
    wrong = []
    for who in WHO:
        for role in ROLES:
            got = shared_api.client.post(
                "/api/v1/offices/gansu/items",
                json={**body, "source_ref": f"甘政办发〔2026〕{who}-{role}号"},
                headers=headers(shared_api, who, role),
            )
            if who == "none":
                want = 401
            elif not sees_items(who, role):
                want = 404
            else:
                want = 201 if who == "same" and "register" in MATRIX[role] else 403
            if got.status_code != want:
                wrong.append(("items", who, role, got.status_code, want))
            office = {
                "code": f"o-{who}-{role}",
                "name": "新设机关",
                "level": "other",
                "parent": "pingchuan",
            }
            got = shared_api.client.post(
                "/api/v1/offices", json=office, headers=headers(shared_api, who, role)
            )
            want = 401 if who == "none" else 201 if role == "admin" else 403
            if got.status_code != want:
                wrong.append(("offices", who, role, got.status_code, want))
    assert not wrong, wrong


def test_what_a_subordinate_sees_of_an_assigned_item(shared_api: Api) -> None:
    parent_item = shared_api.item("state-council")
    assign_down(shared_api, "state-council", parent_item["id"], "gansu")
    gansu = shared_api.headers("gansu", "clerk")
    listed = shared_api.client.get("/api/v1/offices/gansu/items?kind=task", headers=gansu).json
    assert listed["items"], "the task appears in the subordinate's list"
    assert {i["office"] for i in listed["items"]} == {"gansu"}
    task = next(i for i in listed["items"] if i["parent"]["id"] == parent_item["id"])
    tree = shared_api.client.get(f"/api/v1/offices/gansu/items/{task['id']}/tree", headers=gansu)
    assert tree.status_code == 200
    assert (tree.json["office"], tree.json["id"]) == ("gansu", task["id"])  # not the parent's
    parent_view = shared_api.client.get(
        f"/api/v1/offices/state-council/items/{parent_item['id']}", headers=gansu
    )
    assert parent_view.status_code == 404
    # the State Council sees the whole tree below its item, the task included
    top = shared_api.client.get(
        f"/api/v1/offices/state-council/items/{parent_item['id']}/tree",
        headers=shared_api.headers("state-council", "leader"),
    ).json
    assert [c["office"] for c in top["children"]] == ["gansu"]


def test_a_revoked_token_is_refused_at_once(shared_api: Api) -> None:
    user, token = shared_api.users.add(ADMIN, "gansu", "clerk", "临时用户")
    h = {"Authorization": f"Bearer {token}"}
    assert shared_api.client.get("/api/v1/offices/gansu/items", headers=h).status_code == 200
    shared_api.users.revoke(ADMIN, user.id, "调离")
    refused = shared_api.client.get("/api/v1/offices/gansu/items", headers=h)
    assert refused.status_code == 401
    assert refused.json["code"] == "unauthorized"
