"""A consumer that fails on one event stops for that office only (issue 10 §1, defence in
depth): the command that recorded the event succeeds, the event and the error become a dead
letter, the office's other consumers and every other office go on, nothing is tried again on
every command, a process starts whatever is stopped, and ``retry`` resumes."""

from __future__ import annotations

import logging
import sqlite3
from typing import Any
from uuid import uuid4

import pytest
from eventsourcing.persistence import StoredEvent

from domain.assignment import Assignee
from domain.tasks import Task
from projections import audit
from projections.items import ItemsProjection
from projections.readstore import Table, Tx
from projections.runner import Batch, ConsumerStatus, Projection
from services.bootstrap import Platform, Settings, build_platform
from services.supervision import SupervisionService
from tests.conftest import FixedClock, booted
from tests.projections.test_golden_rebuild import dump
from tests.scenario import HIERARCHY, build_hierarchy, new_item, person

POISON = "毒"
"""Records whose title starts with it are what the injected failures trip on."""

TABLE = Table(
    "poisoned",
    (("office", "TEXT"), ("position", "BIGINT"), ("n", "INTEGER")),
    key=("office", "position"),
)

Row = tuple[str, int, int]


class Poisoned(Projection[list[Row]]):
    """A projection that cannot apply the events of poisoned records while ``broken``: in
    Python (``prepare`` raises) or in the database (a row its CHECK constraint refuses)."""

    name = "poisoned"
    ddl = (
        "CREATE TABLE IF NOT EXISTS poisoned (office TEXT NOT NULL, position BIGINT NOT NULL, "
        "n INTEGER NOT NULL CHECK (n >= 0), PRIMARY KEY (office, position))"
    )

    def __init__(self, where: str = "python") -> None:
        self.where = where
        self.broken = True
        self.batches = 0

    def poisoned(self, state: Any) -> bool:
        return self.broken and str(getattr(state, "title", "")).startswith(POISON)

    def prepare(self, batch: Batch) -> list[Row]:
        self.batches += 1
        if self.where == "python" and any(self.poisoned(e.state) for e in batch.envelopes):
            raise ValueError("cannot project a poisoned record")
        return [
            (e.office, e.position, -1 if self.poisoned(e.state) else 1) for e in batch.envelopes
        ]

    def write(self, tx: Tx, rows: list[Row]) -> None:
        tx.write(TABLE, rows, "DO NOTHING")

    def drop(self, tx: Tx, office: str | None) -> None:
        if office is None:
            tx.execute("DELETE FROM poisoned")
        else:
            tx.execute("DELETE FROM poisoned WHERE office = ?", (office,))


def install(p: Platform, projection: Projection[Any]) -> None:
    p.read.ensure(projection.ddl)
    p.runner.projections.append(projection)


def register(p: Platform, office: str, title: str) -> str:
    return p.supervision.register_item(person(office), office, new_item(title)).id


def last_id(p: Platform, office: str) -> int:
    return p.backend.last_ids([office])[office]


def where(p: Platform, office: str) -> dict[str, ConsumerStatus]:
    return {c.consumer: c for c in p.runner.status(office)}


@pytest.fixture(params=["python", "database"])
def poisoned(request: pytest.FixtureRequest, ducha: Platform) -> Poisoned:
    projection = Poisoned(request.param)
    install(ducha, projection)
    return projection


