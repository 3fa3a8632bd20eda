"""Operations over HTTP: consumers' positions, lag and dead letters; resuming them (admins)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.http.conftest import Api


class Poison:
    """Makes the items projection fail on its next batch, until cured."""

    def __init__(self, api: Api) -> None:
        self.projection = next(p for p in api.platform.runner.projections if p.name == "items")
        self.prepare = self.projection.prepare
        self.sick = True

        def failing(batch: Any) -> Any:
            if self.sick:
                raise RuntimeError("the items projection cannot take this event")
            return self.prepare(batch)

        self.projection.prepare = failing  # type: ignore[method-assign]


def test_a_stopped_consumer_shows_and_resumes_over_http(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    admin = api.headers("gansu", "admin")
    assert api.client.get("/api/v1/admin/consumers", headers=admin).json["stopped"] == 0
    poison = Poison(api)
    item = api.item("state-council")  # the command succeeds although a consumer fails
    url = f"/api/v1/offices/state-council/items/{item['id']}"
    assert api.client.get(url, headers=api.headers("state-council")).status_code == 200
    shown = api.client.get("/api/v1/admin/consumers?behind=true", headers=admin).json
    assert shown["stopped"] == 1
    [stopped] = [c for c in shown["consumers"] if c["dead_letter"]]
    assert (stopped["office"], stopped["consumer"]) == ("state-council", "items")
    assert stopped["lag"] == 1 and stopped["dead_letter"]["error"] == "RuntimeError"
    assert "cannot take this event" in stopped["dead_letter"]["message"]
    assert any("cannot take this event" in r.getMessage() for r in caplog.records)
    others = api.client.get("/api/v1/admin/consumers?office=gansu", headers=admin).json
    assert others["stopped"] == 0  # other offices keep flowing
    assert api.client.post("/api/v1/admin/consumers/retry", json={}, headers=admin).json == {
        "resumed": 0,
        "stopped": 1,
    }
    poison.sick = False
    resumed = api.client.post(
        "/api/v1/admin/consumers/retry", json={"office": "state-council"}, headers=admin
    )
    assert resumed.json == {"resumed": 1, "stopped": 0}
    listed = api.client.get(
        "/api/v1/offices/state-council/items", headers=api.headers("state-council")
    ).json
    assert [i["id"] for i in listed["items"]] == [item["id"]]


def test_only_admins_see_the_consumers(api: Api) -> None:
    for role in ("clerk", "supervisor", "leader", "auditor"):
        got = api.client.get("/api/v1/admin/consumers", headers=api.headers("gansu", role))
        assert got.status_code == 404, role
        retry = api.client.post(
            "/api/v1/admin/consumers/retry", json={}, headers=api.headers("gansu", role)
        )
        assert retry.status_code == 404, role
    assert api.client.get("/api/v1/admin/consumers").status_code == 401
