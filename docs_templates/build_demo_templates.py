"""Builds `demo_act.docx`, the Word twin of `demo_act.html`, with python-docx.

The binary is committed; this script is how it is made, so a change is made here and the file
rebuilt (the output is byte-for-byte reproducible, so an unchanged script keeps the template's
version):

    .venv/bin/python docs_templates/build_demo_templates.py
"""
from datetime import datetime
from pathlib import Path

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

from app.services.documents import normalize_zip

HERE = Path(__file__).resolve().parent
FONT = "DejaVu Sans"
GREY = RGBColor(0x55, 0x55, 0x55)
LEFT, RIGHT, CENTER = WD_ALIGN_PARAGRAPH.LEFT, WD_ALIGN_PARAGRAPH.RIGHT, WD_ALIGN_PARAGRAPH.CENTER


def page(document) -> None:
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(15), Mm(18)
    section.left_margin, section.right_margin = Mm(25), Mm(15)
    section.footer_distance = Mm(8)
    normal = document.styles["Normal"]
    normal.font.name, normal.font.size = FONT, Pt(9.5)
    # Cyrillic text takes its font from hAnsi/cs, which python-docx's font.name does not set.
    fonts = normal.element.get_or_add_rPr().get_or_add_rFonts()
    for attribute in ("w:hAnsi", "w:cs", "w:eastAsia"):
        fonts.set(qn(attribute), FONT)
    normal.paragraph_format.space_after = Pt(3)
    normal.paragraph_format.line_spacing = 1.15


def paragraph(container, text: str = "", *, bold=False, size=None, align=LEFT, grey=False,
              before=None, after=None):
    p = container.add_paragraph()
    p.alignment = align
    if before is not None:
        p.paragraph_format.space_before = Pt(before)
    if after is not None:
        p.paragraph_format.space_after = Pt(after)
    if text:
        run = p.add_run(text)
        run.bold = bold
        if size:
            run.font.size = Pt(size)
        if grey:
            run.font.color.rgb = GREY
    return p


def cell_text(cell, text: str, *, bold=False, align=LEFT, size=None, grey=False) -> None:
    p = cell.paragraphs[0]
    p.alignment = align
    p.paragraph_format.space_after = Pt(0)
    run = p.add_run(text)
    run.bold = bold
    if size:
        run.font.size = Pt(size)
    if grey:
        run.font.color.rgb = GREY


def shade(cell, fill: str = "EEEEEE") -> None:
    properties = cell._tc.get_or_add_tcPr()
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), fill)
    properties.append(shading)


def widths(table, millimetres: list[float]) -> None:
    table.autofit = False
    for row in table.rows:
        for cell, width in zip(row.cells, millimetres):
            cell.width = Mm(width)


def heading(document, text: str) -> None:
    p = paragraph(document, text, bold=True, size=10.5, before=10, after=4)
    # A rule under the heading, as in the HTML twin.
    border = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1"), ("w:color", "111111")):
        bottom.set(qn(key), value)
    border.append(bottom)
    p._p.get_or_add_pPr().append(border)


def company_block(document) -> None:
    paragraph(document, "{{ company.name }}", bold=True, size=11, after=1)
    paragraph(document, "ИНН/КПП {{ company.inn }} / {{ company.kpp }}", grey=True, after=0)
    paragraph(document, "{{ company.address }}, тел. {{ company.phone }}", grey=True, after=0)


def title(document) -> None:
    paragraph(document, "АКТ №\u00a0{{ case.number }}", bold=True, size=15, align=CENTER, before=16, after=2)
    paragraph(document, "о выполнении работ по заявке", size=11, align=CENTER, after=2)
    paragraph(document, "{{ today }}", align=RIGHT, before=6, after=8)


def parties(document) -> None:
    paragraph(document, "{{ company.name }} (далее — Сетевая организация), от имени которой действует "
                        "{{ specialist.position }} {{ specialist.full_name }}, и {{ applicant.full_name }} "
                        "(далее — Заявитель) составили настоящий акт о том, что по заявке №\u00a0{{ case.number }} "
                        "выполнены работы на объекте по адресу: {{ case.address }}.")