def test_a_failing_projection_stops_for_its_office_only(
    ducha: Platform, poisoned: Poisoned, caplog: pytest.LogCaptureFixture
) -> None:
    register(ducha, "gansu", "好事项")
    with caplog.at_level(logging.ERROR, logger="projections.runner"):
        bad = register(ducha, "gansu", f"{POISON}事项")  # the command answers: recorded
    failed_at = last_id(ducha, "gansu")
    gansu = where(ducha, "gansu")
    letter = gansu["poisoned"].dead_letter
    assert letter is not None
    assert (letter.position, letter.originator_id, letter.originator_version) == (failed_at, bad, 1)
    assert letter.event_type.endswith("SupervisionItem.Registered")
    assert letter.error in ("ValueError", "IntegrityError", "CheckViolation")
    assert letter.attempts == 1 and letter.first_failed_at == letter.last_failed_at
    assert gansu["poisoned"].position == failed_at - 1  # not past the event
    assert (gansu["poisoned"].lag, gansu["items"].lag, gansu["audit"].lag) == (1, 0, 0)
    assert ducha.views.item("gansu", bad) is not None  # the office's other projections go on
    logged = [r for r in caplog.records if "stopped for office gansu" in r.getMessage()]
    assert logged and f"notification {failed_at}" in logged[0].getMessage()
    assert "poisoned" in logged[0].getMessage()

    # Later events of the office: applied by the others, not by it, and not tried again.
    batches = poisoned.batches
    good = register(ducha, "gansu", "又一个好事项")
    ducha.supervision.act(person("gansu"), "gansu", good, "acknowledge")
    gansu = where(ducha, "gansu")
    assert gansu["poisoned"].position == failed_at - 1 and gansu["poisoned"].lag == 3
    assert gansu["poisoned"].dead_letter.attempts == 1  # type: ignore[union-attr]
    assert poisoned.batches == batches  # no hot loop
    assert ducha.views.item("gansu", good)["status"] == "acknowledged"  # type: ignore[index]

    # Another office keeps flowing, through the same projection too.
    register(ducha, "sichuan", "四川的事项")
    sichuan = where(ducha, "sichuan")
    assert all(c.lag == 0 and c.dead_letter is None for c in sichuan.values())


def test_retry_counts_attempts_then_resumes_once_the_cause_is_gone(
    ducha: Platform, poisoned: Poisoned
) -> None:
    register(ducha, "gansu", f"{POISON}事项")
    register(ducha, "gansu", "好事项")
    first = where(ducha, "gansu")["poisoned"].dead_letter
    assert first is not None
    assert ducha.runner.retry("gansu", "poisoned") == 0  # still failing: stopped again
    again = where(ducha, "gansu")["poisoned"].dead_letter
    assert again is not None
    assert (again.attempts, again.first_failed_at, again.position) == (
        2,
        first.first_failed_at,
        first.position,
    )
    assert ducha.runner.retry("sichuan") == 0  # nothing stopped there

    poisoned.broken = False  # the cause is fixed (a new release, say)
    assert ducha.runner.retry() == 1
    gansu = where(ducha, "gansu")
    assert gansu["poisoned"].dead_letter is None and gansu["poisoned"].lag == 0
    assert ducha.runner.status(only_behind=True) == []
    rows = ducha.read.all("SELECT COUNT(*) AS n FROM poisoned WHERE office = 'gansu'")
    assert rows[0]["n"] == last_id(ducha, "gansu")


def test_a_rebuild_stops_a_failing_projection_at_its_event_and_rebuilds_the_rest(
    ducha: Platform, poisoned: Poisoned
) -> None:
    poisoned.broken = False
    for n in range(3):
        register(ducha, "gansu", f"事项{n}")
    bad = register(ducha, "gansu", f"{POISON}事项")
    register(ducha, "gansu", "之后的事项")
    before = dump(ducha)
    poisoned.broken = True
    assert ducha.runner.rebuild() == sum(ducha.backend.last_ids(["gansu"]).values())
    assert dump(ducha) == before  # every other projection rebuilt whole
    letter = where(ducha, "gansu")["poisoned"].dead_letter
    assert letter is not None and letter.originator_id == bad
    assert where(ducha, "gansu")["poisoned"].position == letter.position - 1
    poisoned.broken = False
    assert ducha.runner.rebuild(["poisoned"], office="gansu") == last_id(ducha, "gansu")
    assert where(ducha, "gansu")["poisoned"].dead_letter is None  # a rebuild starts afresh


