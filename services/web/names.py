"""The words people read for the platform's codes (roles, statuses, lights), in their language,
and the values every page's template can use (who is signed in, their office).

Lights are shown as colour **and** text, so that no one needs to tell colours apart. May
import: Flask, Flask-Babel, markupsafe and ``services.web.common``.
"""

from __future__ import annotations

from typing import Any

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

from services.web.common import context, signed_in_user, web

ROLES = {
    "clerk": _l("clerk"),
    "supervisor": _l("supervisor"),
    "leader": _l("leader"),
    "auditor": _l("auditor"),
    "admin": _l("administrator"),
    "system": _l("system"),
}
STATUSES = {
    "registered": _l("registered"),
    "received": _l("to sign for"),
    "acknowledged": _l("signed for"),
    "in_progress": _l("in progress"),
    "completion_reported": _l("completion reported"),
    "completed": _l("completed"),
    "closed": _l("closed"),
    "concluded": _l("concluded"),
}
LIGHTS = {"red": _l("red: overdue"), "yellow": _l("yellow: due soon"), "green": _l("green")}


@web.app_template_global()
def language() -> str:
    """The page's language as HTML names it."""
    locale = get_locale()
    return "en" if locale is not None and locale.language == "en" else "zh-CN"


@web.app_template_global()
def role_name(role: str) -> str:
    return str(ROLES.get(role, role))


@web.app_template_global()
def status_name(status: str) -> str:
    return str(STATUSES.get(status, status))


@web.app_template_global()
def light_badge(light: str) -> Markup:
    label = escape(str(LIGHTS.get(light, light)))
    return Markup(f'<span class="light light-{escape(light)}">{label}</span>')


@web.app_context_processor
def who() -> dict[str, Any]:
    """``user`` and ``office`` for every page (None before signing in)."""
    user = signed_in_user()
    office = context().platform.registry.get(user.office) if user else None
    return {"user": user, "office": office}
