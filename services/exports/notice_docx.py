"""督办通知单 (assignment notice) and 催办单 (urging slip) of a record, as Word documents in the
GB/T 9704 frame (``gbt9704``).

They take what the record says, gathered by ``services.exports.documents``, and write it in
the words offices use; nothing is invented. The requirements (报送要求) are the platform's own
rules as they apply to the record: acknowledge, report progress and completion for the
assigning office to review, ask for an extension before the deadline, and what the deadline
engine does (urge at ≤ 3 working days left; escalate when overdue, if the office's policy
escalates). May import: the standard library and ``services.exports`` (gbt9704, words).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from services.exports.gbt9704 import Gongwen, china_date
from services.exports.words import SOURCE, STATUS

NUMERALS = "一二三四五六七八九十"


@dataclass(frozen=True)
class Record:
    """The record as the documents tell it."""

    id: str
    office_name: str
    title: str
    source_kind: str
    source_ref: str
    issued_on: date
    objective: str
    content: str
    responsible: list[str]
    deadline: date
    deadline_provisional: bool
    lead: list[str]
    co: list[str]
    deadlines: dict[str, date] = field(default_factory=dict)
    """Each assignee's own deadline, by name, where it differs from ``deadline``."""

    @property
    def number(self) -> str:
        """事项编号: the record's id as the ledger shows it."""
        return self.id[:8]

    def recipients(self) -> list[str]:
        return [*self.lead, *self.co]


@dataclass(frozen=True)
class Urges:
    count: int
    last_on: date | None
    last_message: str


def document_number(kind: str, day: date, record: Record, suffix: str = "") -> str:
    """发文字号 derived from the record: 督办〔2026〕3f0c1a2b号 (kind, year of the document's
    date, 事项编号); the source's own reference is cited in the body."""
    return f"{kind}〔{day.year}〕{record.number}{suffix}号"


def deadline_words(record: Record) -> str:
    words = china_date(record.deadline) + (
        "（暂定，待节假日安排公布后确认）" if record.deadline_provisional else ""
    )
    others = [f"{name}{china_date(day)}" for name, day in record.deadlines.items()]
    return words + (f"；其中{'，'.join(others)}" if others else "")


def notice_document(record: Record, day: date, escalates: bool) -> bytes:
    """督办通知单 to the record's assignees, dated ``day`` (its last assignment)."""
    doc = Gongwen()
    doc.masthead(record.office_name, document_number("督办", day, record))
    doc.title("督办通知单")
    doc.recipients(record.recipients())
    doc.text(f"现将“{record.title}”交由你单位办理，请按要求抓好落实。有关事项通知如下：")
    source = f"{SOURCE.get(record.source_kind, record.source_kind)}，{record.source_ref}"
    elements = [
        (
            "督办事项",
            f"{record.title}（事项编号{record.number}；来源：{source}，{china_date(record.issued_on)}）。",
        ),
        ("目标任务", record.objective),
        ("工作内容", record.content),
        ("牵头单位", "、".join(record.lead) + "；协办单位：" + ("、".join(record.co) or "无")),
        ("责任人", "、".join(record.responsible)),
        ("办理时限", deadline_words(record) + "。"),
    ]
    for n, (heading, text) in enumerate(elements):
        doc.text(text, f"{NUMERALS[n]}、{heading}：")
    requirements = [
        "收到本通知后及时签收。",
        f"办理期间及时报送进展情况；办结后报送办结报告，经{record.office_name}审核通过后办结。",
        "确需延期的，须在办理时限届满前提出延期申请，说明理由和目前进展。",
        "距办理时限3个工作日以内未办结的，系统自动催办"
        + ("；逾期未办结的，按规定督办。" if escalates else "。"),
    ]
    doc.text("", f"{NUMERALS[len(elements)]}、报送要求")
    for n, text in enumerate(requirements, start=1):
        doc.text(f"{n}. {text}")
    doc.signature(record.office_name, day)
    return doc.bytes()


def days_words(days_left: int | None, status: str) -> str:
    """剩余/逾期 working days, or the state once the work is no longer due."""
    if days_left is None:
        return f"该事项目前状态为{STATUS.get(status, status)}"
    if days_left >= 0:
        return f"剩余{days_left}个工作日"
    return f"已逾期{-days_left}个工作日"


def urge_slip_document(
    record: Record, day: date, days_left: int | None, status: str, urges: Urges, progress: str
) -> bytes:
    """催办单 to the record's assignees (or its executing unit), dated ``day``."""
    doc = Gongwen()
    suffix = f"-{urges.count}" if urges.count else ""
    doc.masthead(record.office_name, document_number("催办", day, record, suffix))
    doc.title("催办单")
    doc.recipients(record.recipients())
    doc.text(
        f"“{record.title}”（事项编号{record.number}，来源文号{record.source_ref}）的办理时限为"
        f"{deadline_words(record)}，截至{china_date(day)}，{days_words(days_left, status)}。",
        "一、督办事项：",
    )
    if urges.count and urges.last_on is not None:
        said = f"：“{urges.last_message}”" if urges.last_message else ""
        urged = f"该事项已催办{urges.count}次，最近一次为{china_date(urges.last_on)}{said}。"
    else:
        urged = "该事项此前未催办。"
    doc.text(urged, "二、催办情况：")
    doc.text(progress, "三、办理情况：")
    overdue = days_left is not None and days_left < 0
    requirement = (
        "该事项已逾期，请立即报送办理进展和逾期原因，抓紧办结。"
        if overdue
        else "请抓紧办理，于办理时限前报送办结报告；确需延期的，须在办理时限届满前提出延期申请。"
    )
    doc.text(requirement, "四、办理要求：")
    doc.signature(record.office_name, day)
    return doc.bytes()
