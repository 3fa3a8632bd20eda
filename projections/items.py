"""The items projection: every item and task of every office, filterable and paginated."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from domain.cases import Case
from projections.readstore import Tx
from projections.runner import Envelope, Projection
from services.supervision import case_view

DDL = """
CREATE TABLE IF NOT EXISTS items (
    office TEXT NOT NULL,
    id TEXT NOT NULL,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    search TEXT NOT NULL,
    source_kind TEXT NOT NULL,
    status TEXT NOT NULL,
    deadline TEXT NOT NULL,
    importance INTEGER NOT NULL,
    urgency INTEGER NOT NULL,
    assignees TEXT NOT NULL,
    parent_office TEXT,
    parent_id TEXT,
    root_office TEXT NOT NULL,
    root_id TEXT NOT NULL,
    published INTEGER NOT NULL,
    registered_at TEXT NOT NULL,
    created_position BIGINT NOT NULL,
    version INTEGER NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (office, id)
);
CREATE INDEX IF NOT EXISTS items_by_status ON items (office, status, deadline);
CREATE INDEX IF NOT EXISTS items_by_root ON items (root_office, root_id);
CREATE INDEX IF NOT EXISTS items_published ON items (published, office)
"""

COLUMNS = (
    "office, id, kind, title, search, source_kind, status, deadline, importance, urgency, "
    "assignees, parent_office, parent_id, root_office, root_id, published, registered_at, "
    "version, doc, created_position"
)
UPSERT = (
    f"INSERT INTO items ({COLUMNS}) VALUES ({', '.join('?' * 20)}) "
    "ON CONFLICT (office, id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in COLUMNS.split(", ")[2:-1])
)
"""The creation event's position is kept: lists follow the order of registration."""


def iso(value: object) -> str:
    if isinstance(value, date | datetime):
        return value.isoformat()
    raise TypeError(f"cannot store {type(value).__name__} in an items row")


def item_row(case: Case) -> tuple[Any, ...]:
    # The view's fields as they are (dates by ``iso``): the same JSON as ``to_dict``, cheaper.
    view = {k: v for k, v in vars(case_view(case, case.deadline)).items() if k != "overdue"}
    doc = json.dumps(view, ensure_ascii=False, default=iso)  # overdue is derived when read
    parent = view["parent"] or {}
    return (
        case.office,
        view["id"],
        view["kind"],
        case.title,
        " ".join((case.title, case.objective, case.content, case.source_ref)),
        case.source_kind,
        case.status,
        case.deadline.isoformat(),
        case.importance,
        case.urgency,
        " " + " ".join(a["target"] for a in case.assignments) + " ",
        parent.get("office"),
        parent.get("id"),
        view["root"]["office"],
        view["root"]["id"],
        int(case.published),
        case.created_on.isoformat(),
        case.version,
        doc,
    )


class ItemsProjection(Projection):
    name = "items"
    ddl = DDL

    def handle_batch(self, tx: Tx, envelopes: list[Envelope]) -> None:
        """One row per record: its state after its last event in the batch."""
        latest: dict[str, tuple[Case, int]] = {}
        for e in envelopes:
            if isinstance(e.state, Case):
                first = latest.get(str(e.state.id), (e.state, e.position))[1]
                latest[str(e.state.id)] = (e.state, first)
        if latest:
            tx.executemany(UPSERT, [(*item_row(c), pos) for c, pos in latest.values()])

    def drop(self, tx: Tx, office: str | None) -> None:
        if office is None:
            tx.execute("DELETE FROM items")
        else:
            tx.execute("DELETE FROM items WHERE office = ?", (office,))
