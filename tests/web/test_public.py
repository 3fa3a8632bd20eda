"""The public site (公开): anyone, no sign-in; published matters only, with office names, status
in words, progress and the published steps; filters and pages; ETag / Last-Modified with 304;
an Atom feed; English by address; and nothing unpublished, nor any field never published,
ever on any of them — checked after every event type."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date
from typing import Any

from flask.testing import FlaskClient

from domain.assignment import Assignee
from services.supervision import NewItem
from tests.scenario import new_item, person
from tests.services.test_supervision_provisional import NOTICE
from tests.web.conftest import Screens

ATOM = "{http://www.w3.org/2005/Atom}"
SECRETS = {
    "objective": "机密目标甲一",
    "content": "机密内容乙二",
    "responsible": "保密责任人丙",
    "report": "内部进展文字丁",
    "completion": "内部办结文字戊",
    "unit": "内设处室己",
    "reason": "内部理由庚",
}
"""Text the public must never read, each unique so that any trace of it is found."""


def secret_item(title: str, **more: Any) -> NewItem:
    return new_item(
        title,
        objective=SECRETS["objective"],
        content=SECRETS["content"],
        responsible_person=SECRETS["responsible"],
        **more,
    )


def act(screens: Screens, office: str, record: str, action: str, role: str, **params: Any) -> None:
    screens.api.platform.supervision.act(person(office, role), office, record, action, **params)


def register(screens: Screens, title: str, office: str = "gansu", **more: Any) -> str:
    s = screens.api.platform.supervision
    return s.register_item(person(office, "supervisor"), office, secret_item(title, **more)).id


def publish(screens: Screens, office: str, record: str, summary: str = "已公开的摘要") -> None:
    act(screens, office, record, "publish", "supervisor", summary=summary)


def public_texts(client: FlaskClient, office: str, record: str) -> list[str]:
    """Everything the public can read about the platform and this record."""
    pages = [client.get("/public/"), client.get("/public/feed.atom")]
    pages.append(client.get("/public/?lang=en"))
    pages.append(client.get(f"/public/items/{office}/{record}"))
    return [p.get_data(as_text=True) for p in pages]


def assert_nothing_secret(client: FlaskClient, office: str, record: str) -> None:
    for text in public_texts(client, office, record):
        for name, secret in SECRETS.items():
            assert secret not in text, f"{name} leaked"
        for actor in ("gansu-supervisor", "gansu-leader", "baiyin-clerk", "的supervisor"):
            assert actor not in text


def assert_absent(client: FlaskClient, office: str, record: str, title: str) -> None:
    listed, feed = client.get("/public/"), client.get("/public/feed.atom")
    for page in (listed, feed, client.get("/public/?lang=en")):
        assert title not in page.text and record not in page.text
    assert client.get(f"/public/items/{office}/{record}").status_code == 404


def test_anyone_reads_a_published_matter_without_signing_in(screens: Screens) -> None:
    record = register(screens, "关于黄河流域生态保护的批示")
    register(screens, "尚未公开的事项")
    publish(screens, "gansu", record, "已排查沿河企业排污口")
    act(screens, "gansu", record, "acknowledge", "clerk")
    act(screens, "gansu", record, "report-progress", "clerk", text="内部", percent=40)
    client = screens.client()
    listed = client.get("/public/")
    assert listed.status_code == 200 and "set-cookie" not in listed.headers
    assert "Cookie" not in listed.headers.get("Vary", "")
    text = listed.text
    assert "关于黄河流域生态保护的批示" in text and "尚未公开的事项" not in text
    assert "甘肃省人民政府办公厅" in text and "办理中" in text and "40%" in text
    assert "已排查沿河企业排污口" in text and '<html lang="zh-CN">' in text
    page = client.get(f"/public/items/gansu/{record}")
    assert page.status_code == 200
    assert "甘肃省人民政府办公厅" in page.text and "2026-04-14" in page.text
    assert "报告进展：40%" in page.text and "已公开" in page.text
    assert "内部" not in page.text  # the report's text is not published


def test_english_by_address_and_the_links_keep_it(screens: Screens) -> None:
    record = register(screens, "关于防汛的批示")
    publish(screens, "gansu", record)
    client = screens.client()
    english = client.get("/public/?lang=en")
    assert '<html lang="en">' in english.text and "Published matters" in english.text
    assert f"/public/items/gansu/{record}?lang=en" in english.text
    assert english.headers["Content-Language"] == "en"
    item = client.get(f"/public/items/gansu/{record}?lang=en")
    assert "Published steps" in item.text and "registered" in item.text
    chinese = client.get(f"/public/items/gansu/{record}")
    assert "公开事项" not in english.text and "公开的办理进程" in chinese.text


def test_filters_by_office_status_and_source_and_pages(screens: Screens) -> None:
    gansu = [register(screens, f"甘肃事项{n}") for n in range(3)]
    sichuan = register(
        screens, "四川事项", office="sichuan", source_kind="meeting", deadline=date(2026, 6, 30)
    )
    for record in gansu:
        publish(screens, "gansu", record)
    publish(screens, "sichuan", sichuan)
    act(screens, "gansu", gansu[0], "acknowledge", "clerk")
    client = screens.client()
    by_office = client.get("/public/?office=sichuan").text
    assert "四川事项" in by_office and "甘肃事项" not in by_office
    by_source = client.get("/public/?source_kind=meeting").text
    assert "四川事项" in by_source and "甘肃事项" not in by_source
    by_status = client.get("/public/?status=acknowledged").text
    assert "甘肃事项0" in by_status and "甘肃事项1" not in by_status
    first = client.get("/public/?per_page=2")
    assert first.text.count('<li class="card">') == 2 and "/public/?per_page=2&amp;page=2" in (
        first.text
    )
    second = client.get("/public/?per_page=2&page=2")
    assert second.text.count('<li class="card">') == 2
    wrong = client.get("/public/?status=nonsense&colour=red")
    assert wrong.status_code == 422 and 'aria-invalid="true"' in wrong.text
    assert "colour" in wrong.text


def test_etag_and_last_modified_answer_304_until_something_changes(screens: Screens) -> None:
    record = register(screens, "关于缓存的事项")
    publish(screens, "gansu", record)
    client = screens.client()
    clock = screens.api.clock
    for path in ("/public/", f"/public/items/gansu/{record}", "/public/feed.atom"):
        first = client.get(path)
        assert first.headers["ETag"] and first.headers["Last-Modified"]
        assert "no-cache" in first.headers["Cache-Control"]
        again = client.get(path, headers={"If-None-Match": first.headers["ETag"]})
        assert again.status_code == 304 and again.data == b""
        # by date: not while the last change is within its second (a change could follow)
        dated = {"If-Modified-Since": first.headers["Last-Modified"]}
        assert client.get(path, headers=dated).status_code == 200
    clock.set("2026-03-03")
    stamps = {p: client.get(p).headers for p in ("/public/", "/public/feed.atom")}
    for path, headers in stamps.items():
        dated = {"If-Modified-Since": headers["Last-Modified"]}
        assert client.get(path, headers=dated).status_code == 304
    clock.set("2026-03-04")
    act(screens, "gansu", record, "unpublish", "supervisor", reason=SECRETS["reason"])
    for path, headers in stamps.items():
        dated = {"If-Modified-Since": headers["Last-Modified"]}
        fresh = client.get(path, headers=dated)
        assert fresh.status_code == 200 and "关于缓存的事项" not in fresh.text
        tagged = client.get(path, headers={"If-None-Match": headers["ETag"]})
        assert tagged.status_code == 200 and "关于缓存的事项" not in tagged.text


def test_the_feed_is_atom_with_an_entry_per_published_step(screens: Screens) -> None:
    record = register(screens, "关于数据公开的事项")
    publish(screens, "gansu", record)
    act(screens, "gansu", record, "acknowledge", "clerk")
    act(screens, "gansu", record, "report-progress", "clerk", text="内部", percent=60)
    response = screens.client().get("/public/feed.atom")
    assert response.mimetype == "application/atom+xml"
    root = ET.fromstring(response.data)
    assert root.tag == f"{ATOM}feed"
    for required in ("id", "title", "updated"):
        assert root.find(f"{ATOM}{required}") is not None
    assert root.find(f"{ATOM}link[@rel='self']") is not None
    entries = root.findall(f"{ATOM}entry")
    titles = [e.findtext(f"{ATOM}title") for e in entries]
    assert titles == ["关于数据公开的事项：报告进展：60%", "关于数据公开的事项：已公开"]
    for entry in entries:
        for required in ("id", "title", "updated"):
            assert entry.findtext(f"{ATOM}{required}")
        link = entry.find(f"{ATOM}link").get("href")  # type: ignore[union-attr]
        assert link == f"http://localhost/public/items/gansu/{record}"
        assert entry.findtext(f"{ATOM}updated").endswith("+08:00")  # type: ignore[union-attr]
    assert len({e.findtext(f"{ATOM}id") for e in entries}) == 2


def test_a_missing_item_looks_like_an_unpublished_one(screens: Screens) -> None:
    hidden = register(screens, "未公开")
    client = screens.client()
    answers = [
        client.get(f"/public/items/gansu/{hidden}"),
        client.get("/public/items/gansu/00000000-0000-0000-0000-000000000000"),
        client.get("/public/items/gansu/not-an-id"),
        client.get(f"/public/items/nowhere/{hidden}"),
    ]
    assert {a.status_code for a in answers} == {404}
    paths = [f"gansu/{hidden}", "gansu/" + "0" * 8 + "-0000" * 3 + "-" + "0" * 12]
    paths += ["gansu/not-an-id", f"nowhere/{hidden}"]
    bodies = {a.text for a in answers}
    assert not any(path in a.text for a, path in zip(answers, paths, strict=True))
    assert len(bodies) == 1 and "此地址没有公开的事项" in bodies.pop()


def test_every_event_type_keeps_unpublished_and_private_things_off_the_site(
    screens: Screens,
) -> None:
    """A published item goes through every event type (its task too); after each, no private
    field is on any public page; a twin that is never published never appears; and after
    unpublishing nothing of the item does."""
    p, clock = screens.api.platform, screens.api.clock
    clock.set("2026-12-01")  # its 30 working days reach 2027: counted again on the notice
    client = screens.client()
    shown = register(screens, "公开的事项", issued_on=date(2026, 12, 1))
    hidden = register(screens, "从未公开的事项", issued_on=date(2026, 12, 1))
    publish(screens, "gansu", shown)
    for record, title in ((shown, "公开的事项"), (hidden, "从未公开的事项")):
        for step in every_step(screens, record):
            step()
            assert_nothing_secret(client, "gansu", record)
            if record == hidden:
                assert_absent(client, "gansu", record, title)
        task = task_of(screens, record)  # never published: not even its office's name
        assert client.get(f"/public/items/baiyin/{task}").status_code == 404
        for page in public_texts(client, "baiyin", task):
            assert task not in page and "白银市人民政府办公室" not in page
    types = {e.type for e in p.supervision.history("gansu", shown)}
    types |= {e.type for e in p.supervision.history("baiyin", task_of(screens, shown))}
    assert types >= EVERY_TYPE, "the scenario went through every event type of a record"
    page = client.get(f"/public/items/gansu/{shown}").text
    assert "报告进展：30%" in page and "报告进展：50%" in page
    act(screens, "gansu", shown, "unpublish", "supervisor", reason=SECRETS["reason"])
    assert_absent(client, "gansu", shown, "公开的事项")
    assert_nothing_secret(client, "gansu", shown)


EVERY_TYPE = {
    "Registered", "Received", "Assigned", "Acknowledged", "ProgressReported",
    "CompletionReported", "CompletionAccepted", "CompletionReturned", "ExtensionRequested",
    "ExtensionGranted", "ExtensionDenied", "DeadlineRecomputed", "Urged", "Escalated",
    "Commended", "RectificationOrdered", "RectificationReported", "RectificationAccepted",
    "Closed", "Concluded", "Reopened", "ReportReceived", "FindingRecorded", "Published",
}  # fmt: skip


def task_of(screens: Screens, record: str) -> str:
    return next(
        r["id"]
        for r in screens.api.platform.views.items("baiyin").items
        if r["parent"] and r["parent"]["id"] == record
    )


def every_step(screens: Screens, record: str) -> list[Any]:
    """Every event type on ``record`` (and its task in baiyin), one callable per step."""
    p = screens.api.platform

    def on_task(action: str, role: str, **params: Any) -> Any:
        return lambda: act(screens, "baiyin", task_of(screens, record), action, role, **params)

    def on_item(action: str, role: str, **params: Any) -> Any:
        return lambda: act(screens, "gansu", record, action, role, **params)

    secret = SECRETS
    lead = [Assignee("office", "baiyin", "lead"), Assignee("unit", secret["unit"], "co")]
    later = date(2027, 2, 26)
    return [
        on_item("assign", "supervisor", assignees=lead),
        on_task("acknowledge", "clerk"),
        on_task("report-progress", "clerk", text=secret["report"], percent=30),
        on_item("report-progress", "clerk", text=secret["report"], percent=50),
        lambda: p.deadlines.add_year(2027, NOTICE, p.settings.data_dir / "holidays.json"),
        on_item("request-extension", "clerk", new_deadline=later, reason=secret["reason"],
                progress=secret["report"]),
        on_item("deny-extension", "leader", reason=secret["reason"]),
        on_item("request-extension", "clerk", new_deadline=later, reason=secret["reason"],
                progress=""),
        on_item("grant-extension", "leader", comment=secret["reason"]),
        on_item("urge", "supervisor", message=secret["reason"]),
        on_item("escalate", "supervisor", to=secret["responsible"], reason=secret["reason"]),
        on_item("commend", "leader", reason=secret["reason"]),
        on_item("order-rectification", "leader", requirements=secret["reason"], deadline=None),
        on_item("report-rectification", "clerk", text=secret["report"]),
        on_item("accept-rectification", "leader", comment=secret["reason"]),
        on_task("report-completion", "clerk", text=secret["completion"]),
        on_item("return-completion", "leader", reason=secret["reason"]),
        on_item("report-completion", "clerk", text=secret["completion"]),
        on_item("accept-completion", "leader", comment=secret["reason"]),
        on_item("record-finding", "supervisor", kind="problem", text=secret["report"],
                recommendation=secret["reason"]),
        lambda: p.supervision.issue_circular(
            person("gansu", "leader"), "gansu", title=secret["reason"], scope="各市州",
            text=secret["report"], commended=[secret["unit"]], criticised=[],
        ),
        on_item("close", "leader", reason=secret["reason"]),
        on_item("reopen", "leader", reason=secret["reason"]),
        lambda: screens.api.clock.set("2026-12-02"),
    ]  # fmt: skip
