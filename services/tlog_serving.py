"""What the verifiable ledger's HTTP routes and screens need beyond ``services.tlog_proofs``:
tiles and entry bundles checked against the log's size, consistency proofs between sizes, who
may have a proof, the tlog-witness ``add-checkpoint`` exchange for a log outside the platform,
and the item pages' "verified against checkpoint N" badge. May import: the standard library,
``projections`` (tlog, public, readstore), ``services`` (errors, ledger_keys, registry, stores,
supervision, tlog_checkpoints, tlog_proofs, tlog_public_witness) and ``services.tlog``.

**Sizes.** A tile is served only when the log holds every hash it names (a partial tile
``.p/W`` of any size the log has passed: a prefix of the stored tile); an entry bundle's
entries are recomputed from the store and each checked against its level-0 tile, so what is
served is what the log proves (a mismatch is a ``LedgerError``: run ``ducha ledger audit``).

**Who may have a proof.** Those who may read the office's audit trail, of any event; anyone,
of an event that is a *published step* of a record published now (``projections.public``: the
public site's own rule, so a proof reveals nothing the public page does not show).

**The badge.** For one event of a record (its latest, or a given version) the item pages show
whether the office's last checkpoint covers it and, if so, the bundle verified on the spot
(``verify_bundle``) against the office's log keys and its witnesses' keys: the superior's
(every key it registered) and the public site's. Only witnesses whose cosignatures verify
are named.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Final

from projections.public import public_steps
from projections.readstore import ReadStore
from projections.tlog import log_size, tile_getter, with_tiles
from services.errors import ConflictError, NotFoundError
from services.ledger_keys import witness_name
from services.registry import OfficeRegistry
from services.stores import Backend
from services.supervision import SupervisionService
from services.tlog.checkpoint import Checkpoint
from services.tlog.cosignature import CosignatureVerifier, timestamp_of
from services.tlog.merkle import consistency_proof, leaf_hash
from services.tlog.note import Ed25519Verifier, Note
from services.tlog.tiles import HEIGHT, WIDTH, Tile, entry_bundle, split_hashes
from services.tlog.verify import Policy, verify_bundle
from services.tlog.witness import SIZE_TYPE, Answer, Request, RequestError, origin_hash
from services.tlog_proofs import Ledger, LedgerError
from services.tlog_public_witness import PUBLIC_WITNESS

MAX_SIZE: Final = 2**63 - 1
COSIGNATURE_BYTES: Final = 8 + 64


class SizeError(ValueError):
    """Sizes no consistency proof exists between: ``field`` names the culprit."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


@dataclass(frozen=True)
class Badge:
    """What an item page says of one event: ``state`` ``verified`` (checkpoint ``size``,
    cosigned by the offices ``cosigners`` and, if ``public``, the public site), ``pending`` (no
    checkpoint covers it yet) or ``failed`` (``message`` says why)."""

    state: str
    notification_id: int = 0
    size: int = 0
    cosigners: tuple[str, ...] = field(default_factory=tuple)
    public: bool = False
    message: str = ""
    since: datetime | None = None


