"""Reading and writing the billing system's tables: encodings, delimiters, XLSX, broken files."""
import codecs
import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import Workbook, load_workbook

from integrations.billing.files import FileFormatError, Row, read_csv, read_table, read_xlsx, write_csv, write_xlsx

REQUIRED = ("number", "holder_name")
OPTIONAL = ("residents",)


def xlsx(*rows) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_utf8_with_bom_semicolons_and_a_header_to_normalise():
    content = codecs.BOM_UTF8 + " Number ;HOLDER_NAME\r\n7000000001;Иванов Иван\r\n".encode()
    assert read_csv(content, REQUIRED, OPTIONAL) == [Row(2, {"number": "7000000001", "holder_name": "Иванов Иван"})]


def test_utf8_without_bom_and_commas_with_a_quoted_decimal_comma():
    content = 'number,holder_name,residents\n7000000001,"Петров, Пётр",2\n'.encode()
    [row] = read_csv(content, REQUIRED, OPTIONAL)
    assert row.values == {"number": "7000000001", "holder_name": "Петров, Пётр", "residents": "2"}


def test_windows_1251_as_russian_excel_saves_it():
    content = "number;holder_name\n7000000001;Сидорова Анна Юрьевна\n".encode("cp1251")
    [row] = read_csv(content, REQUIRED)
    assert row.values["holder_name"] == "Сидорова Анна Юрьевна"


def test_lines_are_what_an_editor_shows_blank_lines_skipped_missing_values_empty():
    content = b'number;holder_name\n\n7000000001;"two\nlines"\n7000000002\n'
    rows = read_csv(content, REQUIRED)
    assert [(r.line, r.values) for r in rows] == [(3, {"number": "7000000001", "holder_name": "two\nlines"}),
                                                  (5, {"number": "7000000002", "holder_name": ""})]


def test_values_past_the_header_are_kept_for_the_caller_to_refuse():
    [row] = read_csv(b"number,holder_name\n7000000001,1500,50\n", REQUIRED)
    assert row.extra == ("50",)


def test_missing_and_unknown_columns_are_named():
    with pytest.raises(FileFormatError) as error:
        read_csv(b"number;adress\n7000000001;x\n", REQUIRED, OPTIONAL)
    assert error.value.line == 1
    assert 'missing column "holder_name"' in error.value.message
    assert 'unknown column "adress"' in error.value.message


def test_a_column_named_twice_is_refused():
    with pytest.raises(FileFormatError, match='"number" more than once'):
        read_csv(b"number;Number;holder_name\n", REQUIRED)


@pytest.mark.parametrize("content", [b"", b"   \r\n\r\n", codecs.BOM_UTF8])
def test_empty_file(content):
    with pytest.raises(FileFormatError, match="empty"):
        read_csv(content, REQUIRED)


@pytest.mark.parametrize("content", [
    bytes(range(256)),  # binary
    "number;holder_name".encode("utf-16"),  # NUL bytes
    b"number;holder_name\n\x01\x02\x03;x\n",  # control characters
    b"PK\x03\x04 not really a zip",  # looks like XLSX, is not
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1old xls",  # the old binary format
])
def test_garbage_bytes_are_a_file_error_not_a_crash(content):
    with pytest.raises(FileFormatError):
        read_table("upload.csv", content, REQUIRED)


def test_bytes_that_are_neither_utf8_nor_windows_1251():
    # 0x98 is the one byte windows-1251 leaves undefined.
    with pytest.raises(FileFormatError, match="unknown text encoding"):
        read_csv(b"number;holder_name\n1;\x98\xff\n", REQUIRED)


def test_a_file_named_xlsx_that_is_text():
    with pytest.raises(FileFormatError, match="Excel"):
        read_table("accounts.xlsx", b"number;holder_name\n", REQUIRED)


def test_xlsx_cells_become_text_and_rows_keep_their_sheet_numbers():
    content = xlsx(["Number", "Holder_Name", "Residents", "When"], [7000000001, "Иванов", 2.0, date(2026, 3, 1)],
                   [None, None, None, None], [7000000002, "Петров", 1.5, None])
    rows = read_table("anything.bin", content, REQUIRED, OPTIONAL + ("when",))
    assert [(r.line, r.values) for r in rows] == [
        (2, {"number": "7000000001", "holder_name": "Иванов", "residents": "2", "when": "2026-03-01"}),
        (4, {"number": "7000000002", "holder_name": "Петров", "residents": "1.5", "when": ""})]


def test_xlsx_header_is_checked_too():
    with pytest.raises(FileFormatError, match='missing column "holder_name"'):
        read_xlsx(xlsx(["number"], [1]), REQUIRED)


def test_csv_writer_is_what_russian_excel_expects():
    content = write_csv([{"account": "7000000001", "amount": Decimal("1500.50"), "on": date(2026, 3, 5),
                          "note": None, "model": "=HYPERLINK(\"x\")"}], ["account", "amount", "on", "note", "model"])
    assert content.startswith(codecs.BOM_UTF8)
    text = content[3:].decode("utf-8")
    assert list(csv.reader(io.StringIO(text), delimiter=";")) == [
        ["account", "amount", "on", "note", "model"],
        ["7000000001", "1500.50", "2026-03-05", "", "'=HYPERLINK(\"x\")"]]


def test_csv_round_trip():
    rows = [{"number": "7000000001", "holder_name": "Иванов; Иван \"Ваня\""}]
    assert [r.values for r in read_csv(write_csv(rows, REQUIRED), REQUIRED)] == rows


def test_xlsx_round_trip_with_typed_cells():
    content = write_xlsx([{"number": "7000000001", "amount": Decimal("1150.5"), "on": date(2026, 3, 5),
                           "note": "=1+2"}], ["number", "amount", "on", "note"])
    [row] = read_xlsx(content)
    assert row.values == {"number": "7000000001", "amount": "1150.5", "on": "2026-03-05", "note": "=1+2"}
    sheet = load_workbook(io.BytesIO(content)).worksheets[0]
    number, amount, on, note = sheet[2]
    assert (number.data_type, amount.data_type, on.is_date, note.data_type) == ("s", "n", True, "s")
