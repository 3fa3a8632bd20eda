"""The items projection: every item and task of every office, filterable and paginated. May import:
``orjson``, ``domain.cases``, ``projections.readstore``, ``projections.runner`` and
``services.views`` (how a record is shown).
"""

from __future__ import annotations

from typing import Any

import orjson

from domain.cases import Case
from projections.readstore import Table, Tx
from projections.runner import Batch, Projection
from services.views import case_fields

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


Row = tuple[Any, ...]


def item_row(case: Case, created_position: int) -> Row:
    view = case_fields(case)  # the view's JSON (dates in ISO 8601); ``overdue`` is derived
    doc = orjson.dumps(view).decode()  # when read
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


class ItemsProjection(Projection[list[Row]]):
    name = "items"
    ddl = DDL

    def prepare(self, batch: Batch) -> list[Row]:
        """One row per record: its state after its last event in the batch."""
        return [
            item_row(state, first)
            for state, first in batch.records.values()
            if isinstance(state, Case)
        ]

    def write(self, tx: Tx, rows: list[Row]) -> None:
        tx.write(TABLE, rows, UPSERT)

    def drop(self, tx: Tx, office: str | None) -> None:
        if office is None:
            tx.execute("DELETE FROM items")
        else:
            tx.execute("DELETE FROM items WHERE office = ?", (office,))
