"""No input makes a screen fail: every route of the screens, signed in or not, with hostile
path segments, query strings and form fields, answers below 500 (and in HTML)."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from tests.web.conftest import Screens, token

HOSTILE = [
    "甲\x00乙",
    "\x1b[2J",
    "e\u0301",
    "0001-01-01",
    "9999-12-31",
    "-1",
    "99999999999999999999999",
    "' OR 1=1 --",
    "<script>alert(1)</script>",
    "%",
    "_",
    "../../etc/passwd",
    "",
    "x" * 5000,
]
FIELDS = ["page", "per_page", "status", "light", "sort", "text", "office", "as_of", "next"]


def screen_rules(client: FlaskClient) -> list[tuple[str, set[str]]]:
    app = client.application
    return [
        (rule.rule, set(rule.methods or ()) - {"HEAD", "OPTIONS"})
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("web.") and rule.endpoint != "web.static"
    ]


def filled(rule: str, value: str) -> str:
    safe = value.replace("/", "%2F").replace("?", "%3F").replace("#", "%23") or "x"
    return re.sub(r"<(?:[a-z]+:)?[a-z_]+>", safe, rule)


def check(response, where: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code < 500, (where, response.status_code, response.text[:300])


def test_no_screen_fails_whatever_it_is_given(screens: Screens) -> None:
    clients = {"anonymous": screens.client(), "clerk": screens.signed_in("baiyin", "clerk")}
    clients["leader"] = screens.signed_in("gansu", "leader")
    for who, client in clients.items():
        rules = screen_rules(client)
        assert len(rules) >= 4
        csrf = token(client, "/signin")
        for rule, methods in rules:  # reading first: a POST may sign the person out
            for value in HOSTILE:
                if "GET" in methods:
                    path = filled(rule, value)
                    query = {name: value for name in FIELDS}
                    check(client.get(path, query_string=query), f"{who} GET {path}")
        for rule, methods in rules:
            for value in HOSTILE:
                if "POST" in methods:
                    path = filled(rule, value)
                    form = {"csrf_token": csrf, **{name: value for name in FIELDS}}
                    form |= {"login": value, "password": value, "title": value, "text": value}
                    check(client.post(path, data=form), f"{who} POST {path}")
