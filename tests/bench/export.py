"""The ledger's Excel export: 10,000 rows of one office, from the read model to the file.

One office with ``ROWS`` registered items (varied deadlines, so every light appears), on the
embedded default (SQLite). The figure is the time of ``ledger_export`` (the query of every
matching row, the office names, the workbook written) for all of them; the target (issue 14)
is at most 5 s. The file is opened again to check that it holds every row. Run alone with
``python -m tests.bench.export``.
"""

from __future__ import annotations

import io
import sys
import tempfile
import time
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

from openpyxl import load_workbook

from domain.values import Actor
from projections.ledger import LedgerQuery
from services.bootstrap import Settings, build_platform
from services.exports.ledger import ledger_export
from tests.bench.items import bench_item

ROWS = 10_000
TARGET_SECONDS = 5.0
ADMIN = Actor("bench", "platform", "admin")


def export_figure(root: Path, rows: int = ROWS) -> bool:
    platform = build_platform(Settings(data_dir=root / "var"))
    try:
        platform.registry.register(ADMIN, "state-council", "国务院办公厅", "central", None)
        platform.registry.register(
            ADMIN, "gansu", "甘肃省人民政府办公厅", "province", "state-council"
        )
        clerk = Actor("bench", "gansu", "supervisor")
        first = date(2026, 3, 2)
        for n in range(rows):
            item = replace(bench_item(n), deadline=first + timedelta(days=n % 200))
            platform.supervision.register_item(clerk, "gansu", item)
        best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            export = ledger_export(platform, "gansu", LedgerQuery(sort="deadline"))
            best = min(best, time.perf_counter() - started)
        sheet = load_workbook(io.BytesIO(export.content), read_only=True)["督查台账"]
        written = sum(1 for _ in sheet.iter_rows(min_row=2, values_only=True))
    finally:
        platform.close()
    ok = written == rows and best <= TARGET_SECONDS
    print(
        f"ledger export: {rows} rows in {best:.2f} s ({len(export.content) / 1e6:.1f} MB, "
        f"{written} rows read back; target ≤ {TARGET_SECONDS:.0f} s)  " + ("ok" if ok else "MISSED")
    )
    return ok


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="ducha-bench-export-") as tmp:
        return 0 if export_figure(Path(tmp)) else 1


if __name__ == "__main__":
    sys.exit(main())
