"""``GET /metrics``: admins only; requests, commands, lag per office (aggregated and the top-N),
dead letters, deadline runs and the calendar's horizon, parsed as Prometheus parses them."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from services.bootstrap import Settings
from services.holiday_notices import YearData
from services.http.app import create_app
from tests.http.conftest import Api, make_api
from tests.http.test_admin import Poison
from tests.scenario import new_item, person

Series = dict[tuple[str, frozenset[tuple[str, str]]], float]
ITEM_ROUTE = "/api/v1/offices/<code>/items/<item_id>"


@pytest.fixture
def either(tmp_path: Path, settings: Settings) -> Iterator[Api]:
    """The API over SQLite, then over PostgreSQL."""
    yield from make_api(tmp_path, settings)


def scrape(api: Api) -> Series:
    got = api.client.get("/metrics", headers=api.headers("gansu", "admin"))
    assert got.status_code == 200, got.data
    assert got.content_type.startswith("text/plain")
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(got.get_data(as_text=True))
        for s in family.samples
    }


def value(series: Series, name: str, **labels: str) -> float:
    return series.get((name, frozenset(labels.items())), 0.0)


def named(series: Series, name: str) -> dict[frozenset[tuple[str, str]], float]:
    return {labels: v for (n, labels), v in series.items() if n == name}


def test_only_an_admin_scrapes(api: Api) -> None:
    for role in ("clerk", "supervisor", "leader", "auditor"):
        got = api.client.get("/metrics", headers=api.headers("gansu", role))
        assert got.status_code == 404 and got.json["code"] == "not_found"
    assert api.client.get("/metrics").status_code == 401
    assert api.client.get("/metrics", headers=api.headers("gansu", "admin")).status_code == 200


def test_requests_and_commands_are_counted(either: Api) -> None:
    api = either
    item = api.item()  # one GET of the item route, answered 200
    before = scrape(api)
    h = api.headers("gansu", "clerk")
    url = f"/api/v1/offices/gansu/items/{item['id']}"
    for _ in range(3):
        assert api.client.get(url, headers=h).status_code == 200
    assert api.client.get(url.replace(item["id"][:8], "00000000"), headers=h).status_code == 404
    done = api.client.post(f"{url}/acknowledge", json={}, headers={**h, "If-Match": '"1"'})
    assert done.status_code == 200
    after = scrape(api)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    get = {"method": "GET", "route": ITEM_ROUTE}
    assert moved("ducha_http_requests_total", **get, status="200") == 3
    assert moved("ducha_http_requests_total", **get, status="404") == 1
    assert moved("ducha_http_request_duration_seconds_count", **get) == 4
    assert moved("ducha_http_request_duration_seconds_bucket", **get, le="+Inf") == 4
    assert moved("ducha_http_request_duration_seconds_sum", **get) > 0
    ack = {"method": "POST", "route": f"{ITEM_ROUTE}/acknowledge", "status": "200"}
    assert moved("ducha_http_requests_total", **ack) == 1
    assert moved("ducha_commands_total", type="SupervisionItem.Acknowledged", channel="api") == 1
    assert moved("ducha_commands_total", type="SupervisionItem.Registered", channel="api") == 0
    assert moved("ducha_http_requests_total", method="GET", route="/metrics", status="200") == 1


def test_an_office_behind_shows_in_the_lag_on_both_backends(either: Api) -> None:
    api = either
    calm = scrape(api)
    assert value(calm, "ducha_consumer_offices_behind", consumer="items") == 0
    assert not named(calm, "ducha_consumer_laggard_events_behind")
    assert value(calm, "ducha_platform_readable") == 1
    api.platform.supervision.listeners.clear()  # the pump no longer hears of commands
    for _ in range(2):
        api.platform.supervision.register_item(person("gansu", "supervisor"), "gansu", new_item())
    api.platform.supervision.register_item(person("baiyin", "supervisor"), "baiyin", new_item())
    api.clock.now += timedelta(seconds=90)
    behind = scrape(api)
    items = {"consumer": "items"}
    assert value(behind, "ducha_consumer_offices_behind", **items) == 2
    assert value(behind, "ducha_consumer_events_behind", **items, kind="projection") == 3
    assert value(behind, "ducha_consumer_events_behind_max", **items) == 2
    gansu, baiyin = ({**items, "office": o} for o in ("gansu", "baiyin"))
    assert value(behind, "ducha_consumer_laggard_events_behind", **gansu) == 2
    assert value(behind, "ducha_consumer_laggard_events_behind", **baiyin) == 1
    assert value(behind, "ducha_consumer_laggard_seconds_behind", **gansu) == 90
    assert value(behind, "ducha_consumer_seconds_behind_max", **items) == 90
    assert value(behind, "ducha_offices") == len(api.platform.registry.all())
    api.platform.runner.catch_up_all()
    caught_up = scrape(api)
    assert value(caught_up, "ducha_consumer_offices_behind", **items) == 0
    assert value(caught_up, "ducha_consumer_events_behind", **items, kind="projection") == 0
    assert not named(caught_up, "ducha_consumer_laggard_events_behind")


def test_only_the_top_n_laggards_get_a_series(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DUCHA_METRICS_TOP", "2")
    api.app = create_app(api.platform, api.users)
    api.platform.supervision.listeners.clear()
    offices = ["gansu", "baiyin", "sichuan", "state-council"]
    for n, office in enumerate(offices):
        for _ in range(n + 1):
            api.platform.supervision.register_item(person(office, "supervisor"), office, new_item())
    behind = scrape(api)
    assert value(behind, "ducha_consumer_offices_behind", consumer="items") == 4
    assert value(behind, "ducha_consumer_events_behind", consumer="items", kind="projection") == 10
    top = named(behind, "ducha_consumer_laggard_events_behind")
    assert {
        dict(labels)["office"]: v for labels, v in top.items() if ("consumer", "items") in labels
    } == {
        "state-council": 4,
        "sichuan": 3,
    }
    assert len(named(behind, "ducha_consumer_laggard_seconds_behind")) == len(top)


def test_dead_letters_are_counted_by_consumer(api: Api) -> None:
    assert value(scrape(api), "ducha_dead_letters", consumer="items") == 0
    Poison(api)
    api.item("state-council")
    stopped = scrape(api)
    assert value(stopped, "ducha_dead_letters", consumer="items") == 1
    assert value(stopped, "ducha_dead_letters", consumer="ledger") == 0
    assert value(stopped, "ducha_consumer_offices_behind", consumer="items") == 1


def test_a_deadline_run_counts_its_actions_and_logs_them(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    api.item()  # due 2026-04-14 (registered 2026-03-02)
    before = scrape(api)
    api.clock.set("2026-04-20")
    with caplog.at_level(logging.INFO, logger="services.deadlines"):
        report = api.platform.deadlines.run()
    assert report.escalated == 1
    after = scrape(api)
    runs = value(after, "ducha_deadline_runs_total", outcome="ok")
    assert runs - value(before, "ducha_deadline_runs_total", outcome="ok") == 1
    for action in ("checked", "urged", "escalated", "recomputed"):
        moved = value(after, "ducha_deadline_actions_total", action=action) - value(
            before, "ducha_deadline_actions_total", action=action
        )
        assert moved == getattr(report, action), action
    assert value(after, "ducha_deadline_last_run_timestamp_seconds") > 0
    [line] = [r for r in caplog.records if r.name == "services.deadlines"]
    assert line.escalated == 1 and line.checked == report.checked  # type: ignore[attr-defined]
    assert "escalated 1" in line.getMessage()


def test_the_calendar_horizon_is_the_end_of_the_last_published_year(api: Api) -> None:
    """The shipped data publishes up to 2026; the clock says 2026-03-02."""
    assert value(scrape(api), "ducha_calendar_last_published_year") == 2026
    assert value(scrape(api), "ducha_calendar_horizon_days") == 304  # to 2026-12-31
    api.platform.calendar.publish(2027, YearData(source="国办发明电〔2026〕1号"))
    later = scrape(api)
    assert value(later, "ducha_calendar_last_published_year") == 2027
    assert value(later, "ducha_calendar_horizon_days") == 304 + 365
    api.clock.set("2028-01-05")
    assert value(scrape(api), "ducha_calendar_horizon_days") == -5  # 2028 is provisional


def test_methods_a_client_invents_share_one_series(api: Api) -> None:
    for made_up in ("X0ABC", "X1", "BREW", "PROPFIND"):
        api.client.open("/healthz", method=made_up)
    counted = named(scrape(api), "ducha_http_requests_total")
    methods = {dict(labels)["method"] for labels in counted}
    assert methods <= {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other"}
    others = sum(v for labels, v in counted.items() if dict(labels)["method"] == "other")
    assert others == 4
