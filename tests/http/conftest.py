"""An API over a small hierarchy: the subject office is gansu; others relate to it as named.

state-council (parent) ─┬─ gansu (same) ── baiyin (child) ── pingchuan
                        └─ sichuan (sibling) ── chengdu (unrelated)
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from domain.assignment import Assignee
from services.bootstrap import Platform, Settings, build_platform
from services.http.app import create_app
from services.users import UserDirectory
from tests.conftest import FixedClock
from tests.scenario import ADMIN, build_hierarchy, new_item, person

SUBJECT = "gansu"
RELATIONS = {
    "same": "gansu",
    "parent": "state-council",
    "child": "baiyin",
    "sibling": "sichuan",
    "unrelated": "chengdu",
}
ROLES = ("clerk", "supervisor", "leader", "auditor", "admin")


@dataclass
class Api:
    platform: Platform
    app: Flask
    users: UserDirectory
    clock: FixedClock
    tokens: dict[tuple[str, str], str] = field(default_factory=dict)

    @property
    def client(self) -> FlaskClient:
        return self.app.test_client()

    def token(self, office: str, role: str) -> str:
        if (office, role) not in self.tokens:
            _, self.tokens[(office, role)] = self.users.add(
                ADMIN, office, role, f"{office}的{role}"
            )
        return self.tokens[(office, role)]

    def headers(self, office: str | None, role: str = "leader", **more: str) -> dict[str, str]:
        auth = {"Authorization": f"Bearer {self.token(office, role)}"} if office else {}
        return {**auth, **more}

    def item(self, office: str = SUBJECT) -> dict[str, Any]:
        """A fresh item registered in ``office``, as the API shows it."""
        case = self.platform.supervision.register_item(
            person(office, "supervisor"), office, new_item()
        )
        response = self.client.get(
            f"/api/v1/offices/{office}/items/{case.id}", headers=self.headers(office)
        )
        assert response.status_code == 200, response.json
        body: dict[str, Any] = response.json  # type: ignore[assignment]
        return body


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    yield from make_api(tmp_path)


@pytest.fixture
def pg_api(tmp_path: Path, pg_url: str) -> Iterator[Api]:
    """The same API over PostgreSQL stores and read store."""
    yield from make_api(tmp_path, Settings(database_url=pg_url))


@pytest.fixture(scope="module")
def shared_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """One API for a whole module (tests that only read, or check authorization)."""
    yield from make_api(tmp_path_factory.mktemp("api"))


def make_api(tmp_path: Path, settings: Settings | None = None) -> Iterator[Api]:
    clock = FixedClock()
    platform = build_platform(settings or Settings(data_dir=tmp_path / "var"), clock=clock)
    build_hierarchy(platform)
    platform.registry.register(ADMIN, "chengdu", "成都市人民政府办公厅", "prefecture", "sichuan")
    users = UserDirectory(platform.registry, clock)
    yield Api(platform, create_app(platform, users), users, clock)
    platform.close()


def assign_down(api: Api, office: str, item_id: str, to: str) -> None:
    api.platform.supervision.act(
        person(office, "supervisor"),
        office,
        item_id,
        "assign",
        assignees=[Assignee("office", to, "lead")],
    )
