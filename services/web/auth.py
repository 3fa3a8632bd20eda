"""Signing in and out, and the language switch.

A wrong login or password says only that; a locked login says until when (China time). After
signing in the person goes where they were going (``next``, a path on this site only) or to
their desk. May import: Flask, Flask-Babel and ``services.web.common``.
"""

from __future__ import annotations

from typing import Any

from flask import redirect, request, session, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from services.inputs import china_time
from services.signin import SignInError
from services.web.common import (
    LANGUAGES,
    back_to,
    context,
    page,
    signed_in_user,
    start_session,
    web,
)

MAX_LOGIN = 40
MAX_PASSWORD = 200


@web.route("/")
def home() -> Response:
    if signed_in_user() is None:
        return redirect(url_for("web.sign_in_page"))
    return redirect(url_for("web.desk"))


@web.route("/signin", methods=["GET"])
def sign_in_page() -> Any:
    ended = session.pop("ended", False)
    notice = _("Your session has ended; please sign in again.") if ended else None
    return page("signin.html", notice=notice, login="", next=request.args.get("next", ""))


@web.route("/signin", methods=["POST"])
def sign_in() -> Any:
    login = request.form.get("login", "")[:MAX_LOGIN]
    password = request.form.get("password", "")[:MAX_PASSWORD]
    target = request.form.get("next", "")
    if not login.strip() or not password:
        error = _("Enter your login and password.")
        return page("signin.html", 422, error=error, login=login, next=target)
    try:
        user = context().sign_in(login, password)
    except SignInError as e:
        if e.locked_until is not None:
            until = china_time(e.locked_until.isoformat())[:16].replace("T", " ")
            error = _("This login is locked after repeated failures until %(until)s.", until=until)
        else:
            error = _("Wrong login or password.")
        return page("signin.html", 401, error=error, login=login, next=target)
    start_session(user)
    return back_to(target)


@web.route("/signout", methods=["POST"])
def sign_out() -> Response:
    session.clear()
    return redirect(url_for("web.sign_in_page"))


@web.route("/language", methods=["POST"])
def language() -> Response:
    """Switch the screens' language; remembered for the signed-in person."""
    chosen = request.form.get("language", "")
    if chosen in LANGUAGES:
        session["lang"] = chosen
        user = signed_in_user()
        if user is not None:
            context().preferences.set(user.id, "language", chosen)
    return back_to(request.form.get("next"))
