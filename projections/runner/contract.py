"""What a consumer of the offices' logs implements and receives: an event in its ``Envelope``,
a ``Batch`` of one office's consecutive events, a ``Projection`` (rows written with the
tracking position) and a ``ProcessManager`` (effects on other offices' stores). May import:
the standard library, ``eventsourcing.domain`` and ``projections.readstore`` (``Tx``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from functools import cached_property
from typing import Any, Generic, NamedTuple, TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate

from projections.readstore import Tx


class Envelope(NamedTuple):
    """An event as consumers see it: where it was recorded, and the record's state after it;
    ``body``: the event's body exactly as the store holds it (empty where the caller had no
    stored bytes), which the ledger hashes into its leaves."""

    office: str
    position: int
    event: Any
    state: Aggregate | None
    body: bytes = b""

    @property
    def source(self) -> str:
        """The event's identity across the platform: office / aggregate id / version."""
        return f"{self.office}/{self.event.originator_id}/{self.event.originator_version}"


class Decoded(tuple[int, Any]):
    """``(position, event)`` as the runner decodes it from a notification, carrying ``body``
    (the stored bytes, not a re-encoding) beside it: it unpacks as the pair it always was."""

    body: bytes

    def __new__(cls, position: int, event: Any, body: bytes = b"") -> Decoded:
        decoded = super().__new__(cls, (position, event))
        decoded.body = body
        return decoded


def body_of(item: tuple[int, Any]) -> bytes:
    """The stored body a decoded pair carries (empty for a plain pair)."""
    return item.body if isinstance(item, Decoded) else b""


class Batch:
    """Consecutive events of one office, in order, as projections receive them."""

    def __init__(self, envelopes: list[Envelope]) -> None:
        self.envelopes = envelopes

    def since(self, done: int) -> Batch:
        """The part of the batch after position ``done``."""
        if not self.envelopes or self.envelopes[0].position > done:
            return self
        return Batch([e for e in self.envelopes if e.position > done])

    @cached_property
    def records(self) -> dict[UUID, tuple[Any, int]]:
        """Each record the batch touches: its state after its last event in the batch, and
        the position of its first. (States change in place, so an earlier envelope often
        carries the same object; after a cache eviction it may carry an older one.)"""
        records: dict[UUID, tuple[Any, int]] = {}
        for e in self.envelopes:
            known = records.get(record := e.event.originator_id)
            records[record] = (e.state, known[1] if known else e.position)
        return records


Prepared = TypeVar("Prepared")


class Projection(ABC, Generic[Prepared]):
    name: str
    ddl: str
    version: int = 1
    """Bumped when the rows the projection writes change shape or meaning: a read store built
    by another version is left alone until ``ducha projections upgrade`` has built this
    version's rows beside it and switched (``projections.runner.upgrade``)."""
    kept: tuple[str, ...] = ()
    """Tables of ``ddl`` whose rows a rebuild keeps (``drop`` leaves them): such a projection
    cannot be built beside itself, only rebuilt in place."""
    added_columns: tuple[tuple[str, str, str], ...] = ()
    """``(table, column, definition)`` added since ``ddl`` first made its tables: a table made
    by an earlier version gains them when the projection starts."""

    @abstractmethod
    def prepare(self, batch: Batch) -> Prepared:
        """What a batch writes, computed without I/O and without keeping references to the
        states, which move on with the next batch."""

    @abstractmethod
    def write(self, tx: Tx, prepared: Prepared) -> None:
        """Store what ``prepare`` computed, in the transaction that moves the position."""

    def handle_batch(self, tx: Tx, batch: Batch) -> None:
        self.write(tx, self.prepare(batch))

    @abstractmethod
    def drop(self, tx: Tx, office: str | None) -> None:
        """Delete the rows built from ``office``'s events (every office's if None)."""


class ProcessManager(ABC):
    name: str

    def concerns(self, event: Any) -> bool:
        """Whether ``handle`` may act on this event (others are passed over cheaply)."""
        return True

    @abstractmethod
    def handle(self, envelope: Envelope) -> None: ...
