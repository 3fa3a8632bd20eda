"""``Follower``: keeps a long-running process's read side current with what *other* processes
recorded and did not apply (a command that crashed between its commit and its read side, a
CLI command whose pump failed). May import: the standard library, ``projections.runner``
(the ``Runner``) and ``services.stores`` (``Backend``, signals).

On the embedded bus every process's pump applies what it itself records, so the follower is a
safety net, started by ``ducha serve`` in the background (the server answers at once): it first
looks at every office's head and catches up those behind, then, on PostgreSQL, listens for the
offices that commit (``NOTIFY``) and catches up those still behind a moment later — by then the
committing process has usually applied its own events, and the follower finds nothing to do —
with a slow safety poll of every head for signals lost while the connection was down. SQLite
has no signal between processes: there the follower looks once, at start.

A Kafka worker runs one too, not listening (``listen=False``): Kafka brings it the events, in
parallel across the group's members, so its follower must not take that work over. Every
``safety_poll`` seconds it looks at every office and catches up only those *stuck*: behind at
two looks in a row without having moved (what the transport lost — a broker that restarted
empty, say — in an office that records nothing more; an office that does record more has its
gap filled on its next message anyway).
"""

from __future__ import annotations

import logging
import threading
import time

from projections.runner import Runner
from services.stores import PLATFORM, Backend, Signals

log = logging.getLogger(__name__)

SAFETY_POLL_SECONDS = 60.0
SETTLE_SECONDS = 1.0
"""How long a signalled office is left to the process that committed, before looking."""
TICK_SECONDS = 0.5


class Follower(threading.Thread):
    def __init__(
        self,
        runner: Runner,
        backend: Backend,
        safety_poll: float = SAFETY_POLL_SECONDS,
        settle: float = SETTLE_SECONDS,
        listen: bool = True,
    ) -> None:
        super().__init__(name="read-side-follower", daemon=True)
        self.runner = runner
        self.backend = backend
        self.safety_poll = safety_poll
        self.settle = settle
        self.listen = listen
        self.stopped = threading.Event()
        self.caught_up = threading.Event()
        """Set once the first look at every office is done (tests and health checks)."""

    def run(self) -> None:
        backoff = 1.0
        while not self.stopped.is_set():
            signals: Signals | None = None
            try:
                if not self.listen:
                    self._unstick()
                    continue
                signals = self.backend.signals()  # listen before looking: nothing falls between
                self._look_everywhere()
                if not signals.pushes:
                    return  # SQLite: the in-process pumps know the rest
                self._follow(signals)
            except Exception as e:
                log.warning("follower: %r; looking again in %.0f s", e, backoff)
                self.stopped.wait(backoff)
                backoff = min(backoff * 2, 60.0)
            finally:
                if signals is not None:
                    signals.close()

    def _look_everywhere(self) -> None:
        start = time.monotonic()
        applied = self.runner.catch_up_all()
        self.caught_up.set()
        if applied:
            log.warning(
                "follower: applied %d events that no process had applied (%.1f s)",
                applied,
                time.monotonic() - start,
            )

    def _unstick(self) -> None:
        """Every ``safety_poll`` seconds: catch up the offices behind now that were behind at
        the last look at the same position."""
        before: dict[str, tuple[int, int]] = {}
        while not self.stopped.wait(self.safety_poll):
            now = self.runner.lagging(list(self.runner.offices()))
            stuck = sorted(
                o for o, (position, _) in now.items() if before.get(o, (-1,))[0] == position
            )
            if stuck:
                log.warning("follower: offices stuck behind, caught up from the stores: %s", stuck)
                self.runner.catch_up_offices(stuck)
            before = now
            self.caught_up.set()

    def _follow(self, signals: Signals) -> None:
        last_look = time.monotonic()
        while not self.stopped.is_set():
            named = signals.wait(TICK_SECONDS)
            if named:
                self.stopped.wait(self.settle)
                named |= signals.wait(0.001)
                offices = [o for o in named if o != PLATFORM]  # the registry's own store
                if offices:
                    self.runner.catch_up_offices(sorted(offices))
            if time.monotonic() - last_look >= self.safety_poll:
                self._look_everywhere()
                last_look = time.monotonic()

    def stop(self) -> None:
        self.stopped.set()
