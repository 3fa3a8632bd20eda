"""Three people's work on one matter in a real browser (headless Chromium), each seeing the
result on the next screen: a province supervisor assigns down, a county clerk signs for it and
reports progress (without JavaScript, on a 360 px phone), the leader grants an extension and
closes. The item page has no accessibility violations (axe-core), fits 360 px, and nothing is
asked of another host. Screenshots at 1366 and 360 px are kept in ``tests/web/artefacts``.

The supervisor's matter is registered on the 立项 screen; the other flows' items are registered
through the services, to start where their people start."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from types import SimpleNamespace
from typing import Any

import pytest

from domain.assignment import Assignee
from domain.tasks import Task
from tests.scenario import new_item, person
from tests.web.browser import Browser, axe, browsing, fits, screenshot
from tests.web.conftest import PASSWORD, Screens
from tests.web.test_browser_ledger import fill_register_form


@pytest.fixture
def browser(screens: Screens) -> Iterator[Browser]:
    with browsing(screens.api.app) as b:
        yield b


def sign_in(browser: Browser, login: str, width: int = 1366, javascript: bool = True) -> Any:
    page = browser.page(width, javascript)
    page.goto(browser.base + "/signin")
    page.fill("#login", login)
    page.fill("#password", PASSWORD)
    page.click("button.primary")
    page.wait_for_url(browser.base + "/desk")
    return page


def action(page: Any, key: str) -> Any:
    """Open an action's form on the item page; the form."""
    details = page.locator(f'details[data-action="{key}"]')
    details.locator("summary").click()
    return details.locator("form")


def assigned(screens: Screens, to: str = "baiyin", deadline: date | None = None) -> str:
    s = screens.api.platform.supervision
    case = s.register_item(
        person("gansu", "supervisor"), "gansu", new_item("关于黄河流域生态保护的批示")
    )
    lead = [Assignee("office", to, "lead")]
    s.act(
        person("gansu", "supervisor"), "gansu", case.id, "assign", assignees=lead, deadline=deadline
    )
    return case.id


def test_a_province_supervisor_registers_and_assigns_down(
    screens: Screens, browser: Browser
) -> None:
    screens.person("gansu", "supervisor")
    screens.person("baiyin", "clerk")
    page = sign_in(browser, "gansu-supervisor")
    page.click("nav >> text=立项")
    page.wait_for_url(f"{browser.base}/register")
    fill_register_form(page)
    page.fill("#r-title", "关于黄河流域生态保护的批示")
    page.click("button[value=register]")
    page.wait_for_url(re.compile(r".*/items/gansu/[0-9a-f-]{36}$"))
    case = SimpleNamespace(id=page.url.rsplit("/", 1)[1])
    page.get_by_text("已立项：关于黄河流域生态保护的批示").wait_for()  # the next screen says so
    assert page.locator("h1").first.inner_text().startswith("关于黄河流域生态保护的批示")
    assert axe(page) == []
    screenshot(page, "item-1366")
    form = action(page, "assign")
    assert axe(page) == []  # with a form open
    form.locator("select[name=to]").select_option("baiyin")
    form.locator("input[name=co_unit]").fill("生态环境处")
    form.locator("button.primary").click()
    page.get_by_text("已完成：交办。").wait_for()
    assignees = page.locator("#h-assignees + .table-wrap").inner_text()
    assert (
        "白银市人民政府办公室" in assignees and "待签收" in assignees and "生态环境处" in assignees
    )
    assert page.url == f"{browser.base}/items/gansu/{case.id}"

    clerk = sign_in(browser, "baiyin-clerk")
    assert "关于黄河流域生态保护的批示" in clerk.content()  # on the desk, to sign for
    task = str(Task.create_id("gansu", case.id, "baiyin"))
    clerk.goto(f"{browser.base}/items/baiyin/{task}")
    assert clerk.locator('details[data-action="acknowledge"]').count() == 1
    assert browser.strangers() == [] and browser.failed == []


