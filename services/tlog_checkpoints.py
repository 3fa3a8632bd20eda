"""Checkpoints of each office's Merkle log, and the superior office and the public site as their
witnesses, within the platform. May import: the standard library, ``projections.tlog`` and
``projections.readstore`` (the stored tiles and the read store; the items read model says which
offices publish), ``services`` (clock, errors, registry, ledger_keys, tlog_public_witness) and
``services.tlog``.

**Checkpoints.** ``checkpoint(office)`` signs ``ducha/<office>``, the log's size and root (C2SP
signed note) with the office's log key and stores it (``tlog_checkpoints``, one row per size),
then asks the parent office to cosign it. ``maybe_checkpoint`` (a listener after each command
when the read side runs embedded) does so once ``every`` events or ``seconds`` have passed
since the last one (``DUCHA_CHECKPOINT_EVERY``, ``DUCHA_CHECKPOINT_SECONDS``).

**Witnessing.** ``witness(parent, child)`` is the tlog-witness ``add-checkpoint`` exchange
without the HTTP: the child's side sends its latest checkpoint and a consistency proof from
the size the parent last cosigned, read from its tiles; the parent decides with the core's
``add_checkpoint`` against its stored state (``tlog_witness_states``, one row per (witness,
origin)) and the child's log keys from the registry (every key it ever registered, so a
rotation keeps older checkpoints acceptable). A cosignature is stored only if the state is
still the one the decision read (compare-and-set, under a lock); the cosignature is merged into
the child's stored checkpoint. A refusal keeps the state; one the log's own signature makes
evidence of misbehaviour (a smaller tree, another root at the same size, an inconsistent
proof) is an alert: a row in ``tlog_alerts`` and a log line at ERROR.

**The public site** is a second witness (key ``public-witness``: ``tlog_public_witness``) for
the offices that publish (a record published now, in the items read model): after the superior
it decides on each of their checkpoints by the same rule, with its own state (its rows in
``tlog_witness_states``, witness ``public-witness``) and its own alerts. ``submit`` is the one
decision both witnesses (and the HTTP ``add-checkpoint`` route, for a log outside) go through;
``follows`` names the logs each witness accepts.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Final

from projections.readstore import ReadStore
from projections.tlog import log_size, with_tiles
from services.clock import Clock
from services.errors import ConflictError, NotFoundError
from services.ledger_keys import KeyRing, witness_name
from services.registry import OfficeRegistry
from services.tlog.checkpoint import ORIGIN_PREFIX, Checkpoint, origin_for
from services.tlog.cosignature import Cosigner
from services.tlog.merkle import consistency_proof, root
from services.tlog.note import Ed25519Verifier, Note, Signature, Verifier
from services.tlog.witness import Answer, Request, WitnessState, add_checkpoint
from services.tlog_public_witness import PUBLIC_WITNESS, PublicWitnessKey

log = logging.getLogger("services.ledger")

DDL: Final = """
CREATE TABLE IF NOT EXISTS tlog_checkpoints (
    office TEXT NOT NULL,
    size BIGINT NOT NULL,
    note BYTEA NOT NULL,
    made_at TEXT NOT NULL,
    seq BIGINT NOT NULL,
    PRIMARY KEY (office, size)
);
CREATE TABLE IF NOT EXISTS tlog_witness_states (
    witness TEXT NOT NULL,
    origin TEXT NOT NULL,
    size BIGINT NOT NULL,
    root BYTEA NOT NULL,
    note BYTEA NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (witness, origin)
);
CREATE TABLE IF NOT EXISTS tlog_alerts (
    id TEXT NOT NULL PRIMARY KEY,
    witness TEXT NOT NULL,
    origin TEXT NOT NULL,
    at TEXT NOT NULL,
    status INTEGER NOT NULL,
    alert TEXT NOT NULL,
    reason TEXT NOT NULL
)
"""


@dataclass(frozen=True)
class Witnessed:
    """What a witness answered: its status, why, and the alert it raised (if any)."""

    witness: str
    office: str
    size: int
    status: int
    reason: str
    alert: str | None = None

    @property
    def cosigned(self) -> bool:
        return self.status == 200


@dataclass
class _Watch:
    """Since when, and from which size, an office awaits its next automatic checkpoint."""

    size: int
    since: float
    calls: int = 0
    wait: int = 1


@dataclass(frozen=True)
class Alert:
    witness: str
    origin: str
    at: str
    status: int
    alert: str
    reason: str


class Checkpoints:
    """Signs, stores and has witnessed the offices' checkpoints (see the module docstring)."""

    def __init__(
        self,
        read: ReadStore,
        registry: OfficeRegistry,
        keys: KeyRing,
        clock: Clock,
        every: int = 1000,
        seconds: int = 3600,
    ) -> None:
        self.read, self.registry, self.keys, self.clock = read, registry, keys, clock
        self.every, self.seconds = every, seconds
        self._watch: dict[str, _Watch] = {}
        self._lock = threading.Lock()
        self.public = PublicWitnessKey(keys.directory)
        read.ensure(DDL)

    # -- checkpoints ------------------------------------------------------------------
    def checkpoint(self, office: str) -> bytes:
        """Sign the office's log as it stands, store it, have the parent cosign it: the note
        (with the cosignature, if the parent gave it)."""
        return self.checkpoint_witnessed(office)[0]

    def checkpoint_witnessed(self, office: str) -> tuple[bytes, Witnessed | None]:
        """As ``checkpoint``, and what the parent answered (None for the root office)."""
        self.registry.get(office)
        size = log_size(self.read, office)
        text = Checkpoint(origin_for(office), size, self.root(office, size)).text
        note = self.keys.signer(office).note(text)
        with self.read.transaction() as tx:
            row = tx.one(
                "SELECT note FROM tlog_checkpoints WHERE office = ? AND size = ?", (office, size)
            )
            same = row is not None and Note.parse(bytes(row["note"])).text == text
            # the stored note keeps its cosignatures if it says the same; another root at a
            # stored size (the log was rewritten) replaces it, and its witness will judge that
            tx.execute(
                "INSERT INTO tlog_checkpoints (office, size, note, made_at, seq) "
                "SELECT ?, ?, ?, ?, COALESCE(MAX(seq), 0) + 1 FROM tlog_checkpoints "
                "WHERE office = ? ON CONFLICT (office, size) DO UPDATE SET seq = excluded.seq"
                + ("" if same else ", note = excluded.note, made_at = excluded.made_at"),
                (office, size, note, self.clock().astimezone(UTC).isoformat(), office),
            )
        self._watch[office] = _Watch(size, time.monotonic())
        parent = self.registry.get(office).parent
        witnessed = self.witness(parent, office) if parent is not None else None
        if self.publishes(office):  # the second witness, after the superior
            self.witness_public(office)
        return self.latest(office) or note, witnessed

    def maybe_checkpoint(self, office: str) -> None:
        """After a command: a checkpoint once ``every`` events or ``seconds`` have passed. A
        failure is logged, never raised: the command was recorded, and the next one retries."""
        try:
            self._maybe_checkpoint(office)
        except Exception:
            log.exception("the ledger could not checkpoint office %s", office)

    def _maybe_checkpoint(self, office: str) -> None:
        """Each command adds at least one event: the log's size is read only once as many
        commands have come as events are missing (or the time is up), not after each."""
        with self._lock:
            watch = self._watch.get(office)
            if watch is None:
                watch = self._watch[office] = _Watch(self._latest_size(office), time.monotonic())
            watch.calls += 1
            late = time.monotonic() - watch.since >= self.seconds
            if watch.calls < watch.wait and not late:
                return
            watch.calls = 0
        grown = log_size(self.read, office) - watch.size
        if grown >= self.every or (grown > 0 and late):
            self.checkpoint(office)
        else:
            watch.wait = max(1, self.every - grown)

    def root(self, office: str, size: int) -> bytes:
        return with_tiles(self.read, office, size, partial(root, size))

    def latest(self, office: str) -> bytes | None:
        """The office's last checkpoint note (the last made: after a rewrite, it may be of a
        smaller size than an earlier one), with its cosignatures."""
        rows = self.read.all(
            "SELECT note FROM tlog_checkpoints WHERE office = ? ORDER BY seq DESC LIMIT 1",
            (office,),
        )
        return bytes(rows[0]["note"]) if rows else None

    def _latest_size(self, office: str) -> int:
        note = self.latest(office)
        return Checkpoint.parse(Note.parse(note).text).size if note else 0

    # -- witnessing -------------------------------------------------------------------
    def witness_children(self, office: str) -> list[Witnessed]:
        """The office cosigns each active child's latest checkpoint."""
        return [
            self.witness(office, child.code)
            for child in self.registry.children(office)
            if self.latest(child.code) is not None
        ]

    def witness(self, parent: str, child: str) -> Witnessed:
        """The parent, as witness, decides on the child's latest checkpoint."""
        if self.registry.get(child).parent != parent:
            raise NotFoundError(f"office '{parent}' is not the superior of '{child}'")
        return self._witness(witness_name(parent), self.keys.cosigner(parent), child)

    def witness_public(self, office: str) -> Witnessed:
        """The public site, as witness, decides on the office's latest checkpoint."""
        return self._witness(PUBLIC_WITNESS, self.public.cosigner(), office)

    def _witness(self, name: str, cosigner: Cosigner, child: str) -> Witnessed:
        stored = self.latest(child)
        if stored is None:
            raise NotFoundError(f"office '{child}' has no checkpoint yet")
        origin = origin_for(child)
        request = self._request(child, stored, self.state(name, origin))
        return self.submit(name, cosigner, request, {origin: self.log_verifiers(child)})[0]

    def submit(
        self, name: str, cosigner: Cosigner, request: Request, logs: Mapping[str, list[Verifier]]
    ) -> tuple[Witnessed, Answer]:
        """One ``add-checkpoint`` decision of witness ``name`` (following ``logs``) against its
        stored state: a cosigned state stored by compare-and-set (``ConflictError`` if it moved
        meanwhile) and the cosignature merged into the office's stored checkpoint (if that is
        the one cosigned); a refusal that is evidence of misbehaviour stored as an alert."""
        origin = request.checkpoint.origin
        state = self.state(name, origin) if origin in logs else None
        now = max(1, int(self.clock().timestamp()))
        answer = add_checkpoint(request, state, logs, cosigner, now)
        office, size = origin.removeprefix(ORIGIN_PREFIX), request.checkpoint.size
        result = Witnessed(name, office, size, answer.status, answer.reason, answer.alert)
        if answer.state is not None:
            self._store_state(name, state, answer.state)
            note = Note.parse(answer.state.note)
            self._merge_cosignature(office, size, note.text, note.signatures[-1])
        elif answer.alert is not None:
            self._alert(result)
        else:
            log.warning("witness %s refused %s at size %d: %s", name, origin, size, answer.reason)
        return result, answer

    def follows(self, witness: str | None) -> dict[str, list[Verifier]]:
        """The logs a witness follows, with their keys: an office's witness (``witness``, an
        office code), its active children's; the public site's (``None``), those of the
        offices that publish."""
        if witness is None:
            rows = self.read.all("SELECT DISTINCT office FROM items WHERE published = 1")
            codes = [str(r["office"]) for r in rows]
        else:
            codes = [child.code for child in self.registry.children(witness)]
        return {origin_for(code): self.log_verifiers(code) for code in codes}

    def public_policy_lines(self, office: str) -> list[str]:
        """The policy's line for the public site's witness, if it cosigns the office."""
        if not self.publishes(office):
            return []
        return [f"witness {PUBLIC_WITNESS} {self.public.vkey}  # the public site"]

    def publishes(self, office: str) -> bool:
        """Whether the office has a published record now (the public site then cosigns)."""
        rows = self.read.all(
            "SELECT 1 AS one FROM items WHERE office = ? AND published = 1 LIMIT 1", (office,)
        )
        return bool(rows)

    def log_verifiers(self, office: str) -> list[Verifier]:
        return [Ed25519Verifier.from_vkey(k.vkey) for k in self.registry.log_keys(office, "log")]

    def state(self, witness: str, origin: str) -> WitnessState | None:
        rows = self.read.all(
            "SELECT size, root, note FROM tlog_witness_states WHERE witness = ? AND origin = ?",
            (witness, origin),
        )
        if not rows:
            return None
        row = rows[0]
        return WitnessState(origin, int(row["size"]), bytes(row["root"]), bytes(row["note"]))

    def _request(self, child: str, stored: bytes, state: WitnessState | None) -> Request:
        """The log's side: its checkpoint (its own signature only) and a consistency proof from
        the size the witness last cosigned, read from its tiles."""
        note = Note.parse(stored)
        own = [s for s in note.signatures if s.name == origin_for(child)]
        signed = Note(note.text, tuple(own)).encode()
        size = Checkpoint.parse(note.text).size
        old = state.size if state else 0
        proof: list[bytes] = []
        if 0 < old < size:
            proof = with_tiles(self.read, child, size, partial(consistency_proof, old, size))
        return Request.make(old, proof, signed)

    def _store_state(self, witness: str, loaded: WitnessState | None, new: WitnessState) -> None:
        """Compare-and-set: store ``new`` only if the stored size is still the loaded one."""
        with self.read.transaction() as tx:
            tx.lock(f"tlog-witness:{witness}:{new.origin}")
            row = tx.one(
                "SELECT size FROM tlog_witness_states WHERE witness = ? AND origin = ?",
                (witness, new.origin),
            )
            if (int(row["size"]) if row else None) != (loaded.size if loaded else None):
                raise ConflictError(f"{witness} cosigned {new.origin} meanwhile; try again")
            tx.execute(
                "INSERT INTO tlog_witness_states (witness, origin, size, root, note, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (witness, origin) DO UPDATE SET "
                "size = excluded.size, root = excluded.root, note = excluded.note, "
                "updated_at = excluded.updated_at",
                (witness, new.origin, new.size, new.root, new.note, _now()),
            )

    def _merge_cosignature(self, office: str, size: int, text: str, signature: Signature) -> None:
        """Add a cosignature to the stored checkpoint of that text, replacing an older one by
        the same key."""
        with self.read.transaction() as tx:
            row = tx.one(
                "SELECT note FROM tlog_checkpoints WHERE office = ? AND size = ?", (office, size)
            )
            if row is None:
                return
            note = Note.parse(bytes(row["note"]))
            if note.text != text:  # another root at that size: not the checkpoint cosigned
                return
            kept = [
                s
                for s in note.signatures
                if (s.name, s.key_id) != (signature.name, signature.key_id)
            ]
            merged = Note(note.text, (*kept, signature)).encode()
            tx.execute(
                "UPDATE tlog_checkpoints SET note = ? WHERE office = ? AND size = ?",
                (merged, office, size),
            )

    def _alert(self, result: Witnessed) -> None:
        origin = origin_for(result.office)
        with self.read.transaction() as tx:
            tx.execute(
                "INSERT INTO tlog_alerts (id, witness, origin, at, status, alert, reason) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    uuid.uuid4().hex,
                    result.witness,
                    origin,
                    _now(),
                    result.status,
                    result.alert or "",
                    result.reason,
                ),
            )
        log.error(
            "LEDGER ALERT: witness %s refused %s at size %d (%d): %s (%s)",
            result.witness,
            origin,
            result.size,
            result.status,
            result.alert,
            result.reason,
        )

    def alerts(self, office: str | None = None) -> list[Alert]:
        """Every alert (of witness ``office``, if given), newest first."""
        where, params = ("WHERE witness = ?", (witness_name(office),)) if office else ("", ())
        rows = self.read.all(f"SELECT * FROM tlog_alerts {where} ORDER BY at DESC", params)
        return [
            Alert(r["witness"], r["origin"], r["at"], int(r["status"]), r["alert"], r["reason"])
            for r in rows
        ]


def _now() -> str:
    return datetime.now(UTC).isoformat()
