"""The items projection: every item and task of every office, filterable and paginated."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any
from uuid import UUID

from domain.cases import Case
from projections.readstore import Table, Tx
from projections.runner import Envelope, Projection
from services.supervision import case_fields

TABLE = Table(
    "items",
    (
        ("office", "TEXT"),
        ("id", "TEXT"),
        ("kind", "TEXT"),
        ("title", "TEXT"),
        ("search", "TEXT"),
        ("source_kind", "TEXT"),
        ("status", "TEXT"),
        ("deadline", "TEXT"),
        ("importance", "INTEGER"),
        ("urgency", "INTEGER"),
        ("assignees", "TEXT"),
        ("parent_office", "TEXT"),
        ("parent_id", "TEXT"),
        ("root_office", "TEXT"),
        ("root_id", "TEXT"),
        ("published", "INTEGER"),
        ("registered_at", "TEXT"),
        ("version", "INTEGER"),
        ("doc", "TEXT"),
        ("created_position", "BIGINT"),
    ),
    key=("office", "id"),
    nullable=("parent_office", "parent_id"),
)
DDL = f"""{TABLE.create()};
CREATE INDEX IF NOT EXISTS items_by_status ON items (office, status, deadline);
CREATE INDEX IF NOT EXISTS items_by_root ON items (root_office, root_id);
CREATE INDEX IF NOT EXISTS items_published ON items (published, office)
"""
UPSERT = TABLE.update_all(but=("created_position",))
"""The creation event's position is kept: lists follow the order of registration."""


def iso(value: object) -> str:
    if isinstance(value, date | datetime):
        return value.isoformat()
    raise TypeError(f"cannot store {type(value).__name__} in an items row")


def item_row(case: Case, created_position: int) -> tuple[Any, ...]:
    view = case_fields(case)  # the view's JSON; ``overdue`` is derived when read
    doc = json.dumps(view, ensure_ascii=False, default=iso)
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
        created_position,
    )


class ItemsProjection(Projection):
    name = "items"
    ddl = DDL

    def handle_batch(self, tx: Tx, envelopes: list[Envelope]) -> None:
        """One row per record: its state after its last event in the batch."""
        latest: dict[UUID, tuple[Case, int]] = {}
        for e in envelopes:
            if isinstance(e.state, Case):
                first = latest.get(e.state.id, (e.state, e.position))[1]
                latest[e.state.id] = (e.state, first)
        if latest:
            tx.write(TABLE, [item_row(c, pos) for c, pos in latest.values()], UPSERT)

    def drop(self, tx: Tx, office: str | None) -> None:
        if office is None:
            tx.execute("DELETE FROM items")
        else:
            tx.execute("DELETE FROM items WHERE office = ?", (office,))
