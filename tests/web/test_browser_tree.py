"""The desk, the responsibility tree and circulars in a real browser (headless Chromium): the
tree opens one level at a time by htmx, and without JavaScript by links; no axe-core
violations; nothing wider than a 360 px phone; no request to any other host."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from domain.assignment import Assignee
from domain.tasks import Task
from tests.http.conftest import assign_down
from tests.scenario import new_item, person
from tests.web.browser import Browser, axe, browsing, fits, screenshot
from tests.web.conftest import PASSWORD, Screens

COUNTY = "白银市平川区人民政府办公室"


@pytest.fixture
def world(screens: Screens) -> Iterator[tuple[Browser, str]]:
    """gansu's item → baiyin → pingchuan, urged; the State Council ranks gansu and sichuan."""
    api = screens.api
    s = api.platform.supervision
    item = str(s.register_item(person("gansu", "supervisor"), "gansu", new_item("黄河治理")).id)
    assign_down(api, "gansu", item, "baiyin")
    mid = str(Task.create_id("gansu", item, "baiyin"))
    s.act(person("baiyin", "clerk"), "baiyin", mid, "acknowledge")
    assign_down(api, "baiyin", mid, "pingchuan")
    s.act(person("gansu", "supervisor"), "gansu", item, "urge", message="请加快进度")
    top = person("state-council", "leader")
    above = str(s.register_item(top, "state-council", new_item("国务院交办")).id)
    lead = [Assignee("office", "gansu", "lead")]
    s.act(top, "state-council", above, "assign", assignees=lead)
    s.act(top, "state-council", above, "commend", reason="成效显著")
    screens.person("gansu", "clerk")
    screens.person("state-council", "leader")
    with browsing(api.app) as b:
        yield b, item


def sign_in(page: Any, base: str, login: str) -> None:
    page.goto(base + "/signin")
    page.fill("#login", login)
    page.fill("#password", PASSWORD)
    page.click("button.primary")
    page.wait_for_url(base + "/desk")


def test_the_tree_opens_level_by_level_with_htmx(world: tuple[Browser, str]) -> None:
    browser, item = world
    page = browser.page()
    sign_in(page, browser.base, "gansu-clerk")
    page.click("text=责任树")
    page.wait_for_url(f"{browser.base}/items/gansu/{item}/tree")
    assert page.get_by_text(COUNTY, exact=True).count() == 0  # the next level is not loaded yet
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "/tree/children" in r.url else None)
    page.locator("details:not([open]) > summary").first.click()
    page.get_by_text(COUNTY, exact=True).wait_for()
    assert page.url == f"{browser.base}/items/gansu/{item}/tree"  # swapped in, not navigated
    assert len(asked) == 1
    assert (
        page.locator("details:not([open]) > summary").count() == 0
    )  # the county has nothing below
    assert axe(page) == []
    screenshot(page, "tree-1366")
    assert browser.strangers() == [] and browser.failed == []


def test_without_javascript_the_tree_opens_by_links(world: tuple[Browser, str]) -> None:
    browser, item = world
    page = browser.page(javascript=False)
    sign_in(page, browser.base, "gansu-clerk")
    page.goto(f"{browser.base}/items/gansu/{item}/tree")
    page.locator("details:not([open]) > summary").first.click()  # the browser's own <details>
    page.click("text=查看下级 1 个单位")
    page.get_by_text(COUNTY, exact=True).wait_for()
    assert "node=baiyin:" in page.url
    page.click(".tree-path >> text=甘肃省人民政府办公厅")  # and back up
    assert "node=gansu:" in page.url and page.get_by_text(COUNTY, exact=True).count() == 0
    assert browser.strangers() == []


@pytest.mark.parametrize("width", [1366, 360])
def test_desk_tree_and_circulars_are_accessible_and_fit(
    world: tuple[Browser, str], width: int
) -> None:
    browser, item = world
    page = browser.page(width)
    sign_in(page, browser.base, "gansu-clerk")
    assert page.get_by_text("催办 1 次，最近").is_visible()
    for path, name in (("/desk", "desk"), (f"/items/gansu/{item}/tree", "tree")):
        page.goto(browser.base + path)
        assert fits(page), f"{path} scrolls sideways at {width} px"
        assert axe(page) == [], path
        screenshot(page, f"{name}-full-{width}")
    leader = browser.page(width)
    sign_in(leader, browser.base, "state-council-leader")
    leader.goto(browser.base + "/circulars")
    assert leader.locator("#commend").input_value().strip() == "甘肃省人民政府办公厅"
    assert fits(leader), f"circulars scroll sideways at {width} px"
    assert axe(leader) == []
    screenshot(leader, f"circulars-{width}")
    leader.fill("#title", "关于第一季度督查情况的通报")
    leader.click("text=印发通报")
    leader.wait_for_url(browser.base + "/circulars?issued=1")
    assert leader.get_by_text("通报已印发").is_visible()
    assert axe(leader) == []
    assert browser.strangers() == [] and browser.failed == []
