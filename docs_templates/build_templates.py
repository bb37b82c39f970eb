"""Builds the document templates of the case processes, both twins of each from one description.

Every document below is a short list of blocks (a company header, a title, headings, paragraphs,
tables, lists, conditional parts, signatures and a footer). The script writes each description
twice: as `<name>.docx` with python-docx (the look of `demo_act.docx`, whose helpers it uses) and as
`<name>.html` for WeasyPrint (the stylesheet of `demo_act.html`). The twins come from the same text,
so they cannot say different things. Static text is escaped for HTML; Jinja tags are written as they
are. The output is byte-for-byte reproducible, so an unchanged script keeps the templates' versions:

    .venv/bin/python docs_templates/build_templates.py            # rebuild in docs_templates/
    .venv/bin/python docs_templates/build_templates.py --out DIR  # build somewhere else

It also rebuilds `demo_act.docx` (from `build_demo_templates.py`; `demo_act.html` is written by
hand). Change a document here, never in the files it writes.

Text placeholders use the filters that read the same on both sides: `{{ x|day }}` for dates and
`{{ x|amount }}` for money; other values (power, kV, readings, numbers of days) print as given.
"""
import argparse
import html
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from build_demo_templates import (CENTER, GREY, LEFT, RIGHT, build_demo_act, cell_text, company_block,
                                  heading, page, paragraph, shade, widths)
from docx import Document as WordDocument
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

from app.services.documents import normalize_zip

HERE = Path(__file__).resolve().parent
JUSTIFY = WD_ALIGN_PARAGRAPH.JUSTIFY
ALIGNS = {"left": LEFT, "right": RIGHT, "center": CENTER, "justify": JUSTIFY}
TEXT_WIDTH = 170  # mm between the margins of an A4 page, as set by `page()`
SIGN_HERE = "_" * 16
TAG = re.compile(r"({{.*?}}|{%.*?%}|{#.*?#})", re.DOTALL)


def text_html(text: str) -> str:
    """Static text escaped for HTML, Jinja tags kept as they are, no-break spaces kept visible."""
    parts = TAG.split(text)
    return "".join(part if index % 2 else html.escape(part, quote=False).replace("\u00a0", "&nbsp;")
                   for index, part in enumerate(parts))


def border(p, sides=("bottom",), size="6", color="111111", space="1") -> None:
    borders = OxmlElement("w:pBdr")
    for side in sides:
        line = OxmlElement(f"w:{side}")
        for key, value in (("w:val", "single"), ("w:sz", size), ("w:space", space), ("w:color", color)):
            line.set(qn(key), value)
        borders.append(line)
    p._p.get_or_add_pPr().append(borders)


def column_widths(table, millimetres: list[float]) -> None:
    """Cell widths (what Word reads) and the table grid's (what LibreOffice reads)."""
    widths(table, millimetres)
    for column, width in zip(table.columns, millimetres):
        column.width = Mm(width)


def gap(document) -> None:
    """A little space after a table (the HTML twin has a margin there)."""
    p = paragraph(document, "", after=0)
    p.paragraph_format.line_spacing = Pt(6)


def tag_paragraph(document, tag: str) -> None:
    """A paragraph docxtpl replaces by its `{%p ... %}` tag."""
    paragraph(document, "{%p " + tag + " %}")


# --- blocks: each writes itself into the .docx and as lines of the .html -------------------------

@dataclass(frozen=True)
class Set:
    """A short name for a nested value; a missing or empty dict reads as an empty one."""
    name: str
    expr: str

    def docx(self, document) -> None:
        tag_paragraph(document, f"set {self.name} = {self.expr} or dict()")

    def html(self) -> list[str]:
        return [f"{{% set {self.name} = {self.expr} or dict() %}}"]


@dataclass(frozen=True)
class Company:
    """The company's name, tax numbers, address and phone."""

    def docx(self, document) -> None:
        company_block(document)

    def html(self) -> list[str]:
        return ['<div class="company">{{ company.name }}</div>',
                '<div class="company-details">ИНН/КПП {{ company.inn }} / {{ company.kpp }}</div>',
                '<div class="company-details">{{ company.address }}, тел. {{ company.phone }}</div>']


@dataclass(frozen=True)
class Addressee:
    """Whom a letter is for, at the right of the page under the company header."""
    lines: tuple[str, ...]

    def docx(self, document) -> None:
        for number, line in enumerate(self.lines):
            p = paragraph(document, line, before=8 if number == 0 else None, after=0)
            p.paragraph_format.left_indent = Mm(95)

    def html(self) -> list[str]:
        return ['<div class="addressee">', *(f"  <div>{text_html(line)}</div>" for line in self.lines), "</div>"]


@dataclass(frozen=True)
class Title:
    """The title, lines under it, and the date line at the right (none when `date` is empty)."""
    text: str
    subtitles: tuple[str, ...] = ()
    date: str = "{{ today|day }}"

    def docx(self, document) -> None:
        last = not self.subtitles and not self.date
        paragraph(document, self.text, bold=True, size=15, align=CENTER, before=16, after=8 if last else 2)
        for number, line in enumerate(self.subtitles):
            paragraph(document, line, size=11, align=CENTER,
                      after=8 if number == len(self.subtitles) - 1 and not self.date else 2)
        if self.date:
            paragraph(document, self.date, align=RIGHT, before=6, after=8)

    def html(self) -> list[str]:
        lines = [f"<h1>{text_html(self.text)}</h1>"]
        lines += [f'<div class="subtitle">{text_html(line)}</div>' for line in self.subtitles]
        if self.date:
            lines.append(f'<div class="date">{text_html(self.date)}</div>')
        return lines


@dataclass(frozen=True)
class Heading:
    text: str

    def docx(self, document) -> None:
        heading(document, self.text)

    def html(self) -> list[str]:
        return [f"<h2>{text_html(self.text)}</h2>"]


