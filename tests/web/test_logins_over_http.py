"""An office's admin gives logins over the API too, and sees sign-in locks there."""

from __future__ import annotations

from tests.web.conftest import Screens, post

USERS = "/api/v1/offices/gansu/users"
PASSWORD = "白银市的新密码-2026"


def test_an_admin_gives_a_login_over_the_api_and_sees_its_lock(screens: Screens) -> None:
    api = screens.api
    admin = api.headers("gansu", "admin")
    body = {"role": "clerk", "name": "李四", "login": "lisi", "password": PASSWORD}
    added = api.client.post(USERS, json=body, headers=admin)
    assert added.status_code == 201, added.json
    assert added.json["login"] == "lisi" and "password" not in added.json
    assert PASSWORD not in added.text

    client = screens.client()
    assert post(client, "/signin", {"login": "lisi", "password": PASSWORD}).status_code == 302
    for _ in range(5):
        post(screens.client(), "/signin", {"login": "lisi", "password": "not the password"})
    listed = api.client.get(USERS, headers=admin).json["items"]
    (lisi,) = [u for u in listed if u["login"] == "lisi"]
    assert lisi["locked_until"].endswith("+08:00")
    assert all(u["locked_until"] is None for u in listed if u["login"] != "lisi")


def test_a_login_needs_a_good_password_and_may_not_be_taken_twice(screens: Screens) -> None:
    api = screens.api
    admin = api.headers("gansu", "admin")
    bare = api.client.post(
        USERS, json={"role": "clerk", "name": "王五", "login": "wangwu"}, headers=admin
    )
    assert bare.status_code == 422 and "password" in bare.json["errors"]
    short = {"role": "clerk", "name": "王五", "login": "wangwu", "password": "短"}
    assert api.client.post(USERS, json=short, headers=admin).json["errors"]["password"]
    ok = {**short, "password": PASSWORD}
    assert api.client.post(USERS, json=ok, headers=admin).status_code == 201
    again = api.client.post(USERS, json={**ok, "name": "另一个王五"}, headers=admin)
    assert again.status_code == 409 and "wangwu" in again.json["message"]
    names = [u["name"] for u in api.client.get(USERS, headers=admin).json["items"]]
    assert "另一个王五" not in names  # nothing recorded
    clerk = api.client.post(USERS, json=ok, headers=api.headers("gansu", "clerk"))
    assert clerk.status_code == 403
