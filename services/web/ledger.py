"""督查台账, the ledger: an office's items and tasks, filtered, sorted and paginated.

A GET form of filters (status, light, source, kind, assignee, importance, urgency, text,
deadline range) that works without JavaScript; with htmx a change swaps the results only.
Column headers sort (links that keep the other filters), pages are links, and saved views are
plain links whose filters stand in the URL (本月到期, 红灯, 黄灯, 待签收). The query is loaded
through the API's list schema (``ItemQuery``) and answered by the same query as the API's list
route (``projections.ledger``); ``?office=CODE`` shows another office's ledger exactly when
the API's list would (an auditor's subtree), any other office is "not found". May import:
Flask, Flask-Babel, marshmallow, the services, ``projections.ledger``, the API's schemas and
``services.web``'s modules.
"""

from __future__ import annotations

import calendar
from datetime import date
from typing import Any
from urllib.parse import urlencode

import marshmallow as ma
from flask import Response, request, url_for
from flask_babel import lazy_gettext as _l

from domain.values import SOURCE_KINDS
from projections.ledger import LedgerQuery, ledger
from projections.queries import LIGHTS
from services.exports.ledger import MAX_ROWS, ExportTooLargeError, ledger_export
from services.http.schemas.items import ItemQuery
from services.inputs import china_time
from services.web.common import context, me, page, signed_in, web
from services.web.names import LIGHTS as LIGHT_NAMES
from services.web.names import STATUSES, light_badge
from services.web.register import (
    KIND_NAMES,
    SOURCE_NAMES,
    field_errors,
    item_path,
    may_register,
)

DEFAULT_SORT = "deadline"
PER_PAGE = (20, 50, 100)
TARGET = "ledger-results"
COLUMNS = (
    ("title", _l("Title")),
    ("status", _l("Status")),
    ("deadline", _l("Deadline")),
    ("importance", _l("Importance")),
    ("urgency", _l("Urgency")),
    ("registered", _l("Registered on")),
)
"""Sortable columns: (sort key, heading); the light stands unsorted (it is derived)."""
FILTER_FIELDS = frozenset(
    {"text", "status", "light", "source_kind", "kind", "assignee", "importance", "urgency"}
    | {"deadline_from", "deadline_to", "per_page"}
)


def china_day(instant: str | None) -> str:
    """The day in China on which a stored instant fell."""
    return china_time(instant)[:10] if instant else ""


def saved_views(today: date) -> list[tuple[Any, dict[str, str]]]:
    """(name, filters) of the saved views; 本月到期 is this calendar month in China."""
    last = calendar.monthrange(today.year, today.month)[1]
    month = {
        "deadline_from": today.replace(day=1).isoformat(),
        "deadline_to": today.replace(day=last).isoformat(),
    }
    return [
        (_l("Due this month"), month),
        (_l("Red light"), {"light": "red"}),
        (_l("Yellow light"), {"light": "yellow"}),
        (_l("To sign for"), {"status": "received"}),
        (_l("In progress"), {"status": "in_progress"}),
    ]


def given_args() -> dict[str, str]:
    """The query string's non-empty values (an empty select means "any")."""
    return {k: v for k, v in request.args.items() if v.strip() != ""}


def link(args: dict[str, str], **changes: Any) -> str:
    """This page's address with ``changes`` (None removes a parameter)."""
    merged = {**args, **{k: str(v) for k, v in changes.items() if v is not None}}
    for k, v in changes.items():
        if v is None:
            merged.pop(k, None)
    return request.path + ("?" + urlencode(merged) if merged else "")


def sort_link(args: dict[str, str], key: str, current: str) -> tuple[str, str]:
    """A column heading's link (same column: the other direction) and its ``aria-sort``."""
    if current.lstrip("-") != key:
        return link(args, sort=key, page=None), "none"
    descending = current.startswith("-")
    target = key if descending else f"-{key}"
    return link(args, sort=target, page=None), "descending" if descending else "ascending"


