"""Blue/green upgrades of projections: a projection's new version built beside the live one,
then switched in. May import: the standard library, ``projections.readstore`` and the other
modules of ``projections.runner``.

A projection whose rows change shape or meaning gets a new ``version``. ``upgrade`` builds
that version's tables in a read store of their own beside the live one (the caller makes it:
another PostgreSQL schema in the same database, another SQLite file), replaying every office's
log into them while the live rows go on serving and moving: processes of the old version keep
applying there, those of the new version leave the projection alone
(``Consumers.other_version``). Caught up, it switches (``projections.readstore.switch``): in
one transaction on the live store, holding the lock on all offices so that no consumer is
mid-batch, the projection's live tables are replaced by the new ones, its positions and dead
letters by theirs, and its version is recorded. From then on the old version's processes leave
it alone and the new version's apply whatever followed. If the new version stops at an event
while building, nothing is switched: the live rows stay as they were.

A projection that keeps rows across rebuilds (``kept``: the ledger's subject keys) cannot be
built beside itself, whose leaves need those very keys: it is refused, to be rebuilt in place.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from projections.readstore import ReadStore, Tx
from projections.readstore.switch import switch
from projections.runner.consumers import ALL_OFFICES, SET_VERSION_SQL
from projections.runner.contract import Projection
from projections.runner.pump import Runner

TABLE = re.compile(r"CREATE TABLE IF NOT EXISTS (\w+)", re.IGNORECASE)


class UpgradeError(Exception):
    """The upgrade cannot go on; the live rows are as they were."""


@dataclass(frozen=True)
class Upgraded:
    versions: dict[str, int]
    replayed: int
    caught_up: int


def tables_of(projection: Projection[Any]) -> list[str]:
    return TABLE.findall(projection.ddl)


def upgrade(
    live: Runner,
    beside: ReadStore,
    names: list[str],
    progress: Callable[[int], None] | None = None,
    grant: Callable[[Tx], None] | None = None,
) -> Upgraded:
    """Build ``names`` (this process's versions) in ``beside``, then switch them into the
    live read store; ``grant(tx)`` runs in the switching transaction."""
    chosen = [p for p in live.projections if p.name in names]
    for p in chosen:
        if p.kept:
            raise UpgradeError(
                f"{p.name} keeps {', '.join(p.kept)} across rebuilds and cannot be built beside "
                f"itself: rebuild it in place (ducha projections rebuild {p.name})"
            )
    green = Runner(live.backend, live.offices, beside, chosen, managers=[])
    replayed = green.rebuild(names, None, progress)
    caught_up = green.catch_up_all()
    stopped = [s for s in green.status(only_behind=True) if s.dead_letter]
    if stopped:
        first = stopped[0]
        letter = first.dead_letter
        raise UpgradeError(
            f"{first.consumer} version {dict((p.name, p.version) for p in chosen)[first.consumer]}"
            f" stopped at notification {letter.position if letter else '?'} of {first.office}"
            f" ({letter.error if letter else '?'}: {letter.message if letter else ''}); nothing "
            "was switched, the live rows are as they were"
        )
    tables = [t for p in chosen for t in tables_of(p)]

    def record(tx: Tx) -> None:
        for p in chosen:
            tx.execute(SET_VERSION_SQL, (p.name, p.version))
        if grant is not None:
            grant(tx)

    switch(live.read, beside, tables, names, lambda tx: tx.lock(ALL_OFFICES), record)
    return Upgraded({p.name: p.version for p in chosen}, replayed, caught_up)
