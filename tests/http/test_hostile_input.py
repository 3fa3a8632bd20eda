"""Input that used to answer 500 or take an office down, on both backends (issue 10 §1, §5).

Each request here must answer 4xx naming the field, record nothing, and leave the office
working: a command and a list right after it still succeed (on PostgreSQL, one NUL used to
leave every later command of the office answering 500).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from services.bootstrap import Settings
from services.supervision import ACTIONS
from tests.http.conftest import Api, make_api

ITEM = {
    "title": "关于防汛工作的批示",
    "source_kind": "instruction",
    "source_ref": "甘政批〔2026〕9号",
    "issued_on": "2026-03-02",
    "objective": "确保安全度汛",
    "content": "排查隐患",
    "executing_unit": "省应急厅",
    "responsible_person": "李四",
}
UNSTORABLE = {
    "NUL": "甲\u0000乙",
    "bell": "甲\u0007乙",
    "escape": "\u001b[31m",
    "lone surrogate": "甲\ud800",
}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_api(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Api]:
    settings = None
    if request.param == "postgres":
        settings = Settings(
            data_dir=tmp_path / "var", database_url=request.getfixturevalue("pg_url")
        )
    yield from make_api(tmp_path, settings)


def post(api: Api, url: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
    """JSON with every non-ASCII character escaped, as a client may send a lone surrogate."""
    raw = json.dumps(body, ensure_ascii=True)
    return api.client.post(url, data=raw, content_type="application/json", headers=headers)


def recorded(api: Api) -> dict[str, int]:
    """Every office's last notification id: what a refused request must leave alone."""
    offices = [o.code for o in api.platform.registry.all()]
    return api.platform.backend.last_ids(offices)


def fresh(api: Api, role: str = "leader") -> tuple[str, dict[str, str]]:
    """A new item of gansu's: its URL and headers with its current ETag."""
    item = api.item("gansu")
    url = f"/api/v1/offices/gansu/items/{item['id']}"
    etag = api.client.get(url, headers=api.headers("gansu", role)).headers["ETag"]
    return url, {**api.headers("gansu", role), "If-Match": etag}


def still_works(api: Api) -> None:
    url, h = fresh(api, "clerk")
    assert api.client.post(f"{url}/acknowledge", json={}, headers=h).status_code == 200
    listed = api.client.get("/api/v1/offices/gansu/items", headers=api.headers("gansu"))
    assert listed.status_code == 200 and listed.json["total"] >= 1
    assert (
        api.client.get(
            "/api/v1/offices/state-council/rollup", headers=api.headers("state-council")
        ).status_code
        == 200
    )


def refused(response: Any, status: int, field: str) -> None:
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.json
    assert body["errors"].get(field), body
    assert status == 412 or field in body["message"], body


@pytest.mark.parametrize("kind", UNSTORABLE)
def test_unstorable_text_is_refused_everywhere_and_the_office_keeps_working(
    any_api: Api, kind: str
) -> None:
    api, bad = any_api, UNSTORABLE[kind]
    before = recorded(api)
    for field in ("title", "source_ref", "objective", "responsible_person"):
        response = post(
            api,
            "/api/v1/offices/gansu/items",
            {**ITEM, field: bad},
            api.headers("gansu", "supervisor"),
        )
        refused(response, 422, field)
    url, h = fresh(api)
    before = recorded(api)
    for action, body, field in (
        ("urge", {"message": bad}, "message"),
        ("close", {"reason": bad, "leader_closure": True}, "reason"),
        ("accept-completion", {"comment": bad}, "comment"),  # optional text too
        ("assign", {"to_unit": "督查室", "co_unit": ["办公室", bad]}, "co_unit.1"),
        (
            "record-finding",
            {"kind": "problem", "text": "问题", "recommendation": bad},
            "recommendation",
        ),
    ):
        refused(post(api, f"{url}/{action}", body, h), 422, field)
    if kind != "lone surrogate":  # a URL carries UTF-8, which cannot hold one
        refused(api.client.get(f"/api/v1/offices/gansu/items?text={bad}", headers=h), 422, "text")
        refused(api.client.get(f"/api/v1/offices/gan{bad}su/items", headers=h), 422, "code")
    assert recorded(api) == before
    still_works(api)


def test_text_is_stored_in_nfc(any_api: Api) -> None:
    url, h = fresh(any_api)
    decomposed = "e\u0301 督办"  # e + combining acute
    answer = any_api.client.post(f"{url}/urge", json={"message": decomposed}, headers=h)
    assert answer.status_code == 200
    history = any_api.client.get(f"{url}/history", headers=h).json["items"]
    assert history[-1]["data"]["message"] == "\u00e9 督办"


@pytest.mark.parametrize("tag", ['"١"', '"²"', '"1١"', '"' + "9" * 5000 + '"', 'W/"\u0000"'])
def test_if_match_with_anything_but_ascii_digits_is_412_naming_the_header(
    any_api: Api, tag: str
) -> None:
    url, h = fresh(any_api)
    before = recorded(any_api)
    answer = any_api.client.post(
        f"{url}/urge", json={"message": "请抓紧"}, headers={**h, "If-Match": tag}
    )
    assert answer.status_code in (412, 422), answer.json
    assert "If-Match" in answer.json["errors"] or answer.status_code == 422
    assert recorded(any_api) == before