@dataclass(frozen=True)
class Para:
    """A paragraph. `kind`: "" (body text), "quote" (quoted words of the applicant), "box" (a framed
    line to copy) or "note" (small print)."""
    text: str
    align: str = "justify"
    bold: bool = False
    kind: str = ""

    def docx(self, document) -> None:
        p = paragraph(document, self.text, bold=self.bold, align=ALIGNS[self.align],
                      size=8 if self.kind == "note" else None, grey=self.kind == "note",
                      before=4 if self.kind == "box" else None, after=6 if self.kind == "box" else None)
        if self.kind == "quote":
            p.paragraph_format.left_indent = Mm(4)
            border(p, ("left",), size="12", color="999999", space="8")
            for run in p.runs:
                run.italic = True
        elif self.kind == "box":
            border(p, ("top", "left", "bottom", "right"), size="4", space="4")

    def html(self) -> list[str]:
        classes = [name for name in (self.align if self.align != "left" else "", self.kind) if name]
        if self.bold:
            classes.append("bold")
        attribute = f' class="{" ".join(classes)}"' if classes else ""
        return [f"<p{attribute}>{text_html(self.text)}</p>"]


@dataclass(frozen=True)
class Details:
    """A two-column table of (label, value) rows."""
    rows: tuple[tuple[str, str], ...]
    label_width: int = 60

    def docx(self, document) -> None:
        table = document.add_table(rows=len(self.rows), cols=2)
        for row, (label, value) in zip(table.rows, self.rows):
            cell_text(row.cells[0], label, grey=True)
            cell_text(row.cells[1], value)
        column_widths(table, [self.label_width, TEXT_WIDTH - self.label_width])
        gap(document)

    def html(self) -> list[str]:
        return ['<table class="details">',
                f'  <colgroup><col style="width: {self.label_width}mm"><col></colgroup>',
                *(f"  <tr><td>{text_html(label)}</td><td>{text_html(value)}</td></tr>" for label, value in self.rows),
                "</table>"]


@dataclass(frozen=True)
class Column:
    label: str
    width: float  # mm; the widths of a grid add up to TEXT_WIDTH
    align: str = "left"


CSS_ALIGN = {"left": "", "center": "center", "right": "num"}


@dataclass(frozen=True)
class Grid:
    """A ruled table: a header, fixed rows, then one row per item of `loop` = (variable, list
    expression), then total rows of (label, value) with the label across all but the last column."""
    columns: tuple[Column, ...]
    rows: tuple[tuple[str, ...], ...] = ()
    loop: tuple[str, str] | None = None
    cells: tuple[str, ...] = ()
    totals: tuple[tuple[str, str], ...] = ()

    def __post_init__(self):
        assert sum(c.width for c in self.columns) == TEXT_WIDTH, "a grid spans the text width"
        for row in (*self.rows, self.cells if self.loop else ()):
            assert not row or len(row) == len(self.columns)

    def docx(self, document) -> None:
        count = 1 + len(self.rows) + (3 if self.loop else 0) + len(self.totals)
        table = document.add_table(rows=count, cols=len(self.columns))
        table.style = document.styles["Table Grid"]
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        rows = iter(table.rows)
        for cell, column in zip(next(rows).cells, self.columns):
            cell_text(cell, column.label, bold=True, align=ALIGNS[column.align], size=8.5)
            shade(cell)
        for values in self.rows:
            for cell, value, column in zip(next(rows).cells, values, self.columns):
                cell_text(cell, value, align=ALIGNS[column.align])
        if self.loop:
            # docxtpl replaces a row holding {%tr ... %} by the tag itself: the row between repeats.
            variable, items = self.loop
            cell_text(next(rows).cells[0], f"{{%tr for {variable} in {items} or [] %}}")
            for cell, value, column in zip(next(rows).cells, self.cells, self.columns):
                cell_text(cell, value, align=ALIGNS[column.align])
            cell_text(next(rows).cells[0], "{%tr endfor %}")
        for label, value in self.totals:
            row = next(rows)
            cell_text(row.cells[0].merge(row.cells[-2]), label, bold=True)
            cell_text(row.cells[-1], value, bold=True, align=ALIGNS[self.columns[-1].align])
        column_widths(table, [column.width for column in self.columns])
        gap(document)

    def html(self) -> list[str]:
        def td(value: str, column: Column, tag: str = "td") -> str:
            css = CSS_ALIGN[column.align]
            return f'<{tag}{f" class={chr(34)}{css}{chr(34)}" if css else ""}>{text_html(value)}</{tag}>'

        lines = ['<table class="grid">',
                 "  <colgroup>" + "".join(f'<col style="width: {c.width:g}mm">' for c in self.columns) + "</colgroup>",
                 "  <thead>",
                 "    <tr>" + "".join(td(c.label, c, "th") for c in self.columns) + "</tr>",
                 "  </thead>",
                 "  <tbody>"]
        for values in self.rows:
            lines.append("    <tr>" + "".join(td(v, c) for v, c in zip(values, self.columns)) + "</tr>")
        if self.loop:
            variable, items = self.loop
            lines += [f"  {{% for {variable} in {items} or [] %}}",
                      "    <tr>" + "".join(td(v, c) for v, c in zip(self.cells, self.columns)) + "</tr>",
                      "  {% endfor %}"]
        lines.append("  </tbody>")
        if self.totals:
            lines.append("  <tfoot>")
            for label, value in self.totals:
                lines.append(f'    <tr><td colspan="{len(self.columns) - 1}">{text_html(label)}</td>'
                             + td(value, self.columns[-1]) + "</tr>")
            lines.append("  </tfoot>")
        lines.append("</table>")
        return lines


@dataclass(frozen=True)
class Items:
    """A numbered or bulleted list: of fixed `items`, or one item per element of `loop` =
    (variable, list expression) written as `item`."""
    items: tuple[str, ...] = ()
    loop: tuple[str, str] | None = None
    item: str = ""
    numbered: bool = True

    def entries(self) -> list[tuple[str, str]]:
        """(marker, text) of each written item."""
        if self.loop:
            return [("{{ loop.index }}." if self.numbered else "—", self.item)]
        return [(f"{number}." if self.numbered else "—", text) for number, text in enumerate(self.items, 1)]

    def docx(self, document) -> None:
        if self.loop:
            variable, items = self.loop
            tag_paragraph(document, f"for {variable} in {items} or []")
        for marker, text in self.entries():
            p = paragraph(document, f"{marker}\t{text}", align=JUSTIFY, after=1.5)
            p.paragraph_format.left_indent, p.paragraph_format.first_line_indent = Mm(6), Mm(-6)
        if self.loop:
            tag_paragraph(document, "endfor")

    def html(self) -> list[str]:
        lines = []
        if self.loop:
            variable, items = self.loop
            lines.append(f"{{% for {variable} in {items} or [] %}}")
        lines += [f'<div class="item"><span class="marker">{text_html(marker)}</span>{text_html(text)}</div>'
                  for marker, text in self.entries()]
        if self.loop:
            lines.append("{% endfor %}")
        return lines


