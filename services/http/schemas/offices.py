"""Offices, their deadline policy, their users, and their skipped relays.

May import: marshmallow, ``domain`` (users, values) and ``services.http.schemas`` (fields).
"""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields as f
from marshmallow import validate as v

from domain.users import USER_ROLES
from domain.values import OFFICE_LEVELS
from services.http.schemas.fields import (
    Strict,
    Text,
    iso_time,
    page_of,
    whole,
    words,
)


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
    login = Text(
        load_default=None,
        metadata={"description": "A login for the screens (e.g. zhangsan); needs password"},
    )
    password = Text(
        load_default=None,
        load_only=True,
        metadata={"description": "With login: at least 10 characters; only its hash is kept"},
    )


class UserOut(ma.Schema):
    id = f.String(required=True)
    office = f.String(required=True)
    role = f.String(required=True)
    name = f.String(required=True)
    revoked = f.Boolean(required=True)
    registered_at = iso_time(required=True)
    login = f.String(allow_none=True, required=True, metadata={"description": "For the screens"})
    locked_until = f.String(
        allow_none=True,
        metadata={
            "description": "China time until which the login is locked after five failed "
            "sign-ins in a row (lists only)"
        },
    )


class UserCreated(UserOut):
    token = f.String(
        required=True, metadata={"description": "Shown this once; only its hash is kept"}
    )


UserList = page_of(UserOut, "UserList")


# -- skipped relays -------------------------------------------------------------------------
class SkippedRelayOut(ma.Schema):
    office = f.String(required=True, metadata={"description": "Where the event was recorded"})
    position = f.Integer(required=True, metadata={"description": "Its place in that log"})
    record_id = f.String(required=True, metadata={"description": "The record it was on"})
    event_type = f.String(required=True, metadata={"description": "e.g. Urged, Closed"})
    target = f.String(required=True, metadata={"description": "The office it was relayed to"})
    target_record = f.String(
        required=True, metadata={"description": "The record there it did not apply to"}
    )
    reason = f.String(required=True, metadata={"description": "Why it did not apply"})
    at = f.String(
        required=True,
        metadata={"description": "When the event happened, China time (empty: not kept)"},
    )
    side = f.String(
        required=True,
        validate=v.OneOf(("ours to relay", "waiting on us")),
        metadata={
            "description": "'ours to relay': this office's event; "
            "'waiting on us': another office's event, on this office's record"
        },
    )


SkippedPage = page_of(SkippedRelayOut, "SkippedPage")
