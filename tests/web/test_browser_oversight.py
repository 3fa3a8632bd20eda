"""Issue 14's story in Chromium: a leader opens the cockpit, follows "overdue" to the rows,
opens an item and travels back to a day before its assignment; an auditor filters the audit
trail by day. Nothing is asked of another host, and every page passes axe-core."""

from __future__ import annotations

import re
from datetime import date

from tests.http.conftest import assign_down
from tests.scenario import new_item, person
from tests.web.browser import axe, browsing
from tests.web.conftest import Screens


def test_a_leader_goes_from_the_cockpit_to_an_item_as_it_stood(screens: Screens) -> None:
    s = screens.api.platform.supervision
    late = s.register_item(
        person("gansu", "supervisor"),
        "gansu",
        new_item("逾期的批示", issued_on=date(2026, 2, 2), deadline=date(2026, 2, 27)),
    )
    screens.api.clock.set("2026-03-04")
    assign_down(screens.api, "gansu", str(late.id), "baiyin")
    screens.person("gansu", "leader")
    screens.person("gansu", "auditor")
    with browsing(screens.api.app) as browser:
        page = browser.signed_in("gansu-leader")
        page.click("nav >> text=领导驾驶舱")
        page.click("a[href='/ledger?light=red']")  # the overdue tile
        page.wait_for_url(re.compile(r".*/ledger\?light=red$"))
        page.click("text=逾期的批示")
        page.wait_for_url(re.compile(rf".*/items/gansu/{late.id}$"))
        assert "白银市人民政府办公室" in page.content()  # assigned now
        page.fill("#as-of", "2026-03-03")
        page.click("form.as-of button")
        page.wait_for_url(re.compile(r".*as_of=2026-03-03$"))
        assert page.locator("#as-of-note").is_visible()
        assert "白银市人民政府办公室" not in page.content()  # not yet, that day
        assert axe(page) == []

        auditor = browser.signed_in("gansu-auditor")
        auditor.click("nav >> text=审计")
        auditor.fill("#a-from", "2026-03-04")
        auditor.fill("#a-to", "2026-03-04")
        auditor.click("form.filters button")
        auditor.wait_for_url(re.compile(r".*/audit\?.*from=2026-03-04.*"))
        assert "共 1 条事件" in auditor.content()  # the assignment, that day only
        assert axe(auditor) == []
        assert browser.strangers() == [] and browser.failed == []
