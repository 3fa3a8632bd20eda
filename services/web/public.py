"""公开, the public site: published matters for anyone, no sign-in, plain HTML and an Atom feed.

``/public/`` lists published records (office name, title, deadline, status in words, progress,
public summary) with GET filters by office, status and source kind, paginated;
``/public/items/<office>/<id>`` shows one with the timeline of its *published steps*
(``projections.public.public_steps``: a few event types since it was last published, each with
no text but a percent or a date) and the verifiable ledger's badge for its latest published
step (``verified``), whose proof bundle anyone may fetch; ``/public/feed.atom`` is an Atom
1.0 feed of those steps. Anything not published now answers "not found", the same for a
record that never existed.

The pages never read the session (no cookie, no sign-in): they vary by address alone, the
language too (``?lang=en``; Chinese otherwise), so every answer carries an ``ETag`` and a
``Last-Modified`` and a conditional request is answered 304 (``Cache-Control: no-cache``: a
cache asks again each time, so an unpublished matter never lingers). May import: Flask,
Flask-Babel, marshmallow, werkzeug, the services, ``projections.public``, the API's field
schemas and ``services.web``.
"""

from __future__ import annotations

import hashlib
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode
from uuid import NAMESPACE_URL, uuid5

import marshmallow as ma
from flask import Response, g, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from marshmallow import validate as v
from werkzeug.http import is_resource_modified

from domain.values import SOURCE_KINDS
from projections.public import PublicFilter, PublicQueries, PublicStep, public_steps
from services.errors import NotFoundError
from services.http.schemas.fields import Paging, Strict, Text
from services.inputs import china_time
from services.views import CaseView
from services.web.common import context, web
from services.web.names import STATUSES
from services.web.register import SOURCE_NAMES
from services.web.verified import ledger_badge
from services.web.wording import EVENT_NAMES

ATOM = "http://www.w3.org/2005/Atom"
XML = "http://www.w3.org/XML/1998/namespace"
FEED_SIZE = 50
LANGUAGES = ("en",)
SETTLED = timedelta(seconds=1)
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


class PublicArgs(Paging):
    """The list's query: the API's paging, and the public filters (unknown ones refused)."""

    per_page = ma.fields.Integer(load_default=20, validate=v.Range(1, 100))
    office = Text(validate=v.Length(max=40))
    status = Text(validate=v.OneOf(tuple(STATUSES)))
    source_kind = Text(validate=v.OneOf(SOURCE_KINDS))
    lang = Text(validate=v.OneOf(LANGUAGES))


class LanguageOnly(Strict):
    lang = Text(validate=v.OneOf(LANGUAGES))


@dataclass(frozen=True)
class PublicItem:
    """One published record as its public page shows it: public fields only."""

    office: str
    office_name: str
    id: str
    title: str
    status: str
    deadline: str
    deadline_provisional: bool
    progress_percent: int
    summary: str
    steps: list[PublicStep]
    modified_at: datetime
    version: int


def queries() -> PublicQueries:
    return PublicQueries(context().platform.read)


def office_name(code: str) -> str:
    """An office's name (read from the registry once per request, however many are shown)."""
    if "public_names" not in g:
        g.public_names = {o.code: o.name for o in context().platform.registry.all()}
    names: dict[str, str] = g.public_names
    return names.get(code, code)


def given() -> dict[str, str]:
    return {k: val for k, val in request.args.items() if val.strip() != ""}


def chosen_lang() -> str:
    """``en`` when the address asks for it and means it; Chinese otherwise."""
    if "public_lang" not in g:
        g.public_lang = "en" if request.args.get("lang") == "en" else "zh_Hans_CN"
    lang: str = g.public_lang
    return lang


def public_link(path: str, **args: Any) -> str:
    """A public page's address keeping the language (and ``args``, empty ones dropped)."""
    kept = {k: str(val) for k, val in args.items() if val not in (None, "")}
    if chosen_lang() == "en":
        kept["lang"] = "en"
    return path + ("?" + urlencode(kept) if kept else "")


def item_link(office: str, item_id: str) -> str:
    tail = "?lang=en" if chosen_lang() == "en" else ""
    return f"/public/items/{quote(office)}/{quote(item_id)}{tail}"


def fingerprint(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, default=str, ensure_ascii=False).encode()).hexdigest()


