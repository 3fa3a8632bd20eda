"""Multiprocess metrics: a process's file caught empty, as prometheus-client makes it before
sizing it (prometheus/client_python#1199), or left so by a worker killed at that instant, is
read as nothing recorded, not as a failed scrape."""

from __future__ import annotations

from pathlib import Path

from services import metrics


def test_an_empty_process_file_is_nothing_recorded_not_a_failed_scrape(tmp_path: Path) -> None:
    directory = metrics.use_multiprocess(tmp_path / "metrics")
    try:
        metrics.counters().commands.labels("ItemRegistered", "web").inc()
        (directory / "counter_999999.db").touch()  # another worker's, not sized yet
        (directory / "histogram_999999.db").touch()
        scraped = metrics.exposition().decode()
        assert 'type="ItemRegistered"' in scraped and 'channel="web"' in scraped
    finally:
        metrics.stop_multiprocess(directory, remove=True)
