"""The screens over the API's test hierarchy (``tests.http.conftest``), with people who sign in
with a login and password: ``{office}-{role}`` / ``PASSWORD``."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.http.conftest import Api, make_api
from tests.scenario import ADMIN

PASSWORD = "正确的马电池订书钉-2026"
CATALOGS = Path(__file__).parents[2] / "services" / "web" / "translations"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(scope="session", autouse=True)
def compiled_catalogs() -> None:
    """``make install`` compiles the catalogs; a bare ``pytest`` run may not have, or may
    run after the catalog changed."""
    folder = CATALOGS / "zh_Hans_CN" / "LC_MESSAGES"
    mo, po = folder / "messages.mo", folder / "messages.po"
    if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
        subprocess.run(
            [sys.executable, "-m", "babel.messages.frontend", "compile", "-d", str(CATALOGS)],
            check=True,
            capture_output=True,
        )


@dataclass
class Screens:
    api: Api

    def person(self, office: str, role: str, login: str | None = None) -> str:
        """A user who can sign in; their login."""
        login = login or f"{office}-{role}"
        self.api.users.add(ADMIN, office, role, f"{office}的{role}", login, PASSWORD)
        return login

    def client(self) -> FlaskClient:
        return self.api.app.test_client()

    def signed_in(self, office: str, role: str) -> FlaskClient:
        client = self.client()
        login = self.person(office, role)
        response = post(client, "/signin", {"login": login, "password": PASSWORD})
        assert response.status_code == 302, response.text
        return client


def token(client: FlaskClient, path: str = "/signin") -> str:
    page = client.get(path)
    found = TOKEN.search(page.text)
    assert found, f"no CSRF token on {path}"
    return found.group(1)


def post(
    client: FlaskClient, path: str, form: dict[str, str], page: str = "/signin"
) -> TestResponse:
    """Post a form the way a browser does: with the token of the page it came from."""
    return client.post(path, data={**form, "csrf_token": token(client, page)})


@pytest.fixture
def screens(tmp_path: Path) -> Iterator[Screens]:
    for api in make_api(tmp_path):
        yield Screens(api)
