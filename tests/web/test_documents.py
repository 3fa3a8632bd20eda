"""Word documents offices exchange: a record's 督办通知单 and 催办单, and a circular (通报) as
issued — over the API and from the screens, with the access of the record or the circulars;
opened again with python-docx to check the GB/T 9704 page, fonts, sizes and words."""

from __future__ import annotations

import io
from datetime import date
from typing import Any
from urllib.parse import unquote

from docx import Document
from docx.oxml.ns import qn
from docx.shared import Pt

from domain.assignment import Assignee
from domain.tasks import Task
from tests.scenario import new_item, person
from tests.web.conftest import Screens

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ITEMS = "/api/v1/offices/gansu/items"
GANSU = "甘肃省人民政府办公厅"
BAIYIN = "白银市人民政府办公室"


def seed(screens: Screens) -> dict[str, str]:
    s = screens.api.platform.supervision
    gansu = person("gansu", "supervisor")
    assigned = s.register_item(
        gansu,
        "gansu",
        new_item(
            "黄河流域生态保护督办",
            source_kind="document",
            source_ref="甘政发〔2026〕5号",
            deadline=date(2026, 4, 14),
            objective="整治违规排污",
            content="排查沿河企业排污口",
        ),
    )
    s.act(
        gansu,
        "gansu",
        str(assigned.id),
        "assign",
        assignees=[Assignee("office", "baiyin", "lead"), Assignee("unit", "省水利厅", "co")],
        responsible_person="马晓东",
    )
    s.act(gansu, "gansu", str(assigned.id), "urge", message="请加快排查进度")
    late = s.register_item(
        gansu,
        "gansu",
        new_item("逾期的事项", issued_on=date(2026, 2, 2), deadline=date(2026, 2, 27)),
    )
    return {"assigned": str(assigned.id), "late": str(late.id)}


def opened(content: bytes) -> Any:
    return Document(io.BytesIO(content))


def texts(doc: Any) -> list[str]:
    return [p.text for p in doc.paragraphs if p.text.strip()]


def paragraph(doc: Any, starts: str) -> Any:
    found = [p for p in doc.paragraphs if p.text.startswith(starts)]
    assert found, f"no paragraph starting {starts!r} in {texts(doc)}"
    return found[0]


def east_asian(run: Any) -> str | None:
    fonts = run._element.rPr.rFonts
    return None if fonts is None else fonts.get(qn("w:eastAsia"))


def check_frame(doc: Any, title: str, number: str) -> None:
    """GB/T 9704: A4, the margins, the red masthead, the number, the title's and body's fonts."""
    section = doc.sections[0]
    assert round(section.page_width.mm) == 210 and round(section.page_height.mm) == 297
    margins = (section.top_margin, section.bottom_margin, section.left_margin)
    assert [round(m.mm) for m in (*margins, section.right_margin)] == [37, 35, 28, 26]
    head = doc.paragraphs[0].runs[0]
    assert head.text == GANSU and str(head.font.color.rgb) == "FF0000"
    assert (head.font.name, east_asian(head), head.font.size) == (
        "方正小标宋简体",
        "方正小标宋简体",
        Pt(22),
    )
    assert number in texts(doc)
    line = paragraph(doc, number)._p.pPr.find(qn("w:pBdr")).find(qn("w:bottom"))
    assert line.get(qn("w:color")) == "FF0000"  # the red separator line
    heading = paragraph(doc, title).runs[0]
    assert heading.text == title and heading.font.size == Pt(22)
    assert (heading.font.name, east_asian(heading)) == ("方正小标宋简体", "方正小标宋简体")
    footers = section.footer._element.xml + section.even_page_footer._element.xml
    assert footers.count('w:instr=" PAGE "') == 2 and "— " in footers
    assert doc.settings.odd_and_even_pages_header_footer


def check_body_run(run: Any) -> None:
    assert (run.font.name, east_asian(run), run.font.size) == ("仿宋_GB2312", "仿宋_GB2312", Pt(16))


