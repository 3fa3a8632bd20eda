"""Schemathesis against our own OpenAPI: generated requests (valid and not) on every
operation, as a user who can see and do a lot (a leader of gansu) and with no token, on both
backends. Besides schemathesis's own generators, some requests carry what used to answer 500:
NUL and other control characters, dates near year 1 and 9999, numbers of 40 digits, fractions
where whole numbers go, JSON nested 64 deep, unknown fields and parameters.
Zero 5xx, and every response — errors included — matches the documented schema."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from services.bootstrap import Settings
from tests.conftest import fresh_database
from tests.http.conftest import Api, assign_down, make_api

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
EXAMPLES_PER_OPERATION = 40
MINIMUM_REQUESTS = 1000


def nested(depth: int) -> Any:
    value: Any = "底"
    for _ in range(depth):
        value = [value]
    return value


HOSTILE: list[Any] = [
    "甲\u0000乙",
    "\u001b[2J",
    "e\u0301",  # decomposed: stored in NFC
    "0001-01-01",
    "9999-12-31",
    "0001-01-01T00:00:00+08:00",
    "9999-12-31T23:59:59-08:00",
    10**40,
    -(10**40),
    50.5,
    nested(64),
]


def hostile(case: schemathesis.Case, value: Any, slot: int) -> None:
    """Put ``value`` into one field of the body, or else one query parameter (an unknown one
    if the operation takes none)."""
    if isinstance(case.body, dict) and case.body:
        keys = sorted(case.body)
        case.body[keys[slot % len(keys)]] = value
        return
    query = dict(case.query or {})
    keys = sorted(query) or ["zz_unknown"]
    query[keys[slot % len(keys)]] = value if isinstance(value, str) else str(value)
    case.query = query


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Api]:
    path = tmp_path_factory.mktemp(f"schemathesis-{request.param}")
    if request.param == "sqlite":
        yield from make_api(path)
        return
    with fresh_database(request.getfixturevalue("pg_server_url")) as url:
        yield from make_api(path, Settings(data_dir=path / "var", database_url=url))


def test_generated_requests_get_no_5xx_and_match_the_schema(world: Api) -> None:
    api = world
    calls: Counter[int] = Counter()
    item = api.item("gansu")
    assign_down(api, "gansu", item["id"], "baiyin")
    token = api.token("gansu", "leader")
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", api.app)
    operations = [op.ok() for op in schema.get_all_operations()]
    assert len(operations) >= 30

    for operation in operations:
        # half the time, aim at the real item so that requests reach the domain
        @given(
            case=operation.as_strategy(),
            real=st.booleans(),
            bad=st.one_of(st.none(), st.sampled_from(HOSTILE)),
            slot=st.integers(0, 20),
        )
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def run(case: schemathesis.Case, real: bool, bad: Any, slot: int) -> None:
            authed = sum(calls.values()) % 10 != 0  # one request in ten has no token
            if real and case.path_parameters:
                if "code" in case.path_parameters:
                    case.path_parameters["code"] = "gansu"
                if "item_id" in case.path_parameters:
                    case.path_parameters["item_id"] = item["id"]
            if bad is not None:
                hostile(case, bad, slot)
            case.headers = dict(case.headers or {})
            if authed:
                case.headers["Authorization"] = f"Bearer {token}"
            else:
                case.headers.pop("Authorization", None)
            response = case.call_and_validate(checks=CHECKS)
            calls[response.status_code] += 1

        run()
    total = sum(calls.values())
    print(f"schemathesis: {total} requests, by status {dict(sorted(calls.items()))}")
    assert total >= MINIMUM_REQUESTS
    assert not [s for s in calls if s >= 500]
    assert calls[200] + calls[201] > 50, "enough requests got through to real work"
