"""What the public site (公开) may read: published records, their published steps, and when
anything the site rests on last changed.

Only public fields ever leave this module: an item's office, id, title, status, deadline,
progress percent and public summary, and for its timeline the *published steps* — events of a
few types, recorded since the record was last published, each reduced to its type, time and
one public number or date (``public_steps``). Objectives, contents, responsible persons, report
texts, reasons, comments, internal units and actors never do. May import: the standard library,
``projections.readstore`` and ``services.views`` (``Page``, ``EventView``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from projections.readstore import ReadStore
from services.views import EventView, Page

STEP_TYPES = (
    "Published",
    "ProgressReported",
    "ReportReceived",
    "CompletionReported",
    "CompletionAccepted",
    "ExtensionGranted",
    "DeadlineRecomputed",
    "Closed",
    "Reopened",
    "Concluded",
)
"""Event types that may be a published step (``public_steps`` decides each one)."""


@dataclass(frozen=True)
class PublicRow:
    """One published record as the public list shows it: nothing but public fields."""

    office: str
    id: str
    title: str
    status: str
    deadline: str
    deadline_provisional: bool
    progress_percent: int
    summary: str
    version: int


@dataclass(frozen=True)
class PublicStep:
    """One published step: what kind (an event type), when, and its one public value."""

    kind: str
    time: datetime
    version: int
    percent: int | None = None
    day: str | None = None


@dataclass(frozen=True)
class PublicFilter:
    office: str | None = None
    status: str | None = None
    source_kind: str | None = None
    page: int = 1
    per_page: int = 20


@dataclass(frozen=True)
class Candidate:
    """A record with a recent step, as the feed's query finds it (before ``public_steps``)."""

    office: str
    id: str
    position: int


def public_row(doc: str) -> PublicRow:
    item: dict[str, Any] = json.loads(doc)
    return PublicRow(
        office=item["office"],
        id=item["id"],
        title=item["title"],
        status=item["status"],
        deadline=item["deadline"],
        deadline_provisional=bool(item.get("deadline_provisional", False)),
        progress_percent=int(item["progress_percent"]),
        summary=item["public_summary"],
        version=int(item["version"]),
    )


def step_of(event: EventView, lead: str | None) -> PublicStep | None:
    """The published step an event is, or None: only the types and fields the rule names."""
    data, kind = event.data, event.type
    at = PublicStep(kind, event.time, event.version)
    if kind in ("Published", "CompletionReported", "Closed", "Reopened", "Concluded"):
        return at
    if kind == "ProgressReported":
        return PublicStep(kind, event.time, event.version, percent=int(data["percent"]))
    if kind == "ReportReceived" and lead and data.get("from_office") == lead:
        if data.get("kind") == "progress" and data.get("percent") is not None:
            return PublicStep("ProgressReported", event.time, event.version, int(data["percent"]))
        if data.get("kind") == "completion":
            return PublicStep("CompletionReported", event.time, event.version)
        return None
    own = not data.get("assignee")  # a decision on the record itself, not a subordinate's
    if kind == "CompletionAccepted" and own:
        return at
    if kind in ("ExtensionGranted", "DeadlineRecomputed") and own:
        return PublicStep(kind, event.time, event.version, day=str(data["new_deadline"]))
    return None


def public_steps(events: Sequence[EventView]) -> list[PublicStep] | None:
    """A record's published steps, oldest first, or None when it is not published now.

    Only events since the record was last published count (nothing from before, nothing
    recorded while it was unpublished); among them only ``step_of``'s kinds, with no text."""
    steps: list[PublicStep] | None = None
    lead: str | None = None
    for event in events:
        if event.type == "Assigned":
            leads = [
                a["target"]
                for a in event.data.get("assignees", [])
                if a.get("kind") == "office" and a.get("role") == "lead"
            ]
            lead = leads[-1] if leads else lead
        if event.type == "Published":
            steps = []
        elif event.type == "Unpublished":
            steps = None
        if steps is not None and (step := step_of(event, lead)) is not None:
            steps.append(step)
    return steps


def where(chosen: PublicFilter) -> tuple[str, list[Any]]:
    clauses, params = ["published = 1"], []
    for column, value in (
        ("office", chosen.office),
        ("status", chosen.status),
        ("source_kind", chosen.source_kind),
    ):
        if value is not None:
            clauses.append(f"{column} = ?")
            params.append(value)
    return " AND ".join(clauses), params


class PublicQueries:
    """The public site's reads on the read store (items, audit, tracking)."""

    def __init__(self, read: ReadStore) -> None:
        self.read = read

    def listing(self, chosen: PublicFilter) -> Page:
        """Published records, newest registration first, filtered, one page."""
        clause, params = where(chosen)
        total = self.read.all(f"SELECT COUNT(*) AS n FROM items WHERE {clause}", params)[0]["n"]
        rows = self.read.all(  # the page's keys first: only its docs are read
            "SELECT i.doc FROM items i JOIN (SELECT office, id, registered_at, created_position "
            f"FROM items WHERE {clause} ORDER BY registered_at DESC, created_position DESC "
            "LIMIT ? OFFSET ?) p ON i.office = p.office AND i.id = p.id "
            "ORDER BY p.registered_at DESC, p.created_position DESC",
            [*params, chosen.per_page, (chosen.page - 1) * chosen.per_page],
        )
        return Page([public_row(r["doc"]) for r in rows], chosen.page, chosen.per_page, int(total))

    def offices(self) -> list[str]:
        """Offices with a published record (the list's office filter)."""
        rows = self.read.all("SELECT DISTINCT office FROM items WHERE published = 1")
        return sorted(r["office"] for r in rows)

    def is_published(self, office: str, record_id: str) -> bool:
        found = self.read.all(
            "SELECT published FROM items WHERE office = ? AND id = ?", (office, record_id)
        )
        return bool(found) and found[0]["published"] == 1

    def candidates(self, limit: int) -> list[Candidate]:
        """The newest rows that may be published steps of records published now (since their
        last ``Published``), newest first: the feed reads these records' steps."""
        kinds = ", ".join(f"'{k}'" for k in STEP_TYPES)
        rows = self.read.all(
            "WITH since AS (SELECT a.office, a.record_id, MAX(a.position) AS position "
            "FROM items i JOIN audit a ON a.office = i.office AND a.record_id = i.id "
            "WHERE i.published = 1 AND a.type = 'Published' GROUP BY a.office, a.record_id) "
            "SELECT a.office, a.record_id, a.position FROM since s JOIN audit a "
            "ON a.office = s.office AND a.record_id = s.record_id AND a.position >= s.position "
            f"WHERE a.type IN ({kinds}) ORDER BY a.time DESC, a.position DESC LIMIT ?",
            (limit,),
        )
        return [Candidate(r["office"], r["record_id"], int(r["position"])) for r in rows]

    def last_change(self) -> datetime | None:
        """When the newest event of any office happened (each office's last applied event):
        anything the public site shows changed no later than this."""
        rows = self.read.all(
            "SELECT MAX(a.time) AS t FROM tracking k JOIN audit a "
            "ON a.office = k.office AND a.position = k.position WHERE k.consumer = 'audit'"
        )
        found = rows[0]["t"] if rows else None
        return datetime.fromisoformat(found) if found else None