def test_the_notice_carries_the_five_elements_in_the_gbt9704_frame(screens: Screens) -> None:
    ids = seed(screens)
    api = screens.api
    got = api.client.get(
        f"{ITEMS}/{ids['assigned']}/notice.docx", headers=api.headers("gansu", "clerk")
    )
    assert got.status_code == 200 and got.mimetype == DOCX
    disposition = got.headers["Content-Disposition"]
    assert f'filename="notice-gansu-{ids["assigned"][:8]}.docx"' in disposition
    assert (
        unquote(disposition.split("UTF-8''")[1]) == f"{GANSU}-督办通知单-黄河流域生态保护督办.docx"
    )
    doc = opened(got.data)
    check_frame(doc, "督办通知单", f"督办〔2026〕{ids['assigned'][:8]}号")
    lines = texts(doc)
    assert f"{BAIYIN}、省水利厅：" in lines  # 主送
    elements = {
        "一、督办事项：": "黄河流域生态保护督办",
        "二、目标任务：": "整治违规排污",
        "三、工作内容：": "排查沿河企业排污口",
        "四、牵头单位：": f"{BAIYIN}；协办单位：省水利厅",
        "五、责任人：": "马晓东",
        "六、办理时限：": "2026年4月14日",
    }
    for heading, words in elements.items():
        found = paragraph(doc, heading)
        assert words in found.text
        assert found.runs[0].font.name == "黑体"
        check_body_run(found.runs[1])
    assert "甘政发〔2026〕5号" in paragraph(doc, "一、督办事项：").text
    assert paragraph(doc, "七、报送要求")
    assert "确需延期的，须在办理时限届满前提出延期申请" in "".join(lines)
    assert lines[-2:] == [GANSU, "2026年3月2日"]  # 署名, 成文日期 (the day it was assigned)


def test_a_task_not_assigned_further_gives_the_notice_it_received(screens: Screens) -> None:
    ids = seed(screens)
    api = screens.api
    task = str(Task.create_id("gansu", ids["assigned"], "baiyin"))
    sent = api.client.get(f"{ITEMS}/{ids['assigned']}/notice.docx", headers=api.headers("gansu"))
    got = api.client.get(
        f"/api/v1/offices/baiyin/items/{task}/notice.docx", headers=api.headers("baiyin", "clerk")
    )
    assert got.status_code == 200 and texts(opened(got.data)) == texts(opened(sent.data))
    client = screens.signed_in("baiyin", "clerk")
    assert f"/items/baiyin/{task}/notice.docx" in client.get(f"/items/baiyin/{task}").text
    screen = client.get(f"/items/baiyin/{task}/notice.docx")
    assert texts(opened(screen.data)) == texts(opened(sent.data))


def test_the_urge_slip_counts_working_days_and_the_urges(screens: Screens) -> None:
    ids = seed(screens)
    api = screens.api
    calendar = api.platform.calendar
    got = api.client.get(
        f"{ITEMS}/{ids['assigned']}/urge-slip.docx", headers=api.headers("gansu", "leader")
    )
    assert got.status_code == 200 and got.mimetype == DOCX
    doc = opened(got.data)
    check_frame(doc, "催办单", f"催办〔2026〕{ids['assigned'][:8]}-1号")
    left = calendar.working_days_between(date(2026, 3, 2), date(2026, 4, 14))
    matter = paragraph(doc, "一、督办事项：").text
    assert "办理时限为2026年4月14日" in matter and f"剩余{left}个工作日" in matter
    urged = paragraph(doc, "二、催办情况：")
    assert "已催办1次，最近一次为2026年3月2日：“请加快排查进度”" in urged.text
    check_body_run(urged.runs[1])
    assert f"{BAIYIN}、省水利厅：" in texts(doc)
    late = opened(
        api.client.get(
            f"{ITEMS}/{ids['late']}/urge-slip.docx", headers=api.headers("gansu", "clerk")
        ).data
    )
    assert "已逾期2个工作日" in paragraph(late, "一、督办事项：").text  # 28 Feb was worked
    assert "此前未催办" in paragraph(late, "二、催办情况：").text
    assert "已逾期" in paragraph(late, "四、办理要求：").text
    assert "督查室：" in texts(late)  # not assigned: its own executing unit


def test_the_documents_have_the_access_of_the_record(screens: Screens) -> None:
    ids = seed(screens)
    api = screens.api
    for name in ("notice.docx", "urge-slip.docx"):
        path = f"{ITEMS}/{ids['assigned']}/{name}"
        for office in ("sichuan", "baiyin", "state-council"):
            assert api.client.get(path, headers=api.headers(office, "leader")).status_code == 404
        assert api.client.get(path).status_code == 401
        auditor = api.client.get(path, headers=api.headers("state-council", "auditor"))
        assert auditor.status_code == 200  # an auditor's subtree, as the record itself
        assert api.client.get(path + "?x=1", headers=api.headers("gansu")).status_code == 422
    missing = api.client.get(
        f"{ITEMS}/00000000-0000-0000-0000-000000000000/notice.docx", headers=api.headers("gansu")
    )
    assert missing.status_code == 404


