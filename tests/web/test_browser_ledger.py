"""The ledger and register screens in a real browser (headless Chromium): registering with and
without JavaScript, the ledger's filters swapping the table (htmx) and fitting 360 px, both
screens accessible (axe-core), no request to another host."""

from __future__ import annotations

import re
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
    s.register_item(gansu, "gansu", new_item("关于黄河流域生态保护和高质量发展的重要批示精神"))
    s.register_item(
        gansu,
        "gansu",
        new_item("逾期的事项", issued_on=date(2026, 2, 2), deadline=date(2026, 2, 27)),
    )
    screens.person("gansu", "supervisor")
    with browsing(screens.api.app) as b:
        yield b


def sign_in(page, base: str, going: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(base + going)
    page.fill("#login", "gansu-supervisor")
    page.fill("#password", PASSWORD)
    page.click("button.primary")
    page.wait_for_url(base + going)


def fill_register_form(page) -> None:  # type: ignore[no-untyped-def]
    page.select_option("#r-source_kind", "instruction")
    page.fill("#r-source_ref", "甘政办督〔2026〕9号")
    page.fill("#r-issued_on", "2026-03-02")
    page.fill("#r-title", "关于黄河流域防汛工作的批示")
    page.fill("#r-objective", "确保安全度汛")
    page.fill("#r-content", "排查沿河险工险段")
    page.fill("#r-executing_unit", "水利厅")
    page.fill("#r-responsible_person", "张伟")


def registered(screens: Screens, title: str) -> list[str]:
    return [r["id"] for r in screens.api.platform.views.items("gansu").items if r["title"] == title]


@pytest.mark.parametrize("width", [1366, 360])
def test_registering_with_javascript(browser: Browser, screens: Screens, width: int) -> None:
    page = browser.page(width)
    sign_in(page, browser.base, "/register")
    assert axe(page) == []
    page.click("button[value=register]")  # nothing filled in: errors next to the fields
    assert page.locator("#r-title-error").inner_text() == "此项必填。"
    assert axe(page) == []
    fill_register_form(page)
    page.locator("#r-deadline").dispatch_event("change")
    preview = page.locator("#deadline-preview")
    preview.get_by_text("完成时限为 2026-04-14").wait_for()
    page.fill("#r-title", "黄河流域")  # a like title is hinted as soon as it changes
    page.locator("#r-title").dispatch_event("change")
    page.locator("#similar").get_by_text("本机关名称相近的事项").wait_for()
    assert fits(page), "the form scrolls sideways"
    assert axe(page) == []
    screenshot(page, f"register-{width}")
    page.fill("#r-title", "关于黄河流域防汛工作的批示")
    page.click("button[value=register]")
    page.wait_for_url(re.compile(r".*/items/gansu/.+"))
    assert page.url.endswith(registered(screens, "关于黄河流域防汛工作的批示")[0])
    assert browser.strangers() == []
    expected = {f"422 {browser.base}/register"}  # the empty form's answer
    unexpected = [f for f in browser.failed if f not in expected and "/items/" not in f]
    assert unexpected == []  # (the item page is another screen's, built on another branch)


def test_registering_without_javascript(browser: Browser, screens: Screens) -> None:
    page = browser.page(javascript=False)
    sign_in(page, browser.base, "/register")
    fill_register_form(page)
    page.fill("#r-objective", "")
    page.click("button[value=register]")
    assert page.locator("#r-objective-error").inner_text() == "此项必填。"
    assert page.input_value("#r-title") == "关于黄河流域防汛工作的批示"  # input kept
    page.fill("#r-objective", "确保安全度汛")
    page.fill("#r-issued_on", "2031-11-20")
    page.click("button[value=preview]")
    assert "（暂定）" in page.locator("#deadline-preview").inner_text()
    page.click("button[value=register]")
    page.wait_for_url(re.compile(r".*/items/gansu/.+"))
    assert registered(screens, "关于黄河流域防汛工作的批示")
    assert browser.strangers() == []


@pytest.mark.parametrize("width", [1366, 360])
def test_the_ledger_filters_in_place_and_fits_a_phone(browser: Browser, width: int) -> None:
    page = browser.page(width)
    sign_in(page, browser.base, "/ledger")
    assert page.locator("h1").first.inner_text().startswith("督查台账")
    rows = page.locator("table.ledger tbody tr")
    assert rows.count() == 2
    assert fits(page), "the ledger scrolls sideways"
    assert axe(page) == []
    screenshot(page, f"ledger-{width}")
    page.select_option("#f-light", "red")
    page.wait_for_url(re.compile(r".*light=red.*"))
    rows.first.get_by_text("逾期的事项").wait_for()
    assert rows.count() == 1 and rows.first.get_by_text("红灯：逾期").is_visible()
    assert page.url == browser.base + "/ledger?light=red&sort=deadline&per_page=50"  # no empty ones
    assert page.locator("h1").count() == 1  # only the results were swapped
    assert fits(page)
    assert axe(page) == []
    page.click("text=本月到期")
    page.wait_for_url(re.compile(r".*deadline_from=2026-03-01.*"))
    assert browser.strangers() == [] and browser.failed == []


def test_the_ledger_without_javascript(browser: Browser) -> None:
    page = browser.page(javascript=False)
    sign_in(page, browser.base, "/ledger")
    page.select_option("#f-light", "red")
    page.click("form.filters button[type=submit]")
    page.wait_for_url(re.compile(r".*light=red.*"))
    assert page.locator("table.ledger tbody tr").count() == 1
    page.click("th >> text=完成时限")
    page.wait_for_url(re.compile(r".*sort=-deadline.*light=red|.*light=red.*sort=-deadline.*"))
    assert browser.strangers() == []
