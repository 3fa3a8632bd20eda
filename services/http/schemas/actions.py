"""The bodies of the twenty actions, named as the CLI's options. May import: marshmallow and
``services.http.schemas.fields``.
"""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields as f
from marshmallow import validate as v

from services.http.schemas.fields import (
    Day,
    Strict,
    Text,
    whole,
    words,
)


# -- action bodies: the CLI's option names ------------------------------------------------
def assignee() -> Text:
    return Text(
        load_default="",
        metadata={
            "description": "Decide a subordinate office's request (its code; default: the "
            "one request waiting)"
        },
    )


class Empty(Strict):
    pass


class Assign(Strict):
    to = Text(load_default=None, metadata={"description": "Lead office (a descendant)"})
    to_unit = Text(load_default=None, metadata={"description": "Lead internal unit"})
    co = f.List(Text(validate=v.Length(min=1)), load_default=list)
    co_unit = f.List(Text(validate=v.Length(min=1)), load_default=list)
    deadline = Day(load_default=None)
    responsible = Text(load_default=None)


class ReportProgress(Strict):
    text = words()
    percent = whole(required=True, validate=v.Range(0, 100))
    attachment = f.List(Text(validate=v.Length(min=1)), load_default=list)


class ReportCompletion(Strict):
    text = words()
    attachment = f.List(f.String(validate=v.Length(min=1)), load_default=list)


class AcceptCompletion(Strict):
    comment = words(required=False)
    assignee = assignee()


class ReturnCompletion(Strict):
    reason = words()
    assignee = assignee()


class RequestExtension(Strict):
    new_deadline = Day(required=True)
    reason = words()
    progress = words(required=False)


class GrantExtension(Strict):
    new_deadline = Day(load_default=None)
    comment = words(required=False)
    assignee = assignee()


class DenyExtension(Strict):
    reason = words()
    assignee = assignee()


class Urge(Strict):
    message = words()


class Escalate(Strict):
    to = words(metadata={"description": "Whom to: a higher level or a leader"})
    reason = words()


class Reason(Strict):
    reason = words()


class OrderRectification(Strict):
    requirements = words()
    deadline = Day(load_default=None)


class TextOnly(Strict):
    text = words()


class Comment(Strict):
    comment = words(required=False)


class Close(Strict):
    reason = words(required=False)
    leader_closure = f.Boolean(load_default=False)


class Publish(Strict):
    summary = words()


class RecordFinding(Strict):
    kind = Text(required=True, validate=v.OneOf(("experience", "problem")))
    text = words()
    recommendation = words(required=False)


ACTION_BODIES: dict[str, type[ma.Schema]] = {
    "assign": Assign,
    "acknowledge": Empty,
    "report-progress": ReportProgress,
    "report-completion": ReportCompletion,
    "accept-completion": AcceptCompletion,
    "return-completion": ReturnCompletion,
    "request-extension": RequestExtension,
    "grant-extension": GrantExtension,
    "deny-extension": DenyExtension,
    "urge": Urge,
    "escalate": Escalate,
    "commend": Reason,
    "order-rectification": OrderRectification,
    "report-rectification": TextOnly,
    "accept-rectification": Comment,
    "close": Close,
    "reopen": Reason,
    "publish": Publish,
    "unpublish": Reason,
    "record-finding": RecordFinding,
}
