"""The frame of an official document (公文) after GB/T 9704-2012, written with python-docx.

A4 (210 × 297 mm) with the standard's margins (top 37, bottom 35, left 28, right 26 mm: a
156 × 225 mm type area), 22 lines a page; the issuing office's name in red 小标宋 二号 (22 pt)
as 发文机关标志 over a red separator line, the document number (发文字号) in 仿宋 三号, the
title in 小标宋 二号 centred, the recipients (主送) flush left, the body in 仿宋_GB2312 三号
(16 pt) indented two characters, first-level headings (一、) in 黑体, the signature and date
(成文日期 in Arabic numerals, 2026年4月14日) at the right, and page numbers "— 1 —" in 宋体 四号
at the outside edge (odd pages right, even pages left). Chinese fonts are named for East-Asian
text (``w:eastAsia``), as Word and WPS read them; a machine without them shows its own
substitute. May import: the standard library and python-docx.
"""

from __future__ import annotations

import io
from datetime import date

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.section import WD_SECTION
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from docx.text.paragraph import Paragraph
from docx.text.run import Run

TITLE_FONT = "方正小标宋简体"
BODY_FONT = "仿宋_GB2312"
HEADING_FONT = "黑体"
NUMBER_FONT = "宋体"
TITLE_SIZE = Pt(22)  # 二号
BODY_SIZE = Pt(16)  # 三号
NUMBER_SIZE = Pt(14)  # 四号
RED = RGBColor(0xFF, 0x00, 0x00)
LINE = Pt(29)  # 225 mm / 22 lines
INDENT = BODY_SIZE * 2  # two characters
AFTER_BORDERS = tuple(
    f"w:{tag}"
    for tag in (
        *("shd", "tabs", "suppressAutoHyphens", "kinsoku", "wordWrap", "overflowPunct"),
        *("topLinePunct", "autoSpaceDE", "autoSpaceDN", "bidi", "adjustRightInd"),
        *("snapToGrid", "spacing", "ind", "contextualSpacing", "mirrorIndents"),
        *("suppressOverlap", "jc", "textDirection", "textAlignment", "textboxTightWrap"),
        *("outlineLvl", "divId", "cnfStyle", "rPr", "sectPr", "pPrChange"),
    )
)
"""What follows ``w:pBdr`` in a paragraph's properties (the schema's order; Word insists)."""


def china_date(day: date) -> str:
    """成文日期 as the standard writes it: full year, month and day without leading zeros."""
    return f"{day.year}年{day.month}月{day.day}日"


def set_font(run: Run, name: str, size: Pt, colour: RGBColor | None = None) -> Run:
    """The font for Latin and East-Asian text alike (python-docx sets only the Latin one)."""
    run.font.name = name
    run.font.size = size
    r_fonts = run._element.get_or_add_rPr().get_or_add_rFonts()
    r_fonts.set(qn("w:eastAsia"), name)
    if colour is not None:
        run.font.color.rgb = colour
    return run