def test_a_county_clerk_signs_for_it_and_reports_progress_on_a_phone(
    screens: Screens, browser: Browser
) -> None:
    item_id = assigned(screens)
    task = str(Task.create_id("gansu", item_id, "baiyin"))
    lead = [Assignee("office", "pingchuan", "lead")]
    screens.api.platform.supervision.act(person("baiyin"), "baiyin", task, "acknowledge")
    screens.api.platform.supervision.act(
        person("baiyin", "supervisor"), "baiyin", task, "assign", assignees=lead
    )
    county = str(Task.create_id("baiyin", task, "pingchuan"))
    screens.person("pingchuan", "clerk")
    screens.person("baiyin", "supervisor")

    page = sign_in(browser, "pingchuan-clerk", width=360, javascript=False)
    page.goto(f"{browser.base}/items/pingchuan/{county}")
    assert fits(page), "the item page scrolls sideways"
    screenshot(page, "item-360")
    action(page, "acknowledge").locator("button.primary").click()
    page.get_by_text("已完成：签收。").wait_for()
    assert "已签收" in page.locator("#h-elements + p").inner_text()
    page.get_by_role("link", name="反馈进展").click()
    page.wait_for_url(f"{browser.base}/items/pingchuan/{county}/report?kind=progress")
    page.fill("#r-process", "逐村排查河道垃圾")
    page.fill("#r-percent", "60")
    page.fill("#r-contact", "赵丽")
    assert fits(page), "the report screen scrolls sideways"
    screenshot(page, "report-360")
    page.get_by_role("button", name="报送").click()
    page.wait_for_url(f"{browser.base}/items/pingchuan/{county}")
    assert page.get_by_text("已完成：反馈进展。").is_visible()
    assert "逐村排查河道垃圾" in page.locator("#h-timeline ~ ol").inner_text()

    above = sign_in(browser, "baiyin-supervisor")
    above.goto(f"{browser.base}/items/baiyin/{task}")
    row = above.locator("#h-assignees + .table-wrap").inner_text()
    assert "白银市平川区人民政府办公室" in row and "进展 60%" in row
    assert browser.strangers() == [] and browser.failed == []


def test_the_leader_grants_an_extension_and_closes(screens: Screens, browser: Browser) -> None:
    item_id = assigned(screens, deadline=date(2026, 4, 1))
    task = str(Task.create_id("gansu", item_id, "baiyin"))
    s = screens.api.platform.supervision
    s.act(person("baiyin"), "baiyin", task, "acknowledge")
    s.act(
        person("baiyin"),
        "baiyin",
        task,
        "request-extension",
        new_deadline=date(2026, 4, 8),
        reason="汛期施工受阻",
    )
    screens.person("gansu", "leader")
    screens.person("baiyin", "clerk")

    page = sign_in(browser, "gansu-leader")
    page.get_by_role("link", name="延期审批").click()
    page.wait_for_url(f"{browser.base}/extensions")
    assert "2026-04-08" in page.locator("table").inner_text()
    page.get_by_role("link", name="关于黄河流域生态保护的批示").click()
    form = action(page, "grant-extension:baiyin")
    form.locator("button.primary").click()
    page.get_by_text("已完成：同意延期。").wait_for()
    assert "2026-04-08" in page.locator("#h-assignees + .table-wrap").inner_text()
    form = action(page, "close")
    form.locator("input[name=leader_closure]").check()
    form.locator("textarea[name=reason]").fill("经研究，予以销号")
    assert axe(page) == []
    form.locator("button.primary").click()
    page.get_by_text("已完成：销号。").wait_for()
    assert "已销号" in page.locator("#h-elements + p").inner_text()
    assert page.locator('details[data-action="close"]').count() == 0
    assert page.locator('details[data-action="reopen"]').count() == 1

    phone = browser.page(360)
    phone.goto(page.url)  # a new context: signed out, so it asks to sign in first
    assert "/signin" in phone.url
    clerk = sign_in(browser, "baiyin-clerk", width=360)
    clerk.goto(f"{browser.base}/items/baiyin/{task}")
    header = clerk.locator("#h-elements + p").inner_text()
    assert (
        "已终结" in header
        and "工作日" not in header
        and "2026-04-08" in clerk.locator("dl.facts").inner_text()
    )
    assert fits(clerk)
    screenshot(clerk, "item-concluded-360")
    assert browser.strangers() == [] and browser.failed == []


@pytest.mark.parametrize("width", [1366, 360])
def test_the_report_and_extension_screens_are_accessible_and_fit(
    screens: Screens, browser: Browser, width: int
) -> None:
    s = screens.api.platform.supervision
    case = s.register_item(person("gansu", "supervisor"), "gansu", new_item("关于河长制的批示"))
    s.act(person("gansu"), "gansu", case.id, "acknowledge")
    screens.person("gansu", "clerk")
    page = sign_in(browser, "gansu-clerk", width)
    page.goto(f"{browser.base}/items/gansu/{case.id}/report")
    assert axe(page) == [] and fits(page)
    screenshot(page, f"report-{width}")
    page.goto(f"{browser.base}/items/gansu/{case.id}/extension")
    page.fill("#x-new_deadline", "2026-04-21")
    page.locator("#x-new_deadline").dispatch_event("change")  # htmx asks for the count
    page.get_by_text("比 2026-04-14 延后 5 个工作日。").wait_for()
    assert axe(page) == [] and fits(page)
    screenshot(page, f"extension-{width}")
    page.goto(f"{browser.base}/extensions")
    assert axe(page) == [] and fits(page)
    assert browser.strangers() == [] and browser.failed == []
