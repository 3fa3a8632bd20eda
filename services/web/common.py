"""What every screen shares: the blueprint, who is signed in, and rendering a page.

A session (Flask's signed cookie) holds the user's id, a fingerprint of their password hash
and when they were last seen. Each request checks all three against the user directory: a
revoked user, a reset password or an idle session (``DUCHA_SESSION_IDLE_MINUTES``, 30 by
default) ends the session and sends the person to sign in again. Views only translate: they
read through the platform's read models and act through its services, with the same role
rules and office isolation as the API (``services.http.auth.Access``). May import: Flask,
Flask-Babel, the services and ``services.http.auth``.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import wraps
from typing import Any, TypeVar

from flask import Blueprint, current_app, g, redirect, render_template, request, session, url_for
from flask_wtf.csrf import CSRFProtect
from werkzeug.wrappers import Response

from services.bootstrap import Platform
from services.errors import NotFoundError
from services.http.auth import Access
from services.preferences import Preferences
from services.signin import SignIn
from services.users import UserDirectory, UserView

web = Blueprint(
    "web", __name__, template_folder="templates", static_folder="static", static_url_path="/assets"
)
csrf = CSRFProtect()


@web.before_request
def protect() -> None:
    """Every state-changing request to the screens carries the session's CSRF token (the
    API's routes, with bearer tokens and no cookies, are not checked)."""
    csrf.protect()


IDLE_MINUTES = 30
LANGUAGES = {"zh_Hans_CN": "中文", "en": "English"}
DEFAULT_LANGUAGE = "zh_Hans_CN"

View = TypeVar("View", bound=Callable[..., Any])


@dataclass(frozen=True)
class WebContext:
    platform: Platform
    users: UserDirectory
    access: Access
    sign_in: SignIn
    preferences: Preferences
    idle: timedelta


def context() -> WebContext:
    found: WebContext = current_app.extensions["ducha_web"]
    return found


def idle_timeout() -> timedelta:
    return timedelta(minutes=float(os.environ.get("DUCHA_SESSION_IDLE_MINUTES", IDLE_MINUTES)))


def fingerprint(password_hash: str | None) -> str:
    """Changes when the password does: sessions opened with an old password end."""
    return hashlib.sha256((password_hash or "").encode()).hexdigest()[:16]


def start_session(user: UserView) -> None:
    session.clear()
    session["user"] = user.id
    session["pw"] = fingerprint(context().users.password_hash(user.id))
    session["seen"] = datetime.now(UTC).isoformat()
    session["lang"] = context().preferences.get(user.id, "language") or DEFAULT_LANGUAGE


def signed_in_user() -> UserView | None:
    """The person this request comes from, or None (and the session ended) when the session
    is missing, idle too long, or no longer matches an active user with that password."""
    if "user" in g:
        found: UserView | None = g.user
        return found
    g.user = None
    user_id = session.get("user")
    if user_id is None:
        return None
    seen = datetime.fromisoformat(session.get("seen", "1970-01-01T00:00:00+00:00"))
    now = datetime.now(UTC)
    users = context().users
    try:
        user: UserView | None = users.get(user_id)
    except NotFoundError:  # an unknown id: a stale session
        user = None
    if (
        user is None
        or user.revoked
        or now - seen > context().idle
        or session.get("pw") != fingerprint(users.password_hash(user.id))
    ):
        session.clear()
        session["ended"] = True
        return None
    session["seen"] = now.isoformat()
    g.user = user
    return user


def signed_in(view: View) -> View:
    """The view needs a signed-in person; others are sent to sign in (and come back)."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if signed_in_user() is None:
            return redirect(url_for("web.sign_in_page", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def me() -> UserView:
    user = signed_in_user()
    assert user is not None, "use @signed_in"
    return user


def office_below() -> str:
    """The office a roll-up screen is asked about (``?office=``, one's own by default), once
    the API's rule for roll-ups lets the person see it (``Access.subtree``: 404 otherwise)."""
    user = me()
    code = request.args.get("office", user.office)
    context().access.subtree(user, code)
    return code


def page(template: str, status: int = 200, **values: Any) -> tuple[str, int]:
    """A whole page, or (for an htmx request) the part the template marks as the swap
    target, so the same view serves both."""
    values.setdefault("partial", request.headers.get("HX-Request") == "true")
    return render_template(template, **values), status


def back_to(target: str | None) -> Response:
    """Redirect to ``target`` only when it is a path on this site (never another host)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        target = url_for("web.desk")
    return redirect(target)
