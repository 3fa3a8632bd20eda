"""The oversight screens (audit trail, light board, statistics) in Chromium: accessible
(axe-core), fit a phone, ask no other host."""

from __future__ import annotations

import re

from tests.http.conftest import assign_down
from tests.scenario import new_item, person
from tests.web.browser import axe, browsing, fits, screenshot
from tests.web.conftest import Screens


def check_screen(screens: Screens, login: str, link: str, url: str, shown: str, name: str) -> None:
    """Signed in as ``login``, the nav's ``link`` leads to ``url`` (a pattern) showing
    ``shown``, at 1366 and 360 px: no axe violation, no sideways scrolling, no other host."""
    with browsing(screens.api.app) as browser:
        for width in (1366, 360):
            page = browser.signed_in(login, width)
            page.click(f"nav >> text={link}")
            page.wait_for_url(re.compile(url))
            assert shown in page.content()
            assert axe(page) == []
            assert fits(page), f"{name} scrolls sideways"
            screenshot(page, f"{name}-{width}")
        assert browser.strangers() == [] and browser.failed == []


def test_the_audit_trail_is_accessible_and_fits(screens: Screens) -> None:
    s = screens.api.platform.supervision
    s.register_item(person("gansu", "supervisor"), "gansu", new_item("关于防汛的批示"))
    screens.person("gansu", "auditor")
    check_screen(screens, "gansu-auditor", "审计", r".*/audit$", "关于防汛的批示", "audit")


def test_the_light_board_is_accessible_and_fits(screens: Screens) -> None:
    s = screens.api.platform.supervision
    item = s.register_item(person("gansu", "supervisor"), "gansu", new_item("关于防汛的批示"))
    assign_down(screens.api, "gansu", str(item.id), "baiyin")
    screens.person("gansu", "leader")
    check_screen(
        screens, "gansu-leader", "红黄绿灯看板", r".*/board$", "白银市人民政府办公室", "board"
    )


def test_the_statistics_are_accessible_and_fit(screens: Screens) -> None:
    screens.person("state-council", "leader")
    check_screen(
        screens,
        "state-council-leader",
        "统计考评",
        r".*/statistics$",
        "甘肃省人民政府办公厅",
        "statistics",
    )
