"""The words the item screens use for actions and for the events of a record's timeline.

``action_name`` names an action as a button says it; ``event_summary`` says in one line what an
event changed (who was assigned, what percent, which new date), from the event's recorded data
as ``SupervisionService.history`` gives it. Office codes are shown as office names. May import:
Flask-Babel, ``services.web.common``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from services.web.common import context, web

ACTION_NAMES = {
    "assign": _l("Assign"),
    "acknowledge": _l("Sign for"),
    "report-progress": _l("Report progress"),
    "report-completion": _l("Report completion"),
    "accept-completion": _l("Accept the completion"),
    "return-completion": _l("Return the completion"),
    "request-extension": _l("Request an extension"),
    "grant-extension": _l("Grant the extension"),
    "deny-extension": _l("Deny the extension"),
    "urge": _l("Urge"),
    "escalate": _l("Escalate"),
    "commend": _l("Commend"),
    "order-rectification": _l("Order rectification"),
    "report-rectification": _l("Report rectification"),
    "accept-rectification": _l("Accept the rectification"),
    "close": _l("Close"),
    "reopen": _l("Reopen"),
    "publish": _l("Publish"),
    "unpublish": _l("Unpublish"),
    "record-finding": _l("Record a finding"),
}
EVENT_NAMES = {
    "Registered": _l("Registered"),
    "Received": _l("Received"),
    "Assigned": _l("Assigned"),
    "Acknowledged": _l("Signed for"),
    "ProgressReported": _l("Progress reported"),
    "CompletionReported": _l("Completion reported"),
    "CompletionAccepted": _l("Completion accepted"),
    "CompletionReturned": _l("Completion returned"),
    "ExtensionRequested": _l("Extension requested"),
    "ExtensionGranted": _l("Extension granted"),
    "ExtensionDenied": _l("Extension denied"),
    "DeadlineRecomputed": _l("Deadline recomputed"),
    "Urged": _l("Urged"),
    "Escalated": _l("Escalated"),
    "Commended": _l("Commended"),
    "RectificationOrdered": _l("Rectification ordered"),
    "RectificationReported": _l("Rectification reported"),
    "RectificationAccepted": _l("Rectification accepted"),
    "Closed": _l("Closed"),
    "Concluded": _l("Concluded"),
    "Reopened": _l("Reopened"),
    "ReportReceived": _l("Report received"),
    "FindingRecorded": _l("Finding recorded"),
    "Published": _l("Published"),
    "Unpublished": _l("Unpublished"),
}
REPORT_KINDS = {
    "acknowledged": _l("signed for"),
    "progress": _l("progress"),
    "completion": _l("completion"),
    "extension_request": _l("extension request"),
    "rectification_report": _l("rectification report"),
}
SYSTEM_ACTORS = {
    "process-manager": _l("the platform (between offices)"),
    "deadline-engine": _l("the deadline engine"),
    "calendar": _l("the working-day calendar"),
}
"""The platform's own actors (role ``system``), as people read them."""
CHANNELS = {"web": _l("screens"), "api": _l("API"), "cli": _l("command line"), "": "—"}
ROLES_IN_CHAIN = {"lead": _l("lead"), "co": _l("co-executor")}


@web.app_template_global()
def action_name(action: str) -> str:
    return str(ACTION_NAMES.get(action, action))


@web.app_template_global()
def event_name(kind: str) -> str:
    return str(EVENT_NAMES.get(kind, kind))


@web.app_template_global()
def report_kind(kind: str) -> str:
    return str(REPORT_KINDS.get(kind, kind))


@web.app_template_global()
def channel_name(channel: str) -> str:
    return str(CHANNELS.get(channel, channel))


@web.app_template_global()
def office_name(code: str) -> str:
    """An office's name, or its code if it is not a registered office."""
    registry = context().platform.registry
    return registry.get(code).name if code and registry.exists(code) else code


def actor_name(actor: dict[str, str]) -> str:
    """A person's name, or what the platform's own actor is."""
    user_id = actor.get("user_id", "")
    if actor.get("role") == "system" and user_id in SYSTEM_ACTORS:
        return str(SYSTEM_ACTORS[user_id])
    return context().users.display_name(user_id)


def assignee_words(a: dict[str, str]) -> str:
    who = office_name(a["target"]) if a["kind"] == "office" else a["target"]
    return f"{who}（{ROLES_IN_CHAIN.get(a['role'], a['role'])}）"


def with_office(data: dict[str, Any], text: str) -> str:
    whom = data.get("assignee")
    return f"{office_name(whom)}: {text}" if whom else text


SUMMARIES: dict[str, Callable[[dict[str, Any]], str]] = {
    "Registered": lambda d: _("deadline %(day)s", day=d["deadline"]),
    "Received": lambda d: _(
        "from %(office)s, deadline %(day)s",
        office=office_name(d["parent_office"]),
        day=d["deadline"],
    ),
    "Assigned": lambda d: _(
        "to %(whom)s, deadline %(day)s",
        whom="、".join(assignee_words(a) for a in d["assignees"]),
        day=d["deadline"],
    ),
    "ProgressReported": lambda d: f"{d['percent']}% · {d['text']}",
    "CompletionReported": lambda d: d["text"],
    "CompletionAccepted": lambda d: with_office(d, d["comment"]),
    "CompletionReturned": lambda d: with_office(d, d["reason"]),
    "ExtensionRequested": lambda d: _(
        "to %(day)s: %(reason)s", day=d["new_deadline"], reason=d["reason"]
    ),
    "ExtensionGranted": lambda d: with_office(d, _("new deadline %(day)s", day=d["new_deadline"])),
    "ExtensionDenied": lambda d: with_office(d, d["reason"]),
    "DeadlineRecomputed": lambda d: f"{d['old_deadline']} → {d['new_deadline']}",
    "Urged": lambda d: d["message"],
    "Escalated": lambda d: f"{d['to']}: {d['reason']}",
    "Commended": lambda d: d["reason"],
    "RectificationOrdered": lambda d: d["requirements"],
    "RectificationReported": lambda d: d["text"],
    "RectificationAccepted": lambda d: d["comment"],
    "Closed": lambda d: d["reason"],
    "Concluded": lambda d: _("matter closed by %(office)s", office=office_name(d["closed_by"])),
    "Reopened": lambda d: d["reason"],
    "ReportReceived": lambda d: (
        f"{office_name(d['from_office'])} · "
        f"{REPORT_KINDS.get(d['kind'], d['kind'])}"
        + (f" {d['percent']}%" if d.get("percent") is not None else "")
        + (f" · {d['text']}" if d.get("text") else "")
    ),
    "FindingRecorded": lambda d: d["text"],
    "Published": lambda d: d["summary"],
    "Unpublished": lambda d: d["reason"],
}


def event_summary(kind: str, data: dict[str, Any]) -> str:
    """What the event changed, in one line of the person's language ('' if nothing to say)."""
    try:
        return str(SUMMARIES[kind](data)) if kind in SUMMARIES else ""
    except KeyError:  # an older event without a field: say nothing rather than fail
        return ""
