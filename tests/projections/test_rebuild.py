"""Rebuilds and long catch-ups: batches that split histories, evicted states, a racing consumer."""

from __future__ import annotations

from typing import Any

import pytest

from projections import runner
from projections.readstore import Tx
from projections.runner import Projection, Runner, States
from services.bootstrap import Platform
from tests.projections.test_flow import assign_chain
from tests.projections.test_golden_rebuild import dump
from tests.scenario import new_item, person


def interleaved_backlog(p: Platform, office: str, items: int) -> list[str]:
    """Items acted on in turns, so that one batch keeps coming back to every record."""
    s = p.supervision
    ids = [s.register_item(person(office), office, new_item(f"事项{n}")).id for n in range(items)]
    for action, params in (
        ("acknowledge", {}),
        ("report-progress", {"text": "进展", "percent": 40}),
    ):
        for record in ids:
            s.act(person(office), office, record, action, **params)
    return ids


def last_id(p: Platform, office: str) -> int:
    return p.backend.last_ids([office])[office]


def test_a_backlog_wider_than_the_state_cache_is_applied_exactly(
    ducha: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    ducha.supervision.listeners.clear()  # the pump is down: a backlog builds up
    ids = interleaved_backlog(ducha, "gansu", 6)
    monkeypatch.setattr(runner, "PUMP_STATES_PER_OFFICE", 2)
    ducha.runner._states.clear()
    ducha.runner.catch_up_all()  # one batch, states evicted and reloaded inside it
    caught_up = dump(ducha)
    versions = {r[1]: r[17] for r in caught_up["items"] if r[0] == "gansu"}
    assert versions == dict.fromkeys(ids, 3)
    monkeypatch.undo()
    ducha.runner.rebuild()
    assert dump(ducha) == caught_up


def test_a_rebuild_takes_over_from_a_consumer_that_raced_it(
    ducha: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process applies the start of a batch right after the rebuild's drop: the
    rebuild applies the rest, from states read afresh, and nothing twice or not at all."""
    assign_chain(ducha)
    interleaved_backlog(ducha, "gansu", 3)
    expected = dump(ducha)
    raced: list[int] = []
    write_prepared = Runner._write_prepared

    def racing(
        self: Runner,
        office: str,
        chosen: list[Projection[Any]],
        after: int,
        events: list[tuple[int, Any]],
        prepared: list[Any],
        tx: Tx,
    ) -> None:
        if office == "gansu" and len(events) > 2 and not raced:
            first_two = self._batch(office, States(self.backend.store(office), 10), events[:2])
            for projection in chosen:
                projection.handle_batch(tx, first_two)
            tx.set_positions(office, {p.name: events[1][0] for p in chosen})
            raced.append(events[1][0])
        write_prepared(self, office, chosen, after, events, prepared, tx)

    monkeypatch.setattr(runner, "REBUILD_BATCH", 4)
    monkeypatch.setattr(Runner, "_write_prepared", racing)
    ducha.runner.rebuild()
    assert raced  # the race happened
    assert dump(ducha) == expected
    with ducha.read.transaction() as tx:
        positions = tx.positions("gansu")
    assert {name: positions[name] for name in ("items", "audit", "rollup")} == dict.fromkeys(
        ("items", "audit", "rollup"), last_id(ducha, "gansu")
    )


def test_rebuilding_one_projection_leaves_the_others_and_the_relay_alone(
    ducha: Platform,
) -> None:
    assign_chain(ducha)
    before = dump(ducha)
    with ducha.read.transaction() as tx:
        positions = tx.positions("gansu")
        tx.execute("DELETE FROM items WHERE office = 'gansu'")  # damage one read model
        tx.execute("UPDATE audit SET summary = '改过' WHERE office = 'gansu'")  # and another
    applied = ducha.runner.rebuild(["items"], office="gansu")
    assert applied == last_id(ducha, "gansu")
    after = dump(ducha)
    assert after["items"] == before["items"]  # rebuilt
    summaries = ducha.read.all("SELECT summary FROM audit WHERE office = 'gansu'")
    assert {r["summary"] for r in summaries} == {"改过"}  # not touched
    with ducha.read.transaction() as tx:
        assert tx.positions("gansu") == positions  # the relay's and the others' positions too
