"""The item every benchmark registers."""

from __future__ import annotations

from datetime import date

from services.supervision import NewItem


def bench_item(n: int) -> NewItem:
    return NewItem(
        title=f"基准事项{n}",
        source_kind="document",
        source_ref=f"基准〔2026〕{n}号",
        issued_on=date(2026, 3, 2),
        objective="目标",
        content="内容",
        executing_unit="督查室",
        responsible_person="张三",
        deadline=date(2026, 6, 30),
    )
