"""Rebuilding projections in several processes (``ducha projections rebuild --jobs N``): the
parent drops the chosen projections' rows for every office once, then N spawned processes each
replay a share of the offices, shares balanced by the offices' events, each pipelined as a
one-process rebuild is (``Rebuilding.replay``: consecutive offices grouped into
transactions, each office's lock keeping live consumers out). May import: the standard
library, ``services.bootstrap`` (each process builds its own platform after it starts:
nothing opened before a fork is shared, DESIGN §6.6) and ``projections.runner``.

Children report to the parent through one queue: events replayed (the parent's one progress
bar), each office whose last transaction committed, and a failure. A child that fails, or
dies, leaves its other offices not rebuilt; the parent names them (the stores are the truth:
``--office CODE`` or another rebuild fills them). On SQLite the read store is one file: the
processes take turns on its write lock, each writing a group of offices in one transaction
once it is projected, queued on a lock file beside it (``projections.writer.file_gate``).
"""

from __future__ import annotations

import multiprocessing
import queue
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.process import BaseProcess
from typing import Any

from services.bootstrap import Platform, Settings, build_platform

Messages = Any
"""A ``multiprocessing`` queue of (kind, job, value): ("events", n, count), ("office", n,
code), ("failed", n, "Error: message")."""


@dataclass
class Outcome:
    """What the jobs did: events replayed, offices whose rows are whole again, failures."""

    applied: int = 0
    finished: set[str] = field(default_factory=set)
    failures: dict[int, str] = field(default_factory=dict)
    not_rebuilt: list[str] = field(default_factory=list)


def shares(sizes: dict[str, int], jobs: int) -> list[list[str]]:
    """Offices split into at most ``jobs`` shares of about equal events: the largest office
    first, each to the share with the fewest events so far; each share in the given order."""
    totals: list[int] = [0] * jobs
    parts: list[list[str]] = [[] for _ in range(jobs)]
    for code in sorted(sizes, key=lambda c: -sizes[c]):
        lightest = min(range(jobs), key=totals.__getitem__)
        parts[lightest].append(code)
        totals[lightest] += max(sizes[code], 1)  # an empty office still costs a little
    rank = {code: n for n, code in enumerate(sizes)}
    return [sorted(part, key=rank.__getitem__) for part in parts if part]


def replay_share(
    settings: Settings, names: list[str] | None, offices: list[str], messages: Messages, job: int
) -> None:
    """A child: its own platform, then its share of offices replayed (rows already dropped)."""
    platform: Platform | None = None
    try:
        platform = build_platform(settings, catch_up=False)
        platform.runner.replay(
            names,
            offices,
            progress=lambda n: messages.put(("events", job, n)),
            finished=lambda code: messages.put(("office", job, code)),
        )
    except BaseException as e:
        messages.put(("failed", job, f"{type(e).__name__}: {e}"))
        raise SystemExit(1) from None
    finally:
        if platform is not None:
            platform.close()


JOB: Callable[[Settings, list[str] | None, list[str], Messages, int], None] = replay_share
"""What each child runs (a module-level function, found by name in the spawned process)."""


def rebuild_in_jobs(
    platform: Platform,
    jobs: int,
    names: list[str] | None = None,
    progress: Callable[[int], None] | None = None,
) -> Outcome:
    """Drop the named projections (or all) for every office, then replay the offices in
    ``jobs`` processes. Returns what was done; ``not_rebuilt`` lists what was not."""
    offices = [o.code for o in platform.registry.all()]
    sizes = platform.backend.last_ids(offices)
    platform.runner.drop(names)
    context = multiprocessing.get_context("spawn")
    messages = context.Queue()
    children = [
        context.Process(
            target=JOB,
            args=(platform.settings, names, share, messages, n),
            name=f"ducha-rebuild-{n + 1}",
        )
        for n, share in enumerate(shares(sizes, jobs))
    ]
    outcome = Outcome()
    try:
        for child in children:
            child.start()
        collect(children, messages, outcome, progress)
    finally:
        for child in children:
            if child.is_alive():  # the parent was interrupted
                child.terminate()
            child.join()
    for n, child in enumerate(children):
        if child.exitcode != 0 and n not in outcome.failures:
            outcome.failures[n] = f"ended with exit code {child.exitcode}"
    outcome.not_rebuilt = [code for code in offices if code not in outcome.finished]
    return outcome


def collect(
    children: Sequence[BaseProcess],
    messages: Messages,
    outcome: Outcome,
    progress: Callable[[int], None] | None,
) -> None:
    """Take the children's messages until every child has ended and the queue is empty."""
    ended = False
    while True:
        try:
            kind, job, value = messages.get(timeout=0.1)
        except queue.Empty:
            if ended:
                return
            ended = not any(child.is_alive() for child in children)
            continue  # once all have ended: one more look for what they flushed on exit
        if kind == "events":
            outcome.applied += value
            if progress is not None:
                progress(value)
        elif kind == "office":
            outcome.finished.add(value)
        elif kind == "failed":
            outcome.failures[job] = value
