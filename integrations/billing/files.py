"""CSV and XLSX tables as the external billing system sends and receives them.

Reading gives `Row(line, values)` keyed by the normalised header (stripped, lower-case). `line` is the
number a person sees: the line of a CSV file in a text editor, the row of the sheet in Excel, so every
message about a value can point at it. Writing produces what Russian Excel opens without an import
wizard: UTF-8 with a BOM and `;` between values (`,` is the decimal separator in that locale).

No Flask, no database: bytes in, plain values out.
"""
import codecs
import csv
import io
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal

from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

XLSX_MAGIC = b"PK\x03\x04"  # an .xlsx is a zip archive
XLS_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the old binary .xls (OLE2 container)
# Text a spreadsheet would run as a formula when the file is opened (CSV/formula injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class FileFormatError(ValueError):
    """The file as a whole cannot be read; `line` is set when one place in it is to blame."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(f"line {line}: {message}" if line else message)
        self.message = message
        self.line = line


@dataclass
class Row:
    line: int
    values: dict[str, str]
    # Values standing outside the header's columns. Kept rather than dropped so the caller can refuse the
    # row: in a comma-separated file it is usually an unquoted decimal comma that shifted every value.
    extra: tuple[str, ...] = ()


# ---- reading -------------------------------------------------------------------------------------------

def read_table(filename: str, content: bytes, required: Sequence[str] | None = None,
               optional: Sequence[str] = ()) -> list[Row]:
    """CSV or XLSX, told apart by content: a name can lie, and Excel users rename files freely."""
    if content.startswith(XLSX_MAGIC):
        return read_xlsx(content, required, optional)
    if content.startswith(XLS_MAGIC):
        raise FileFormatError("this is an old binary .xls workbook; save it as .xlsx or CSV")
    if (filename or "").lower().endswith((".xlsx", ".xlsm")):
        raise FileFormatError("the file is named like an Excel workbook but is not one")
    return read_csv(content, required, optional)


def read_csv(content: bytes, required: Sequence[str] | None = None, optional: Sequence[str] = ()) -> list[Row]:
    """Rows of a CSV file in UTF-8 (with or without a BOM) or windows-1251, `;` or `,` separated.

    `required`/`optional` name the columns the header must/may have; None accepts any header.
    """
    text = decode(content)
    header_line = next((line for line in text.splitlines() if line.strip()), "")
    # The header holds no numbers, so its separators are the delimiter; data lines may carry decimal commas.
    delimiter = "," if header_line.count(",") > header_line.count(";") else ";"
    return _table(_csv_records(text, delimiter), required, optional)


def decode(content: bytes) -> str:
    if not content.strip():
        raise FileFormatError("the file is empty")
    if b"\x00" in content:
        # Also catches UTF-16, which some tools call "Unicode text".
        raise FileFormatError("not a text table: the file holds binary data (save it as UTF-8 CSV or .xlsx)")
    if content.startswith(codecs.BOM_UTF8):
        try:
            text = content[len(codecs.BOM_UTF8):].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise FileFormatError("the file starts with a UTF-8 mark but is not valid UTF-8") from exc
    else:
        try:
            text = content.decode("utf-8")
        except UnicodeDecodeError:
            # Excel in a Russian locale saves "CSV (comma delimited)" in windows-1251.
            try:
                text = content.decode("cp1251")
            except UnicodeDecodeError as exc:
                raise FileFormatError("unknown text encoding: the file is neither UTF-8 nor windows-1251") from exc
    bad = CONTROL_RE.search(text)
    if bad:
        raise FileFormatError("not a text table: the file holds control characters",
                              line=text.count("\n", 0, bad.start()) + 1)
    if not text.strip():
        raise FileFormatError("the file is empty")
    return text


def _csv_records(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    previous_end = 0
    try:
        for cells in reader:
            # A quoted value may span lines; a record is named by the line it starts on.
            yield previous_end + 1, cells
            previous_end = reader.line_num
    except csv.Error as exc:
        raise FileFormatError(f"broken CSV: {exc}", line=reader.line_num) from exc


def read_xlsx(content: bytes, required: Sequence[str] | None = None, optional: Sequence[str] = ()) -> list[Row]:
    """Rows of the first sheet of a workbook; cell values (not formulas) turned into text."""
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl fails in many ways (zip, XML, missing parts): all mean the same here
        raise FileFormatError("not a readable XLSX workbook") from exc
    try:
        if not workbook.worksheets:
            raise FileFormatError("the workbook has no sheets")
        sheet = workbook.worksheets[0]
        # Tools other than Excel often write a wrong dimension; without this rows past it would be lost.
        sheet.reset_dimensions()
        records = ((number, [cell_text(v) for v in values])
                   for number, values in enumerate(sheet.iter_rows(values_only=True), start=1))
        return _table(records, required, optional)
    except FileFormatError:
        raise
    except Exception as exc:
        raise FileFormatError("not a readable XLSX workbook") from exc
    finally:
        workbook.close()


def cell_text(value) -> str:
    """A cell as the text a person would have typed into a CSV file."""
    if value is None:
        return ""
    if isinstance(value, bool):  # before int: bool is an int
        return "1" if value else "0"
    if isinstance(value, float):
        # repr is the shortest text that reads back as the same float: 1500.5, not 1500.5000000000002
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(sep=" ")
    if isinstance(value, (date, time)):
        return value.isoformat()
    return str(value)


def _table(records: Iterable[tuple[int, list[str]]], required, optional) -> list[Row]:
    records = iter(records)
    for line, cells in records:
        if any(cell.strip() for cell in cells):
            header_line = line
            # A stray BOM survives when a file was converted twice; it is never part of a name.
            header = [cell.replace("\ufeff", "").strip().lower() for cell in cells]
            break
    else:
        raise FileFormatError("the file is empty")
    check_header(header, header_line, required, optional)
    rows = []
    for line, cells in records:
        cells = [cell.strip() for cell in cells]
        if not any(cells):
            continue  # blank lines, and rows Excel keeps because they were once formatted
        values = {name: (cells[i] if i < len(cells) else "") for i, name in enumerate(header) if name}
        extra = [cell for i, cell in enumerate(cells) if cell and (i >= len(header) or not header[i])]
        rows.append(Row(line, values, tuple(extra)))
    return rows


def check_header(header: list[str], line: int, required: Sequence[str] | None, optional: Sequence[str]) -> None:
    names = [name for name in header if name]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise FileFormatError(f"the header names {_quoted(twice)} more than once", line=line)
    if required is None:
        return
    missing = [name for name in required if name not in names]
    unknown = [name for name in names if name not in required and name not in optional]
    problems = []
    if missing:
        problems.append(f"missing column{'s' if len(missing) > 1 else ''} {_quoted(missing)}")
    if unknown:
        problems.append(f"unknown column{'s' if len(unknown) > 1 else ''} {_quoted(unknown)}")
    if problems:
        expected = ", ".join(required) + (f"; optional: {', '.join(optional)}" if optional else "")
        raise FileFormatError(f"{'; '.join(problems)} (expected: {expected})", line=line)


def _quoted(names: Iterable[str]) -> str:
    return ", ".join(f'"{name}"' for name in names)


# ---- writing -------------------------------------------------------------------------------------------

def write_csv(rows: Iterable[Mapping | Row], columns: Sequence[str]) -> bytes:
    """UTF-8 with a BOM, `;` separated, CRLF: what Excel in a Russian locale opens directly.

    Decimals are written with a point, as the billing system reads them; dates as YYYY-MM-DD.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        values = row.values if isinstance(row, Row) else row
        writer.writerow([_csv_text(values.get(column)) for column in columns])
    return codecs.BOM_UTF8 + buffer.getvalue().encode("utf-8")


def _csv_text(value) -> str:
    if isinstance(value, str):
        # A leading apostrophe keeps Excel from running "=..." as a formula; numbers are never str here.
        return "'" + value if value.startswith(FORMULA_START) else value
    return cell_text(value)


def write_xlsx(rows: Iterable[Mapping | Row], columns: Sequence[str], title: str = "data") -> bytes:
    """One sheet: the header, then a row per mapping; numbers and dates as typed cells."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title)
    sheet.append([_xlsx_cell(sheet, column) for column in columns])
    for row in rows:
        values = row.values if isinstance(row, Row) else row
        sheet.append([_xlsx_cell(sheet, values.get(column)) for column in columns])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _xlsx_cell(sheet, value):
    if isinstance(value, str):
        cell = WriteOnlyCell(sheet, ILLEGAL_CHARACTERS_RE.sub("", value))
        cell.data_type = "s"  # text stays text: "=..." must not become a formula
        return cell
    if isinstance(value, date) and not isinstance(value, datetime):
        cell = WriteOnlyCell(sheet, value)
        cell.number_format = "yyyy-mm-dd"
        return cell
    return value  # None, int, Decimal and datetime are typed by openpyxl itself