@dataclass(frozen=True)
class If:
    """Blocks shown on a condition: `branches` = ((test, blocks), ...) as if/elif, then `otherwise`."""
    branches: tuple[tuple[str, tuple], ...]
    otherwise: tuple = ()

    def tags(self):
        for number, (test, blocks) in enumerate(self.branches):
            yield ("if " if number == 0 else "elif ") + test, blocks
        if self.otherwise:
            yield "else", self.otherwise

    def docx(self, document) -> None:
        for tag, blocks in self.tags():
            tag_paragraph(document, tag)
            for block in blocks:
                block.docx(document)
        tag_paragraph(document, "endif")

    def html(self) -> list[str]:
        lines = []
        for tag, blocks in self.tags():
            lines.append(f"{{% {tag} %}}")
            for block in blocks:
                lines += block.html()
        return lines + ["{% endif %}"]


@dataclass(frozen=True)
class Side:
    """One signing side: who, lines of details, the signer's position and name."""
    title: str
    lines: tuple[str, ...] = ()
    position: str = ""
    signer: str = ""


@dataclass(frozen=True)
class Signatures:
    sides: tuple[Side, ...]
    title: str = "Подписи сторон"

    def docx(self, document) -> None:
        if self.title:
            heading(document, self.title)
        else:
            paragraph(document, "", after=4)
        height = max(len(side.lines) for side in self.sides)
        table = document.add_table(rows=height + 4, cols=len(self.sides))
        for column, side in enumerate(self.sides):
            cells = [row.cells[column] for row in table.rows]
            cell_text(cells[0], side.title, bold=True)
            for cell, line in zip(cells[1:], side.lines + ("",) * (height - len(side.lines))):
                cell_text(cell, line)
            cell_text(cells[height + 1], side.position, grey=True)
            cell_text(cells[height + 2], "")
            cell_text(cells[height + 3], f"{SIGN_HERE} / {side.signer}")
        column_widths(table, [85] * len(self.sides))

    def html(self) -> list[str]:
        lines = ['<div class="signatures">']
        if self.title:
            lines.append(f"<h2>{text_html(self.title)}</h2>")
        # Lines padded as in the .docx, where each is a row of one table, so the sides stay level.
        height = max(len(side.lines) for side in self.sides)
        lines += ["<table>", "  <tr>"]
        for side in self.sides:
            lines += ["    <td>", f'      <div class="side">{text_html(side.title)}</div>',
                      *(f"      <div>{text_html(line)}</div>"
                        for line in side.lines + ("",) * (height - len(side.lines))),
                      f'      <div class="muted">{text_html(side.position) or "&nbsp;"}</div>',
                      f'      <div class="line">{SIGN_HERE} / {text_html(side.signer)}</div>',
                      "    </td>"]
        if len(self.sides) == 1:
            lines.append("    <td></td>")
        return lines + ["  </tr>", "</table>", "</div>"]


@dataclass(frozen=True)
class Document:
    name: str
    title: str  # the .docx title property and the HTML <title>: plain text, no placeholders
    footer: str
    blocks: tuple = field(repr=False)

    def docx(self, path: Path) -> None:
        document = WordDocument()
        page(document)
        for block in self.blocks:
            block.docx(document)
        run = document.sections[0].footer.paragraphs[0].add_run(self.footer)
        run.font.size, run.font.color.rgb = Pt(7), GREY
        # Fixed properties: nothing in the file depends on when it was built.
        properties = document.core_properties
        properties.title, properties.author, properties.last_modified_by = self.title, "GridCase", "GridCase"
        properties.created = properties.modified = datetime(2026, 1, 1)
        properties.revision = 1
        document.save(path)
        path.write_bytes(normalize_zip(path.read_bytes()))

    def html(self) -> str:
        lines = ["<!doctype html>",
                 f"{{#- {self.title}: the PDF twin of {self.name}.docx. Both are written by build_templates.py:",
                 "    change the document there and rebuild, never here. Context: docs_templates/README.md. -#}",
                 '<html lang="ru">', "<head>", '<meta charset="utf-8">',
                 f"<title>{text_html(self.title)} № {{{{ case.number }}}}</title>",
                 '<meta name="author" content="{{ company.name }}">',
                 f"<style>{STYLE}</style>", "</head>", "<body>", "",
                 # A running element: WeasyPrint repeats it at the bottom of every page.
                 f'<div class="footer">{text_html(self.footer)}</div>', ""]
        for block in self.blocks:
            lines += block.html()
            if not isinstance(block, Set):
                lines.append("")
        return "\n".join(lines + ["</body>", "</html>", ""])

    def build(self, folder: Path) -> list[Path]:
        docx_path, html_path = folder / f"{self.name}.docx", folder / f"{self.name}.html"
        self.docx(docx_path)
        html_path.write_bytes(self.html().encode("utf-8"))
        return [docx_path, html_path]


