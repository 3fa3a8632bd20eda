"""A blue/green upgrade run by the owner role leaves the runtime role its rights on the tables
switched in (they were made in another schema, where no default privileges apply)."""

from __future__ import annotations

import psycopg
import pytest

from projections.items import ItemsProjection
from projections.rollup import RollupProjection
from tests.backends.test_least_privilege import Roles, ducha, roles  # noqa: F401 - fixture

pytestmark = pytest.mark.postgres


def test_the_runtime_role_keeps_its_rights_on_upgraded_tables(roles: Roles) -> None:  # noqa: F811
    assert ducha(roles.owner, "migrate", "--grant-to", roles.app_name).returncode == 0
    made = ducha(
        roles.app,
        "init",
        "--root",
        "sc",
        "--name",
        "国务院办公厅",
        "--admin",
        "admin",
        "--generate-password",
    )
    assert made.returncode == 0, made.stderr
    upgraded = ducha(roles.owner, "projections", "upgrade", "items", "rollup")
    assert upgraded.returncode == 0, upgraded.stderr
    versions = f"items version {ItemsProjection.version}, rollup version {RollupProjection.version}"
    assert upgraded.stdout.startswith(f"switched in {versions}: ")
    with psycopg.connect(roles.owner) as conn:
        for table in ("items", "rollup", "rollup_daily"):
            rights = conn.execute(
                "SELECT has_table_privilege(%s, %s, 'SELECT') AND "
                "has_table_privilege(%s, %s, 'INSERT') AND has_table_privilege(%s, %s, 'DELETE')",
                [roles.app_name, f"ducha_read.{table}"] * 3,
            ).fetchone()
            assert rights == (True,), table
    listed = ducha(roles.app, "offices", "list")
    assert listed.returncode == 0 and "国务院办公厅" in listed.stdout, listed.stderr
