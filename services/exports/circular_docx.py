"""通报 (circular) as issued, as a Word document in the GB/T 9704 frame (``gbt9704``).

Title, 主送 (its scope), the text as written (one paragraph a line), the units commended and
criticised, the issuing office and the day it was issued: nothing added, nothing left out.
May import: the standard library and ``services.exports.gbt9704``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from services.exports.gbt9704 import Gongwen


def circular_number(circular_id: str, day: date) -> str:
    """发文字号 derived from the circular: 通报〔2026〕3f0c1a2b号 (year issued, id's start)."""
    return f"通报〔{day.year}〕{circular_id[:8]}号"


def circular_document(circular: dict[str, Any], office_name: str, day: date) -> bytes:
    """``circular`` as ``SupervisionService.get_circular`` gives it, issued on ``day``."""
    doc = Gongwen()
    doc.masthead(office_name, circular_number(circular["id"], day))
    doc.title(circular["title"])
    doc.recipients([circular["scope"]])
    for line in circular["text"].splitlines():
        if line.strip():
            doc.text(line.strip())
    if circular["commended"]:
        doc.text("、".join(circular["commended"]) + "。", "受表扬单位：")
    if circular["criticised"]:
        doc.text("、".join(circular["criticised"]) + "。", "被通报批评单位：")
    doc.signature(office_name, day)
    return doc.bytes()
