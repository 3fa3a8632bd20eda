"""Schemathesis against our own OpenAPI: generated requests (valid and not) on every
operation, as a user who can see and do a lot (a leader of gansu) and with no token.
Zero 5xx, and every response — errors included — matches the documented schema."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

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
calls: Counter[int] = Counter()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    yield from make_api(tmp_path_factory.mktemp("schemathesis"))


def test_generated_requests_get_no_5xx_and_match_the_schema(world: Api) -> None:
    api = world
    item = api.item("gansu")
    assign_down(api, "gansu", item["id"], "baiyin")
    token = api.token("gansu", "leader")
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", api.app)
    operations = [op.ok() for op in schema.get_all_operations()]
    assert len(operations) >= 30

    for operation in operations:
        # half the time, aim at the real item so that requests reach the domain
        @given(case=operation.as_strategy(), real=st.booleans())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def run(case: schemathesis.Case, real: bool) -> None:
            authed = sum(calls.values()) % 10 != 0  # one request in ten has no token
            if real and case.path_parameters:
                if "code" in case.path_parameters:
                    case.path_parameters["code"] = "gansu"
                if "item_id" in case.path_parameters:
                    case.path_parameters["item_id"] = item["id"]
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
