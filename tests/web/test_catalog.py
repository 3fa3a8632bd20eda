"""Every text of the screens has its Chinese translation: the catalog is complete, and the
folder has the name Babel looks for (``zh_Hans_CN``: a ``zh_CN`` folder is silently ignored
and the screens fall back to English)."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).parents[2]
PO = ROOT / "services/web/translations/zh_Hans_CN/LC_MESSAGES/messages.po"
METHODS = [("**.py", "python"), ("**/templates/**.html", "jinja2")]
KEYWORDS = {"_": None, "gettext": None, "_l": None, "lazy_gettext": None, "ngettext": (1, 2)}


def extracted() -> set[str]:
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        ROOT / "services/web", METHODS, keywords=KEYWORDS
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_text_of_the_screens_is_translated_into_chinese() -> None:
    with PO.open("rb") as f:
        catalog = read_po(f, locale="zh_Hans_CN")
    translated = {m.id for m in catalog if m.id and m.string and not m.fuzzy}
    texts = extracted()
    assert len(texts) > 40  # the extraction itself works
    assert sorted(texts - translated) == [], "run `make messages` and translate the new texts"


def test_the_catalog_folder_is_the_one_babel_reads() -> None:
    folders = [p.name for p in (ROOT / "services/web/translations").iterdir() if p.is_dir()]
    assert folders == ["zh_Hans_CN"]
