"""Offices (机关): register and list them, their deadline policy, their users, and the
skipped relays they are at either end of.
May import: the standard library, ``domain`` (policy), ``services`` (http, views) and
``services.http`` (common, errors).

Views only translate: check access, call one service, shape the answer. Imports the
services, ``services.http.common`` and ``services.http.errors``; never a store."""

from __future__ import annotations

from typing import Any

from domain.policy import SKIPPED_READERS
from services.http import schemas as s
from services.http.common import (
    BASE,
    BEARER,
    IDEMPOTENCY_KEY,
    DuchaBlueprint,
    access,
    actor,
    caller,
    context,
    platform,
    users,
)
from services.http.errors import ApiError
from services.inputs import china_time
from services.views import paginate

# -- offices ------------------------------------------------------------------------
offices = DuchaBlueprint("offices", "offices", url_prefix=BASE, description="Offices (机关)")


@offices.route("/offices", methods=["POST"])
@offices.arguments(s.OfficeIn)
@offices.arguments(s.NoQuery, location="query")
@offices.response(201, s.OfficeOut)
@offices.doc(security=BEARER, parameters=[IDEMPOTENCY_KEY])
def register_office(data: dict[str, Any], _query: dict[str, Any]) -> Any:
    """Register an office under an active parent; its event store is provisioned.

    Roles: admin."""
    user = caller()
    access().admin(user)
    office = platform().registry.register(
        actor(user), data["code"], data["name"], data["level"], data["parent"]
    )
    return office.to_dict(), 201, {"Location": f"{BASE}/offices/{office.code}"}


@offices.route("/offices", methods=["GET"])
@offices.arguments(s.Paging, location="query")
@offices.response(200, s.OfficeList)
@offices.doc(security=BEARER)
def list_offices(args: dict[str, Any]) -> Any:
    """The offices the user may see: their own, its superiors and its subordinates (an
    admin: every office), top-down. Any role."""
    user = caller()
    shown = [o for o in platform().registry.all() if access().visible(user, o.code)]
    return paginate(shown, args["page"], args["per_page"]).to_dict()


@offices.route("/offices/<code>/policy", methods=["PUT"])
@offices.arguments(s.PolicyIn)
@offices.arguments(s.NoQuery, location="query")
@offices.response(200, s.OfficeOut)
@offices.doc(security=BEARER)
def set_policy(data: dict[str, Any], _query: dict[str, Any], code: str) -> Any:
    """How the deadline engine treats the office's overdue records: escalate or not, and
    after how many working days. Roles: admin."""
    user = caller()
    access().admin(user, "set-deadline-policy")
    office = platform().registry.set_deadline_policy(
        actor(user), code, data["escalate"], data["grace_working_days"]
    )
    return office.to_dict()


@offices.route("/offices/<code>/users", methods=["GET"])
@offices.arguments(s.Paging, location="query")
@offices.response(200, s.UserList)
@offices.doc(security=BEARER)
def office_users(args: dict[str, Any], code: str) -> Any:
    """The office's users (tokens and passwords are never shown), with any sign-in lock.
    Roles: admin."""
    user = caller()
    access().admin(user, "manage-users")
    platform().registry.get(code)
    locks = {lock.login: china_time(lock.until) for lock in context().sign_in.locks()}
    found = [u.to_dict() | {"locked_until": locks.get(u.login or "")} for u in users().list(code)]
    return paginate(found, args["page"], args["per_page"]).to_dict()


@offices.route("/offices/<code>/users", methods=["POST"])
@offices.arguments(s.UserIn)
@offices.arguments(s.NoQuery, location="query")
@offices.response(201, s.UserCreated)
@offices.doc(security=BEARER, parameters=[IDEMPOTENCY_KEY])
def add_user(data: dict[str, Any], _query: dict[str, Any], code: str) -> Any:
    """A new user of the office; the answer carries the token, this once. With a login (and
    its password, chosen by the admin) the person can also sign in to the screens.
    Roles: admin."""
    user = caller()
    access().admin(user, "manage-users")
    platform().registry.get(code)
    added, token = users().add(
        actor(user), code, data["role"], data["name"], data["login"], data["password"]
    )
    return {**added.to_dict(), "token": token}, 201


@offices.route("/users/<user_id>/revoke", methods=["POST"])
@offices.arguments(s.Reason)
@offices.arguments(s.NoQuery, location="query")
@offices.response(200, s.UserOut)
@offices.doc(security=BEARER)
def revoke_user(data: dict[str, Any], _query: dict[str, Any], user_id: str) -> Any:
    """Revoke a user: their token is refused from the next request on. Roles: admin."""
    user = caller()
    access().admin(user, "manage-users")
    return users().revoke(actor(user), user_id, data["reason"]).to_dict()


@offices.route("/offices/<code>")
@offices.arguments(s.NoQuery, location="query")
@offices.response(200, s.OfficeOut)
@offices.doc(security=BEARER)
def get_office(_query: dict[str, Any], code: str) -> Any:
    """An office's record.

    Any role, for their own office, its superiors and its subordinates (admin: all)."""
    access().office(caller(), code)
    return platform().registry.get(code).to_dict()


@offices.route("/offices/<code>/children")
@offices.arguments(s.Paging, location="query")
@offices.response(200, s.OfficeList)
@offices.doc(security=BEARER)
def office_children(args: dict[str, Any], code: str) -> Any:
    """The office's direct subordinates, paginated.

    Any role, for their own office and below (admin: all)."""
    access().subtree(caller(), code)
    children = platform().registry.children(code)
    return paginate(children, args["page"], args["per_page"]).to_dict()


@offices.route("/offices/<code>/skipped")
@offices.arguments(s.Paging, location="query")
@offices.response(200, s.SkippedPage)
@offices.doc(security=BEARER)
def office_skipped(args: dict[str, Any], code: str) -> Any:
    """Skipped relays (工作联系未落实): relayed commands that did not apply to their target,
    oldest first, each marked with the office's end: "ours to relay" (the office's own
    event, not carried out below or above) or "waiting on us" (another office's event, not
    carried out on this office's record).

    Roles: supervisor and leader of the office or of an office above it; admin (any office).
    """
    user = caller()
    access().subtree(user, code)
    if user.role not in SKIPPED_READERS:
        raise ApiError(403, f"a {user.role} may not read the skipped relays")
    platform().registry.get(code)  # an admin asking for an unknown office: 404
    rows = platform().skipped.list(code)
    return paginate(rows, args["page"], args["per_page"]).to_dict()
