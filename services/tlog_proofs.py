"""Proofs from an office's Merkle log, the policy an auditor verifies them with, and the tamper
drill. May import: the standard library, ``projections.tlog`` and ``projections.readstore``,
``services`` (clock, errors, inputs, registry, stores, ledger_keys, tlog_checkpoints) and
``services.tlog``.

``prove`` writes a C2SP tlog-proof bundle for one notification: its leaf data recomputed from
the store (and checked against the stored tile), its inclusion proof read from the tiles, and
the office's last checkpoint with its cosignatures. ``policy`` prints the offline verifier's
policy: every log key the office ever registered, its superior's witness keys, the quorum.
``audit`` recomputes every leaf from the store and compares it with the stored tiles (naming
the first index that differs) and the whole log with the checkpoint its superior last
cosigned (the witness's own record of it) and with its own last checkpoint.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Final

from projections.readstore import ReadStore
from projections.tlog import known_keys, leaf, log_size, pending, tile_getter, with_tiles
from services.clock import Clock
from services.errors import ServiceError
from services.inputs import china_time
from services.ledger_keys import KeyRing, witness_name
from services.registry import OfficeRegistry
from services.stores import Backend, TenantStore
from services.tlog.bundle import Bundle
from services.tlog.checkpoint import Checkpoint, origin_for
from services.tlog.envelope import hole_leaf
from services.tlog.merkle import inclusion_proof, leaf_hash, root_of
from services.tlog.note import Note
from services.tlog.tiles import WIDTH, split_hashes
from services.tlog_checkpoints import Checkpoints

READ_BATCH: Final = 1000


class LedgerError(ServiceError):
    """The ledger cannot answer: no such entry, or what the store holds is not what it logged."""


@dataclass(frozen=True)
class Audit:
    """The tamper drill's verdict: whether all agreed, how much was checked, the first index
    found to differ (if it can be named), and one line for people."""

    office: str
    ok: bool
    size: int
    message: str
    first_bad: int | None = None


class Proofs:
    def __init__(
        self,
        backend: Backend,
        read: ReadStore,
        registry: OfficeRegistry,
        checkpoints: Checkpoints,
    ) -> None:
        self.backend, self.read, self.registry = backend, read, registry
        self.checkpoints, self.keys = checkpoints, checkpoints.keys

    # -- leaves from the store --------------------------------------------------------
    def stored_leaves(
        self, office: str, first: int = 1, last: int | None = None
    ) -> Iterator[bytes | None]:
        """The leaf of each notification from ``first`` to ``last`` (the store's last if None)
        as recomputed from the store: a hole's leaf where an id is missing, None for an event
        that no longer decodes."""
        store = self.backend.store(office)
        expected = first
        while last is None or expected <= last:
            size = READ_BATCH if last is None else min(READ_BATCH, last - expected + 1)
            batch = store.recorder.select_notifications(expected, size)
            if not batch:
                break
            for n in batch:
                if last is not None and n.id > last:
                    break
                yield from (hole_leaf(office, h) for h in range(expected, n.id))
                yield self._leaf(office, store, n)
                expected = n.id + 1
            if last is not None and batch[-1].id >= last:
                break
        if last is not None:
            yield from (hole_leaf(office, h) for h in range(expected, last + 1))

    def _leaf(self, office: str, store: TenantStore, notification: Any) -> bytes | None:
        try:  # a byte changed in the store may leave an event that no longer decodes
            event = store.mapper.to_domain_event(notification)
            item = pending(office, notification.id, event, notification.state)
        except Exception:
            return None
        keys = known_keys(self.read, [v for _, v in item.personal])
        try:
            return leaf(item, keys)
        except (KeyError, ValueError):  # a subject's key erased, a field no leaf can hold
            return None

    # -- proofs -----------------------------------------------------------------------
    def prove(self, office: str, notification_id: int) -> bytes:
        """A tlog-proof bundle for one notification, against the office's last checkpoint (a
        new one if that does not cover it)."""
        self.registry.get(office)
        if notification_id < 1:
            raise LedgerError("notification ids start at 1")
        if notification_id > log_size(self.read, office):
            raise LedgerError(f"notification {notification_id} of {office} is not logged yet")
        note = self.checkpoints.latest(office)
        if note is None or _size(note) < notification_id:
            note = self.checkpoints.checkpoint(office)
        size, index = _size(note), notification_id - 1
        get = tile_getter(self.read, office)
        entry = next(self.stored_leaves(office, notification_id, notification_id), None)
        logged = get(0, index // WIDTH, index % WIDTH + 1)[-32:]
        if entry is None or leaf_hash(entry) != logged:
            raise LedgerError(
                f"notification {notification_id} of {office} in the store is not the one "
                "its log holds: run 'ducha ledger audit'"
            )
        proof = with_tiles(self.read, office, size, partial(inclusion_proof, index, size))
        return Bundle.make(entry, index, proof, note).encode()

    def policy(self, office: str) -> str:
        """A policy file for ``ducha ledger verify-bundle``: the office's log keys, its
        superior's witness keys, and a quorum of one witness if it has a superior."""
        view = self.registry.get(office)
        self.keys.signer(office)  # made and registered on first need
        if view.parent:
            self.keys.cosigner(view.parent)
        lines = [f"# the verifiable ledger of {office} ({view.name})"]
        for key in self.registry.log_keys(office, "log"):
            lines.append(f"log {key.vkey}  # registered {china_time(key.registered_at)}")
        witnesses = self.registry.log_keys(view.parent, "witness") if view.parent else []
        for number, key in enumerate(witnesses, start=1):
            label = view.parent if number == len(witnesses) else f"{view.parent}#{number}"
            lines.append(f"witness {label} {key.vkey}  # {witness_name(str(view.parent))}")
        lines.extend(self.checkpoints.public_policy_lines(office))  # the second witness
        lines.append(f"quorum {1 if witnesses else 0}")
        return "\n".join(lines) + "\n"

    # -- the tamper drill -------------------------------------------------------------
    def audit(self, office: str) -> Audit:
        """Recompute every leaf from the store; compare with the tiles and the checkpoints."""
        self.registry.get(office)
        size = log_size(self.read, office)
        logged = self._logged_hashes(office, size)
        found = [None if d is None else leaf_hash(d) for d in self.stored_leaves(office, 1, None)]
        for index in range(size):
            if index >= len(found) or found[index] != logged[index]:
                what = "is missing from" if index >= len(found) else "differs from"
                message = f"entry {index} (notification {index + 1}) {what} the store's log"
                return Audit(office, False, size, message, index)
        return self._against_checkpoints(office, size, found)

    def _logged_hashes(self, office: str, size: int) -> list[bytes]:
        get = tile_getter(self.read, office)
        hashes: list[bytes] = []
        for number in range((size + WIDTH - 1) // WIDTH):
            hashes.extend(split_hashes(get(0, number, min(WIDTH, size - number * WIDTH))))
        return hashes

    def _against_checkpoints(self, office: str, size: int, found: list[bytes | None]) -> Audit:
        view = self.registry.get(office)
        marks: list[tuple[str, Checkpoint]] = []
        if view.parent is not None:
            state = self.checkpoints.state(witness_name(view.parent), origin_for(office))
            if state is not None:
                marks.append(
                    (f"cosigned by {view.parent}", Checkpoint.parse(Note.parse(state.note).text))
                )
        own = self.checkpoints.latest(office)
        if own is not None:
            marks.append(("of its own", Checkpoint.parse(Note.parse(own).text)))
        for what, mark in marks:
            if len(found) < mark.size:
                message = f"the store holds {len(found)} entries, the checkpoint {what} {mark.size}"
                return Audit(office, False, size, message, len(found))
            hashes = found[: mark.size]
            if any(h is None for h in hashes) or _root(hashes) != mark.root:
                message = f"the store's first {mark.size} entries are not the checkpoint {what}"
                return Audit(office, False, size, message)
        checked = (
            ", ".join(f"checkpoint {mark.size} {what}" for what, mark in marks) or "no checkpoint"
        )
        return Audit(
            office, True, size, f"{office}: {size} entries agree with the store and {checked}"
        )


def _root(hashes: list[bytes | None]) -> bytes:
    return root_of([h for h in hashes if h is not None])


def _size(note: bytes) -> int:
    return Checkpoint.parse(Note.parse(note).text).size


@dataclass(frozen=True)
class Ledger:
    """The verifiable ledger's services, as the platform holds them."""

    keys: KeyRing
    checkpoints: Checkpoints
    proofs: Proofs


def build_ledger(
    backend: Backend,
    read: ReadStore,
    registry: OfficeRegistry,
    clock: Clock,
    keys_dir: Path,
    every: int = 1000,
    seconds: int = 3600,
) -> Ledger:
    keys = KeyRing(keys_dir, registry)
    checkpoints = Checkpoints(read, registry, keys, clock, every, seconds)
    return Ledger(keys, checkpoints, Proofs(backend, read, registry, checkpoints))