STYLE = """
  @page {
    size: A4 portrait;
    margin: 15mm 15mm 18mm 25mm;
    @bottom-left { content: element(footer); }
    @bottom-right { content: counter(page) " / " counter(pages); font: 7pt "DejaVu Sans", sans-serif; color: #777; }
  }
  html { font-family: "DejaVu Sans", sans-serif; font-size: 9.5pt; color: #111; line-height: 1.35; }
  body { margin: 0; }
  p { margin: 0 0 2mm; }
  table { border-collapse: collapse; width: 100%; }
  td, th { vertical-align: top; }
  .muted { color: #555; }
  .num { text-align: right; white-space: nowrap; }
  .center { text-align: center; }
  .right { text-align: right; }
  .justify { text-align: justify; }
  .bold { font-weight: bold; }
  .footer { position: running(footer); font-size: 7pt; color: #777; }

  .company { font-size: 11pt; font-weight: bold; margin-bottom: 0.5mm; }
  .company-details { color: #555; }
  .addressee { margin: 4mm 0 0 95mm; }

  h1 { font-size: 15pt; text-align: center; margin: 9mm 0 1mm; letter-spacing: 0.5pt; }
  .subtitle { text-align: center; font-size: 11pt; margin-bottom: 1mm; }
  .date { text-align: right; margin: 3mm 0 4mm; }

  h2 { font-size: 10.5pt; margin: 5mm 0 2mm; padding-bottom: 0.8mm; border-bottom: 0.6pt solid #111;
       page-break-after: avoid; }

  .details { margin-bottom: 2mm; table-layout: fixed; }
  .details td { padding: 0.7mm 0; }
  .details td:first-child { color: #555; padding-right: 3mm; }

  .grid { margin-bottom: 2mm; table-layout: fixed; }
  .grid th { font-size: 8.5pt; font-weight: bold; background: #eee; border: 0.5pt solid #111; padding: 1.2mm 1.5mm;
             text-align: left; }
  .grid th.num { text-align: right; }
  .grid th.center { text-align: center; }
  .grid td { border: 0.5pt solid #111; padding: 1.1mm 1.5mm; }
  .grid tfoot td { font-weight: bold; }

  .item { margin: 0 0 1mm; padding-left: 6mm; text-indent: -6mm; text-align: justify; }
  .item .marker { display: inline-block; width: 6mm; text-indent: 0; }
  .quote { margin-left: 4mm; padding-left: 3mm; border-left: 1.2pt solid #999; font-style: italic;
           white-space: pre-line; }
  .box { border: 0.5pt solid #111; padding: 1.5mm 2mm; margin: 1.5mm 0 2mm; }
  .note { font-size: 8pt; color: #555; }

  .signatures { page-break-inside: avoid; margin-top: 5mm; }
  .signatures td { width: 50%; padding: 0 4mm 0 0; }
  .signatures td div { min-height: 1.35em; }
  .signatures .side { font-weight: bold; }
  .signatures .line { margin-top: 10mm; }
"""


# --- what the documents say ---------------------------------------------------------------------------

def clauses(section: str, *texts: str, start: int = 1) -> tuple[Para, ...]:
    """Numbered clauses of a contract: 1.1., 1.2., ..."""
    return tuple(Para(f"{section}.{number}. {text}") for number, text in enumerate(texts, start))


NO = "№\u00a0"
APPLICANT_INN = "{% if applicant.inn %}, ИНН {{ applicant.inn }}{% endif %}"
APPLICANT_KIND = ('{% if applicant.kind == "legal_entity" %}юридическое лицо'
                  '{% elif applicant.kind == "sole_trader" %}индивидуальный предприниматель'
                  '{% elif applicant.kind == "individual" %}физическое лицо{% endif %}')
GRID_COMPANY = ("{{ company.name }} (далее — Сетевая организация), от имени которой действует "
                "{{ specialist.position }} {{ specialist.full_name }}, с одной стороны, и {{ applicant.full_name }}"
                + APPLICANT_INN + " (далее — Заявитель), с другой стороны, вместе именуемые Стороны, ")
CONTRACT_DATE = "{% if data.contract_date %} от {{ data.contract_date|day }}{% endif %}"
POWER_ROWS = (("Максимальная мощность, кВт", "{{ data.max_power_kw }}"),
              ("в том числе вновь присоединяемая, кВт", "{{ data.new_power_kw }}"),
              ("ранее присоединённая, кВт", "{{ data.existing_power_kw }}"))
METER_ROWS = (("Тип (модель)", "{{ meter.model }}"), ("Заводской номер", "{{ meter.number }}"),
              ("Показания при допуске, кВт·ч", "{{ meter.initial_reading }}"))
READINGS = (Column("Тарифная зона", 100), Column("Показания, кВт·ч", 70, "right"))


def company_side(title: str) -> Side:
    return Side(title, ("{{ company.name }}", "ИНН/КПП {{ company.inn }} / {{ company.kpp }}",
                        "{{ company.address }}",
                        "р/с {{ company.account }} в {{ company.bank }}",
                        "к/с {{ company.corr_account }}, БИК {{ company.bic }}",
                        "тел. {{ company.phone }}"),
                "{{ specialist.position }}", "{{ specialist.full_name }}")


def applicant_side(title: str) -> Side:
    return Side(title, ("{{ applicant.full_name }}" + APPLICANT_INN, "{{ applicant.address }}",
                        "тел. {{ applicant.phone }}",
                        "{% if applicant.email %}эл. почта {{ applicant.email }}{% endif %}"),
                "", "{{ applicant.full_name }}")


SPECIALIST = Side("Сетевая организация", (), "{{ specialist.position }}", "{{ specialist.full_name }}")


