"""Exporting an office's ledger: the rows a list query matches, written as a workbook.

The caller has checked that the person may read the office's list (the API's list route and
the ledger screen check the same way). At most ``MAX_ROWS`` rows go into one file; more is a
clear error that asks to narrow the filters, never a request that runs for minutes. May
import: the standard library, ``projections.ledger``, ``services.bootstrap`` (the platform),
``services.errors`` and ``services.exports``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from urllib.parse import quote

from projections.ledger import LedgerQuery, every_row
from services.bootstrap import Platform
from services.errors import ServiceError
from services.exports.ledger_xlsx import ledger_workbook

MAX_ROWS = 20_000
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ExportTooLargeError(ServiceError):
    """More rows match than one file may hold."""

    def __init__(self, total: int) -> None:
        super().__init__(
            f"{total} records match; one export holds at most {MAX_ROWS}: narrow the filters "
            "(status, light, deadline range, …)"
        )
        self.total = total


@dataclass(frozen=True)
class Export:
    content: bytes
    filename: str  # in Chinese, as offices name their files
    ascii_filename: str
    media_type: str

    def disposition(self) -> str:
        """A Content-Disposition that every browser and WPS understands (RFC 6266)."""
        return (
            f'attachment; filename="{self.ascii_filename}"; '
            f"filename*=UTF-8''{quote(self.filename)}"
        )


def ledger_export(platform: Platform, office: str, query: LedgerQuery) -> Export:
    """The office's records matching ``query`` (every page), as an Excel workbook."""
    shown = platform.registry.get(office)
    rows, total = every_row(platform.views, office, replace(query, page=1), MAX_ROWS)
    if total > MAX_ROWS:
        raise ExportTooLargeError(total)
    today = platform.views.today()
    names: dict[str, str] = {}

    def name(code: str) -> str:
        if code not in names:
            names[code] = platform.registry.get(code).name
        return names[code]

    content = ledger_workbook(rows, shown.name, today, platform.calendar, name)
    day = today.isoformat()
    return Export(content, f"{shown.name}督查台账-{day}.xlsx", f"ledger-{office}-{day}.xlsx", XLSX)
