"""The read store's bulk writes and positions behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from projections.readstore import PostgresReadStore, ReadStore, SQLiteReadStore, Table
from services.stores.pgschema import open_shared_pool

NOTES = Table(
    "notes",
    (
        ("office", "TEXT"),
        ("id", "TEXT"),
        ("text", "TEXT"),
        ("count", "BIGINT"),
        ("parent", "TEXT"),
        ("first_seen", "INTEGER"),
    ),
    key=("office", "id"),
    nullable=("parent",),
)
UPSERT = NOTES.update_all(but=("first_seen",))
ADD = "DO UPDATE SET count = notes.count + excluded.count"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def read(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ReadStore]:
    store: ReadStore
    if request.param == "sqlite":
        store = SQLiteReadStore(tmp_path / "read.sqlite")
    else:
        store = PostgresReadStore(open_shared_pool(request.getfixturevalue("pg_url"), 3))
    store.ensure(NOTES.create())
    yield store
    store.close()
    if isinstance(store, PostgresReadStore):
        store.pool.close()


def rows(read: ReadStore) -> list[tuple[object, ...]]:
    return [tuple(r.values()) for r in read.all("SELECT * FROM notes ORDER BY office, id")]


def test_rows_arrive_whole_with_text_numbers_and_nulls(read: ReadStore) -> None:
    written = [
        ("甘肃", f"{n:05}", f'第{n}条 "引号" \\ 反斜杠\n换行\t制表', n * 10**10, None, n)
        for n in range(3000)
    ]
    written[7] = ("甘肃", "00007", "", 0, "上级", 7)
    with read.transaction() as tx:
        tx.write(NOTES, written)
    assert rows(read) == written


MANY = 100  # past FEW_ROWS: PostgreSQL copies into a stage and upserts from there


@pytest.mark.parametrize("n", [1, MANY])
def test_an_upsert_replaces_all_but_the_kept_columns(read: ReadStore, n: int) -> None:
    old = [("a", f"{i:03}", "旧", i, None, i) for i in range(n)]
    kept = [("a", f"k{i:03}", "留", i, None, i) for i in range(n)]
    new = [("a", f"{i:03}", "新", i + 5, "p", 999) for i in range(n)]
    with read.transaction() as tx:
        tx.write(NOTES, old + kept, UPSERT)
        tx.write(NOTES, new, UPSERT)  # the same table again, in the same transaction
    updated = [("a", f"{i:03}", "新", i + 5, "p", i) for i in range(n)]
    assert rows(read) == updated + kept


@pytest.mark.parametrize("n", [1, MANY])
def test_do_nothing_keeps_the_first_row(read: ReadStore, n: int) -> None:
    with read.transaction() as tx:
        tx.write(NOTES, [("a", f"{i:03}", "先", i, None, i) for i in range(n)], "DO NOTHING")
    with read.transaction() as tx:
        again = [("a", f"{i:03}", "后", -1, None, -1) for i in range(n)]
        tx.write(NOTES, [*again, ("a", "new", "新", 3, None, 3)], "DO NOTHING")
    first = [("a", f"{i:03}", "先", i, None, i) for i in range(n)]
    assert rows(read) == [*first, ("a", "new", "新", 3, None, 3)]


@pytest.mark.parametrize("n", [1, MANY])
def test_counters_add_up_across_writes(read: ReadStore, n: int) -> None:
    for delta in (3, -1, 5):
        with read.transaction() as tx:
            tx.write(NOTES, [("a", f"c{i:03}", "", delta * i, None, 0) for i in range(n)], ADD)
    assert rows(read) == [("a", f"c{i:03}", "", 7 * i, None, 0) for i in range(n)]


def test_a_plain_insert_of_an_existing_key_fails_and_leaves_nothing(read: ReadStore) -> None:
    with read.transaction() as tx:
        tx.write(NOTES, [("a", "1", "原", 1, None, 1)])
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"), read.transaction() as tx:
        tx.write(NOTES, [("a", "2", "新", 2, None, 2)])
        tx.write(NOTES, [("a", "1", "冲突", 3, None, 3)])
    assert rows(read) == [("a", "1", "原", 1, None, 1)]  # the whole transaction rolled back


def test_nothing_to_write_is_no_statement(read: ReadStore) -> None:
    with read.transaction() as tx:
        tx.write(NOTES, [], UPSERT)
        tx.write(NOTES, [])
    assert rows(read) == []


def test_positions_are_set_together_and_forgotten_per_office_or_everywhere(
    read: ReadStore,
) -> None:
    with read.transaction() as tx:
        tx.set_positions("a", {"items": 4, "audit": 4, "relay": 9})
        tx.set_positions("b", {"items": 2, "audit": 2})
        tx.set_positions("a", {"items": 6})
        assert tx.positions("a") == {"items": 6, "audit": 4, "relay": 9}
        tx.forget_positions(["items", "audit"], "a")
        assert tx.positions("a") == {"relay": 9}
        assert tx.positions("b") == {"items": 2, "audit": 2}
        tx.forget_positions(["items"])
        assert tx.positions("b") == {"audit": 2}
        tx.set_positions("b", {})  # nothing to say, nothing said
        assert tx.position("audit", "b") == 2


@pytest.mark.parametrize("n", [1, MANY])
def test_text_no_database_can_hold_is_written_as_a_replacement_character(
    read: ReadStore, n: int
) -> None:
    """NUL (PostgreSQL refuses it in text; SQLite's JSON cuts the text short at it) and lone
    surrogates (not UTF-8) come back as U+FFFD, in bulk and in plain statements alike."""
    with read.transaction() as tx:
        tx.write(NOTES, [("a", f"{i:03}", "前\x00后\ud800", i, "\x00", i) for i in range(n)])
        tx.execute(
            "INSERT INTO notes VALUES (?, ?, ?, ?, ?, ?)", ("b", "x", "一\x00二", 0, None, 0)
        )
    assert rows(read) == [
        *[("a", f"{i:03}", "前\ufffd后\ufffd", i, "\ufffd", i) for i in range(n)],
        ("b", "x", "一\ufffd二", 0, None, 0),
    ]
    found = read.all("SELECT id FROM notes WHERE text = ?", ("一\x00二",))  # a query's too
    assert found == [{"id": "x"}]


def test_a_backslash_that_only_looks_like_an_escaped_nul_is_kept(read: ReadStore) -> None:
    with read.transaction() as tx:
        tx.write(NOTES, [("a", "1", "\\u0000", 1, None, 1)])
    assert rows(read) == [("a", "1", "\\u0000", 1, None, 1)]


def test_savepoints_roll_back_their_part_alone(read: ReadStore) -> None:
    with read.transaction() as tx:
        tx.write(NOTES, [("a", "1", "留", 1, None, 1)])
        with pytest.raises(Exception, match=r"(?i)unique|duplicate"), tx.savepoint():
            tx.write(NOTES, [("a", "2", "去", 2, None, 2)])
            tx.write(NOTES, [("a", "1", "冲突", 3, None, 3)])
        tx.write(NOTES, [("a", "3", "后", 3, None, 3)])  # the transaction goes on
    assert rows(read) == [("a", "1", "留", 1, None, 1), ("a", "3", "后", 3, None, 3)]


def test_dead_letters_stop_a_consumer_and_count_attempts_on_the_same_event(
    read: ReadStore,
) -> None:
    from projections.readstore import DeadLetter

    def letter(position: int, at: str) -> DeadLetter:
        return DeadLetter("a", "items", position, "t", "id", 1, "E", "m", at, at, 1)

    with read.transaction() as tx:
        tx.set_positions("a", {"items": 4, "audit": 9})
        tx.record_dead_letter(letter(5, "t1"))
        tx.record_dead_letter(letter(5, "t2"))
    tracking = read.tracking("a")
    assert (tracking.positions, tracking.dead) == ({"items": 4, "audit": 9}, {"items"})
    with read.transaction() as tx:
        (found,) = tx.dead_letters("a")
        assert (found.attempts, found.first_failed_at, found.last_failed_at) == (2, "t1", "t2")
        tx.record_dead_letter(letter(7, "t3"))  # another event: counted afresh
        (found,) = tx.dead_letters(consumers=["items"])
        assert (found.position, found.attempts, found.first_failed_at) == (7, 1, "t3")
        assert tx.start_retrying("a", None) == 1
    assert read.tracking("a").dead == frozenset()  # lifted while it is tried again
    with read.transaction() as tx:
        assert tx.end_retrying("a", None) == 0  # it did not get past: stopped again
        assert tx.dead_letters()[0].retrying is False
        tx.start_retrying(None, ["items"])
        tx.set_positions("a", {"items": 7})
        assert tx.end_retrying(None, ["items"]) == 1
        assert tx.dead_letters() == []


def test_the_sqlite_log_shrinks_back_after_a_large_transaction(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rebuild's transactions fill the write-ahead log; once it is copied back into the file,
    the next write cuts it to the limit, instead of keeping its largest size for good."""
    import projections.readstore.sqlite as sqlite_store

    monkeypatch.setattr(sqlite_store, "WAL_LIMIT", 64 * 1024)
    read = SQLiteReadStore(tmp_path / "read.sqlite")
    log = tmp_path / "read.sqlite-wal"
    try:
        read.ensure(NOTES.create())
        with read.transaction() as tx:  # several megabytes in one transaction
            tx.write(NOTES, [("o", str(n), "长" * 400, n, None, n) for n in range(5000)])
        grown = log.stat().st_size
        assert grown > 4 * 1024 * 1024
        with read.transaction() as tx:  # the log, copied back at the last commit, starts over
            tx.write(NOTES, [("o", "last", "短", 1, None, 1)])
        assert log.stat().st_size <= 64 * 1024
        assert read.all("SELECT count(*) AS n FROM notes")[0]["n"] == 5001
    finally:
        read.close()
