"""Gathering a record's or a circular's Word documents (督办通知单, 催办单, 通报) through the
platform, as an ``Export`` with its Content-Disposition.

The caller has checked that the person may read the record (the API's ``GET …/items/{id}``)
or the office's circulars. A notice exists only for a record that was assigned: otherwise
``NotAssignedError`` (409); a task not assigned further gives the notice it received. The
notice is dated on the day (China time) of the record's last assignment and addressed to
every assignee; the urge slip is dated today and addressed to the assignees, or to the
record's own executing unit when it was not assigned. May import: the
standard library, the domain's lights and values, ``services.bootstrap`` (the platform),
``services.errors``, ``services.views`` and ``services.exports``.
"""

from __future__ import annotations

import re
from datetime import date

from domain.lights import ENDED
from domain.values import business_date
from services.bootstrap import Platform
from services.errors import ServiceError
from services.exports.circular_docx import circular_document
from services.exports.ledger import Export
from services.exports.notice_docx import Record, Urges, notice_document, urge_slip_document
from services.views import CaseView, EventView

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
UNSAFE = re.compile(r'[\\/:*?"<>|\s]+')


class NotAssignedError(ServiceError):
    """A notice (督办通知单) is issued with an assignment; the record has none."""

    def __init__(self, item_id: str) -> None:
        super().__init__(
            f"item '{item_id}' has not been assigned: a notice (督办通知单) is issued to the "
            "offices and units it is assigned to; assign it first"
        )


def file_name(*parts: str) -> str:
    """A file name from Chinese words: no path separators or characters Windows refuses."""
    return UNSAFE.sub("_", "-".join(p[:40] for p in parts)) + ".docx"


def record_of(platform: Platform, case: CaseView, history: list[EventView]) -> Record:
    """The record as the documents tell it: assignees by name, each assignment's
    responsible person, and each assignee's deadline where it differs from the record's."""
    names = {
        a["target"]: platform.registry.get(a["target"]).name
        if a["kind"] == "office"
        else a["target"]
        for a in case.assignments
    }
    lead = [names[a["target"]] for a in case.assignments if a["role"] == "lead"]
    co = [names[a["target"]] for a in case.assignments if a["role"] != "lead"]
    responsible = [
        str(e.data.get("responsible_person") or case.responsible_person)
        for e in history
        if e.type == "Assigned"
    ]
    deadlines = {
        names[a["target"]]: date.fromisoformat(a["deadline"])
        for a in case.assignments
        if a.get("deadline") and date.fromisoformat(a["deadline"]) != case.deadline
    }
    return Record(
        id=case.id,
        office_name=platform.registry.get(case.office).name,
        title=case.title,
        source_kind=case.source_kind,
        source_ref=case.source_ref,
        issued_on=case.issued_on,
        objective=case.objective,
        content=case.content,
        responsible=list(dict.fromkeys(responsible)) or [case.responsible_person],
        deadline=case.deadline,
        deadline_provisional=case.deadline_provisional,
        lead=lead or [case.executing_unit],
        co=co,
        deadlines=deadlines,
    )


def notice_export(platform: Platform, office: str, item_id: str) -> Export:
    """督办通知单 of an assigned record; for a task not assigned further, the notice it
    received (its assigning record's, addressed to it among the others)."""
    case = platform.supervision.get(office, item_id)
    if not case.assignments and case.parent is not None:
        office, item_id = case.parent["office"], case.parent["id"]
        case = platform.supervision.get(office, item_id)
    history = platform.supervision.history(office, item_id)
    assigned = [e for e in history if e.type == "Assigned"]
    if not case.assignments or not assigned:
        raise NotAssignedError(item_id)
    record = record_of(platform, case, history)
    day = business_date(assigned[-1].time)
    escalates = platform.registry.get(office).escalate
    content = notice_document(record, day, escalates)
    name = file_name(record.office_name, "督办通知单", case.title)
    return Export(content, name, f"notice-{office}-{record.number}.docx", DOCX)


def urge_slip_export(platform: Platform, office: str, item_id: str) -> Export:
    """催办单 of a record: its deadline, working days left or overdue, the urges so far."""
    case = platform.supervision.get(office, item_id)
    history = platform.supervision.history(office, item_id)
    record = record_of(platform, case, history)
    today = business_date(platform.clock())
    days_left = (
        None
        if case.status in ENDED
        else platform.calendar.working_days_between(today, case.deadline)
    )
    urged = [e for e in history if e.type == "Urged"]
    urges = Urges(
        len(urged),
        business_date(urged[-1].time) if urged else None,
        str(urged[-1].data.get("message", "")) if urged else "",
    )
    content = urge_slip_document(record, today, days_left, case.status, urges, progress(case))
    name = file_name(record.office_name, "催办单", case.title)
    return Export(content, name, f"urge-slip-{office}-{record.number}.docx", DOCX)


def progress(case: CaseView) -> str:
    """办理情况: percent done and the last report, as recorded."""
    if not case.last_report:
        return f"完成进度{case.progress_percent}%，尚未报送进展。"
    return f"完成进度{case.progress_percent}%；最近反馈：{case.last_report}"


def circular_export(platform: Platform, office: str, circular_id: str) -> Export:
    """通报 as issued."""
    circular = platform.supervision.get_circular(office, circular_id)
    office_name = platform.registry.get(office).name
    day = business_date(circular["issued_at"])
    content = circular_document(circular, office_name, day)
    name = file_name(office_name, "通报", circular["title"])
    return Export(content, name, f"circular-{office}-{circular['id'][:8]}.docx", DOCX)
