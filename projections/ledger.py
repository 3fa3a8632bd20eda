"""督查台账, the ledger's query: one office's items and tasks from the ``items`` read-model table,
filtered (status, light, source, kind, assignee, importance, urgency, text, deadline range),
sorted and paginated. The ledger screen and the API's list route both ask it, so a filter
means the same on both. Lights are derived as of today exactly as ``ReadModels`` derives them
(its light clause and row reader are reused, never copied). May import: the standard library,
``projections.queries`` and ``services.views`` (a page).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import date
from typing import Any

from projections.queries import ReadModels
from services.views import Page

SORT_COLUMNS = {
    "registered": "registered_at",
    "deadline": "deadline",
    "title": "title",
    "status": "status",
    "importance": "importance",
    "urgency": "urgency",
}
"""What a list may be sorted by (``sort=deadline``; ``sort=-deadline`` for descending)."""
SORTS = tuple(key for name in SORT_COLUMNS for key in (name, f"-{name}"))
SIMILAR_SHOWN = 5


@dataclass(frozen=True)
class LedgerQuery:
    """The filters, order and page of one list (None: not filtered on that)."""

    status: str | None = None
    light: str | None = None
    source_kind: str | None = None
    kind: str | None = None
    importance: int | None = None
    urgency: int | None = None
    assignee: str | None = None
    text: str | None = None
    deadline_from: date | None = None
    deadline_to: date | None = None
    sort: str | None = None
    page: int = 1
    per_page: int = 50

    @classmethod
    def of(cls, args: Mapping[str, Any]) -> LedgerQuery:
        """From the arguments the list schema loaded (``ItemQuery``); others are ignored."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in args.items() if k in names})


def order_by(sort: str | None) -> str:
    """The ORDER BY of a sort key; registration order breaks ties (and is the default)."""
    tail = "registered_at, created_position"
    if not sort:
        return tail
    column = SORT_COLUMNS[sort.lstrip("-")]
    direction = "DESC" if sort.startswith("-") else "ASC"
    return f"{column} {direction}, {tail}"


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def ledger(models: ReadModels, office: str, query: LedgerQuery) -> Page:
    """One page of ``office``'s records matching ``query``, with their lights, and the total."""
    clause, params = where(models, office, query)
    read = models.read
    total = read.all(f"SELECT COUNT(*) AS n FROM items WHERE {clause}", params)[0]["n"]
    rows = read.all(
        f"SELECT doc FROM items WHERE {clause} ORDER BY {order_by(query.sort)} LIMIT ? OFFSET ?",
        [*params, query.per_page, (query.page - 1) * query.per_page],
    )
    return Page([models._doc(r["doc"]) for r in rows], query.page, query.per_page, int(total))


def every_row(
    models: ReadModels, office: str, query: LedgerQuery, limit: int
) -> tuple[list[dict[str, Any]], int]:
    """Every record matching ``query`` (its page ignored), at most ``limit`` of them, in its
    order, and how many match: what an export writes."""
    clause, params = where(models, office, query)
    read = models.read
    total = read.all(f"SELECT COUNT(*) AS n FROM items WHERE {clause}", params)[0]["n"]
    rows = read.all(
        f"SELECT doc FROM items WHERE {clause} ORDER BY {order_by(query.sort)} LIMIT ?",
        [*params, limit],
    )
    return [models._doc(r["doc"]) for r in rows], int(total)


def where(models: ReadModels, office: str, query: LedgerQuery) -> tuple[str, list[Any]]:
    """The WHERE clause of ``query``'s filters, and its parameters."""
    conditions: list[str] = ["office = ?"]
    params: list[Any] = [office]
    for column, value in (
        ("status", query.status),
        ("source_kind", query.source_kind),
        ("kind", query.kind),
        ("importance", query.importance),
        ("urgency", query.urgency),
    ):
        if value is not None:
            conditions.append(f"{column} = ?")
            params.append(value)
    if query.assignee:
        conditions.append("assignees LIKE ?")
        params.append(f"% {query.assignee} %")
    if query.text:
        conditions.append("search LIKE ?")
        params.append(f"%{query.text}%")
    if query.deadline_from is not None:
        conditions.append("deadline >= ?")
        params.append(query.deadline_from.isoformat())
    if query.deadline_to is not None:
        conditions.append("deadline <= ?")
        params.append(query.deadline_to.isoformat())
    if query.light is not None:
        conditions.append(models._light_clause(query.light, params))
    return " AND ".join(conditions), params


def same_title(models: ReadModels, office: str, title: str) -> list[dict[str, Any]]:
    """The office's own items whose title contains ``title``, newest first: a hint that the
    item may already be registered."""
    title = title.strip()
    if not title:
        return []
    rows = models.read.all(
        "SELECT id, title, registered_at FROM items WHERE office = ? AND kind = 'item' "
        "AND title LIKE ? ESCAPE '\\' ORDER BY created_position DESC LIMIT ?",
        (office, f"%{escape_like(title)}%", SIMILAR_SHOWN),
    )
    return [{"id": r["id"], "title": r["title"], "registered_at": r["registered_at"]} for r in rows]