def case_details(document) -> None:
    heading(document, "Сведения о заявке")
    rows = [("Номер заявки", "{{ case.number }}"), ("Дата подачи", "{{ case.filed_on }}"),
            ("Заявитель", "{{ applicant.full_name }}"), ("Адрес объекта", "{{ case.address }}")]
    table = document.add_table(rows=len(rows), cols=2)
    for row, (label, value) in zip(table.rows, rows):
        cell_text(row.cells[0], label, grey=True)
        cell_text(row.cells[1], value)
    widths(table, [45, 125])


def materials(document) -> None:
    heading(document, "Использованные материалы")
    columns = [("№", 9, CENTER), ("Наименование", 71, LEFT), ("Ед. изм.", 18, CENTER),
               ("Кол-во", 22, RIGHT), ("Цена, ₽", 25, RIGHT), ("Сумма, ₽", 25, RIGHT)]
    table = document.add_table(rows=5, cols=len(columns))
    table.style = document.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    header, loop_start, item, loop_end, total = table.rows
    for cell, (label, _, align) in zip(header.cells, columns):
        cell_text(cell, label, bold=True, align=align, size=8.5)
        shade(cell)
    # docxtpl replaces a row holding {%tr ... %} by the tag itself: the row between repeats.
    cell_text(loop_start.cells[0], "{%tr for m in materials %}")
    values = ["{{ loop.index }}", "{{ m.name }}", "{{ m.unit }}", "{{ m.quantity }}", "{{ m.price }}", "{{ m.amount }}"]
    for cell, value, (_, _, align) in zip(item.cells, values, columns):
        cell_text(cell, value, align=align)
    cell_text(loop_end.cells[0], "{%tr endfor %}")
    label = total.cells[0].merge(total.cells[4])
    cell_text(label, "Итого", bold=True)
    cell_text(total.cells[5], "{{ total }}", bold=True, align=RIGHT)
    widths(table, [width for _, width, _ in columns])


def conclusion(document) -> None:
    paragraph(document, "Работы выполнены в полном объёме и в установленный срок. Заявитель претензий "
                        "к объёму, качеству и срокам выполнения работ не имеет.", before=10)
    paragraph(document, "Акт составлен в двух экземплярах, имеющих равную юридическую силу, по одному для "
                        "каждой из сторон.")


def signatures(document) -> None:
    heading(document, "Подписи сторон")
    table = document.add_table(rows=4, cols=2)
    sides = [("Сетевая организация", "{{ specialist.position }}", "{{ specialist.full_name }}"),
             ("Заявитель", "", "{{ applicant.full_name }}")]
    for column, (side, position, name) in enumerate(sides):
        cell_text(table.rows[0].cells[column], side, bold=True)
        cell_text(table.rows[1].cells[column], position, grey=True)
        cell_text(table.rows[2].cells[column], "")
        cell_text(table.rows[3].cells[column], f"____________________ / {name}")
    widths(table, [85, 85])


def footer(document) -> None:
    p = document.sections[0].footer.paragraphs[0]
    run = p.add_run("{{ company.name }} · АКТ № {{ case.number }}")
    run.font.size, run.font.color.rgb = Pt(7), GREY


def build_demo_act(path: Path) -> None:
    document = Document()
    page(document)
    company_block(document)
    title(document)
    parties(document)
    case_details(document)
    materials(document)
    conclusion(document)
    signatures(document)
    footer(document)
    # Fixed properties: nothing in the file depends on when it was built.
    properties = document.core_properties
    properties.title, properties.author, properties.last_modified_by = "Акт о выполнении работ", "GridCase", "GridCase"
    properties.created = properties.modified = datetime(2026, 1, 1)
    properties.revision = 1
    document.save(path)
    path.write_bytes(normalize_zip(path.read_bytes()))


if __name__ == "__main__":
    build_demo_act(HERE / "demo_act.docx")
    print(f"wrote {HERE / 'demo_act.docx'}")
