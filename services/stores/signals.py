"""How a consumer learns that offices recorded new events without asking every office: a
``Signals`` source that waits for the offices named by their recorders. May import: the
standard library and psycopg.

On PostgreSQL every commit that inserts an office's events sends ``NOTIFY ducha_events``
with the office's code (``pgschema``); ``PostgresSignals`` listens on a connection of its own,
outside the shared pool. SQLite has no cross-process signal (``NoSignals``): there the
in-process pump already knows what it wrote, and a consumer in another process polls.

A signal can be lost (the listening connection dropped, the consumer was not yet listening),
so every user of signals also polls the heads now and then (its *safety poll*); and it starts
listening before its first full look, so that nothing committed in between is missed.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod

import psycopg

from services.stores.pgschema import CHANNEL


class Signals(ABC):
    pushes: bool
    """Whether offices are named as they commit (else ``wait`` only waits)."""

    @abstractmethod
    def wait(self, timeout: float) -> set[str]:
        """The offices signalled, as soon as one is (empty after ``timeout`` seconds without
        one). Callers wait in short steps, checking whether they were stopped in between."""

    @abstractmethod
    def close(self) -> None:
        """Let the connection go."""


class NoSignals(Signals):
    pushes = False

    def wait(self, timeout: float) -> set[str]:
        time.sleep(timeout)
        return set()

    def close(self) -> None:
        """Nothing to let go."""


class PostgresSignals(Signals):
    """``LISTEN ducha_events`` on a connection of its own. A dropped connection raises from
    ``wait`` (psycopg's ``OperationalError``): the caller backs off and builds a new one, then
    looks at every office's head, since signals sent meanwhile are lost."""

    pushes = True

    def __init__(self, dsn: str, connect_timeout: int = 10) -> None:
        self._conn = psycopg.connect(dsn, autocommit=True, connect_timeout=connect_timeout)
        self._conn.execute(f"LISTEN {CHANNEL}")

    def wait(self, timeout: float) -> set[str]:
        found = {n.payload for n in self._conn.notifies(timeout=timeout, stop_after=1)}
        if found:  # and whatever else has arrived meanwhile, without waiting
            found.update(n.payload for n in self._conn.notifies(timeout=0.001))
        return found

    def close(self) -> None:
        self._conn.close()
