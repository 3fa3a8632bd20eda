"""The screens in a real browser (headless Chromium): signing in and the desk, with and
without JavaScript, at 1366 and 360 px, accessible (axe-core), asking no other host."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from tests.scenario import new_item, person
from tests.web.browser import Browser, axe, browsing, fits, screenshot
from tests.web.conftest import PASSWORD, Screens


@pytest.fixture
def browser(screens: Screens) -> Iterator[Browser]:
    s = screens.api.platform.supervision
    gansu = person("gansu", "supervisor")
    s.register_item(gansu, "gansu", new_item("关于黄河流域生态保护的批示"))
    s.register_item(
        gansu,
        "gansu",
        new_item("逾期的事项", issued_on=date(2026, 2, 2), deadline=date(2026, 2, 27)),
    )
    screens.person("gansu", "clerk")
    with browsing(screens.api.app) as b:
        yield b


def sign_in(page, base: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(base + "/")
    assert page.url.endswith("/signin")
    page.fill("#login", "gansu-clerk")
    page.fill("#password", PASSWORD)
    page.click("button.primary")
    page.wait_for_url(base + "/desk")


@pytest.mark.parametrize("width", [1366, 360])
def test_a_clerk_signs_in_and_reads_the_desk(browser: Browser, width: int) -> None:
    page = browser.page(width)
    page.goto(browser.base + "/signin")
    assert axe(page) == []
    screenshot(page, f"signin-{width}")
    sign_in(page, browser.base)
    assert page.locator("h1").first.inner_text().startswith("工作台")
    assert page.get_by_text("逾期的事项").is_visible()
    assert page.get_by_text("红灯：逾期").is_visible()
    assert fits(page), "the desk scrolls sideways"
    assert axe(page) == []
    screenshot(page, f"desk-{width}")
    assert browser.strangers() == []
    assert browser.failed == []  # every asset came (styles, htmx)
    assert page.evaluate("typeof htmx") == "object"


def test_without_javascript_signing_in_and_out_still_work(browser: Browser) -> None:
    page = browser.page(javascript=False)
    sign_in(page, browser.base)
    assert "逾期的事项" in page.content()
    page.click("text=退出登录")
    page.wait_for_url(browser.base + "/signin")
    page.goto(browser.base + "/desk")
    assert page.url.startswith(browser.base + "/signin")
    assert browser.strangers() == []


def test_the_language_switch_in_the_browser(browser: Browser) -> None:
    page = browser.page()
    sign_in(page, browser.base)
    page.click("button[value=en]")
    page.wait_for_url(browser.base + "/desk")
    assert page.locator("h1").first.inner_text().startswith("My desk")
    assert page.locator("html").get_attribute("lang") == "en"
