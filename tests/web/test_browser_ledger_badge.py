"""The ledger badge in a real browser (headless Chromium), without JavaScript as people may have
it and at 360 px: the item page (a supervisor) and the public item page say which checkpoint
covers the latest event and who cosigned, fit the screen, pass axe, and the proof bundle's link
downloads a bundle; the admin's alert count links to the list."""

from __future__ import annotations

import pytest

from tests.scenario import new_item, person
from tests.web.browser import axe, browsing, fits, screenshot
from tests.web.conftest import Screens

TITLE = "关于黄河流域生态保护和高质量发展的重要批示精神贯彻落实情况的督查"


@pytest.mark.parametrize("width", [360, 1366])
def test_the_badge_fits_is_accessible_and_its_link_downloads_the_bundle(
    screens: Screens, width: int
) -> None:
    s = screens.api.platform.supervision
    record = s.register_item(person("gansu", "supervisor"), "gansu", new_item(TITLE)).id
    s.act(person("gansu", "supervisor"), "gansu", record, "publish", summary="已排查排污口")
    screens.api.platform.ledger.checkpoints.checkpoint("gansu")
    screens.person("gansu", "supervisor")
    screens.person("state-council", "admin")
    with browsing(screens.api.app) as browser:
        for page, path in (
            (browser.signed_in("gansu-supervisor", width), f"/items/gansu/{record}"),
            (browser.page(width), f"/public/items/gansu/{record}"),
        ):
            page.goto(browser.base + path)
            badge = page.locator("#ledger-verified").inner_text()
            assert "已验证：检查点" in badge and "国务院办公厅" in badge, badge
            assert fits(page), f"{path} scrolls sideways at {width} px"
            assert axe(page) == [], path
            with page.expect_download() as download:
                page.get_by_role("link", name="下载证明文件（.tlog-proof）").click()
            assert download.value.suggested_filename.endswith(".tlog-proof")
            screenshot(page, f"ledger-badge-{width}-{'public' if 'public' in path else 'item'}")
        plain = browser.page(width, javascript=False)
        plain.goto(f"{browser.base}/public/items/gansu/{record}")
        assert "公开网站" in plain.locator("#ledger-verified").inner_text()
        admin = browser.signed_in("state-council-admin", width, javascript=False)
        admin.get_by_role("link", name="见证告警 0").click()
        admin.wait_for_url(browser.base + "/ledger-alerts")
        assert "暂无告警" in admin.content() and fits(admin)
        assert browser.strangers() == []
