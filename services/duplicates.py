"""The same source reference registered twice: finding the office's items that already carry it.

A document number (文号) or instruction number (批示编号) names one source; registering it a
second time in the same office is usually a clerk entering the same document twice. People
write the same reference with different brackets and spaces (国办发〔2026〕12号, 国办发[2026]12号,
国办发 (2026) 12 号), so references are compared after ``normalized``. The check reads the items
projection (one office's rows whose text contains the reference's pieces), so under the Kafka
bus an item registered a moment ago may not be seen yet: it is a warning for people, not a
uniqueness guarantee. May import: the standard library, ``orjson``, ``projections.readstore``
and ``services.errors``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import orjson

from projections.readstore import ReadStore
from services.errors import ServiceError

BRACKETS = str.maketrans("〔【［（(〖", "[[[[[[", "")
CLOSING = str.maketrans("〕】］）)〗", "]]]]]]", "")
PIECES = re.compile(r"\d+|[^\W\d_]+")
SHOWN = 5


def normalized(reference: str) -> str:
    """The reference as compared: NFKC (full-width digits and letters to ASCII), brackets of
    every kind as ``[`` ``]``, no white space, letters in lower case."""
    text = unicodedata.normalize("NFKC", reference).translate(BRACKETS).translate(CLOSING)
    return "".join(text.split()).lower()


@dataclass(frozen=True)
class Existing:
    """An item that already carries the reference."""

    id: str
    title: str
    registered_at: str


class DuplicateSourceError(ServiceError):
    """The office already has an item with this source reference (give ``allow_duplicate``)."""

    def __init__(
        self, office: str, source_ref: str, existing: list[Existing], way_out: str
    ) -> None:
        shown = "; ".join(f"{e.id} {e.title}" for e in existing[:SHOWN])
        more = f" and {len(existing) - SHOWN} more" if len(existing) > SHOWN else ""
        super().__init__(
            f"office '{office}' already has an item with source reference '{source_ref}': "
            f"{shown}{more} ({way_out})"
        )
        self.source_ref = source_ref
        self.existing = existing


def items_with_source(read: ReadStore, office: str, source_ref: str) -> list[Existing]:
    """The office's own items (not tasks received from above) whose source reference is the
    same as ``source_ref`` once both are ``normalized``, oldest first."""
    wanted = normalized(source_ref)
    pieces = PIECES.findall(wanted)
    if not pieces:
        return []
    pattern = "%" + "%".join(escape(p) for p in pieces) + "%"
    rows = read.all(
        "SELECT id, title, registered_at, doc FROM items WHERE office = ? AND kind = 'item' "
        "AND LOWER(search) LIKE ? ESCAPE '\\' ORDER BY created_position",
        (office, pattern),
    )
    return [
        Existing(str(r["id"]), str(r["title"]), str(r["registered_at"]))
        for r in rows
        if normalized(orjson.loads(r["doc"])["source_ref"]) == wanted
    ]


def check_source(
    read: ReadStore, office: str, source_ref: str, allow_duplicate: bool, way_out: str
) -> None:
    """Refuse a second item with the same source reference unless ``allow_duplicate``;
    ``way_out`` tells the caller, in its own terms, how to register it anyway."""
    if allow_duplicate:
        return
    existing = items_with_source(read, office, source_ref)
    if existing:
        raise DuplicateSourceError(office, source_ref, existing, way_out)


def escape(piece: str) -> str:
    return piece.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
