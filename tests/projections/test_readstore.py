"""The read store's bulk writes and positions behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from projections.readstore import PostgresReadStore, ReadStore, SQLiteReadStore, Table
from services.pgstore import open_shared_pool

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