def test_a_failing_process_manager_stops_alone_and_retry_carries_its_effects(
    ducha: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    receive = SupervisionService.receive_assignment

    def refusing(self: SupervisionService, actor: Any, office: str, *args: Any) -> Any:
        if office == "sichuan":
            raise RuntimeError("sichuan cannot receive today")
        return receive(self, actor, office, *args)

    monkeypatch.setattr(SupervisionService, "receive_assignment", refusing)
    s, sc = ducha.supervision, person("state-council", "supervisor")
    first = register(ducha, "state-council", "交办四川")
    s.act(sc, "state-council", first, "assign", assignees=[Assignee("office", "sichuan", "lead")])
    second = register(ducha, "state-council", "交办甘肃")
    s.act(sc, "state-council", second, "assign", assignees=[Assignee("office", "gansu", "lead")])
    council = where(ducha, "state-council")
    letter = council["relay"].dead_letter
    assert letter is not None and letter.error == "RuntimeError"
    assert letter.event_type.endswith("Assigned") and letter.originator_id == first
    assert council["items"].lag == 0  # its projections go on
    assert ducha.views.item("state-council", second)["assignments"]  # type: ignore[index]
    gansu_task = str(Task.create_id("state-council", second, "gansu"))
    assert not s.exists("gansu", Task.create_id("state-council", second, "gansu"))  # in order
    # gansu's own process manager is not stopped
    own = register(ducha, "gansu", "甘肃交办")
    s.act(
        person("gansu", "supervisor"),
        "gansu",
        own,
        "assign",
        assignees=[Assignee("office", "baiyin", "lead")],
    )
    assert s.exists("baiyin", Task.create_id("gansu", own, "baiyin"))

    monkeypatch.undo()
    assert ducha.runner.retry(consumer="relay") == 1
    assert s.get("gansu", gansu_task).kind == "task"
    assert s.exists("sichuan", Task.create_id("state-council", first, "sichuan"))
    assert ducha.runner.status(only_behind=True) == []


def test_an_event_nobody_can_decode_stops_every_consumer_of_its_office(
    ducha: Platform,
) -> None:
    register(ducha, "gansu", "之前")
    store = ducha.backend.store("gansu")
    store.recorder.insert_events([StoredEvent(uuid4(), 1, "domain.gone:Vanished.Happened", b"{}")])
    ducha.runner.notify("gansu")  # as the command that saved it would; it does not raise
    gansu = where(ducha, "gansu")
    at = last_id(ducha, "gansu")
    assert {
        n: (c.position, c.dead_letter and c.dead_letter.position) for n, c in gansu.items()
    } == (dict.fromkeys(("items", "audit", "rollup", "tlog", "relay"), (at - 1, at)))
    register(ducha, "sichuan", "四川照常")
    assert all(c.lag == 0 for c in where(ducha, "sichuan").values())


def test_failures_of_the_infrastructure_are_logged_not_dead_lettered(
    ducha: Platform, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    write = ItemsProjection.write
    calls: list[int] = []

    def locked_once(self: ItemsProjection, tx: Tx, rows: Any) -> None:
        calls.append(1)
        if len(calls) == 1:
            raise sqlite3.OperationalError("database is locked")
        write(self, tx, rows)

    monkeypatch.setattr(ItemsProjection, "write", locked_once)
    with caplog.at_level(logging.ERROR, logger="projections.runner"):
        first = register(ducha, "gansu", "第一个")  # answers: the event is recorded
    gansu = where(ducha, "gansu")
    assert all(c.dead_letter is None for c in gansu.values())
    assert gansu["items"].lag == 1 and gansu["audit"].lag == 1  # one transaction: both wait
    assert any("stays behind" in r.getMessage() for r in caplog.records)
    register(ducha, "gansu", "第二个")  # the next command catches up
    assert ducha.views.item("gansu", first) is not None
    assert ducha.runner.status(only_behind=True) == []


def test_deliver_dead_letters_a_poison_event_and_raises_infrastructure_failures(
    ducha: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Kafka workers' path: a poison event must not bring the same messages back forever."""
    poisoned = Poisoned()
    install(ducha, poisoned)
    ducha.supervision.listeners.clear()  # as with DUCHA_BUS=kafka: workers apply
    register(ducha, "gansu", "好事项")
    register(ducha, "gansu", f"{POISON}事项")
    register(ducha, "gansu", "又一个")
    notes = list(ducha.backend.store("gansu").recorder.select_notifications(1, 100))
    assert ducha.runner.deliver("gansu", notes) == 3  # no raise: the worker commits, moves on
    gansu = where(ducha, "gansu")
    assert gansu["poisoned"].dead_letter is not None and gansu["poisoned"].position == 1
    assert gansu["items"].lag == 0
    assert ducha.runner.deliver("gansu", notes) == 0  # redelivered: nothing, no new attempt
    assert gansu["poisoned"].dead_letter.attempts == 1

    register(ducha, "sichuan", "四川")
    monkeypatch.setattr(
        ItemsProjection, "write", lambda *a: (_ for _ in ()).throw(ConnectionError("gone"))
    )
    sichuan = list(ducha.backend.store("sichuan").recorder.select_notifications(1, 100))
    with pytest.raises(ConnectionError):  # the worker backs off and receives them again
        ducha.runner.deliver("sichuan", sichuan)
    assert all(c.dead_letter is None for c in where(ducha, "sichuan").values())


def test_status_shows_every_consumer_of_every_office(ducha: Platform) -> None:
    ducha.supervision.listeners.clear()
    register(ducha, "gansu", "未处理")
    everything = ducha.runner.status()
    assert [(c.office, c.consumer) for c in everything] == [
        (office, consumer) for office, *_ in HIERARCHY for consumer in ducha.runner.consumers
    ]
    behind = ducha.runner.status(only_behind=True)
    assert {(c.office, c.lag) for c in behind} == {("gansu", 1)}
    shape = behind[0].as_dict()
    assert set(shape) == {"office", "consumer", "kind", "position", "last", "lag", "dead_letter"}
    assert shape["kind"] in ("projection", "process-manager")
    assert ducha.runner.catch_up_all() == 1
    assert ducha.runner.status(only_behind=True) == []


def test_a_process_starts_whatever_consumer_is_stopped(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    crashed = build_platform(settings, clock=FixedClock())
    build_hierarchy(crashed)
    crashed.supervision.listeners.clear()  # recorded while nothing applied them
    bad = register(crashed, "gansu", f"{POISON}事项")
    fine = register(crashed, "sichuan", "四川的事项")
    crashed.close()

    summarize = audit.summarize

    def failing(event: Any) -> str:
        if str(getattr(event, "title", "")).startswith(POISON):
            raise ValueError("no summary for this one")
        return summarize(event)

    monkeypatch.setattr(audit, "summarize", failing)
    started = booted(settings)
    try:
        gansu = where(started, "gansu")
        assert gansu["audit"].dead_letter is not None
        assert gansu["audit"].dead_letter.originator_id == bad
        assert started.views.item("gansu", bad) is not None
        assert started.views.item("sichuan", fine) is not None
        assert started.runner.catch_up_all() == 0  # a stopped consumer is not tried again
        monkeypatch.undo()
        assert started.runner.retry() == 1
        assert started.runner.status(only_behind=True) == []
        caught_up = dump(started)
        started.runner.rebuild()
        assert dump(started) == caught_up
    finally:
        started.close()


def test_a_process_starts_even_if_an_office_store_cannot_be_read(
    sqlite_settings: Settings,
) -> None:
    first = build_platform(sqlite_settings, clock=FixedClock())
    build_hierarchy(first)
    register(first, "gansu", "甘肃的事项")
    first.close()
    (sqlite_settings.data_dir / "offices" / "sichuan.sqlite").unlink()  # lost, say
    started = booted(sqlite_settings)
    try:
        unreadable = {c.office for c in started.runner.status(only_behind=True)}
        assert unreadable == {"sichuan"}
        assert {c.last for c in started.runner.status() if c.office == "sichuan"} == {None}
        assert started.runner.status("gansu")[0].lag == 0
    finally:
        started.close()
