"""责任树, the responsibility tree: from one of the office's records down the chain, one level
at a time.

Who sees what is exactly the API's ``GET /api/v1/offices/{code}/items/{id}/tree``: the
person's own office's record (an auditor: a record in the subtree granted), and everything
below it, read from the same read model (``views.tree``). A node further down is named by
``?node=OFFICE:ID`` under that record, never by its own office's path (which would be
another office's record: not found). Each node shows office, unit, person, status, light
(colour and words), deadline and last report; a node with offices below is a ``<details>``
whose next level htmx fetches when it is opened (``…/tree/children?node=…``), and which,
without JavaScript, links to the tree page rooted at that node. May import: Flask,
Flask-Babel, ``services.errors`` and ``services.web.common``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from flask import request

from services.errors import NotFoundError
from services.http.guard import BadInput
from services.inputs import china_time, day_problem, parse_instant
from services.web.common import context, me, page, signed_in, web


class Sight(NamedTuple):
    """What the person sees of a tree: their record's title, the node asked for, and the
    nodes from their record down to it (excluded)."""

    title: str
    node: dict[str, Any]
    path: list[dict[str, Any]]
    until: datetime | None = None


@web.route("/items/<office>/<item_id>/tree")
@signed_in
def tree(office: str, item_id: str) -> Any:
    """The tree page: the node asked for (the record itself by default) and its level below."""
    sight = visible_node(office, item_id)
    return page("tree.html", **values(office, item_id, sight))


@web.route("/items/<office>/<item_id>/tree/children")
@signed_in
def tree_children(office: str, item_id: str) -> Any:
    """The level below a node: a fragment for htmx, or the tree page rooted there."""
    sight = visible_node(office, item_id)
    if request.headers.get("HX-Request") == "true":
        return page("parts/tree_children.html", **values(office, item_id, sight))
    return page("tree.html", **values(office, item_id, sight))


def values(office: str, item_id: str, sight: Sight) -> dict[str, Any]:
    pairs = [(sight.node, c) for c in sight.node["children"]]
    if sight.path:
        pairs.append((sight.path[-1], sight.node))
    for parent, child in pairs:  # how each was assigned: lead office or co-executing
        child["assigned_as"] = next(
            (a["role"] for a in parent["assignments"] if a["target"] == child["office"]), ""
        )
    return {
        "title": sight.title,
        "node": sight.node,
        "path": sight.path,
        "anchor": {"office": office, "id": item_id},
        "names": office_names([*sight.path, sight.node, *sight.node["children"]]),
        "as_of": request.args.get("as_of") or None,
        "as_of_text": china_time(sight.until)[:16].replace("T", " ") if sight.until else "",
    }


def visible_node(office: str, item_id: str) -> Sight:
    """The node asked for, as the API checks it: the office's records only (an auditor's
    subtree), then the record must exist, then the node must lie below it."""
    ctx = context()
    ctx.access.items(me(), office)
    until = as_of()
    platform = ctx.platform
    if until is None:
        record = platform.supervision.get(office, item_id)  # not found if there is none
        whole = platform.views.tree(office, item_id)
    else:  # as it stood then: the record and every office below, replayed up to that instant
        record = platform.supervision.get_as_of(office, item_id, until)
        codes = [office, *(o.code for o in platform.registry.descendants(office))]
        whole = platform.as_of(until, codes).tree(office, item_id)
    top = find(whole, office, item_id) if whole else None
    if top is None:
        raise NotFoundError(f"no item '{item_id}' in office '{office}'")
    wanted = request.args.get("node", f"{office}:{item_id}")
    node_office, _, node_id = wanted.partition(":")
    path = route_to(top, node_office, node_id)
    if path is None:  # not below the person's record: as if there were none
        raise NotFoundError(f"no item '{node_id}' below '{item_id}'")
    return Sight(record.title, path[-1], path[:-1], until)


def as_of() -> datetime | None:
    """``?as_of=DAY`` (the end of that day in China) or an instant; a bad one is a 422."""
    given = request.args.get("as_of", "").strip()
    if not given:
        return None
    try:
        until = parse_instant(given)
    except ValueError as e:
        raise BadInput("as_of", str(e)) from None
    problem = day_problem(until.date())
    if problem:
        raise BadInput("as_of", problem)
    return until


def find(node: dict[str, Any], office: str, item_id: str) -> dict[str, Any] | None:
    found = route_to(node, office, item_id)
    return found[-1] if found else None


def route_to(node: dict[str, Any], office: str, item_id: str) -> list[dict[str, Any]] | None:
    """The nodes from ``node`` down to the one asked for, both included; None if not below."""
    if node["office"] == office and node["id"] == item_id:
        return [node]
    for child in node["children"]:
        found = route_to(child, office, item_id)
        if found:
            return [node, *found]
    return None


def office_names(nodes: list[dict[str, Any]]) -> dict[str, str]:
    """Names of the nodes' offices (the registry, once each)."""
    registry = context().platform.registry
    names = {}
    for code in {n["office"] for n in nodes}:
        try:
            names[code] = registry.get(code).name
        except NotFoundError:
            names[code] = code
    return names
