"""What an office's IT staff watch: every consumer's position, lag and dead letter per office, and
resuming the stopped ones; the verifiable ledger's witness alerts (a witness that refused a
smaller, forked or inconsistent log). Admins only; anyone else gets 404, as for a missing route.
May import: marshmallow, ``services.http.common`` (the runner and the ledger through the
platform), ``services.http.schemas``, ``services.inputs`` and ``services.errors``.

Views only translate.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from services.errors import NotFoundError
from services.http import schemas as s
from services.http.common import BASE, BEARER, DuchaBlueprint, caller, platform
from services.inputs import china_time

admin = DuchaBlueprint(
    "admin", "admin", url_prefix=f"{BASE}/admin", description="Operations (admins only)"
)


def check_admin() -> None:
    if caller().role != "admin":
        raise NotFoundError("no such resource")


@admin.route("/consumers", methods=["GET"])
@admin.arguments(s.ConsumerQuery, location="query")
@admin.response(200, s.Consumers)
@admin.doc(security=BEARER)
def consumers(args: dict[str, Any]) -> Any:
    """Each consumer of each office (or one): position, the office's last event, lag, and the
    dead letter that stopped it.

    Roles: admin (anyone else: 404)."""
    check_admin()
    office = args.get("office")
    if office:
        platform().registry.get(office)
    found = platform().runner.status(office, only_behind=args["behind"])
    return {
        "consumers": [c.as_dict() for c in found],
        "stopped": sum(1 for c in found if c.dead_letter),
        "behind": sum(1 for c in found if c.lag),
    }


@admin.route("/consumers/retry", methods=["POST"])
@admin.arguments(s.RetryIn)
@admin.arguments(s.NoQuery, location="query")
@admin.response(200, s.Resumed)
@admin.doc(security=BEARER)
def retry(data: dict[str, Any], _query: dict[str, Any]) -> Any:
    """Resume stopped consumers (of one office, one consumer, or all) from the event that
    stopped them.

    Roles: admin (anyone else: 404)."""
    check_admin()
    if data.get("office"):
        platform().registry.get(data["office"])
    resumed = platform().runner.retry(data.get("office"), data.get("consumer"))
    still = [c for c in platform().runner.status(data.get("office"), True) if c.dead_letter]
    return {"resumed": resumed, "stopped": len(still)}


class LedgerAlert(ma.Schema):
    witness = ma.fields.String(required=True, metadata={"description": "The witness's key name"})
    origin = ma.fields.String(required=True, metadata={"description": "The log: ducha/<office>"})
    at = ma.fields.String(required=True, metadata={"description": "When, China time"})
    status = ma.fields.Integer(required=True, metadata={"description": "The refusal's status"})
    alert = ma.fields.String(required=True, metadata={"description": "What the log did"})
    reason = ma.fields.String(required=True)


class LedgerAlerts(ma.Schema):
    count = ma.fields.Integer(required=True)
    alerts = ma.fields.List(ma.fields.Nested(LedgerAlert), required=True)


@admin.route("/ledger-alerts", methods=["GET"])
@admin.arguments(s.NoQuery, location="query")
@admin.response(200, LedgerAlerts)
@admin.doc(security=BEARER)
def ledger_alerts(_query: dict[str, Any]) -> Any:
    """The witnesses' alerts, newest first: each time a superior office or the public site
    refused a checkpoint that contradicts what it cosigned before (a smaller tree, another
    root at the same size, an inconsistent proof).

    Roles: admin (anyone else: 404)."""
    check_admin()
    found = platform().ledger.checkpoints.alerts()
    shown = [{**vars(a), "at": china_time(a.at)} for a in found]
    return {"count": len(found), "alerts": shown}