@pytest.mark.parametrize("when", ["0001-01-01T00:00:00+08:00", "9999-12-31T23:59:59-08:00"])
def test_instants_near_year_1_or_9999_are_422(any_api: Api, when: str) -> None:
    url, h = fresh(any_api)
    quoted = when.replace("+", "%2B")
    for path, field in (
        (f"{url}?as_of={quoted}", "as_of"),
        (f"/api/v1/offices/gansu/rollup?as_of={quoted}", "as_of"),
        (f"/api/v1/offices/gansu/audit?from={quoted}", "from"),
        (f"/api/v1/offices/gansu/audit?to={quoted}", "to"),
    ):
        refused(any_api.client.get(path, headers=h), 422, field)


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_dates_near_year_1_or_9999_are_422_and_record_nothing(any_api: Api, day: str) -> None:
    api = any_api
    url, h = fresh(api)
    before = recorded(api)
    for field in ("issued_on", "deadline"):
        response = api.client.post(
            "/api/v1/offices/gansu/items",
            json={**ITEM, field: day},
            headers=api.headers("gansu", "supervisor"),
        )
        refused(response, 422, field)
    body = {"new_deadline": day, "reason": "工期"}
    refused(api.client.post(f"{url}/request-extension", json=body, headers=h), 422, "new_deadline")
    assert recorded(api) == before


def test_deep_json_huge_numbers_and_fractions_are_422(any_api: Api) -> None:
    api = any_api
    url, h = fresh(api, "clerk")
    api.client.post(f"{url}/acknowledge", json={}, headers=h)
    h = {**h, "If-Match": api.client.get(url, headers=h).headers["ETag"]}
    before = recorded(api)
    progress = f"{url}/report-progress"
    deep = '{"text": "进展", "percent": 10, "attachment": ' + "[" * 5000 + "]" * 5000 + "}"
    for raw, field in (
        (deep, "body"),
        ('{"text": "进展", "percent": ' + "9" * 5000 + "}", "body"),
        ('{"text": "进展", "percent": ' + "9" * 100 + "}", "percent"),
        ('{"text": "进展", "percent": 50.5}', "percent"),
        ('{"text": "进展", "percent": 1e400}', "percent"),
        ('{"text": "\\ud800", "percent": 50}', "text"),
    ):
        answer = api.client.post(progress, data=raw, content_type="application/json", headers=h)
        refused(answer, 422, field)
    assert recorded(api) == before
    still_works(api)


def test_unknown_query_parameters_are_422_on_every_route(any_api: Api) -> None:
    url, h = fresh(any_api)
    for path in (
        "/api/v1/offices/gansu",
        "/api/v1/offices/gansu/children",
        "/api/v1/offices/gansu/items",
        url,
        f"{url}/history",
        f"{url}/tree",
        "/api/v1/offices/gansu/rollup",
        "/api/v1/offices/gansu/audit",
        "/api/v1/offices/gansu/circular",
        "/api/v1/public/items",
        "/healthz",
    ):
        refused(any_api.client.get(f"{path}?bogus=1", headers=h), 422, "bogus")
    before = recorded(any_api)
    refused(
        any_api.client.post(f"{url}/urge?bogus=1", json={"message": "快"}, headers=h), 422, "bogus"
    )
    assert recorded(any_api) == before


FAILING_BODIES: dict[str, dict[str, Any]] = {
    "assign": {"to": "sichuan"},  # not below gansu
    "acknowledge": {},
    "report-progress": {"text": "进展", "percent": 10},
    "report-completion": {"text": "办结"},
    "accept-completion": {},
    "return-completion": {"reason": "不合格"},
    "request-extension": {"new_deadline": "2026-05-29", "reason": "工期"},
    "grant-extension": {},
    "deny-extension": {"reason": "不同意"},
    "urge": {"message": "请抓紧"},
    "escalate": {"to": "分管领导", "reason": "逾期"},
    "commend": {"reason": "   "},  # blank once trimmed: refused by the domain
    "order-rectification": {"requirements": "限期整改"},
    "report-rectification": {"text": "已整改"},
    "accept-rectification": {},
    "close": {"reason": "已办结"},
    "reopen": {"reason": "重新办理"},
    "publish": {"summary": "\u3000"},
    "unpublish": {"reason": "撤回"},
    "record-finding": {"kind": "problem", "text": " "},
}


@pytest.mark.parametrize("action", ACTIONS)
def test_a_command_answered_with_an_error_records_nothing(any_api: Api, action: str) -> None:
    """Every action path, made to fail by the domain (a closed item refuses everything but
    reopen; an open one refuses reopen; commend, publish and record-finding, allowed when
    closed, get text that is blank once trimmed): 4xx, and no office's log grew."""
    api = any_api
    url, h = fresh(api)
    if action != "reopen":
        closed = api.client.post(
            f"{url}/close", json={"reason": "领导决定", "leader_closure": True}, headers=h
        )
        assert closed.status_code == 200, closed.json
        h = {**h, "If-Match": closed.headers["ETag"]}
    before = recorded(api)
    answer = api.client.post(f"{url}/{action}", json=FAILING_BODIES[action], headers=h)
    assert 400 <= answer.status_code < 500, answer.json
    assert recorded(api) == before
