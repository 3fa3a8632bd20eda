"""Consumers that follow every office's notification log and apply each event exactly once: the
package's names are importable from here as they always were. ``contract`` holds what a
consumer implements and receives (``Envelope``, ``Batch``, ``Projection``,
``ProcessManager``); ``failures`` how failures are told apart and kept (``infrastructure``,
``Failure``, ``Unprepared``, ``ConsumerStatus``); ``states`` the replayed states
(``States``) and a rebuild's settings (``bulk``); ``consumers`` the exactly-once step
(``Consumers``); ``rebuild`` rebuilding (``Rebuilding``); ``pump`` the ``Runner`` itself. The
tunables below live here, and the modules read them here when they run, so one assignment
changes them everywhere. May import: the standard library, ``eventsourcing``, psycopg's error
classes, ``projections.readstore``, ``projections.writer``, and from the services only
``services.stores`` (``Backend``, ``TenantStore``) and ``services.errors``.

A *projection* writes read-model rows; its tracking position per (projection, office) is
written in the same transaction as the rows. A *process manager* writes to other offices'
stores; its effects are idempotent by the source event's identity, and its position is
advanced after the effect, so a crash in between repeats an effect that changes nothing.
The same code serves the embedded pump (after every command) and Kafka workers.

**Failures.** A consumer that fails on an event stops for that office only: the event, the
consumer and the error go to the read store's ``dead_letters``, its position stays before the
event, and the failure is logged. Nothing else stops: not the command that recorded the event,
not the office's other consumers (each projection is a consumer of its own; a batch is one
transaction, and if it fails, each projection applies it alone under a savepoint, event by
event up to the one it fails on), not other offices. Until ``retry`` the stopped consumer
applies nothing more there (order matters) and is not tried again on every command. A failure
of the infrastructure (the database unreachable, locked, deadlocked; a conflict) is no fault
of the event: nothing is dead-lettered, the pump logs it and the office catches up on its next
command, start or retry, and ``deliver`` raises it so that a Kafka worker receives the
messages again.

**Rebuilds and live consumers exclude each other per office.** Every transaction that moves
an office's projections holds that office's lock (and a shared lock on all offices); a rebuild
drops and refills an office in one transaction holding it, so a live consumer — this
process's pump or another process's — waits, then applies only what follows. Dropping every
office's rows at once takes the lock on all offices for that moment. A consumer applies a
batch only where it follows its position, so a batch read before a drop is never applied after
it. A rebuild replays whole logs, so it is pipelined: this thread reads, decodes and projects
the next batch while a writer thread stores the last one (``projections.writer``).
"""

from projections.runner.consumers import ALL_OFFICES, Consumers, office_lock
from projections.runner.contract import Batch, Envelope, Prepared, ProcessManager, Projection
from projections.runner.failures import (
    AT_ONCE,
    INFRASTRUCTURE,
    ConsumerStatus,
    Failure,
    Unprepared,
    infrastructure,
)
from projections.runner.pump import Runner
from projections.runner.rebuild import Rebuilding
from projections.runner.states import States, bulk

BATCH = 5000
REBUILD_BATCH = 500
"""Smaller: the writer thread starts sooner and the last batch, which nothing overlaps, is short."""
REBUILD_STATES = 20_000
PUMP_OFFICES_KEPT = 32
PUMP_STATES_PER_OFFICE = 1000

__all__ = [
    "ALL_OFFICES",
    "AT_ONCE",
    "BATCH",
    "INFRASTRUCTURE",
    "PUMP_OFFICES_KEPT",
    "PUMP_STATES_PER_OFFICE",
    "REBUILD_BATCH",
    "REBUILD_STATES",
    "Batch",
    "ConsumerStatus",
    "Consumers",
    "Envelope",
    "Failure",
    "Prepared",
    "ProcessManager",
    "Projection",
    "Rebuilding",
    "Runner",
    "States",
    "Unprepared",
    "bulk",
    "infrastructure",
    "office_lock",
]
