"""领导驾驶舱: matters once, honest rates, charts with their numbers in tables, the weekly trend
from the daily changes, the most overdue and the leaders' instructions; in Chromium, the charts
drawn by the vendored ECharts with aria, and nothing asked of another host."""

from __future__ import annotations

import re
from datetime import date

from tests.http.conftest import assign_down
from tests.scenario import new_item, person
from tests.web.browser import axe, browsing, fits, screenshot
from tests.web.conftest import Screens


def seed(screens: Screens) -> None:
    s = screens.api.platform.supervision
    gansu = person("gansu", "supervisor")
    late = s.register_item(
        gansu,
        "gansu",
        new_item("逾期的批示", issued_on=date(2026, 2, 2), deadline=date(2026, 2, 27)),
    )
    assign_down(screens.api, "gansu", str(late.id), "baiyin")  # one matter, two records
    s.register_item(
        gansu,
        "gansu",
        new_item("关于防汛的通知", source_kind="document", deadline=date(2026, 6, 30)),
    )


def tiles(page: str) -> dict[str, str]:
    return dict(
        (label.strip(), value)
        for value, label in re.findall(
            r'<li class="[a-z]*">(?:<a href="[^"]+">)?<span class="n">([^<]+)</span>([^<]+)', page
        )
    )


def test_the_cockpit_counts_matters_once_and_says_how(screens: Screens) -> None:
    seed(screens)
    page = screens.signed_in("gansu", "leader").get("/cockpit").text
    shown = tiles(page)
    assert (shown["在办"], shown["逾期"], shown["已办结"]) == ("2", "1", "0")
    assert shown["按时办结率"] == "0%"  # one due (overdue), none on time: never 100%
    assert '<a href="/ledger?light=red"><span class="n">1</span>' in page  # overdue: the rows
    assert shown["平均办结工作日"] == "—"
    assert "按时办结率＝按时办结数÷应办结数" in page
    assert re.search(r"<td>领导批示</td><td>1</td>", page) and re.search(
        r"<td>政府文件</td><td>1</td>", page
    )
    weeks = re.findall(r"<tr><td>(\d{4}-\d\d-\d\d)</td>", page)
    assert len(weeks) == 12 and date.fromisoformat(weeks[-1]).weekday() == 0  # Mondays
    assert "逾期的批示" in page.split("逾期最久")[1]  # most overdue
    assert (
        "逾期的批示" in page.split("领导批示事项")[1]
        and "关于防汛的通知" not in page.split("领导批示事项")[1]
    )
    below = screens.signed_in("gansu", "supervisor").get("/cockpit?office=baiyin").text
    assert "逾期最久" not in below  # another office's records are its own to see


def test_who_may_read_a_cockpit_is_the_apis_rule_for_roll_ups(screens: Screens) -> None:
    for office, role, target in [("gansu", "leader", "sichuan"), ("baiyin", "leader", "gansu")]:
        assert screens.signed_in(office, role).get(f"/cockpit?office={target}").status_code == 404


def test_the_charts_are_drawn_with_aria_in_the_browser(screens: Screens) -> None:
    seed(screens)
    screens.person("gansu", "leader")
    with browsing(screens.api.app) as browser:
        for width in (1366, 360):
            page = browser.signed_in("gansu-leader", width)
            page.click("nav >> text=领导驾驶舱")
            page.wait_for_url(browser.base + "/cockpit")
            page.wait_for_selector("div.chart.drawn canvas")
            assert page.locator("div.chart.drawn").count() == 3
            labels = page.locator("div.chart.drawn").evaluate_all(
                "els => els.map(e => e.getAttribute('aria-label') || '')"
            )
            assert all(labels), labels  # ECharts' aria: a description for screen readers
            assert axe(page) == []
            assert fits(page), "the cockpit scrolls sideways"
            screenshot(page, f"cockpit-{width}")
        assert browser.strangers() == [] and browser.failed == []
        bare = browser.signed_in("gansu-leader", javascript=False)
        bare.goto(browser.base + "/cockpit")
        assert "<details>" in bare.content() and "逾期的批示" in bare.content()