TP_CONTRACT = Document(
    "tp_contract", "Договор об осуществлении технологического присоединения",
    footer="{{ company.name }} · Договор об осуществлении технологического присоединения № {{ case.number }}",
    blocks=(
        Set("fee", "data.fee"),
        Company(),
        Title(f"ДОГОВОР {NO}{{{{ case.number }}}}",
              ("об осуществлении технологического присоединения", "к электрическим сетям")),
        Para(GRID_COMPANY + "заключили настоящий договор на основании заявки " + NO + "{{ case.number }} от "
             "{{ case.filed_on|day }} в соответствии с Правилами технологического присоединения "
             "энергопринимающих устройств потребителей электрической энергии, утверждёнными постановлением "
             "Правительства Российской Федерации от 27 декабря 2004 г. " + NO + "861 (далее — Правила), "
             "о нижеследующем."),
        Heading("1. Предмет договора"),
        *clauses("1",
                 "По настоящему договору Сетевая организация принимает на себя обязательства по осуществлению "
                 "технологического присоединения энергопринимающих устройств Заявителя (далее — технологическое "
                 "присоединение) — {{ data.object_name }}, расположенных по адресу: {{ data.object_address }}"
                 "{% if data.cadastral_number %} (кадастровый номер земельного участка {{ data.cadastral_number }})"
                 "{% endif %}, а Заявитель обязуется оплатить расходы на технологическое присоединение в "
                 "соответствии с условиями настоящего договора.",
                 "Технологическое присоединение осуществляется со следующими характеристиками:"),
        Details((*POWER_ROWS,
                 ("Класс напряжения, кВ", "{{ data.voltage_kv }}"),
                 ("Категория надёжности электроснабжения", "{{ data.reliability_category }}"),
                 ("Характер нагрузки", "{{ data.load_character }}"),
                 ("Категория заявителя", APPLICANT_KIND))),
        *clauses("1",
                 "Технические условия " + NO + "{{ data.conditions_number }} являются неотъемлемой частью "
                 "настоящего договора. Точка присоединения и мероприятия, выполняемые Сторонами, указаны в "
                 "технических условиях.",
                 "Срок выполнения мероприятий по технологическому присоединению составляет "
                 "{{ data.connection_term }} со дня заключения настоящего договора"
                 "{% if data.connection_deadline %}, то есть до {{ data.connection_deadline|day }} включительно"
                 "{% endif %}.",
                 start=3),
        Heading("2. Обязанности сторон"),
        Para("2.1. Сетевая организация обязуется:"),
        Items(("надлежащим образом исполнить обязательства по настоящему договору, в том числе выполнить "
               "возложенные на неё мероприятия по технологическому присоединению (включая урегулирование "
               "отношений с иными лицами) до границ участка, на котором расположены присоединяемые "
               "энергопринимающие устройства Заявителя;",
               "в течение 10 рабочих дней со дня уведомления Заявителем о выполнении им технических условий "
               "проверить их выполнение, установить и допустить в эксплуатацию прибор учёта электрической "
               "энергии;",
               "не позднее срока, установленного пунктом 1.4 настоящего договора, осуществить фактическое "
               "присоединение энергопринимающих устройств Заявителя к электрическим сетям и фактический приём "
               "(подачу) напряжения и мощности, составить акт об осуществлении технологического присоединения "
               "и разместить его в личном кабинете Заявителя."), numbered=False),
        Para("2.2. Заявитель обязуется:"),
        Items(("надлежащим образом исполнить обязательства по настоящему договору, в том числе выполнить "
               "возложенные на него мероприятия по технологическому присоединению в пределах границ участка, "
               "на котором расположены присоединяемые энергопринимающие устройства Заявителя;",
               "после выполнения мероприятий по технологическому присоединению в пределах границ участка "
               "уведомить об этом Сетевую организацию через личный кабинет;",
               "обеспечить доступ представителей Сетевой организации к энергопринимающим устройствам для "
               "проверки выполнения технических условий и допуска прибора учёта в эксплуатацию;",
               "надлежащим образом исполнить обязательства по оплате расходов на технологическое "
               "присоединение."), numbered=False),
        Para("2.3. Заявитель вправе при невыполнении Сетевой организацией в срок, установленный пунктом 1.4, "
             "мероприятий по технологическому присоединению в одностороннем порядке расторгнуть настоящий "
             "договор."),
        Heading("3. Плата за технологическое присоединение и порядок расчётов"),
        *clauses("3",
                 "Размер платы за технологическое присоединение составляет {{ fee.amount|amount }} руб., "
                 "в том числе НДС {{ fee.vat|amount }} руб.",
                 "Основание расчёта платы: {{ fee.basis }}.",
                 "Плата вносится Заявителем на расчётный счёт Сетевой организации по счёту "
                 + NO + "{{ data.invoice_number }} в течение {{ data.invoice_days }} рабочих дней со дня его "
                 "размещения в личном кабинете Заявителя. Днём оплаты считается день поступления денежных "
                 "средств на расчётный счёт Сетевой организации."),
        Heading("4. Порядок заключения договора"),
        *clauses("4",
                 "Настоящий договор является офертой Сетевой организации, размещённой в личном кабинете "
                 "Заявителя, и заключается в порядке, установленном Правилами.",
                 "Оплата Заявителем счёта " + NO + "{{ data.invoice_number }} в течение "
                 "{{ data.invoice_days }} рабочих дней со дня его размещения в личном кабинете является "
                 "акцептом оферты. Договор считается заключённым со дня оплаты счёта.",
                 "При неоплате счёта в указанный срок заявка Заявителя аннулируется."),
        Heading("5. Энергоснабжение присоединяемых устройств"),
        *clauses("5",
                 "Гарантирующий поставщик (энергосбытовая организация), с которым заключается договор "
                 "энергоснабжения в отношении присоединяемых энергопринимающих устройств: "
                 "{{ data.retail_supplier }}.",
                 "Сетевая организация не позднее дня составления акта об осуществлении технологического "
                 "присоединения направляет его гарантирующему поставщику (энергосбытовой организации), "
                 "указанному в пункте 5.1."),
        Heading("6. Ответственность сторон"),
        *clauses("6",
                 "Стороны несут ответственность за неисполнение или ненадлежащее исполнение обязательств по "
                 "настоящему договору в соответствии с законодательством Российской Федерации.",
                 "Сторона, нарушившая срок осуществления мероприятий по технологическому присоединению, "
                 "обязана уплатить другой Стороне неустойку в размере и порядке, установленных Правилами."),
        Heading("7. Заключительные положения"),
        *clauses("7",
                 "Настоящий договор действует до полного исполнения Сторонами своих обязательств.",
                 "Документы и уведомления по настоящему договору Стороны направляют друг другу через личный "
                 "кабинет Заявителя{% if applicant.email %} и по адресу электронной почты {{ applicant.email }}"
                 "{% endif %}.",
                 "Споры, возникающие из настоящего договора, разрешаются путём переговоров, а при недостижении "
                 "согласия — в судебном порядке."),
        Signatures((company_side("Сетевая организация"), applicant_side("Заявитель")),
                   "8. Реквизиты и подписи сторон"),
    ))


TP_CONDITIONS = Document(
    "tp_conditions", "Технические условия для присоединения к электрическим сетям",
    footer="{{ company.name }} · Технические условия № {{ data.conditions_number }}",
    blocks=(
        Company(),
        Title(f"ТЕХНИЧЕСКИЕ УСЛОВИЯ {NO}{{{{ data.conditions_number }}}}",
              ("для присоединения к электрическим сетям",
               "(приложение к договору " + NO + "{{ case.number }})")),
        Heading("1. Сведения о присоединении"),
        Details((("Заявитель", "{{ applicant.full_name }}"),
                 ("Наименование энергопринимающих устройств", "{{ data.object_name }}"),
                 ("Адрес объекта", "{{ data.object_address }}"),
                 ("Кадастровый номер земельного участка", "{{ data.cadastral_number }}"),
                 *POWER_ROWS,
                 ("Категория надёжности электроснабжения", "{{ data.reliability_category }}"),
                 ("Класс напряжения, кВ", "{{ data.voltage_kv }}"),
                 ("Характер нагрузки", "{{ data.load_character }}"),
                 ("Точка присоединения", "{{ data.connection_point }}"),
                 ("Основной источник питания", "{{ data.supply_source }}"))),
        Heading("2. Мероприятия, выполняемые сетевой организацией"),
        Para("Сетевая организация выполняет до границ участка Заявителя:"),
        Items(loop=("work", "data.grid_works"), item="{{ work }}"),
        Heading("3. Мероприятия, выполняемые заявителем"),
        Para("Заявитель выполняет в границах своего участка:"),
        Items(loop=("work", "data.applicant_works"), item="{{ work }}"),
        Heading("4. Срок действия"),
        Para("Настоящие технические условия являются неотъемлемой частью договора об осуществлении "
             "технологического присоединения " + NO + "{{ case.number }} и действуют в течение "
             "{{ data.conditions_valid_years }} лет со дня его заключения."),
        Para("О выполнении технических условий Заявитель уведомляет Сетевую организацию через личный кабинет."),
        Signatures((Side("Технические условия выдал", (), "{{ specialist.position }}",
                         "{{ specialist.full_name }}"),), ""),
    ))