def test_an_unassigned_items_notice_says_why_not(screens: Screens) -> None:
    ids = seed(screens)
    api = screens.api
    got = api.client.get(f"{ITEMS}/{ids['late']}/notice.docx", headers=api.headers("gansu"))
    assert got.status_code == 409 and got.json["code"] == "not_assigned"
    assert "has not been assigned" in got.json["message"]
    client = screens.signed_in("gansu", "clerk")
    page = client.get(f"/items/gansu/{ids['late']}/notice.docx")
    assert page.status_code == 409 and "该事项尚未交办" in page.text


def issue(screens: Screens) -> dict[str, Any]:
    return screens.api.platform.supervision.issue_circular(
        person("gansu", "leader"),
        "gansu",
        "关于2026年第一季度督查督办工作情况的通报",
        "各市州人民政府办公室",
        "第一季度，各地按时办结率稳步提升。\n白银市按期办结全部事项。",
        ["白银市人民政府办公室", "兰州市人民政府办公室"],
        ["平川区人民政府办公室"],
    )


def test_a_circulars_document_is_what_was_issued(screens: Screens) -> None:
    issued = issue(screens)
    api = screens.api
    path = f"/api/v1/offices/gansu/circulars/{issued['id']}.docx"
    got = api.client.get(path, headers=api.headers("gansu", "clerk"))
    assert got.status_code == 200 and got.mimetype == DOCX
    stored = api.platform.supervision.get_circular("gansu", issued["id"])
    doc = opened(got.data)
    check_frame(doc, stored["title"], f"通报〔2026〕{issued['id'][:8]}号")
    lines = texts(doc)
    start = lines.index(stored["scope"] + "：")
    assert lines[start + 1 : start + 3] == stored["text"].splitlines()
    assert lines[start + 3] == "受表扬单位：" + "、".join(stored["commended"]) + "。"
    assert lines[start + 4] == "被通报批评单位：" + "、".join(stored["criticised"]) + "。"
    assert lines[-2:] == [GANSU, "2026年3月2日"]
    check_body_run(paragraph(doc, "第一季度").runs[0])
    assert api.client.get(path, headers=api.headers("state-council")).status_code == 200
    for office in ("sichuan", "baiyin"):
        assert api.client.get(path, headers=api.headers(office)).status_code == 404
    item = api.item("gansu")["id"]
    for other in (item, "not-an-id", "00000000-0000-0000-0000-000000000000"):
        got = api.client.get(
            f"/api/v1/offices/gansu/circulars/{other}.docx", headers=api.headers("gansu")
        )
        assert got.status_code == 404


def test_the_screens_offer_and_serve_the_documents(screens: Screens) -> None:
    ids = seed(screens)
    issued = issue(screens)
    client = screens.signed_in("gansu", "supervisor")
    assigned = client.get(f"/items/gansu/{ids['assigned']}").text
    assert f'href="/items/gansu/{ids["assigned"]}/notice.docx"' in assigned
    assert "督办通知单（Word）" in assigned and "催办单（Word）" in assigned
    late = client.get(f"/items/gansu/{ids['late']}").text
    assert "notice.docx" not in late and f"/items/gansu/{ids['late']}/urge-slip.docx" in late
    number = ids["assigned"][:8]
    for name, title, numbered in (
        ("notice.docx", "督办通知单", f"督办〔2026〕{number}号"),
        ("urge-slip.docx", "催办单", f"催办〔2026〕{number}-1号"),
    ):
        got = client.get(f"/items/gansu/{ids['assigned']}/{name}")
        assert got.status_code == 200 and got.mimetype == DOCX
        doc = opened(got.data)
        check_frame(doc, title, numbered)
        check_body_run(paragraph(doc, "一、督办事项：").runs[1])
        assert texts(doc)[-2:] == [GANSU, "2026年3月2日"]
    circulars = client.get("/circulars").text
    link = f"/circulars/gansu/{issued['id']}.docx"
    assert f'href="{link}"' in circulars and "下载（Word）" in circulars
    got = client.get(link)
    assert got.status_code == 200 and "关于2026年第一季度督查督办工作情况的通报" in texts(
        opened(got.data)
    )
    stranger = screens.signed_in("sichuan", "leader")
    for path in (f"/items/gansu/{ids['assigned']}/notice.docx", link):
        assert stranger.get(path).status_code == 404
    assert screens.client().get(link).status_code == 302  # sign in first
