"""Two consumers adding to the same rows at once never deadlock (issue 15 §4).

Kafka workers apply different offices' events in parallel, and every office's roll-up adds to
its ancestors' counters: the root's rows are written by every transaction. An upsert locks its
rows in the order it meets them, so PostgreSQL writes them in the key's order, whatever order
the caller gives, in the few-rows ``INSERT`` and in the bulk ``COPY`` path alike (the two must
agree: one transaction may take one path and the other the other).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from projections.readstore import PostgresReadStore, Table
from projections.readstore.postgres import FEW_ROWS
from services.stores.pgschema import open_shared_pool

pytestmark = pytest.mark.postgres

COUNTERS = Table(
    "counters",
    (("office", "TEXT"), ("metric", "TEXT"), ("value", "BIGINT")),
    key=("office", "metric"),
)
ADD = "DO UPDATE SET value = counters.value + excluded.value"
ROUNDS = 15


@pytest.fixture
def read(pg_url: str) -> Iterator[PostgresReadStore]:
    store = PostgresReadStore(open_shared_pool(pg_url, 4))
    store.ensure(COUNTERS.create())
    yield store
    store.close()
    store.pool.close()


def add_at_once(read: PostgresReadStore, orders: list[list[tuple[str, str, int]]]) -> None:
    """Two threads, each adding its rows in its order, ``ROUNDS`` transactions started
    together; both must commit every time."""
    failures: list[BaseException] = []
    start = threading.Barrier(len(orders))

    def add(order: list[tuple[str, str, int]]) -> None:
        try:
            for _ in range(ROUNDS):
                start.wait(timeout=30)
                with read.transaction() as tx:
                    tx.write(COUNTERS, order, ADD)
        except BaseException as e:
            failures.append(e)
            start.abort()

    threads = [threading.Thread(target=add, args=(order,)) for order in orders]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert failures == []


@pytest.mark.parametrize("size", [FEW_ROWS, 400], ids=["few rows", "bulk"])
def test_two_transactions_adding_to_the_same_rows_in_opposite_orders_both_commit(
    read: PostgresReadStore, size: int
) -> None:
    # text keys whose code point order differs from most collations' (case, CJK, digits)
    rows = [("根", f"{'aB'[n % 2]}{n:04}计数", 1) for n in range(size)]
    add_at_once(read, [rows, list(reversed(rows))])
    values = {r["value"] for r in read.all("SELECT value FROM counters")}
    assert values == {2 * ROUNDS}
    assert read.all("SELECT COUNT(*) AS n FROM counters")[0]["n"] == size


def test_a_few_rows_and_a_bulk_upsert_lock_in_the_same_order(read: PostgresReadStore) -> None:
    few = [("根", f"{'aB'[n % 2]}{n:04}", 1) for n in range(FEW_ROWS)]
    bulk = few + [("根", f"z{n:04}", 1) for n in range(300)]  # the same rows first, and more
    add_at_once(read, [list(reversed(few)), list(reversed(bulk))])
    shared = read.all("SELECT value FROM counters WHERE metric < 'z'")
    assert {r["value"] for r in shared} == {2 * ROUNDS}