TP_INVOICE = Document(
    "tp_invoice", "Счёт на оплату",
    footer="{{ company.name }} · Счёт на оплату № {{ data.invoice_number }}",
    blocks=(
        Set("fee", "data.fee"),
        Company(),
        Title(f"СЧЁТ НА ОПЛАТУ {NO}{{{{ data.invoice_number }}}} от {{{{ today|day }}}}", date=""),
        Heading("Получатель платежа"),
        Details((("Получатель", "{{ company.name }}"), ("ИНН / КПП", "{{ company.inn }} / {{ company.kpp }}"),
                 ("Банк получателя", "{{ company.bank }}, БИК {{ company.bic }}"),
                 ("Расчётный счёт", "{{ company.account }}"), ("Корреспондентский счёт", "{{ company.corr_account }}")),
                label_width=50),
        Heading("Плательщик"),
        Details((("Плательщик", "{{ applicant.full_name }}" + APPLICANT_INN),
                 ("Адрес", "{{ applicant.address }}"), ("Телефон", "{{ applicant.phone }}"),
                 ("Основание", "Договор об осуществлении технологического присоединения " + NO + "{{ case.number }}")),
                label_width=50),
        Grid((Column("№", 9, "center"), Column("Наименование", 73), Column("Кол-во", 16, "right"),
              Column("Ед.", 14, "center"), Column("Цена, ₽", 29, "right"), Column("Сумма, ₽", 29, "right")),
             rows=(("1", "Плата за технологическое присоединение по договору " + NO + "{{ case.number }}", "1",
                    "усл.", "{{ fee.amount|amount }}", "{{ fee.amount|amount }}"),),
             totals=(("Итого", "{{ fee.amount|amount }}"), ("В том числе НДС", "{{ fee.vat|amount }}"),
                     ("Всего к оплате", "{{ fee.amount|amount }}"))),
        Para("Всего наименований 1, на сумму {{ fee.amount|amount }} руб., в том числе НДС {{ fee.vat|amount }} руб.",
             bold=True),
        Para("Счёт подлежит оплате в течение {{ data.invoice_days }} рабочих дней со дня его размещения в личном "
             "кабинете{% if data.invoice_due %}, не позднее {{ data.invoice_due|day }}{% endif %}. Оплата счёта "
             "является акцептом оферты договора об осуществлении технологического присоединения "
             + NO + "{{ case.number }}; при неоплате в указанный срок заявка аннулируется."),
        Heading("Назначение платежа"),
        Para("Оплата по счёту " + NO + "{{ data.invoice_number }} от {{ today|day }}. Плата за технологическое "
             "присоединение по договору " + NO + "{{ case.number }}. Сумма {{ fee.amount|amount }} руб., в т.ч. НДС "
             "{{ fee.vat|amount }} руб.", align="left", kind="box"),
        Para("Укажите в платёжном документе назначение платежа так, как оно приведено выше: по нему платёж "
             "зачитывается в оплату счёта.", align="left", kind="note"),
        Signatures((Side("Счёт выставил", (), "{{ specialist.position }}", "{{ specialist.full_name }}"),), ""),
    ))


TP_ACT = Document(
    "tp_act", "Акт об осуществлении технологического присоединения",
    footer="{{ company.name }} · Акт об осуществлении технологического присоединения № {{ case.number }}",
    blocks=(
        Set("meter", "data.meter"),
        Company(),
        Title(f"АКТ {NO}{{{{ case.number }}}}", ("об осуществлении технологического присоединения",)),
        Para(GRID_COMPANY + "составили настоящий акт о том, что технологическое присоединение энергопринимающих "
             "устройств Заявителя осуществлено в соответствии с договором об осуществлении технологического "
             "присоединения " + NO + "{{ case.number }}" + CONTRACT_DATE + " и техническими условиями"
             "{% if data.conditions_number %} " + NO + "{{ data.conditions_number }}{% endif %}; мероприятия по "
             "технологическому присоединению выполнены Сторонами в полном объёме."),
        Heading("1. Характеристики присоединения"),
        Details((("Объект", "{{ data.object_name }}"), ("Адрес объекта", "{{ data.object_address }}"),
                 *POWER_ROWS,
                 ("Класс напряжения, кВ", "{{ data.voltage_kv }}"),
                 ("Категория надёжности электроснабжения", "{{ data.reliability_category }}"),
                 ("Точка присоединения", "{{ data.connection_point }}"),
                 ("Дата фактического присоединения", "{{ data.connected_on|day }}"))),
        Heading("2. Границы балансовой принадлежности и эксплуатационной ответственности"),
        Para("Граница балансовой принадлежности объектов электроэнергетики (энергопринимающих устройств) и "
             "граница эксплуатационной ответственности Сторон: {{ data.balance_boundary }}"),
        Heading("3. Прибор учёта электрической энергии"),
        Para("Допущен в эксплуатацию прибор учёта электрической энергии:"),
        Details(METER_ROWS),
        Heading("4. Заключение"),
        Para("Фактическое присоединение энергопринимающих устройств Заявителя к электрическим сетям и "
             "фактический приём (подача) напряжения и мощности осуществлены {{ data.connected_on|day }}."),
        Para("Обязательства Сторон по договору об осуществлении технологического присоединения исполнены. "
             "Стороны претензий друг к другу не имеют."),
        Para("Акт составлен в двух экземплярах, имеющих равную юридическую силу, по одному для каждой из Сторон."),
        Signatures((company_side("Сетевая организация"), applicant_side("Заявитель"))),
    ))


