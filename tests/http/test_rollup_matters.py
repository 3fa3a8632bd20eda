"""The roll-up and the circular over HTTP (issue 11 §1): matters once, records, by_office,
the ranking's rule, as the OpenAPI document describes them."""

from __future__ import annotations

from datetime import datetime

from domain.values import CHINA_TZ
from projections.queries import RULE
from tests.http.conftest import Api, assign_down


def test_the_rollup_shows_matters_records_and_each_child_office(api: Api) -> None:
    item = api.item("state-council")
    assign_down(api, "state-council", item["id"], "gansu")
    api.clock.set("2026-05-06")  # past the deadline
    lead = api.headers("state-council")
    body = api.client.get("/api/v1/offices/state-council/rollup", headers=lead).json
    assert set(body) == {
        "office",
        "on",
        "matters",
        "records",
        "by_office",
        "commended",
        "under_rectification",
    }
    assert (body["matters"]["total"], body["matters"]["overdue"]) == (1, 1)
    assert (body["records"]["total"], body["records"]["overdue"]) == (2, 2)
    assert body["records"]["on_time_rate"] == 0.0  # two due, none on time: not 100 %
    gansu = next(e for e in body["by_office"] if e["office"] == "gansu")
    assert (gansu["name"], gansu["matters"]["total"], gansu["records"]["total"]) == (
        "甘肃省人民政府办公厅",
        1,
        1,
    )
    past = api.client.get(
        "/api/v1/offices/state-council/rollup",
        query_string={"as_of": datetime(2026, 3, 2, 18, tzinfo=CHINA_TZ).isoformat()},
        headers=lead,
    ).json
    assert set(past) == set(body) and past["matters"]["total"] == 1  # the same shape


def test_the_circular_says_its_rule_and_the_openapi_document_describes_both(api: Api) -> None:
    lead = api.headers("state-council")
    circular = api.client.get("/api/v1/offices/state-council/circular", headers=lead).json
    assert circular["rule"] == RULE
    assert [e["rank"] for e in circular["ranking"]] == [None, None]  # nothing due anywhere
    schemas = api.client.get("/api/v1/openapi.json").json["components"]["schemas"]
    assert {"matters", "records", "by_office"} <= set(schemas["Rollup"]["properties"])
    assert "rule" in schemas["Circular"]["properties"]
    assert "due" in schemas["Figures"]["properties"]["on_time_rate"]["description"]
