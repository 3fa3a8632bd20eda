"""The public site in a real browser (headless Chromium): a published matter is listed and
gone after it is unpublished, its page and the list are accessible (axe-core), fit 360 px, and
ask no other host for anything."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.scenario import new_item, person
from tests.web.browser import Browser, axe, browsing, fits, screenshot
from tests.web.conftest import Screens

TITLE = "关于黄河流域生态保护和高质量发展的重要批示精神贯彻落实情况"


@pytest.fixture
def published(screens: Screens) -> str:
    s = screens.api.platform.supervision
    supervisor, clerk = person("gansu", "supervisor"), person("gansu", "clerk")
    record = s.register_item(supervisor, "gansu", new_item(TITLE)).id
    s.act(supervisor, "gansu", record, "publish", summary="已排查沿河企业排污口四十六个")
    s.act(clerk, "gansu", record, "acknowledge")
    s.act(clerk, "gansu", record, "report-progress", text="内部情况", percent=40)
    s.register_item(supervisor, "gansu", new_item("尚未公开的事项"))
    return record


@pytest.fixture
def browser(screens: Screens, published: str) -> Iterator[Browser]:
    with browsing(screens.api.app) as b:
        yield b


def test_the_list_shows_a_published_matter_and_drops_it_after_unpublish(
    browser: Browser, screens: Screens, published: str
) -> None:
    page = browser.page()  # (axe needs JavaScript; the site itself has no script)
    page.goto(browser.base + "/public/")
    page.get_by_role("link", name=TITLE).wait_for()
    assert "尚未公开的事项" not in page.content()
    assert axe(page) == []
    page.get_by_role("link", name=TITLE).click()
    page.wait_for_url(f"{browser.base}/public/items/gansu/{published}")
    assert page.get_by_text("报告进展：40%").count() == 1
    assert axe(page) == []
    supervisor = person("gansu", "supervisor")
    screens.api.platform.supervision.act(supervisor, "gansu", published, "unpublish", reason="更正")
    page.reload()
    assert page.locator("h1").inner_text() == "未找到"
    page.goto(browser.base + "/public/")
    assert page.get_by_role("link", name=TITLE).count() == 0
    assert page.get_by_text("没有符合条件的公开事项").count() == 1
    assert browser.failed == [f"404 {browser.base}/public/items/gansu/{published}"]
    assert browser.strangers() == []


@pytest.mark.parametrize("width", [1366, 360])
def test_the_public_pages_fit_are_accessible_and_stay_on_this_site(
    browser: Browser, published: str, width: int
) -> None:
    page = browser.page(width)
    for path in ("/public/", f"/public/items/gansu/{published}", "/public/?lang=en"):
        page.goto(browser.base + path)
        assert fits(page), f"{path} scrolls sideways at {width} px"
        assert axe(page) == [], path
    page.goto(browser.base + "/public/")
    page.select_option("#p-status", "in_progress")
    page.click("button.primary")
    page.wait_for_url(f"{browser.base}/public/?office=&status=in_progress&source_kind=")
    page.get_by_role("link", name=TITLE).wait_for()
    screenshot(page, f"public-{width}")
    assert browser.failed == [] and browser.strangers() == []
