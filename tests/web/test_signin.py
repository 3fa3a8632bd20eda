"""Signing in to the screens: passwords, locks, sessions that end, CSRF, the language switch."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.web.common import context
from tests.scenario import ADMIN
from tests.web.conftest import PASSWORD, Screens, post


def test_a_stranger_is_sent_to_sign_in_and_the_page_is_chinese(screens: Screens) -> None:
    client = screens.client()
    home = client.get("/")
    assert home.status_code == 302 and home.headers["Location"].endswith("/signin")
    desk = client.get("/desk?light=red")
    assert desk.status_code == 302 and "next=/desk?light%3Dred" in desk.headers["Location"]
    page = client.get("/signin")
    assert page.status_code == 200 and '<html lang="zh-CN">' in page.text
    assert "登录名" in page.text and "密码" in page.text and "Password" not in page.text


def test_signing_in_leads_to_the_desk_with_a_safe_cookie(screens: Screens) -> None:
    client = screens.client()
    login = screens.person("gansu", "clerk")
    response = post(client, "/signin", {"login": login, "password": PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/desk"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    desk = client.get("/desk")
    assert desk.status_code == 200
    assert (
        "甘肃省人民政府办公厅" in desk.text
        and "gansu的clerk" in desk.text
        and "经办人" in desk.text
    )


def test_after_signing_in_the_person_goes_where_they_were_going_on_this_site_only(
    screens: Screens,
) -> None:
    client = screens.client()
    login = screens.person("gansu", "clerk")
    form = {"login": login, "password": PASSWORD}
    going = post(client, "/signin", {**form, "next": "/desk?light=red"})
    assert going.headers["Location"] == "/desk?light=red"
    for elsewhere in ("//evil.example/desk", "https://evil.example/", "javascript:alert(1)"):
        away = post(screens.client(), "/signin", {**form, "next": elsewhere})
        assert away.headers["Location"] == "/desk", elsewhere


def test_a_wrong_password_says_only_that_and_five_lock_the_login(screens: Screens) -> None:
    client = screens.client()
    login = screens.person("gansu", "clerk")
    unknown = post(client, "/signin", {"login": "nobody", "password": "x" * 12})
    wrong = post(client, "/signin", {"login": login, "password": "x" * 12})
    assert unknown.status_code == wrong.status_code == 401
    assert "登录名或密码错误" in unknown.text and "登录名或密码错误" in wrong.text
    for _ in range(4):
        last = post(client, "/signin", {"login": login, "password": "y" * 12})
    assert last.status_code == 401 and "锁定" in last.text
    right = post(client, "/signin", {"login": login, "password": PASSWORD})
    assert right.status_code == 401 and "锁定" in right.text  # locked: even the right one
    locks = context_of(screens).sign_in.locks()
    assert [lock.login for lock in locks] == [login]
    context_of(screens).sign_in.unlock(login)
    assert post(client, "/signin", {"login": login, "password": PASSWORD}).status_code == 302


def test_a_form_without_its_token_is_refused_and_changes_nothing(screens: Screens) -> None:
    client = screens.client()
    login = screens.person("gansu", "clerk")
    forged = client.post("/signin", data={"login": login, "password": PASSWORD})
    assert forged.status_code == 400 and "表单已过期" in forged.text
    assert client.get("/desk").status_code == 302
    signed = screens.signed_in("gansu", "leader")
    assert signed.post("/signout").status_code == 400  # sign-out too needs the token
    assert signed.get("/desk").status_code == 200


def test_the_api_takes_bearer_tokens_without_form_tokens(screens: Screens) -> None:
    api = screens.api
    listed = api.client.get("/api/v1/offices/gansu/items", headers=api.headers("gansu"))
    assert listed.status_code == 200


def test_a_session_ends_when_revoked_reset_idle_or_signed_out(screens: Screens) -> None:
    users = screens.api.users
    revoked = screens.signed_in("gansu", "clerk")
    users.revoke(ADMIN, users.by_login("gansu-clerk").id, "调离")
    assert revoked.get("/desk").status_code == 302
    assert "会话已结束" in revoked.get("/signin").text

    reset = screens.signed_in("gansu", "supervisor")
    users.set_password(ADMIN, "gansu-supervisor", "另一个足够长的新密码-2027")
    assert reset.get("/desk").status_code == 302

    idle = screens.signed_in("gansu", "leader")
    with idle.session_transaction() as session:
        session["seen"] = (datetime.now(UTC) - timedelta(minutes=31)).isoformat()
    assert idle.get("/desk").status_code == 302

    out = screens.signed_in("baiyin", "clerk")
    assert post(out, "/signout", {}, page="/desk").status_code == 302
    assert out.get("/desk").status_code == 302


def test_the_language_switch_is_remembered_for_the_person(screens: Screens) -> None:
    client = screens.signed_in("gansu", "clerk")
    switched = post(client, "/language", {"language": "en", "next": "/desk"}, page="/desk")
    assert switched.headers["Location"] == "/desk"
    desk = client.get("/desk")
    assert '<html lang="en">' in desk.text and "My desk" in desk.text and "工作台" not in desk.text
    again = screens.client()  # another browser, the same person
    post(again, "/signin", {"login": "gansu-clerk", "password": PASSWORD})
    assert "My desk" in again.get("/desk").text


def test_characters_no_store_could_hold_are_refused_on_a_page(screens: Screens) -> None:
    client = screens.client()
    response = post(client, "/signin", {"login": "gansu\x00clerk", "password": PASSWORD})
    assert response.status_code == 422 and "<html" in response.text and "login" in response.text


def context_of(screens: Screens):  # type: ignore[no-untyped-def]
    with screens.api.app.app_context():
        return context()
