"""The web workbench: server-rendered screens for people in government offices, in the same
Flask application as the API.

Jinja2 templates with htmx as progressive enhancement (every page and form works without
JavaScript), Flask-Babel with Simplified Chinese first (``zh_Hans_CN``) and English by a visible
switch, CSRF protection on every state-changing request of these screens (the API, which takes
bearer tokens and no cookies, is not affected), and every asset served from this site
(``static/vendor``: nothing is loaded from another host, no webfont). ``init_web`` wires the
screens into an app; each module registers its routes on the one blueprint: ``auth`` (sign in
and out, language), ``desk``. May import: Flask and its extensions, the services, and
``services.web`` modules.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask, session
from flask_babel import Babel

from services.http.common import ApiContext
from services.preferences import Preferences
from services.web import (  # noqa: F401  (their routes join the blueprint)
    actions,
    audit,
    auth,
    board,
    circulars,
    cockpit,
    desk,
    documents,
    errors,
    extension,
    item,
    ledger,
    names,
    public,
    register,
    report,
    statistics,
    tree,
    verified,
)
from services.web.common import DEFAULT_LANGUAGE, LANGUAGES, WebContext, csrf, idle_timeout, web

HERE = Path(__file__).parent


def init_web(app: Flask, api: ApiContext) -> None:
    """Add the screens to ``app``, which already serves the API (``api``: its platform, user
    directory, access rules and sign-in)."""
    platform = api.platform
    app.config.update(
        SECRET_KEY=secret_key(platform.settings.data_dir),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=os.environ.get("DUCHA_SECURE_COOKIES", "") == "1",
        SESSION_COOKIE_NAME="ducha_session",
        WTF_CSRF_CHECK_DEFAULT=False,  # only the screens' forms: see protect()
        WTF_CSRF_TIME_LIMIT=None,  # the session's idle timeout bounds a token's life
        BABEL_DEFAULT_LOCALE=DEFAULT_LANGUAGE,
        BABEL_DEFAULT_TIMEZONE="Asia/Shanghai",
        BABEL_TRANSLATION_DIRECTORIES=str(HERE / "translations"),
    )
    csrf.init_app(app)
    Babel(app, locale_selector=chosen_language)
    app.extensions["ducha_web"] = WebContext(
        platform,
        api.users,
        api.access,
        api.sign_in,
        Preferences(platform.read),
        idle_timeout(),
    )
    app.register_blueprint(web)


def chosen_language() -> str:
    chosen = session.get("lang", DEFAULT_LANGUAGE)
    return chosen if chosen in LANGUAGES else DEFAULT_LANGUAGE


def secret_key(data_dir: Path) -> str:
    """``DUCHA_SECRET_KEY`` (the same on every server of an office), or one made once and
    kept beside the data (readable by its owner only)."""
    given = os.environ.get("DUCHA_SECRET_KEY")
    if given:
        return given
    path = data_dir / "secret_key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        made = path.with_name(f"secret_key.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(made, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(48))
        try:  # workers starting at once: the first link wins, every one reads the same key
            os.link(made, path)
        except FileExistsError:
            pass
        finally:
            made.unlink()
    return path.read_text().strip()