def answer(
    etag: str, last_modified: datetime | None, make: Callable[[], str], mimetype: str
) -> Response:
    """200 with the body ``make`` renders, or 304 when the client's copy is current: by
    ``If-None-Match``, else by ``If-Modified-Since`` once ``last_modified`` is a whole second
    in the past (a change within the same second would otherwise pass unseen)."""
    settled = None
    if last_modified is not None and last_modified <= context().platform.clock() - SETTLED:
        settled = last_modified
    if is_resource_modified(request.environ, etag=etag, last_modified=settled):
        with force_locale(chosen_lang()):
            response = Response(make(), mimetype=mimetype)
    else:
        response = Response(status=304)
    response.set_etag(etag)
    if last_modified is not None:
        response.last_modified = last_modified
    response.cache_control.public = True
    response.cache_control.no_cache = True
    response.headers["Content-Language"] = "en" if chosen_lang() == "en" else "zh-CN"
    return response


def render(template: str, status: int = 200, **values: Any) -> Response:
    with force_locale(chosen_lang()):
        body = render_template(template, **{**frame(), **values})
    return Response(body, status=status, mimetype="text/html")


def frame() -> dict[str, Any]:
    """What the public frame needs: its links (language kept) and the other language's."""
    other = {k: val for k, val in request.args.items() if k != "lang"}
    if chosen_lang() != "en":
        other["lang"] = "en"
    switch = request.path + ("?" + urlencode(other) if other else "")
    return {
        "public_link": public_link,
        "item_link": item_link,
        "switch_link": switch,
        "feed_link": public_link("/public/feed.atom"),
        "status_name": {k: str(words) for k, words in STATUSES.items()}.get,
        "source_names": SOURCE_NAMES,
        "step_words": step_words,
        "china_time": china_time,
    }


def step_words(step: PublicStep) -> str:
    if step.kind == "ProgressReported":
        return str(_("Progress reported: %(percent)s%%", percent=step.percent))
    if step.kind == "ExtensionGranted":
        return str(_("Deadline extended to %(day)s", day=step.day))
    if step.kind == "DeadlineRecomputed":
        return str(_("Deadline counted again: %(day)s", day=step.day))
    return str(EVENT_NAMES.get(step.kind, step.kind))


def missing() -> Response:
    """The same page for a record never published, unpublished, or never there (its
    language switch leads to the list: the page says nothing of the address asked)."""
    other = "/public/" if chosen_lang() == "en" else "/public/?lang=en"
    return render("public_missing.html", 404, switch_link=other)


# -- the list ------------------------------------------------------------------------------
@web.route("/public/")
def public_list() -> Any:
    """Published matters, filtered and paginated; no sign-in."""
    g.user = None  # never read the session: these pages vary by their address alone
    args = given()
    try:
        loaded = PublicArgs().load(args)
    except ma.ValidationError as e:
        errors = e.messages if isinstance(e.messages, dict) else {}
        return render("public_list.html", 422, found=None, args=args, errors=errors, **options())
    chosen = PublicFilter(
        loaded.get("office"),
        loaded.get("status"),
        loaded.get("source_kind"),
        loaded["page"],
        loaded["per_page"],
    )
    found = queries().listing(chosen)
    names = {r.office: office_name(r.office) for r in found.items}
    values = {"found": found, "args": args, "errors": {}, "names": names, **options()}
    etag = fingerprint(
        "list",
        chosen_lang(),
        sorted(args.items()),
        found.total,
        [(r.office, r.id, r.version) for r in found.items],
        sorted(names.items()),
        values["offices"],
    )
    return answer(
        etag,
        queries().last_change(),
        lambda: render_template("public_list.html", **values, **frame(), pages=pages(found)),
        "text/html",
    )


def options() -> dict[str, Any]:
    codes = queries().offices()
    return {
        "offices": [(code, office_name(code)) for code in codes],
        "statuses": list(STATUSES.items()),
    }