TP_NOTICE = Document(
    "tp_notice", "Уведомление об обеспечении возможности присоединения к электрическим сетям",
    footer="{{ company.name }} · Уведомление по договору № {{ case.number }}",
    blocks=(
        Set("meter", "data.meter"),
        Company(),
        Addressee(("{{ applicant.full_name }}", "{{ applicant.address }}", "{{ applicant.email }}")),
        Title("УВЕДОМЛЕНИЕ", ("об обеспечении сетевой организацией возможности присоединения",
                              "к электрическим сетям по договору " + NO + "{{ case.number }}")),
        Para("{{ company.name }} (далее — Сетевая организация) уведомляет заявителя — {{ applicant.full_name }} "
             "(далее — Заявитель) о том, что Сетевая организация выполнила мероприятия по технологическому "
             "присоединению до границы участка Заявителя, предусмотренные договором об осуществлении технологического "
             "присоединения " + NO + "{{ case.number }}" + CONTRACT_DATE
             + "{% if data.conditions_number %} и техническими условиями " + NO + "{{ data.conditions_number }}"
             "{% endif %}, и обеспечила возможность присоединения энергопринимающих устройств Заявителя к "
             "электрическим сетям."),
        Heading("1. Сведения о присоединении"),
        Details((("Объект", "{{ data.object_name }}"), ("Адрес объекта", "{{ data.object_address }}"),
                 ("Максимальная мощность, кВт", "{{ data.max_power_kw }}"),
                 ("Класс напряжения, кВ", "{{ data.voltage_kv }}"),
                 ("Категория надёжности электроснабжения", "{{ data.reliability_category }}"),
                 ("Точка присоединения", "{{ data.connection_point }}"))),
        Heading("2. Прибор учёта электрической энергии"),
        Para("Сетевой организацией установлен и допущен в эксплуатацию прибор учёта электрической энергии:"),
        Details(METER_ROWS),
        Heading("3. Присоединение"),
        Para("Заявитель вправе осуществить фактическое присоединение своих энергопринимающих устройств к "
             "электрическим сетям Сетевой организации начиная с {{ data.connected_on|day }}. Работы в "
             "электроустановках выполняются с соблюдением требований безопасности."),
        Signatures((SPECIALIST,), ""),
    ))


METER_REPLACEMENT_ACT = Document(
    "meter_replacement_act", "Акт замены прибора учёта электрической энергии",
    footer="{{ company.name }} · Акт замены прибора учёта № {{ case.number }}",
    blocks=(
        Set("old_meter", "data.old_meter"),
        Set("new_meter", "data.new_meter"),
        Company(),
        Title(f"АКТ {NO}{{{{ case.number }}}}", ("замены прибора учёта электрической энергии",)),
        Para("{{ company.name }} (далее — Сетевая организация), от имени которой действует {{ specialist.position }} "
             "{{ specialist.full_name }}, и потребитель {{ applicant.full_name }} (далее — Потребитель) "
             "составили настоящий акт о замене прибора учёта электрической энергии по адресу: {{ case.address }}."),
        Details((("Лицевой счёт", "{{ data.account_number }}"), ("Адрес", "{{ case.address }}"),
                 ("Дата замены", "{{ data.replaced_on|day }}"), ("Причина замены", "{{ data.reason_text }}")),
                label_width=55),
        Heading("1. Снятый прибор учёта"),
        Details((("Тип (модель)", "{{ old_meter.model }}"), ("Заводской номер", "{{ old_meter.number }}"),
                 ("Количество тарифных зон", "{{ old_meter.zones }}"),
                 ("Дата очередной поверки", "{{ old_meter.verified_until|day }}")), label_width=55),
        Para("Показания на момент снятия:", align="left"),
        Grid(READINGS, loop=("reading", "data.old_readings"), cells=("{{ reading.zone }}", "{{ reading.value }}")),
        Heading("2. Установленный прибор учёта"),
        Details((("Тип (модель)", "{{ new_meter.model }}"), ("Заводской номер", "{{ new_meter.number }}"),
                 ("Количество тарифных зон", "{{ new_meter.zones }}"),
                 ("Класс точности", "{{ new_meter.accuracy_class }}"),
                 ("Дата поверки", "{{ new_meter.verified_on|day }}"),
                 ("Дата очередной поверки", "{{ new_meter.verified_until|day }}"),
                 ("Номер пломбы", "{{ new_meter.seal }}")), label_width=55),
        Para("Показания на момент установки:", align="left"),
        Grid(READINGS, loop=("reading", "data.new_readings"), cells=("{{ reading.zone }}", "{{ reading.value }}")),
        If((("data.askue_bound", (Para("Прибор учёта подключён к АИИС КУЭ: показания передаются в Сетевую "
                                       "организацию автоматически."),)),)),
        Heading("3. Заключение"),
        Para("Установленный прибор учёта допущен в эксплуатацию и опломбирован. С {{ data.replaced_on|day }} "
             "объём потреблённой электрической энергии определяется по показаниям установленного прибора учёта, "
             "до этой даты — по показаниям снятого прибора учёта на момент снятия."),
        Para("Потребитель обязан обеспечивать сохранность прибора учёта и пломб и незамедлительно сообщать "
             "Сетевой организации об их повреждении."),
        Para("Акт составлен в двух экземплярах, имеющих равную юридическую силу, по одному для каждой из сторон."),
        Signatures((SPECIALIST, Side("Потребитель", (), "", "{{ applicant.full_name }}"))),
    ))


