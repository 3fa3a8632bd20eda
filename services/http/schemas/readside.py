"""The read side: roll-ups, audit entries, circulars (issuing and ranking), the public page,
health.
May import: marshmallow and ``services.http.schemas`` (fields).
"""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields as f
from marshmallow import validate as v

from services.http.schemas.fields import (
    Instant,
    Paging,
    Strict,
    Text,
    iso_date,
    iso_time,
    page_of,
    words,
)


class SourceFigures(ma.Schema):
    count = f.Integer(required=True)
    completed = f.Integer(required=True)
    on_time = f.Integer(required=True)


ON_TIME_RATE = (
    "On-time completions ÷ what is due (completed, or past its deadline and not done); "
    "null when nothing is due. Never 1.0 while anything is overdue."
)


class Figures(ma.Schema):
    """Counts of records (each office's own item or task) or of matters (each matter once,
    with its record nearest to the office)."""

    total = f.Integer(required=True)
    by_status = f.Dict(keys=f.String(), values=f.Integer(), required=True)
    by_kind = f.Dict(keys=f.String(), values=f.Integer(), required=True)
    by_light = f.Dict(keys=f.String(), values=f.Integer(), required=True)
    overdue = f.Integer(required=True, metadata={"description": "Past the deadline, not done"})
    completed = f.Integer(required=True)
    on_time = f.Integer(required=True, metadata={"description": "Completed by the deadline"})
    due = f.Integer(required=True, metadata={"description": "Completed, or overdue"})
    on_time_rate = f.Float(allow_none=True, required=True, metadata={"description": ON_TIME_RATE})
    mean_working_days_to_completion = f.Float(allow_none=True, required=True)
    by_source_kind = f.Dict(keys=f.String(), values=f.Nested(SourceFigures), required=True)
    by_month = f.Dict(keys=f.String(), values=f.Integer(), required=True)


class BriefFigures(ma.Schema):
    total = f.Integer(required=True)
    overdue = f.Integer(required=True)
    completed = f.Integer(required=True)
    on_time = f.Integer(required=True)
    due = f.Integer(required=True)
    on_time_rate = f.Float(allow_none=True, required=True, metadata={"description": ON_TIME_RATE})


class OfficeFigures(ma.Schema):
    """A child office's subtree: its records and its matters."""

    office = f.String(required=True)
    name = f.String(required=True)
    records = f.Nested(BriefFigures, required=True)
    matters = f.Nested(BriefFigures, required=True)


class Rollup(ma.Schema):
    office = f.String(required=True)
    on = iso_date(required=True)
    matters = f.Nested(
        Figures,
        required=True,
        metadata={"description": "Each matter with a record in the subtree, once"},
    )
    records = f.Nested(
        Figures, required=True, metadata={"description": "Every record of the subtree"}
    )
    by_office = f.List(
        f.Nested(OfficeFigures),
        required=True,
        metadata={"description": "Each child office's subtree, for drill-down"},
    )
    commended = f.Integer(required=True, metadata={"description": "Records commended"})
    under_rectification = f.Integer(
        required=True, metadata={"description": "Records under rectification"}
    )


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
    actor_name = f.String(
        required=True, metadata={"description": "The person's name (or the system actor's id)"}
    )
    actor_office = f.String(required=True)
    actor_role = f.String(required=True)
    actor_channel = f.String(
        required=True,
        metadata={
            "description": "How the actor came: api, web, cli, demo; empty for the platform's "
            "engines and for events recorded before channels were kept"
        },
    )
    actor_os_user = f.String(
        required=True,
        metadata={"description": "cli only: the operating-system account that ran the command"},
    )
    summary = f.String(required=True)


AuditPage = page_of(AuditEntry, "AuditPage")


class CircularEntry(ma.Schema):
    office = f.String(required=True)
    name = f.String(required=True)
    rank = f.Integer(
        required=True, allow_none=True, metadata={"description": "null: nothing due, unranked"}
    )
    records = f.Nested(BriefFigures, required=True)
    matters = f.Nested(BriefFigures, required=True)
    commended = f.Integer(required=True)
    under_rectification = f.Integer(required=True)


class Rule(ma.Schema):
    zh = f.String(required=True)
    en = f.String(required=True)


class Circular(ma.Schema):
    office = f.String(required=True)
    on = iso_date()
    rule = f.Nested(Rule, required=True, metadata={"description": "How the ranking is made"})
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


# -- operations -----------------------------------------------------------------------------
class ConsumerQuery(Strict):
    office = Text(metadata={"description": "Only this office"})
    behind = f.Boolean(load_default=False, metadata={"description": "Only lagging or stopped"})


class DeadLetter(ma.Schema):
    position = f.Integer(required=True)
    event_type = f.String(required=True)
    originator_id = f.String(required=True)
    originator_version = f.Integer(required=True)
    error = f.String(required=True)
    message = f.String(required=True)
    first_failed_at = f.String(required=True)
    last_failed_at = f.String(required=True)
    attempts = f.Integer(required=True)
    retrying = f.Raw()


class ConsumerOut(ma.Schema):
    office = f.String(required=True)
    consumer = f.String(required=True)
    kind = f.String(required=True)
    position = f.Integer(required=True)
    last = f.Integer(allow_none=True, required=True)
    lag = f.Integer(allow_none=True, required=True)
    dead_letter = f.Nested(DeadLetter, allow_none=True, required=True)


class Consumers(ma.Schema):
    consumers = f.List(f.Nested(ConsumerOut), required=True)
    stopped = f.Integer(required=True)
    behind = f.Integer(required=True)


class RetryIn(Strict):
    office = Text(load_default=None)
    consumer = Text(load_default=None)


class Resumed(ma.Schema):
    resumed = f.Integer(required=True)
    stopped = f.Integer(required=True)