def pages(found: Any) -> dict[str, Any]:
    count = max(1, -(-found.total // found.per_page))
    args = {k: val for k, val in given().items() if k not in ("page", "lang")}

    def at(n: int) -> str:
        return public_link("/public/", **args, page=n if n > 1 else None)

    return {
        "count": count,
        "previous": at(found.page - 1) if found.page > 1 else None,
        "next": at(found.page + 1) if found.page < count else None,
    }


# -- one matter ----------------------------------------------------------------------------
def published_item(office: str, item_id: str) -> PublicItem | None:
    """The record as the public may see it, or None (unknown, or not published now)."""
    platform = context().platform
    if not platform.registry.exists(office):
        return None
    try:
        view: CaseView = platform.supervision.get(office, item_id)
        steps = public_steps(platform.supervision.history(office, item_id))
    except NotFoundError:
        return None
    if steps is None or not view.published:
        return None
    return PublicItem(
        office=office,
        office_name=office_name(office),
        id=view.id,
        title=view.title,
        status=view.status,
        deadline=view.deadline.isoformat(),
        deadline_provisional=view.deadline_provisional,
        progress_percent=view.progress_percent,
        summary=view.public_summary,
        steps=steps,
        modified_at=view.modified_at,
        version=view.version,
    )


@web.route("/public/items/<office>/<item_id>")
def public_item(office: str, item_id: str) -> Any:
    """One published matter and its published steps; anything else is not found."""
    g.user = None
    try:
        LanguageOnly().load(given())
    except ma.ValidationError:
        return missing()
    item = published_item(office, item_id)
    if item is None:
        return missing()
    proof = ledger_badge(office, item.id, item.steps[-1].version)
    etag = fingerprint(
        "item", chosen_lang(), office, item.id, item.version, item.office_name, proof.key
    )
    return answer(
        etag,
        max(item.modified_at, proof.since) if proof.since else item.modified_at,
        lambda: render_template("public_item.html", item=item, proof=proof, **frame()),
        "text/html",
    )


# -- the feed ------------------------------------------------------------------------------
@web.route("/public/feed.atom")
def public_feed() -> Any:
    """Atom 1.0: each published step of the published matters, newest first."""
    g.user = None
    try:
        LanguageOnly().load(given())
    except ma.ValidationError:
        return missing()
    candidates = queries().candidates(FEED_SIZE * 2)
    offices = sorted({c.office for c in candidates})
    etag = fingerprint(
        "feed",
        chosen_lang(),
        [(c.office, c.id, c.position) for c in candidates],
        [(code, office_name(code)) for code in offices],
    )
    records = list(dict.fromkeys((c.office, c.id) for c in candidates))[:FEED_SIZE]
    return answer(
        etag,
        queries().last_change(),
        lambda: feed(records),
        "application/atom+xml",
    )


def feed(records: list[tuple[str, str]]) -> str:
    entries: list[tuple[PublicStep, PublicItem]] = []
    for office, record_id in records:
        item = published_item(office, record_id)
        if item is not None:
            entries.extend((step, item) for step in item.steps)
    entries.sort(key=lambda e: (e[0].time, e[0].version), reverse=True)
    entries = entries[:FEED_SIZE]
    lang = "en" if chosen_lang() == "en" else "zh-CN"
    root = ET.Element("feed", {"xmlns": ATOM, f"{{{XML}}}lang": lang})
    self_url = url_for("web.public_feed", _external=True) + public_link("")
    sub(root, "id", self_url)
    sub(root, "title", _("Published supervision matters"))
    newest = entries[0][0].time if entries else context().platform.clock()
    sub(root, "updated", china_time(newest))
    ET.SubElement(root, "link", {"rel": "self", "href": self_url})
    home = url_for("web.public_list", _external=True) + public_link("")
    ET.SubElement(root, "link", {"rel": "alternate", "type": "text/html", "href": home})
    author = ET.SubElement(root, "author")
    sub(author, "name", _("Ducha supervision"))
    for step, item in entries:
        entry_of(root, step, item)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode")


def entry_of(root: ET.Element, step: PublicStep, item: PublicItem) -> None:
    entry = ET.SubElement(root, "entry")
    key = f"ducha:public:{item.office}/{item.id}/{step.version}"
    sub(entry, "id", f"urn:uuid:{uuid5(NAMESPACE_URL, key)}")
    colon = ": " if chosen_lang() == "en" else "："
    sub(entry, "title", f"{item.title}{colon}{step_words(step)}")
    sub(entry, "updated", china_time(step.time))
    href = request.host_url.rstrip("/") + item_link(item.office, item.id)
    ET.SubElement(entry, "link", {"rel": "alternate", "type": "text/html", "href": href})
    author = ET.SubElement(entry, "author")
    sub(author, "name", item.office_name)
    sub(entry, "summary", f"{item.office_name} · {step_words(step)}")


def sub(parent: ET.Element, tag: str, text: str) -> None:
    ET.SubElement(parent, tag).text = NOT_XML.sub("\ufffd", text)
