"""Items and tasks: registering one, what a record looks like, lists, history and the tree. May
import: marshmallow, the domain's values, ``services.http.schemas.fields`` and, for the light names
and sort keys, ``projections.queries`` and ``projections.ledger``.
"""

from __future__ import annotations

from datetime import date

import marshmallow as ma
from marshmallow import fields as f
from marshmallow import validate as v

from domain.values import SOURCE_KINDS
from projections.ledger import SORTS
from projections.queries import LIGHTS
from services.http.schemas.fields import (
    Day,
    Paging,
    Strict,
    Text,
    iso_date,
    iso_time,
    page_of,
    whole,
    words,
)


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
    allow_duplicate = f.Boolean(
        load_default=False,
        metadata={
            "description": "Register although the office already has an item with this "
            "source_ref (otherwise 409 duplicate_source, naming the existing items)"
        },
    )


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


class ItemQuery(Paging):
    status = Text()
    light = Text(validate=v.OneOf(LIGHTS))
    source_kind = Text(validate=v.OneOf(SOURCE_KINDS))
    kind = Text(validate=v.OneOf(("item", "task")))
    importance = f.Integer(validate=v.Range(1, 5))
    urgency = f.Integer(validate=v.Range(1, 5))
    assignee = Text()
    text = Text()
    deadline_from = Day(metadata={"description": "Deadline on or after this day"})
    deadline_to = Day(metadata={"description": "Deadline on or before this day"})
    sort = Text(
        validate=v.OneOf(SORTS),
        metadata={
            "description": "Order: a column, descending with a leading '-' (default: the "
            "order of registration)"
        },
    )

    @ma.validates_schema
    def range_in_order(self, data: dict[str, object], **_kw: object) -> None:
        first, last = data.get("deadline_from"), data.get("deadline_to")
        if isinstance(first, date) and isinstance(last, date) and last < first:
            raise ma.ValidationError("must not be before deadline_from", "deadline_to")


ItemPage = page_of(ItemOut, "ItemPage")


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
