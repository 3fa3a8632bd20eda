"""The verifiable ledger's Merkle log, kept as a projection (name ``tlog``): each office's
notification log hashed into C2SP tiles in the read store, in the transaction that moves the
tracking position. May import: the standard library, ``eventsourcing.utils``, ``projections``
(readstore, runner) and the pure ledger core ``services.tlog``.

**Leaves.** Leaf *i* is the event with notification id *i + 1*: its envelope
(``services.tlog.envelope.event_leaf``: office, id, topic, aggregate id and version, UTC time,
the actor's role, SHA-256 of the body exactly as the store holds it). The runner reads a batch
after the projection's position and hands over the events it found; every id between the
position and an event that the store does not hold (PostgreSQL skips an id when an insert fails
and never reuses it) becomes the core's fixed *hole* leaf, in order. So the log always has as
many leaves as the last notification id applied, and leaf *i* is always notification *i + 1*.

**Personal fields** (``PERSONAL_FIELDS``: the responsible person named when an item is
registered, assigned or received) enter only as HMAC commitments, each under the key of the
person it names: ``tlog_subject_keys`` holds one random 32-byte key per subject (the name as
written), created the first time the subject appears. Dropping or rebuilding the log keeps the
keys (the same leaves come back); erasing a person (later, not built yet) will delete their
key: the leaves, and every proof, stay valid, and the name can no longer be checked.

**Tables.** ``tlog_tiles`` holds each full tile (office, tile level, index) and the partial
tiles of levels ≥ 1, which grow in place (a tile of an older, smaller log is a prefix of the
stored one); ``tlog_edge`` the hashes of the level-0 partial tile, one row each, so that an
append writes 32 bytes, not the whole partial tile, until the tile is full and moves to
``tlog_tiles``; ``tlog_heads`` each office's size. Reading a tile of any size works the same
(``tile_getter``), and a rebuild writes the same rows as the appends did.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, TypeVar

from eventsourcing.utils import get_topic

from projections.readstore import ReadStore, Tx
from projections.runner import Batch, Projection
from services.tlog.envelope import Personal, StoredEvent, event_leaf, hole_leaf
from services.tlog.merkle import HASH_SIZE, HashSource, leaf_hash
from services.tlog.tiles import (
    HEIGHT,
    WIDTH,
    Edge,
    Tile,
    TileGetter,
    TileHashSource,
    append,
    split_hashes,
    tile_for,
)

T = TypeVar("T")
NAME: Final = "tlog"
PERSONAL_FIELDS: Final = ("responsible_person",)
"""Event fields naming a person: committed to, never hashed in clear."""
KEY_BYTES: Final = 32

DDL = """
CREATE TABLE IF NOT EXISTS tlog_tiles (
    office TEXT NOT NULL,
    level INTEGER NOT NULL,
    idx BIGINT NOT NULL,
    data BYTEA NOT NULL,
    PRIMARY KEY (office, level, idx)
);
CREATE TABLE IF NOT EXISTS tlog_edge (
    office TEXT NOT NULL,
    idx BIGINT NOT NULL,
    hash BYTEA NOT NULL,
    PRIMARY KEY (office, idx)
);
CREATE TABLE IF NOT EXISTS tlog_heads (
    office TEXT NOT NULL PRIMARY KEY,
    size BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS tlog_subject_keys (
    subject TEXT NOT NULL PRIMARY KEY,
    secret BYTEA NOT NULL,
    created_at TEXT NOT NULL
)
"""


@dataclass(frozen=True)
class Pending:
    """One event's leaf to be: what it commits to, and the personal values it names."""

    event: StoredEvent
    personal: tuple[tuple[str, str], ...]


_TOPICS: dict[type, str] = {}


def topic_of(kind: type) -> str:
    """The topic an event class is stored under (asked once per class)."""
    topic = _TOPICS.get(kind)
    if topic is None:
        topic = _TOPICS[kind] = get_topic(kind)
    return topic


def personal_values(event: Any) -> tuple[tuple[str, str], ...]:
    """The (field, value) pairs of ``event`` that name a person (empty values left out)."""
    found = []
    for field in PERSONAL_FIELDS:
        value = getattr(event, field, None)
        if isinstance(value, str) and value:
            found.append((field, value))
    return tuple(found)


def pending(office: str, position: int, event: Any, body: bytes) -> Pending:
    """What the leaf of one decoded event commits to (no I/O)."""
    actor = getattr(event, "actor", None)
    stored = StoredEvent(
        office=office,
        notification_id=position,
        topic=topic_of(type(event)),
        aggregate_id=event.originator_id,
        aggregate_version=event.originator_version,
        timestamp=event.timestamp,
        actor_role=actor.role if actor is not None else "",
        body=body,
    )
    return Pending(stored, personal_values(event))


def leaf(item: Pending, keys: Mapping[str, bytes]) -> bytes:
    """The leaf data, each personal value committed under its subject's key."""
    personal = [Personal(field, value, keys[value]) for field, value in item.personal]
    return event_leaf(item.event, personal)


def subject_keys(tx: Tx, subjects: Iterable[str]) -> dict[str, bytes]:
    """Each subject's key, made on first need; concurrent makers agree on the one stored
    first."""
    wanted = sorted(set(subjects))
    if not wanted:
        return {}
    keys = _read_keys(tx, wanted)
    missing = [s for s in wanted if s not in keys]
    if missing:
        now = datetime.now(UTC).isoformat()
        for subject in missing:
            tx.execute(
                "INSERT INTO tlog_subject_keys (subject, secret, created_at) VALUES (?, ?, ?) "
                "ON CONFLICT (subject) DO NOTHING",
                (subject, os.urandom(KEY_BYTES), now),
            )
        keys.update(_read_keys(tx, missing))
    return keys


def known_keys(read: ReadStore, subjects: Iterable[str]) -> dict[str, bytes]:
    """The keys of those subjects that have one (a read on its own, making none)."""
    wanted = sorted(set(subjects))
    if not wanted:
        return {}
    marks = ", ".join("?" * len(wanted))
    rows = read.all(
        f"SELECT subject, secret FROM tlog_subject_keys WHERE subject IN ({marks})", wanted
    )
    return {r["subject"]: bytes(r["secret"]) for r in rows}


def _read_keys(tx: Tx, subjects: Sequence[str]) -> dict[str, bytes]:
    marks = ", ".join("?" * len(subjects))
    rows = tx.all(
        f"SELECT subject, secret FROM tlog_subject_keys WHERE subject IN ({marks})", subjects
    )
    return {r["subject"]: bytes(r["secret"]) for r in rows}


def leaves_after(
    office: str, size: int, items: Sequence[tuple[int, Pending]], keys: Mapping[str, bytes]
) -> list[bytes]:
    """The leaves that follow a log of ``size``: holes for ids the store skipped, then each
    event's leaf, in order of notification id."""
    leaves: list[bytes] = []
    expected = size + 1
    for position, item in items:
        if position < expected:
            raise ValueError(f"notification {position} of {office} is already in its log")
        leaves.extend(hole_leaf(office, n) for n in range(expected, position))
        leaves.append(leaf(item, keys))
        expected = position + 1
    return leaves


# -- the stored tree ------------------------------------------------------------------------
def size_of(tx: Tx, office: str) -> int:
    row = tx.one("SELECT size FROM tlog_heads WHERE office = ?", (office,))
    return int(row["size"]) if row else 0


def append_leaves(tx: Tx, office: str, size: int, hashes: Sequence[bytes]) -> None:
    """Append leaf hashes to a stored log of ``size``. While the level-0 tile at the right
    edge stays partial only its new hashes are inserted (32 bytes each); when it fills, the
    edge is read, ``append`` computes every tile that changes, and they are written."""
    if size % WIDTH + len(hashes) < WIDTH:
        _insert_edge(tx, office, size, hashes)
    else:
        _, written = append(read_edge(tx, office, size), hashes)
        tx.execute("DELETE FROM tlog_edge WHERE office = ?", (office,))
        for tile in sorted(written):
            if tile.level == 0 and tile.width < WIDTH:
                _insert_edge(tx, office, tile.index * WIDTH, split_hashes(written[tile]))
                continue
            tx.execute(
                "INSERT INTO tlog_tiles (office, level, idx, data) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (office, level, idx) DO UPDATE SET data = excluded.data",
                (office, tile.level, tile.index, written[tile]),
            )
    tx.execute(
        "INSERT INTO tlog_heads (office, size) VALUES (?, ?) "
        "ON CONFLICT (office) DO UPDATE SET size = excluded.size",
        (office, size + len(hashes)),
    )


def _insert_edge(tx: Tx, office: str, first: int, hashes: Sequence[bytes]) -> None:
    if hashes:
        tx.execute(
            "INSERT INTO tlog_edge (office, idx, hash) VALUES "
            + ", ".join(["(?, ?, ?)"] * len(hashes)),
            [v for i, h in enumerate(hashes) for v in (office, first + i, h)],
        )


def read_edge(tx: Tx, office: str, size: int) -> Edge:
    """The partial tiles of a stored log of ``size`` (level 0 from its hash rows)."""
    return Edge.read(size, partial_getter(tx.all, office))


Query = Callable[[str, Sequence[Any]], list[dict[str, Any]]]


def partial_getter(query: Query, office: str) -> TileGetter:
    """``get(level, index, width)`` over the stored tiles: a full tile, or a partial one of
    level ≥ 1 (a tile of an older, smaller log is a prefix of what is stored), or the level-0
    partial tile gathered from its hash rows."""

    def get(level: int, index: int, width: int) -> bytes:
        rows = query(
            "SELECT data FROM tlog_tiles WHERE office = ? AND level = ? AND idx = ?",
            (office, level, index),
        )
        if rows or level:
            return bytes(rows[0]["data"])[: width * HASH_SIZE] if rows else b""
        return _edge_rows(query, office, index, width)

    return get


def _edge_rows(query: Query, office: str, index: int, width: int) -> bytes:
    first = index * WIDTH
    rows = query(
        "SELECT hash FROM tlog_edge WHERE office = ? AND idx >= ? AND idx < ? ORDER BY idx",
        (office, first, first + width),
    )
    return b"".join(bytes(r["hash"]) for r in rows)


def log_size(read: ReadStore, office: str) -> int:
    rows = read.all("SELECT size FROM tlog_heads WHERE office = ?", (office,))
    return int(rows[0]["size"]) if rows else 0


def tile_getter(read: ReadStore, office: str) -> TileGetter:
    """``get(level, index, width)`` over the stored tree, each read on its own."""
    return partial_getter(read.all, office)


def with_tiles(read: ReadStore, office: str, size: int, compute: Callable[[HashSource], T]) -> T:
    """``compute`` (a root, a proof) over the stored tree of ``size`` leaves. Over a network
    (PostgreSQL) its tiles are read in one go: a first run over placeholder hashes says which
    subtrees it needs, their tiles are fetched (one query, and one more for the level-0 partial
    tile), then it runs for real. SQLite reads each tile as it is needed: a local read costs
    less than the first run."""
    if read.dialect == "sqlite":
        return compute(TileHashSource(size, tile_getter(read, office)))
    wanted: set[Tile] = set()

    def record(level: int, index: int) -> bytes:
        tile_level, rise = divmod(level, HEIGHT)
        wanted.add(tile_for(tile_level, index << rise, size))
        return bytes(HASH_SIZE)

    compute(record)
    found: dict[tuple[int, int], bytes] = {}
    if wanted:
        pairs = " OR ".join(["(level = ? AND idx = ?)"] * len(wanted))
        rows = read.all(
            f"SELECT level, idx, data FROM tlog_tiles WHERE office = ? AND ({pairs})",
            (office, *(v for t in sorted(wanted) for v in (t.level, t.index))),
        )
        found = {(int(r["level"]), int(r["idx"])): bytes(r["data"]) for r in rows}

    def get(level: int, index: int, width: int) -> bytes:
        data = found.get((level, index))
        if data is None:  # the level-0 partial tile: its hash rows
            return _edge_rows(read.all, office, index, width) if level == 0 else b""
        return data[: width * HASH_SIZE]

    return compute(TileHashSource(size, get))


class TlogProjection(Projection[list[tuple[str, list[tuple[int, Pending]]]]]):
    """Appends each office's new leaves to its tiles (see the module docstring)."""

    name = NAME
    ddl = DDL
    kept = ("tlog_subject_keys",)  # the leaves' commitments need the same keys again

    def prepare(self, batch: Batch) -> list[tuple[str, list[tuple[int, Pending]]]]:
        by_office: dict[str, list[tuple[int, Pending]]] = {}
        for e in batch.envelopes:
            if not e.body:
                raise ValueError(f"notification {e.position} of {e.office} came without its body")
            item = pending(e.office, e.position, e.event, e.body)
            by_office.setdefault(e.office, []).append((e.position, item))
        return list(by_office.items())

    def write(self, tx: Tx, prepared: list[tuple[str, list[tuple[int, Pending]]]]) -> None:
        for office, items in prepared:
            size = size_of(tx, office)
            subjects = [value for _, item in items for _, value in item.personal]
            leaves = leaves_after(office, size, items, subject_keys(tx, subjects))
            append_leaves(tx, office, size, [leaf_hash(data) for data in leaves])

    def drop(self, tx: Tx, office: str | None) -> None:
        """The tiles and heads (never the subjects' keys: a rebuild needs the same ones)."""
        for table in ("tlog_tiles", "tlog_edge", "tlog_heads"):
            if office is None:
                tx.execute(f"DELETE FROM {table}")
            else:
                tx.execute(f"DELETE FROM {table} WHERE office = ?", (office,))
