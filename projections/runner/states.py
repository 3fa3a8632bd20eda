"""Each record's state after each event, as a batch of events is replayed (``States``, a
bounded cache that replays from the store what it forgot), and the interpreter settings for
a rebuild's length (``bulk``). May import: the standard library, ``eventsourcing.domain``
and ``services.stores`` (``TenantStore``, to read a record's history).
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import islice
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from services.stores import TenantStore


class States:
    """The state of each aggregate after each event, replayed in order, loaded when needed."""

    def __init__(self, store: TenantStore, size: int) -> None:
        self.store = store
        self.size = size
        self.cache: dict[UUID, Aggregate] = {}

    def after(self, event: Any) -> Aggregate | None:
        aggregate_id, version = event.originator_id, event.originator_version
        cache = self.cache
        state: Aggregate | None
        if version == 1:
            state = event.mutate(None)
        elif (known := cache.pop(aggregate_id, None)) is not None and known.version == version - 1:
            state = event.mutate(known)
        else:
            state = self.store.repository.get(aggregate_id, version=version)
        cache[aggregate_id] = state  # (re)inserted last: the least recently used come first
        if len(cache) > self.size:  # forget the oldest quarter at once (cheaper than one by one)
            for old in list(islice(cache, max(1, len(cache) // 4))):
                del cache[old]
        return state


@contextmanager
def bulk() -> Iterator[None]:
    """Settings for a rebuild's length, put back afterwards. The garbage collector runs less
    often: a rebuild allocates millions of objects that live for one batch and are freed by
    reference counting, and each collection would walk every object still alive. Threads
    switch more often: the writer thread, back from a database call, would otherwise wait up
    to 5 ms for the GIL each time, and it makes hundreds of calls."""
    thresholds, interval = gc.get_threshold(), sys.getswitchinterval()
    gc.set_threshold(max(thresholds[0], 10_000), *thresholds[1:])
    sys.setswitchinterval(min(interval, 0.0002))
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        sys.setswitchinterval(interval)
