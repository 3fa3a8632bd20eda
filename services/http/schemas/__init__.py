"""Request and response shapes. Field names follow the domain and the CLI's option names.

Responses are dumped from plain JSON values (dates already ISO strings), so date and time
fields are declared as strings with an OpenAPI ``format``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import marshmallow as ma
from marshmallow import fields as f
from marshmallow import validate as v

from domain.errors import InvalidFieldError
from domain.users import USER_ROLES
from domain.values import OFFICE_LEVELS, SOURCE_KINDS, clean_text
from projections.queries import LIGHTS
from services.inputs import (
    DATE_RANGE,
    INSTANT_FORMAT,
    day_problem,
    instant_problem,
    parse_instant,
)


class Text(f.String):
    """Input text, storable everywhere (``domain.values.clean_text``) and in NFC."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            return clean_text(attr or "text", text)
        except InvalidFieldError as e:
            raise ma.ValidationError(e.message) from None


class Day(f.Date):
    """A calendar date in the accepted range (``services.inputs``)."""

    default_error_messages: ma.types.ErrorMessages = {  # noqa: RUF012 - as marshmallow has it
        "invalid": f"Not a valid date: give {DATE_RANGE}."
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> date:
        day: date = super()._deserialize(value, attr, data, **kwargs)
        problem = day_problem(day)
        if problem:
            raise ma.ValidationError(problem)
        return day


class Instant(f.Field):  # type: ignore[type-arg]
    """``YYYY-MM-DD`` (the end of that day in China; its start with ``day_starts``) or an ISO
    datetime (China time without an offset), on a day in the accepted range."""

    def __init__(self, day_starts: bool = False, **kw: Any) -> None:
        metadata = {"type": "string", "format": "date-time", **kw.pop("metadata", {})}
        metadata.setdefault("description", INSTANT_FORMAT)
        super().__init__(metadata=metadata, **kw)
        self.day_starts = day_starts

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        if not isinstance(value, str):
            raise ma.ValidationError(f"must be {INSTANT_FORMAT}")
        try:
            instant = parse_instant(value, self.day_starts)
        except ValueError:
            raise ma.ValidationError(f"must be {INSTANT_FORMAT}") from None
        problem = instant_problem(instant)
        if problem:
            raise ma.ValidationError(problem)
        return instant


def whole(**kw: Any) -> f.Integer:
    """A whole number in a JSON body: 50.5 is refused, never truncated."""
    return f.Integer(strict=True, **kw)


def words(required: bool = True, **kw: Any) -> Text:
    """A non-blank string (the domain trims and checks length)."""
    if required:
        return Text(required=True, validate=v.Length(min=1), **kw)
    return Text(load_default="", **kw)


def iso_date(**kw: Any) -> f.String:
    return f.String(metadata={"format": "date"}, **kw)


def iso_time(**kw: Any) -> f.String:
    return f.String(metadata={"format": "date-time"}, **kw)


def page_of(item: type[ma.Schema], name: str) -> type[ma.Schema]:
    """A page of a list: ``{"items": [...], "page", "per_page", "total"}``."""
    return ma.Schema.from_dict(
        {
            "items": f.List(f.Nested(item), required=True),
            "page": f.Integer(required=True),
            "per_page": f.Integer(required=True),
            "total": f.Integer(required=True),
        },
        name=name,
    )


class Strict(ma.Schema):
    """Unknown fields are refused (422 naming them)."""

    class Meta:
        unknown = ma.RAISE


# -- offices ------------------------------------------------------------------------------
class OfficeIn(Strict):
    code = words(metadata={"description": "Immutable code: lower-case letters, digits, '-'"})
    name = words(metadata={"description": "The office's Chinese name, e.g. 甘肃省人民政府办公厅"})
    level = Text(required=True, validate=v.OneOf(OFFICE_LEVELS))
    parent = Text(load_default=None, allow_none=True)


class OfficeOut(ma.Schema):
    code = f.String(required=True)
    name = f.String(required=True)
    level = f.String(required=True)
    parent = f.String(allow_none=True, required=True)
    retired = f.Boolean(required=True)
    version = f.Integer(required=True)
    registered_at = iso_time(required=True)
    escalate = f.Boolean(required=True)
    grace_working_days = f.Integer(required=True)


OfficeList = page_of(OfficeOut, "OfficeList")


class PolicyIn(Strict):
    escalate = f.Boolean(required=True, metadata={"description": "Escalate overdue records"})
    grace_working_days = whole(
        required=True,
        validate=v.Range(0, 60),
        metadata={"description": "Working days overdue before escalating"},
    )


# -- users --------------------------------------------------------------------------------
class UserIn(Strict):
    role = Text(required=True, validate=v.OneOf(USER_ROLES))
    name = words(metadata={"description": "The person's name, e.g. 张三"})


class UserOut(ma.Schema):
    id = f.String(required=True)
    office = f.String(required=True)
    role = f.String(required=True)
    name = f.String(required=True)
    revoked = f.Boolean(required=True)
    registered_at = iso_time(required=True)


class UserCreated(UserOut):
    token = f.String(
        required=True, metadata={"description": "Shown this once; only its hash is kept"}
    )


UserList = page_of(UserOut, "UserList")


# -- circulars ----------------------------------------------------------------------------
class CircularIn(Strict):
    title = words()
    scope = words(metadata={"description": "Who it is circulated to"})
    text = words()
    commend = f.List(Text(validate=v.Length(min=1)), load_default=list)
    criticise = f.List(Text(validate=v.Length(min=1)), load_default=list)


class CircularIssued(ma.Schema):
    id = f.String(required=True)
    office = f.String(required=True)
    title = f.String(required=True)


# -- items --------------------------------------------------------------------------------
class ItemIn(Strict):
    title = words()
    source_kind = Text(required=True, validate=v.OneOf(SOURCE_KINDS))
    source_ref = words(metadata={"description": "文号, meeting or instruction reference"})
    issued_on = Day(required=True)
    objective = words()
    content = words()
    executing_unit = words()
    responsible_person = words()
    deadline = Day(load_default=None, allow_none=True)
    importance = whole(load_default=3, validate=v.Range(1, 5))
    urgency = whole(load_default=3, validate=v.Range(1, 5))


class ItemOut(ma.Schema):
    id = f.String(required=True)
    office = f.String(required=True)
    kind = f.String(required=True, validate=v.OneOf(("item", "task")))
    title = f.String(required=True)
    source_kind = f.String(required=True)
    source_ref = f.String(required=True)
    issued_on = iso_date(required=True)
    objective = f.String(required=True)
    content = f.String(required=True)
    executing_unit = f.String(required=True)
    responsible_person = f.String(required=True)
    deadline = iso_date(required=True)
    deadline_provisional = f.Boolean(
        required=True,
        metadata={
            "description": "Counted on the provisional calendar (a year whose holiday notice "
            "is not yet published); recomputed, as an event, when the notice is added"
        },
    )
    deadline_working_days = f.Integer(
        allow_none=True,
        metadata={"description": "The deadline is this many working days after the issue date"},
    )
    deadline_note = f.String(metadata={"description": "How the deadline was set, in words"})
    importance = f.Integer(required=True)
    urgency = f.Integer(required=True)
    status = f.String(required=True)
    version = f.Integer(required=True)
    light = f.String(required=True, validate=v.OneOf(LIGHTS))
    overdue = f.Boolean(required=True)
    acknowledged = f.Boolean(required=True)
    progress_percent = f.Integer(required=True)
    last_report = f.String(required=True)
    pending_extension = iso_date(allow_none=True)
    extensions_granted = f.Integer()
    urge_count = f.Integer()
    escalation_count = f.Integer()
    commendation_count = f.Integer()
    rectification = f.String()
    published = f.Boolean()
    public_summary = f.String()
    finding_count = f.Integer()
    completion_reported_on = iso_date(allow_none=True)
    completed_on = iso_date(allow_none=True)
    pending_extensions = f.Dict(keys=f.String(), values=f.String())
    received_reports = f.Dict(keys=f.String(), values=f.Dict())
    assignments = f.List(f.Dict())
    parent = f.Dict(allow_none=True)
    root = f.Dict()
    registered_at = iso_time()
    modified_at = iso_time()
    warnings = f.List(
        f.String(), metadata={"description": "On registration: what the person should know"}
    )


class NoQuery(Strict):
    """Routes that take no query parameters refuse any (422), as bodies refuse unknown fields."""


class Paging(Strict):
    page = f.Integer(load_default=1, validate=v.Range(min=1, max=1_000_000))
    per_page = f.Integer(load_default=50, validate=v.Range(1, 500))


class ItemQuery(Paging):
    status = Text()
    light = Text(validate=v.OneOf(LIGHTS))
    source_kind = Text(validate=v.OneOf(SOURCE_KINDS))
    kind = Text(validate=v.OneOf(("item", "task")))
    importance = f.Integer(validate=v.Range(1, 5))
    urgency = f.Integer(validate=v.Range(1, 5))
    assignee = Text()
    text = Text()


ItemPage = page_of(ItemOut, "ItemPage")


class AsOf(Strict):
    as_of = Instant(
        load_default=None,
        metadata={"description": f"Time travel: the state at this instant: {INSTANT_FORMAT}"},
    )


class EventOut(ma.Schema):
    type = f.String(required=True)
    version = f.Integer(required=True)
    time = iso_time(required=True)
    actor = f.Dict(keys=f.String(), values=f.String(), required=True)
    data = f.Dict(required=True)


History = page_of(EventOut, "History")


class TreeNode(ma.Schema):
    office = f.String(required=True)
    id = f.String(required=True)
    kind = f.String(required=True)
    unit = f.String(required=True)
    responsible_person = f.String(required=True)
    status = f.String(required=True)
    deadline = iso_date(required=True)
    deadline_provisional = f.Boolean()
    light = f.String(required=True)
    last_report = f.String(required=True)
    assignments = f.List(f.Dict())
    children = f.List(f.Nested(lambda: TreeNode()), required=True)


class Rollup(ma.Schema):
    office = f.String(required=True)
    on = iso_date(required=True)
    total = f.Integer(required=True)
    by_status = f.Dict(keys=f.String(), values=f.Integer())
    by_kind = f.Dict(keys=f.String(), values=f.Integer())
    by_light = f.Dict(keys=f.String(), values=f.Integer())
    overdue = f.Integer(required=True)
    completed = f.Integer(required=True)
    on_time_rate = f.Float(allow_none=True, required=True)
    mean_working_days_to_completion = f.Float(allow_none=True, required=True)
    by_source_kind = f.Dict(keys=f.String(), values=f.Dict())
    by_month = f.Dict(keys=f.String(), values=f.Integer())
    commended = f.Integer()
    under_rectification = f.Integer()


class AuditQuery(Paging):
    item = f.UUID(metadata={"description": "Only this item's or task's events"})
    from_ = Instant(data_key="from", day_starts=True)
    to = Instant()
    actor = Text(metadata={"description": "User id"})
    type = Text(metadata={"description": "Event type, e.g. ProgressReported"})


class AuditEntry(ma.Schema):
    office = f.String(required=True)
    position = f.Integer(required=True)
    record_id = f.String(required=True)
    record_type = f.String(required=True)
    version = f.Integer(required=True)
    type = f.String(required=True)
    time = iso_time(required=True)
    actor_user = f.String(required=True)
    actor_office = f.String(required=True)
    actor_role = f.String(required=True)
    summary = f.String(required=True)


AuditPage = page_of(AuditEntry, "AuditPage")


class CircularEntry(ma.Schema):
    office = f.String(required=True)
    name = f.String(required=True)
    rank = f.Integer(required=True)
    total = f.Integer(required=True)
    completed = f.Integer(required=True)
    on_time_rate = f.Float(allow_none=True, required=True)
    overdue = f.Integer(required=True)
    commended = f.Integer(required=True)
    under_rectification = f.Integer(required=True)


class Circular(ma.Schema):
    office = f.String(required=True)
    on = iso_date()
    ranking = f.List(f.Nested(CircularEntry), required=True)
    commended = f.List(f.String())
    under_rectification = f.List(f.String())


class PublicItem(ma.Schema):
    office = f.String(required=True)
    title = f.String(required=True)
    summary = f.String(required=True)
    status = f.String(required=True)
    progress_percent = f.Integer(required=True)
    deadline = iso_date(required=True)


PublicPage = page_of(PublicItem, "PublicPage")


class Health(ma.Schema):
    status = f.String(required=True)


# -- action bodies: the CLI's option names ------------------------------------------------
def assignee() -> Text:
    return Text(
        load_default="",
        metadata={"description": "Decide a subordinate office's request (its code)"},
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
