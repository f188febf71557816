"""Shared python-docx building blocks: A4 page, Danish proofing, page numbers,
draft marker and plain, editable tables.

Everything uses the built-in Word styles ("Title", "Heading 1", "Table Grid",
"List Bullet"), so a coordinator who edits the document in Word gets the
normal style gallery and navigation pane.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from docx import Document as new_document
from docx.document import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

from server.minutes.labels import Labels
from server.minutes.text import clean

DRAFT_RED = RGBColor(0xB0, 0x1E, 0x1E)
MUTED = RGBColor(0x4B, 0x55, 0x63)
HEAD_FILL = "E6EBF0"
_LANG_TAGS = {"da": "da-DK", "en": "en-GB"}
PAGE_WIDTH_CM, PAGE_HEIGHT_CM = 21.0, 29.7
SIDE_MARGIN_CM = 2.3
TEXT_WIDTH_CM = PAGE_WIDTH_CM - 2 * SIDE_MARGIN_CM


def start_document(title: str, language: str, labels: Labels, *, is_draft: bool) -> Document:
    """An empty A4 document with styles, footer page numbers and draft header."""
    doc = new_document()
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(PAGE_WIDTH_CM), Cm(PAGE_HEIGHT_CM)
    section.top_margin = section.bottom_margin = Cm(2.2)
    section.left_margin = section.right_margin = Cm(SIDE_MARGIN_CM)
    section.header_distance = section.footer_distance = Cm(1.0)

    lang_tag = _LANG_TAGS.get(language, "da-DK")
    normal = doc.styles["Normal"]
    normal.font.name = "Calibri"
    normal.font.size = Pt(11)
    _set_language(normal.element, lang_tag)
    normal.paragraph_format.space_after = Pt(4)
    doc.styles["Title"].font.size = Pt(22)  # the template's 26 pt wraps real titles to 3 lines

    props = doc.core_properties
    props.title = title
    props.language = lang_tag
    props.author = "Tovholder"
    props.keywords = labels.draft if is_draft else ""

    _footer(doc, title, labels)
    if is_draft:
        header = section.header.paragraphs[0]
        header.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        run = header.add_run(labels.draft)
        run.bold = True
        run.font.color.rgb = DRAFT_RED
    return doc


def to_bytes(doc: Document) -> bytes:
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _set_language(style_element: object, lang_tag: str) -> None:
    rpr = style_element.get_or_add_rPr()  # type: ignore[attr-defined]
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.append(lang)
    lang.set(qn("w:val"), lang_tag)


def _field(paragraph: Paragraph, instruction: str, placeholder: str, size: Pt) -> None:
    """A Word field (PAGE, NUMPAGES) that Word and LibreOffice update on open."""
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), f" {instruction} ")
    run = OxmlElement("w:r")
    props = OxmlElement("w:rPr")
    for tag in ("w:sz", "w:szCs"):
        half_points = OxmlElement(tag)
        half_points.set(qn("w:val"), str(round(size.pt * 2)))
        props.append(half_points)
    run.append(props)
    text = OxmlElement("w:t")
    text.text = placeholder
    run.append(text)
    field.append(run)
    paragraph._p.append(field)


def _footer(doc: Document, title: str, labels: Labels) -> None:
    """Title left, "Side 1 af 3" right, via one right tab stop.

    The paragraph keeps the Normal style: Word's Footer style brings centre
    and right tab stops sized for US Letter, which would centre the numbers.
    """
    paragraph = doc.sections[0].footer.paragraphs[0]
    paragraph.paragraph_format.tab_stops.add_tab_stop(Cm(TEXT_WIDTH_CM), WD_TAB_ALIGNMENT.RIGHT)
    paragraph.paragraph_format.space_after = Pt(0)
    size = Pt(8.5)
    muted = paragraph.add_run(title)
    muted.font.size = size
    muted.font.color.rgb = MUTED
    paragraph.add_run(f"\t{labels.page} ").font.size = size
    _field(paragraph, "PAGE", "1", size)
    paragraph.add_run(f" {labels.of} ").font.size = size
    _field(paragraph, "NUMPAGES", "1", size)


def add_draft_notice(doc: Document, labels: Labels) -> None:
    paragraph = doc.add_paragraph()
    run = paragraph.add_run(f"{labels.draft}: ")
    run.bold = True
    run.font.color.rgb = DRAFT_RED
    notice = paragraph.add_run(labels.draft_notice.split(":", 1)[-1].strip())
    notice.font.color.rgb = DRAFT_RED


def add_kicker(doc: Document, text: str) -> None:
    paragraph = doc.add_paragraph()
    run = paragraph.add_run(text)
    run.font.color.rgb = MUTED
    run.font.size = Pt(10)


def add_meta(doc: Document, meta: Sequence[tuple[str, str]]) -> None:
    """'Dato: tirsdag den 4. marts 2025' lines with bold labels."""
    for label, value in meta:
        paragraph = doc.add_paragraph()
        paragraph.paragraph_format.space_after = Pt(0)
        paragraph.add_run(f"{label}: ").bold = True
        paragraph.add_run(clean(value))
    if meta:
        doc.paragraphs[-1].paragraph_format.space_after = Pt(8)


def write_text(paragraph: Paragraph, text: str) -> None:
    """Text with its line breaks kept as Word line breaks (one paragraph)."""
    lines = clean(text).split("\n")
    run = paragraph.add_run(lines[0])
    for line in lines[1:]:
        run.add_break()
        run.add_text(line)


def _shade(cell: _Cell, fill: str) -> None:
    tcpr = cell._tc.get_or_add_tcPr()
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), fill)
    tcpr.append(shading)


def _row_flag(table: Table, index: int, tag: str) -> None:
    flag = OxmlElement(tag)
    flag.set(qn("w:val"), "true")
    table.rows[index]._tr.get_or_add_trPr().append(flag)


def _repeat_header(table: Table) -> None:
    _row_flag(table, 0, "w:tblHeader")


def _keep_rows_whole(table: Table) -> None:
    """A row never breaks across pages (an owner's name split in two reads badly)."""
    for index in range(len(table.rows)):
        _row_flag(table, index, "w:cantSplit")


def add_table(
    doc: Document,
    head: Sequence[str],
    rows: Sequence[Sequence[str]],
    widths_cm: Sequence[float],
    *,
    right_aligned: Sequence[int] = (),
) -> Table:
    """A grid table with a shaded header row that repeats on every page."""
    table: Table = doc.add_table(rows=1 + len(rows), cols=len(head))
    table.style = doc.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.LEFT
    table.autofit = False
    for index, text in enumerate(head):
        cell = table.rows[0].cells[index]
        paragraph = cell.paragraphs[0]
        paragraph.add_run(text).bold = True
        _shade(cell, HEAD_FILL)
    _repeat_header(table)
    _keep_rows_whole(table)
    for values, row in zip(rows, table.rows[1:], strict=True):
        cells = row.cells
        for index, value in enumerate(values):
            paragraph = cells[index].paragraphs[0]
            write_text(paragraph, value)
            if index in right_aligned:
                paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    for index, width in enumerate(widths_cm):
        table.columns[index].width = Cm(width)
        for cell in table.columns[index].cells:
            cell.width = Cm(width)
        if index in right_aligned:
            table.rows[0].cells[index].paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
    doc.add_paragraph().paragraph_format.space_after = Pt(2)
    return table


def add_key_value_table(
    doc: Document, rows: Sequence[tuple[str, str]], widths_cm: tuple[float, float]
) -> Table:
    """Two columns, no header row: bold shaded labels left, text right, kept together."""
    table: Table = doc.add_table(rows=len(rows), cols=2)
    table.style = doc.styles["Table Grid"]
    table.autofit = False
    for index, ((label, value), row) in enumerate(zip(rows, table.rows, strict=True)):
        cells = row.cells
        cells[0].paragraphs[0].add_run(label).bold = True
        _shade(cells[0], HEAD_FILL)
        write_text(cells[1].paragraphs[0], value)
        if index < len(rows) - 1:  # Word keeps the whole table on one page if it can
            for cell in cells:
                cell.paragraphs[0].paragraph_format.keep_with_next = True
    for index, width in enumerate(widths_cm):
        table.columns[index].width = Cm(width)
        for cell in table.columns[index].cells:
            cell.width = Cm(width)
    doc.add_paragraph().paragraph_format.space_after = Pt(2)
    return table


def add_bullets(doc: Document, items: Sequence[str], *, numbered: bool = False) -> None:
    style = doc.styles["List Number" if numbered else "List Bullet"]
    for item in items:
        write_text(doc.add_paragraph(style=style), item)