class LogServing:
    """The ledger as the routes and screens read it (see the module docstring)."""

    def __init__(
        self,
        ledger: Ledger,
        read: ReadStore,
        registry: OfficeRegistry,
        backend: Backend,
        supervision: SupervisionService,
    ) -> None:
        self.ledger, self.read, self.registry = ledger, read, registry
        self.backend, self.supervision = backend, supervision
        self.checkpoints, self.proofs = ledger.checkpoints, ledger.proofs

    # -- checkpoints, tiles, entries, consistency ----------------------------------------
    def checkpoint(self, office: str) -> bytes:
        """The office's last checkpoint note with its cosignatures."""
        self.registry.get(office)
        note = self.checkpoints.latest(office)
        if note is None:
            raise NotFoundError(f"office '{office}' has no checkpoint yet")
        return note

    def tile(self, office: str, tile: Tile) -> bytes:
        """A tile's hashes, if the log holds them all."""
        self._check_held(office, tile)
        data = tile_getter(self.read, office)(tile.level, tile.index, tile.width)
        if len(data) != tile.width * 32:
            raise NotFoundError(f"no tile {tile.path} in the log of '{office}'")
        return data

    def entries(self, office: str, tile: Tile) -> bytes:
        """The entry bundle beside a level-0 tile: each leaf's data, recomputed from the store
        and checked against the tile's hash."""
        logged = split_hashes(self.tile(office, tile))
        first = tile.index * WIDTH + 1
        found = list(self.proofs.stored_leaves(office, first, first + tile.width - 1))
        for offset, (data, hashed) in enumerate(zip(found, logged, strict=False)):
            if data is None or leaf_hash(data) != hashed:
                raise LedgerError(
                    f"notification {first + offset} of {office} in the store is not the one "
                    "its log holds: run 'ducha ledger audit'"
                )
        if len(found) != len(logged):
            raise LedgerError(f"the store of {office} holds fewer entries than its log")
        return entry_bundle([d for d in found if d is not None])

    def _check_held(self, office: str, tile: Tile) -> None:
        self.registry.get(office)
        last = (tile.index * WIDTH + tile.width) << (HEIGHT * tile.level)
        if last > log_size(self.read, office):
            raise NotFoundError(f"the log of '{office}' does not hold tile {tile.path} yet")

    def consistency(self, office: str, old: int, new: int) -> list[bytes]:
        """The RFC 9162 consistency proof from size ``old`` to ``new`` of the office's log."""
        self.registry.get(office)
        size = log_size(self.read, office)
        if not 0 < old <= MAX_SIZE:
            raise SizeError("from", "must be a size from 1 (every tree extends the empty one)")
        if not old <= new <= MAX_SIZE:
            raise SizeError("to", f"must be a size from 'from' ({old}) up")
        if new > size:
            raise SizeError("to", f"the log of '{office}' holds {size} entries, not {new}")
        return with_tiles(self.read, office, new, partial(consistency_proof, old, new))

    # -- proofs --------------------------------------------------------------------------
    def prove(self, office: str, notification_id: int) -> bytes:
        """The ``.tlog-proof`` bundle of one notification (``NotFoundError`` if unlogged)."""
        self.registry.get(office)
        if not 0 < notification_id <= log_size(self.read, office):
            raise NotFoundError(f"no notification {notification_id} in the log of '{office}'")
        note, _ = self._latest(office)  # a GET signs nothing: no checkpoint yet, no proof yet
        if note is None or Checkpoint.parse(Note.parse(note).text).size < notification_id:
            raise NotFoundError(
                f"no checkpoint of '{office}' covers notification {notification_id} yet"
            )
        return self.proofs.prove(office, notification_id)

    def published_step(self, office: str, notification_id: int) -> bool:
        """Whether the notification is a published step of a record published now."""
        if not self.registry.exists(office) or not 0 < notification_id <= MAX_SIZE:
            return False
        batch = self.backend.store(office).recorder.select_notifications(notification_id, 1)
        if not batch or batch[0].id != notification_id:
            return False
        found = batch[0]
        try:
            history = self.supervision.history(office, str(found.originator_id))
        except NotFoundError:  # not a record's event (a circular, a user …)
            return False
        steps = public_steps(history)
        return steps is not None and any(s.version == found.originator_version for s in steps)

    # -- the witnesses over HTTP ---------------------------------------------------------
    def add_checkpoint(self, witness: str | None, body: bytes) -> Answer:
        """tlog-witness ``add-checkpoint`` to the witness of office ``witness`` (key
        ``ducha-witness/<office>``, following its children's logs) or, for ``None``, to the
        public site's (key ``public-witness``, following the offices that publish)."""
        if witness is not None:
            self.registry.get(witness)
        try:
            request = _log_signed(Request.parse(body))
        except RequestError as e:
            return _text(400, str(e))
        logs = self.checkpoints.follows(witness)
        if request.checkpoint.origin not in logs:  # before any key is made for the asking
            return _text(404, f"this witness does not follow {request.checkpoint.origin!r}")
        cosigner = (
            self.checkpoints.public.cosigner()
            if witness is None
            else self.ledger.keys.cosigner(witness)
        )
        name = _witness_name(witness)
        try:
            return self.checkpoints.submit(name, cosigner, request, logs)[1]
        except ConflictError:  # cosigned meanwhile: the spec's 409, with the size now stored
            state = self.checkpoints.state(name, request.checkpoint.origin)
            size = state.size if state else 0
            return Answer(409, f"{size}\n".encode(), SIZE_TYPE, "cosigned meanwhile")

    def witnessed(self, witness: str | None, hashed: str) -> bytes:
        """The monitoring path: the last checkpoint the witness cosigned for the log whose
        origin hashes to ``hashed``, with the log's signature and its cosignature."""
        if witness is not None:
            self.registry.get(witness)
        name = _witness_name(witness)
        for origin in self.checkpoints.follows(witness):
            if origin_hash(origin) == hashed:
                state = self.checkpoints.state(name, origin)
                if state is not None:
                    return state.note
        raise NotFoundError(f"{name} has cosigned no log whose origin hashes to {hashed[:64]}")

    def alert_count(self) -> int:
        return len(self.checkpoints.alerts())

    # -- the item pages' badge -----------------------------------------------------------
    def badge(self, office: str, record_id: str, version: int | None = None) -> Badge:
        """What the item page says of the record's latest event (or the one at ``version``)."""
        position = self._position(office, record_id, version)
        note, since = self._latest(office)
        if position is None or note is None:
            return Badge("pending", position or 0, since=since)
        size = Checkpoint.parse(Note.parse(note).text).size
        if size < position:
            return Badge("pending", position, since=since)
        try:
            bundle = self.proofs.prove(office, position)
        except LedgerError as e:
            return Badge("failed", position, message=str(e), since=since)
        verdict = verify_bundle(bundle, self.policy(office))
        if not verdict.ok:
            return Badge("failed", position, message=verdict.message, since=since)
        cosigners = tuple(dict.fromkeys(w.split("#")[0] for w in verdict.witnesses))
        offices = tuple(c for c in cosigners if c != PUBLIC_WITNESS)
        public = PUBLIC_WITNESS in cosigners
        return Badge("verified", position, verdict.size, offices, public, since=since)

    def _latest(self, office: str) -> tuple[bytes | None, datetime | None]:
        """The office's last checkpoint note, and when it last changed: when it was made or
        when a witness last cosigned it, whichever came last."""
        rows = self.read.all(
            "SELECT note, made_at FROM tlog_checkpoints WHERE office = ? ORDER BY seq DESC LIMIT 1",
            (office,),
        )
        if not rows:
            return None, None
        note = bytes(rows[0]["note"])
        times = [datetime.fromisoformat(rows[0]["made_at"])]
        for signature in Note.parse(note).signatures:
            if len(signature.signature) == COSIGNATURE_BYTES:
                times.append(datetime.fromtimestamp(timestamp_of(signature), UTC))
        return note, max(times)

    def _position(self, office: str, record_id: str, version: int | None) -> int | None:
        """The notification id of the record's event (the audit trail's position)."""
        params: list[object] = [office, record_id]
        which = ""
        if version is not None:
            which = " AND version = ?"
            params.append(version)
        rows = self.read.all(
            f"SELECT position FROM audit WHERE office = ? AND record_id = ?{which} "
            "ORDER BY position DESC LIMIT 1",
            params,
        )
        return int(rows[0]["position"]) if rows else None

    def policy(self, office: str) -> Policy:
        """The office's log keys and its witnesses' keys (labelled by office code, ``#n`` for
        an older key; the public site's as ``public-witness``), no quorum: the badge names who
        cosigned."""
        view = self.registry.get(office)
        logs = tuple(
            Ed25519Verifier.from_vkey(k.vkey) for k in self.registry.log_keys(office, "log")
        )
        witnesses: list[tuple[str, CosignatureVerifier]] = []
        if view.parent is not None:
            keys = self.registry.log_keys(view.parent, "witness")
            for number, key in enumerate(keys, start=1):
                label = view.parent if number == len(keys) else f"{view.parent}#{number}"
                witnesses.append((label, CosignatureVerifier.from_vkey(key.vkey)))
        if self.checkpoints.public.path.exists():
            public = self.checkpoints.public.cosigner().verifier
            witnesses.append((PUBLIC_WITNESS, public))
        return Policy(logs, tuple(witnesses), 0)


def _witness_name(witness: str | None) -> str:
    return PUBLIC_WITNESS if witness is None else witness_name(witness)


def _log_signed(request: Request) -> Request:
    """The request with its note's other signatures (cosignatures it already gathered) left
    out: the witness verifies and keeps the log's own, and adds its one cosignature."""
    note = Note.parse(request.note)
    own = tuple(s for s in note.signatures if s.name == request.checkpoint.origin)
    if not own or len(own) == len(note.signatures):
        return request
    return Request.make(request.old_size, request.proof, Note(note.text, own).encode())


def _text(status: int, reason: str) -> Answer:
    return Answer(status, (reason + "\n").encode(), "text/plain; charset=utf-8", reason)
