"""Word documents from the screens: a record's 督办通知单 and 催办单 (from the item page) and a
circular as issued (from the circulars screen).

The same files as the API's ``…/items/{id}/notice.docx``, ``…/urge-slip.docx`` and
``…/circulars/{id}.docx``, with the same access: a record as its page (``Access.items``: one's
own office; an auditor's subtree), a circular as the circulars screen (``Access.subtree``);
anything else is not found. A notice of a record not assigned is a page that says so (409).
May import: Flask, Flask-Babel, ``services.exports`` and ``services.web``.
"""

from __future__ import annotations

from typing import Any

from flask import Response
from flask_babel import gettext as _

from services.exports.documents import (
    NotAssignedError,
    circular_export,
    notice_export,
    urge_slip_export,
)
from services.exports.ledger import Export
from services.web.common import context, me, page, signed_in, web


def attachment(export: Export) -> Response:
    return Response(
        export.content,
        mimetype=export.media_type,
        headers={"Content-Disposition": export.disposition()},
    )


@web.route("/items/<office>/<item_id>/notice.docx")
@signed_in
def notice_file(office: str, item_id: str) -> Any:
    """督办通知单 of an assigned record."""
    context().access.items(me(), office)
    try:
        return attachment(notice_export(context().platform, office, item_id))
    except NotAssignedError:
        message = _("A notice is issued with an assignment: assign the item first.")
        return page("error.html", 409, title=_("This item has not been assigned"), message=message)


@web.route("/items/<office>/<item_id>/urge-slip.docx")
@signed_in
def urge_slip_file(office: str, item_id: str) -> Any:
    """催办单 of a record."""
    context().access.items(me(), office)
    return attachment(urge_slip_export(context().platform, office, item_id))


@web.route("/circulars/<office>/<circular_id>.docx")
@signed_in
def circular_file(office: str, circular_id: str) -> Any:
    """通报 as issued."""
    context().access.subtree(me(), office)
    return attachment(circular_export(context().platform, office, circular_id))
