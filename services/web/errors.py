"""Error pages of the screens, in the person's language, never a stack trace.

An expired or missing form token (CSRF) asks to reload the form; a page the person may not see
is "not found", as over the API (isolation: 404, never 403 for another office's records).
May import: Flask, Flask-Babel, Flask-WTF and ``services.web.common``.
"""

from __future__ import annotations

import logging
from typing import Any

from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from services.errors import NotFoundError
from services.http.guard import BadInput
from services.web.common import page, web

log = logging.getLogger(__name__)


@web.errorhandler(CSRFError)
def form_expired(_error: CSRFError) -> Any:
    message = _(
        "This form has expired or did not come from this site. Reload the page and try again."
    )
    return page("error.html", 400, title=_("Please try again"), message=message)


@web.errorhandler(BadInput)
def unstorable(error: BadInput) -> Any:
    message = f"{error.field}: {error.message}"  # the field and what is wrong with it
    return page("error.html", 422, title=_("Please check your input"), message=message)


@web.errorhandler(NotFoundError)
def not_found(_error: NotFoundError) -> Any:
    return page("error.html", 404, title=_("Not found"), message=_("There is nothing here."))


@web.errorhandler(HTTPException)
def http_error(error: HTTPException) -> Any:
    status = error.code or 500
    if status == 404:
        return not_found(NotFoundError(""))
    return page("error.html", status, title=str(status), message=error.description or "")


@web.errorhandler(Exception)
def unexpected(error: Exception) -> Any:
    log.exception("unhandled error on a screen", exc_info=error)
    message = _("Something went wrong on our side; it has been logged. Please try again later.")
    return page("error.html", 500, title=_("Sorry"), message=message)