@web.route("/ledger")
@signed_in
def ledger_page() -> Any:
    user = me()
    args = given_args()
    code = args.pop("office", user.office)
    context().access.items(user, code)  # another office's ledger is "not found", as in the API
    platform = context().platform
    office = platform.registry.get(code)
    query_args = {**args}
    query_args.setdefault("sort", DEFAULT_SORT)
    errors: dict[str, str] = {}
    try:
        loaded = ItemQuery().load(query_args)
        found = ledger(platform.views, code, LedgerQuery.of(loaded))
    except ma.ValidationError as e:
        errors = field_errors(e.messages if isinstance(e.messages, dict) else {})
        found = None
    keep = {**args, **({"office": code} if code != user.office else {})}
    current = query_args["sort"] if "sort" not in errors else DEFAULT_SORT
    values = {
        "shown": office,
        "found": found,
        "errors": errors,
        "args": args,
        "current_sort": current,
        "pages": pages(found, keep),
        "headings": [(k, name, *sort_link(keep, k, current)) for k, name in COLUMNS],
        "saved": [
            (name, link({"office": code} if code != user.office else {}, **f), f)
            for name, f in saved_views(platform.views.today())
        ],
        "may_register": may_register(user),
        "export_link": url_for("web.ledger_export_file") + link_query(keep),
        **words(),
        **FIXED,
    }
    status = 422 if errors else 200
    if request.headers.get("HX-Target") == TARGET:  # htmx: the results, and a clean address
        body, _status = page("parts/ledger_results.html", status, **values)
        return body, status, {"HX-Push-Url": link(keep)}
    return page("ledger.html", status, **values)


@web.route("/ledger.xlsx")
@signed_in
def ledger_export_file() -> Any:
    """The ledger as the screen filters it (every page), as an Excel workbook."""
    user = me()
    args = given_args()
    code = args.pop("office", user.office)
    context().access.items(user, code)
    try:
        loaded = ItemQuery().load({**args, "sort": args.get("sort", DEFAULT_SORT)})
        export = ledger_export(context().platform, code, LedgerQuery.of(loaded))
    except (ma.ValidationError, ExportTooLargeError) as e:
        message = (
            _l(
                "%(total)s records match; one export holds at most %(most)s: narrow the filters.",
                total=e.total,
                most=MAX_ROWS,
            )
            if isinstance(e, ExportTooLargeError)
            else _l("Check the filters.")
        )
        return page("error.html", 422, title=_l("Cannot export"), message=message)
    return Response(
        export.content,
        mimetype=export.media_type,
        headers={"Content-Disposition": export.disposition()},
    )


def link_query(args: dict[str, str]) -> str:
    return "?" + urlencode(args) if args else ""


FIXED = {
    "lights": LIGHTS,
    "filter_fields": FILTER_FIELDS,
    "china_day": china_day,
    "source_kinds": SOURCE_KINDS,
    "per_page_choices": PER_PAGE,
    "default_per_page": ItemQuery().fields["per_page"].load_default,
    "item_path": item_path,
    "target": TARGET,
}


def words() -> dict[str, Any]:
    """The names the template repeats on every row, translated once per request."""

    def plain(names: dict[str, Any]) -> dict[str, str]:
        return {k: str(v) for k, v in names.items()}

    return {
        "statuses": plain(STATUSES),
        "light_names": plain(LIGHT_NAMES),
        "badges": {light: light_badge(light) for light in LIGHTS},
        "source_names": plain(SOURCE_NAMES),
        "kind_names": plain(KIND_NAMES),
        "labels": plain({"light": _l("Light"), **dict(COLUMNS)}),
    }


def pages(found: Any, keep: dict[str, str]) -> dict[str, Any]:
    """The page numbers and links around the current one."""
    if found is None:
        return {"count": 0}
    count = max(1, -(-found.total // found.per_page))
    return {
        "count": count,
        "previous": link(keep, page=found.page - 1) if found.page > 1 else None,
        "next": link(keep, page=found.page + 1) if found.page < count else None,
        "first": link(keep, page=None) if found.page > 2 else None,
        "last": link(keep, page=count) if found.page < count - 1 else None,
    }
