"""The API's state-keeping parts on PostgreSQL: users, ETags, idempotency keys, read side."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.bootstrap import Settings
from tests.http import test_api as behaviours  # a module: its tests are not collected twice
from tests.http.conftest import Api, make_api
from tests.scenario import ADMIN

pytestmark = pytest.mark.postgres


@pytest.mark.parametrize(
    "behaviour",
    [
        behaviours.test_actions_need_the_current_etag,
        behaviours.test_a_retry_with_the_same_idempotency_key_records_nothing_new,
        behaviours.test_an_idempotent_action_retry_returns_the_first_answer,
        behaviours.test_lists_are_paginated_and_filtered,
        behaviours.test_time_travel_on_an_item_and_a_rollup,
    ],
    ids=lambda f: f.__name__.removeprefix("test_"),
)
def test_on_postgres(pg_api: Api, behaviour) -> None:  # type: ignore[no-untyped-def]
    behaviour(pg_api)


def test_a_revoked_token_is_refused_on_postgres(pg_api: Api) -> None:
    from tests.scenario import ADMIN

    user, token = pg_api.users.add(ADMIN, "gansu", "clerk", "临时用户")
    h = {"Authorization": f"Bearer {token}"}
    assert pg_api.client.get("/api/v1/offices/gansu/items", headers=h).status_code == 200
    pg_api.users.revoke(ADMIN, user.id, "调离")
    assert pg_api.client.get("/api/v1/offices/gansu/items", headers=h).status_code == 401


def test_a_request_that_finds_no_free_connection_is_a_503_to_retry(
    tmp_path: Path, pg_url: str
) -> None:
    settings = Settings(database_url=pg_url, pg_pool_max=2, pg_pool_timeout=1)
    api = next(make_api(tmp_path, settings))
    try:
        _, token = api.users.add(ADMIN, "gansu", "clerk", "忙时用户")
        headers = {"Authorization": f"Bearer {token}"}
        pool = api.platform.backend.pool  # type: ignore[attr-defined]
        with pool.connection(), pool.connection():  # every connection taken, for a while
            busy = api.client.get("/api/v1/offices/gansu/items", headers=headers)
        assert busy.status_code == 503
        assert busy.headers["Retry-After"] == "5"
        assert busy.get_json()["code"] == "database_busy"
        assert api.client.get("/api/v1/offices/gansu/items", headers=headers).status_code == 200
    finally:
        api.platform.close()
