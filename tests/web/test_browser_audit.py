"""The oversight screens (audit trail, light board) in Chromium: accessible (axe-core), fit a
phone, ask no other host."""

from __future__ import annotations

import re

from tests.http.conftest import assign_down
from tests.scenario import new_item, person
from tests.web.browser import Browser, axe, fits, screenshot, served
from tests.web.conftest import PASSWORD, Screens


def test_the_audit_trail_is_accessible_and_fits(screens: Screens) -> None:
    s = screens.api.platform.supervision
    s.register_item(person("gansu", "supervisor"), "gansu", new_item("关于防汛的批示"))
    screens.person("gansu", "auditor")
    with served(screens.api.app) as base:
        browser = Browser(base)
        try:
            for width in (1366, 360):
                page = browser.page(width)
                page.goto(base + "/signin")
                page.fill("#login", "gansu-auditor")
                page.fill("#password", PASSWORD)
                page.click("button.primary")
                page.wait_for_url(base + "/desk")
                page.click("nav >> text=审计")
                page.wait_for_url(base + "/audit")
                assert "关于防汛的批示" in page.content()
                assert axe(page) == []
                assert fits(page), "the audit trail scrolls sideways"
                screenshot(page, f"audit-{width}")
            assert browser.strangers() == [] and browser.failed == []
        finally:
            browser.close()


def test_the_light_board_is_accessible_and_fits(screens: Screens) -> None:
    s = screens.api.platform.supervision
    item = s.register_item(person("gansu", "supervisor"), "gansu", new_item("关于防汛的批示"))
    assign_down(screens.api, "gansu", str(item.id), "baiyin")
    screens.person("gansu", "leader")
    with served(screens.api.app) as base:
        browser = Browser(base)
        try:
            for width in (1366, 360):
                page = browser.page(width)
                page.goto(base + "/signin")
                page.fill("#login", "gansu-leader")
                page.fill("#password", PASSWORD)
                page.click("button.primary")
                page.wait_for_url(base + "/desk")
                page.click("nav >> text=红黄绿灯看板")
                page.wait_for_url(base + "/board")
                assert "白银市人民政府办公室" in page.content()
                assert axe(page) == []
                assert fits(page), "the board scrolls sideways"
                screenshot(page, f"board-{width}")
            assert browser.strangers() == [] and browser.failed == []
        finally:
            browser.close()


def test_the_statistics_are_accessible_and_fit(screens: Screens) -> None:
    screens.person("state-council", "leader")
    with served(screens.api.app) as base:
        browser = Browser(base)
        try:
            for width in (1366, 360):
                page = browser.page(width)
                page.goto(base + "/signin")
                page.fill("#login", "state-council-leader")
                page.fill("#password", PASSWORD)
                page.click("button.primary")
                page.wait_for_url(base + "/desk")
                page.click("nav >> text=统计考评")
                page.wait_for_url(re.compile(r".*/statistics$"))
                assert "甘肃省人民政府办公厅" in page.content()
                assert axe(page) == []
                assert fits(page), "the statistics scroll sideways"
                screenshot(page, f"statistics-{width}")
            assert browser.strangers() == [] and browser.failed == []
        finally:
            browser.close()