REASSIGNMENT_CONTRACT = Document(
    "reassignment_contract", "Договор энергоснабжения (переоформление лицевого счёта)",
    footer="{{ company.name }} · Договор энергоснабжения, лицевой счёт № {{ data.account_number }}",
    blocks=(
        Company(),
        Title(f"ДОГОВОР ЭНЕРГОСНАБЖЕНИЯ {NO}{{{{ data.account_number }}}}", ("(переоформление лицевого счёта)",)),
        Para("{{ company.name }} (далее — Гарантирующий поставщик), от имени которого действует "
             "{{ specialist.position }} {{ specialist.full_name }}, с одной стороны, и {{ applicant.full_name }}"
             + APPLICANT_INN + " (далее — Потребитель), с другой стороны, вместе именуемые Стороны, заключили "
             "настоящий договор на основании заявления " + NO + "{{ case.number }} от {{ case.filed_on|day }} о "
             "переоформлении лицевого счёта в связи со сменой собственника помещения."),
        Heading("1. Предмет договора"),
        *clauses("1",
                 "Гарантирующий поставщик обязуется осуществлять продажу электрической энергии, а также "
                 "самостоятельно или через привлечённых третьих лиц оказывать услуги по передаче электрической "
                 "энергии и иные услуги, неразрывно связанные с процессом снабжения Потребителя электрической "
                 "энергией, а Потребитель обязуется оплачивать приобретаемую электрическую энергию и оказанные "
                 "услуги.",
                 "Сведения о точке поставки:"),
        Details((("Лицевой счёт", "{{ data.account_number }}"), ("Адрес помещения", "{{ case.address }}"),
                 ("Потребитель", "{{ applicant.full_name }}"),
                 ("Документ о праве собственности", "{{ data.title_document }}"),
                 ("Дата переоформления", "{{ data.transfer_date|day }}")), label_width=55),
        *clauses("1",
                 "Лицевой счёт " + NO + "{{ data.account_number }} переоформлен на Потребителя с "
                 "{{ data.transfer_date|day }}. Электрическая энергия, потреблённая в помещении с этой даты, "
                 "оплачивается Потребителем; потреблённая до этой даты — прежним собственником.", start=3),
        Heading("2. Показания прибора учёта на дату переоформления"),
        Grid(READINGS, loop=("reading", "data.transfer_readings"),
             cells=("{{ reading.zone }}", "{{ reading.value }}")),
        Heading("3. Задолженность прежнего собственника"),
        Para("Задолженность прежнего собственника по лицевому счёту " + NO + "{{ data.account_number }} на дату "
             "переоформления составляет {{ data.previous_debt|amount }} руб."),
        Para("{{ data.debt_text }}"),
        Heading("4. Основные условия"),
        *clauses("4",
                 "Расчётный период — календарный месяц. Объём потреблённой электрической энергии определяется по "
                 "показаниям прибора учёта, которые Потребитель передаёт ежемесячно через личный кабинет, если "
                 "прибор учёта не подключён к АИИС КУЭ.",
                 "Оплата вносится ежемесячно до 10-го числа месяца, следующего за расчётным, по ценам (тарифам), "
                 "установленным органом государственного регулирования тарифов.",
                 "Гарантирующий поставщик выставляет платёжный документ ежемесячно и размещает его в личном "
                 "кабинете Потребителя.",
                 "Потребитель обеспечивает сохранность прибора учёта и пломб и доступ к прибору учёта для "
                 "проверки.",
                 "Договор вступает в силу с {{ data.transfer_date|day }} и заключён на неопределённый срок.",
                 "Отношения Сторон, не урегулированные настоящим договором, регулируются Гражданским кодексом "
                 "Российской Федерации, Правилами предоставления коммунальных услуг собственникам и пользователям "
                 "помещений в многоквартирных домах и жилых домов (постановление Правительства Российской "
                 "Федерации от 6 мая 2011 г. " + NO + "354) и Основными положениями функционирования розничных "
                 "рынков электрической энергии (постановление Правительства Российской Федерации от 4 мая 2012 г. "
                 + NO + "442)."),
        Signatures((company_side("Гарантирующий поставщик"), applicant_side("Потребитель")),
                   "5. Реквизиты и подписи сторон"),
    ))


COMPLAINT_ANSWER = Document(
    "complaint_answer", "Ответ на обращение",
    footer="{{ company.name }} · Ответ на обращение № {{ case.number }}",
    blocks=(
        Company(),
        Addressee(("{{ applicant.full_name }}", "{{ applicant.address }}", "{{ applicant.email }}")),
        Title(f"ОТВЕТ НА ОБРАЩЕНИЕ {NO}{{{{ case.number }}}}",
              ("о начислениях за {{ data.period }} по лицевому счёту " + NO + "{{ data.account_number }}",)),
        Para("{{ company.name }} рассмотрело {% if data.is_appeal %}Вашу жалобу на ранее принятое решение"
             "{% else %}Ваше обращение{% endif %} от {{ case.filed_on|day }} " + NO + "{{ case.number }} о "
             "начислениях за {{ data.period }} по лицевому счёту " + NO + "{{ data.account_number }} и "
             "сообщает следующее."),
        Heading("Содержание обращения"),
        Para("{{ data.complaint_text }}", align="left", kind="quote"),
        Heading("Результаты рассмотрения"),
        If((('data.decision == "recalculate"', (
                Para("По результатам проверки обращение признано обоснованным. Произведён перерасчёт платы за "
                     "{{ data.period }} по лицевому счёту " + NO + "{{ data.account_number }} на сумму "
                     "{{ data.recalculation_amount|amount }} руб."),
                Para("{{ data.decision_text }}"),
                Para("Сумма перерасчёта отражена на лицевом счёте корректирующей записью и будет учтена в "
                     "ближайшем платёжном документе."))),
            ('data.decision == "refuse"', (
                Para("По результатам проверки оснований для перерасчёта платы не установлено, в удовлетворении "
                     "обращения отказано."),
                Para("{{ data.decision_text }}"))))),
        Heading("Порядок обжалования"),
        If((("not data.is_appeal", (
                Para("Если Вы не согласны с принятым решением, Вы можете один раз обжаловать его в течение "
                     "{{ data.appeal_days }} дней со дня получения настоящего ответа, подав жалобу в личном "
                     "кабинете."),)),),
           otherwise=(
                Para("Настоящее решение принято по Вашей жалобе и является окончательным; повторное обжалование в "
                     "{{ company.name }} не предусмотрено. Если Вы не согласны с решением, Вы вправе обратиться в "
                     "орган государственного контроля (надзора) или в суд в порядке, установленном "
                     "законодательством Российской Федерации."),)),
        Signatures((Side("С уважением,", (), "{{ specialist.position }}", "{{ specialist.full_name }}"),), ""),
    ))


DOCUMENTS = (TP_CONTRACT, TP_CONDITIONS, TP_INVOICE, TP_ACT, TP_NOTICE, METER_REPLACEMENT_ACT,
             REASSIGNMENT_CONTRACT, COMPLAINT_ANSWER)


def build(folder: Path) -> list[Path]:
    """Every template this script makes, written into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for document in DOCUMENTS:
        written += document.build(folder)
    build_demo_act(folder / "demo_act.docx")
    return written + [folder / "demo_act.docx"]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Build the document templates (both twins of each).")
    parser.add_argument("--out", type=Path, default=HERE, help="folder to write into (default: this folder)")
    for path in build(parser.parse_args().out):
        print(f"wrote {path}")