class Gongwen:
    """One document being written: call the parts in order, then ``bytes()``."""

    def __init__(self) -> None:
        self.doc: DocxDocument = Document()
        section = self.doc.sections[0]
        section.start_type = WD_SECTION.NEW_PAGE
        section.page_width, section.page_height = Mm(210), Mm(297)
        section.top_margin, section.bottom_margin = Mm(37), Mm(35)
        section.left_margin, section.right_margin = Mm(28), Mm(26)
        section.footer_distance = Mm(21)  # the number's top 7 mm below the type area
        normal = self.doc.styles["Normal"]
        normal.font.name, normal.font.size = BODY_FONT, BODY_SIZE
        normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), BODY_FONT)
        normal.paragraph_format.space_before = normal.paragraph_format.space_after = Pt(0)
        normal.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        normal.paragraph_format.line_spacing = LINE
        self.page_numbers()

    def paragraph(self, align: WD_ALIGN_PARAGRAPH | None = None) -> Paragraph:
        found = self.doc.add_paragraph()
        if align is not None:
            found.alignment = align
        return found

    def blank(self) -> None:
        self.paragraph()

    def masthead(self, office_name: str, number: str) -> None:
        """发文机关标志 in red, the document number, and the red separator line under it."""
        head = self.paragraph(WD_ALIGN_PARAGRAPH.CENTER)
        head.paragraph_format.line_spacing = Pt(40)
        set_font(head.add_run(office_name), TITLE_FONT, TITLE_SIZE, RED)
        self.blank()
        line = self.paragraph(WD_ALIGN_PARAGRAPH.CENTER)
        set_font(line.add_run(number), BODY_FONT, BODY_SIZE)
        borders = OxmlElement("w:pBdr")
        bottom = OxmlElement("w:bottom")
        for name, value in (("val", "single"), ("sz", "12"), ("space", "6"), ("color", "FF0000")):
            bottom.set(qn(f"w:{name}"), value)
        borders.append(bottom)
        line._p.get_or_add_pPr().insert_element_before(borders, *AFTER_BORDERS)

    def title(self, text: str) -> None:
        self.blank()
        self.blank()
        found = self.paragraph(WD_ALIGN_PARAGRAPH.CENTER)
        found.paragraph_format.line_spacing = Pt(35)
        set_font(found.add_run(text), TITLE_FONT, TITLE_SIZE)
        self.blank()

    def recipients(self, names: list[str]) -> None:
        """主送: flush left, a full-width colon after the last."""
        found = self.paragraph(WD_ALIGN_PARAGRAPH.JUSTIFY)
        set_font(found.add_run("、".join(names) + "："), BODY_FONT, BODY_SIZE)

    def text(self, body: str, heading: str = "") -> Paragraph:
        """A body paragraph indented two characters, after an optional 黑体 heading."""
        found = self.paragraph(WD_ALIGN_PARAGRAPH.JUSTIFY)
        found.paragraph_format.first_line_indent = INDENT
        if heading:
            set_font(found.add_run(heading), HEADING_FONT, BODY_SIZE)
        if body:
            set_font(found.add_run(body), BODY_FONT, BODY_SIZE)
        return found

    def signature(self, office_name: str, day: date) -> None:
        """发文机关署名, and 成文日期 under it (both at the right, the date two characters in)."""
        self.blank()
        name = self.paragraph(WD_ALIGN_PARAGRAPH.RIGHT)
        name.paragraph_format.right_indent = INDENT * 2
        set_font(name.add_run(office_name), BODY_FONT, BODY_SIZE)
        when = self.paragraph(WD_ALIGN_PARAGRAPH.RIGHT)
        when.paragraph_format.right_indent = INDENT
        set_font(when.add_run(china_date(day)), BODY_FONT, BODY_SIZE)

    def page_numbers(self) -> None:
        """ "— 1 —" in 宋体 四号: odd pages one character in from the right, even from the left."""
        self.doc.settings.odd_and_even_pages_header_footer = True
        section = self.doc.sections[0]
        for footer, align in (
            (section.footer, WD_ALIGN_PARAGRAPH.RIGHT),
            (section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT),
        ):
            footer.is_linked_to_previous = False
            found = footer.paragraphs[0]
            found.alignment = align
            fmt = found.paragraph_format
            fmt.line_spacing_rule = WD_LINE_SPACING.SINGLE
            if align == WD_ALIGN_PARAGRAPH.RIGHT:
                fmt.right_indent = NUMBER_SIZE
            else:
                fmt.left_indent = NUMBER_SIZE
            set_font(found.add_run("— "), NUMBER_FONT, NUMBER_SIZE)
            field = OxmlElement("w:fldSimple")
            field.set(qn("w:instr"), " PAGE ")
            number = Run(OxmlElement("w:r"), found)
            set_font(number, NUMBER_FONT, NUMBER_SIZE)
            number.text = "1"
            field.append(number._element)
            found._p.append(field)
            set_font(found.add_run(" —"), NUMBER_FONT, NUMBER_SIZE)

    def bytes(self) -> bytes:
        out = io.BytesIO()
        self.doc.save(out)
        return out.getvalue()
