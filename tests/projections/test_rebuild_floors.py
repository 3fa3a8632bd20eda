"""The floors the rebuild-at-scale bench measures (``tests.bench.scale_rebuild``) are what they
claim, on both backends: projecting alone prepares every event and writes nothing; writing
alone copies every row of the read store and leaves nothing behind."""

from __future__ import annotations

from pathlib import Path

import psycopg

from projections.readstore.postgres import PostgresReadStore
from services.bootstrap import Platform
from tests.bench.scale_rebuild import in_processes, project, write_floor
from tests.projections.test_golden_rebuild import dump


def row_counts(p: Platform) -> dict[str, int]:
    """Every read-store table's rows."""
    read = p.read
    if isinstance(read, PostgresReadStore):
        sql, params = "SELECT tablename AS name FROM pg_tables WHERE schemaname = ?", [read.schema]
    else:
        sql, params = "SELECT name FROM sqlite_master WHERE type = 'table'", []
    names = [r["name"] for r in read.all(sql, params)]
    return {n: int(read.all(f"SELECT count(*) AS n FROM {n}")[0]["n"]) for n in names}


def test_projecting_alone_prepares_every_event_and_writes_nothing(busy: Platform) -> None:
    try:
        before, counts = dump(busy), row_counts(busy)
        offices = [o.code for o in busy.registry.all()]
        events = sum(busy.backend.last_ids(offices).values())
        assert events > 50
        assert project(busy, offices) == events
        assert in_processes(busy, 2, project)[1] == events
        assert dump(busy) == before and row_counts(busy) == counts
    finally:
        busy.close()


def test_writing_alone_copies_every_row_and_drops_the_copies(busy: Platform) -> None:
    try:
        seconds, rows = write_floor(busy)
        assert seconds > 0
        counts = row_counts(busy)
        assert counts["audit"] > 50 and counts["tlog_edge"] > 0
        assert rows == sum(counts.values())
        if busy.settings.database_url:
            with psycopg.connect(busy.settings.database_url) as conn:
                left = conn.execute(
                    "SELECT 1 FROM pg_namespace WHERE nspname = 'ducha_floor'"
                ).fetchall()
            assert left == []
        else:
            assert not list(Path(busy.settings.data_dir).glob("floor.sqlite*"))
    finally:
        busy.close()
