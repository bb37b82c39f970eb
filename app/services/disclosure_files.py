"""A file offered for publication: checked whole before anything is stored, and its text taken out
for search.

The name must be a bare file name with a .pdf, .xlsx or .docx ending; the bytes must be what the
ending says (a name or a declared type is never trusted); a PDF must open and have pages; the size
is capped by `DISCLOSURE_MAX_MB`. Every refusal says what is wrong in the user's language.
"""
import io
import re
import unicodedata
from dataclasses import dataclass

from flask import current_app
from flask_babel import lazy_gettext as _l

from app.services import file_store
from app.services.errors import InvalidInput

TYPES = {".pdf": file_store.PDF, ".xlsx": file_store.XLSX, ".docx": file_store.DOCX}
FORMAT_NAMES = {file_store.PDF: "PDF", file_store.XLSX: "XLSX", file_store.DOCX: "DOCX"}
# Enough for search: a statement of several hundred pages gives its first megabyte of text.
_TEXT_LIMIT = 1_000_000
_FORBIDDEN = re.compile(r'[\x00-\x1f<>:"|?*]')


@dataclass(frozen=True)
class CheckedFile:
    filename: str
    content_type: str
    size: int
    pages: int | None
    text: str  # for search: lower-cased, "ё" as "е", whitespace collapsed


def check(data: bytes, filename: str | None) -> CheckedFile:
    name = check_name(filename)
    if not data:
        raise InvalidInput(_l("The file is empty."), field="file")
    limit_mb = current_app.config["DISCLOSURE_MAX_MB"]
    if len(data) > limit_mb * 1024 * 1024:
        raise InvalidInput(_l("The file is larger than %(mb)s MB.", mb=limit_mb), field="file")
    expected = TYPES[name[name.rfind("."):].lower()]
    if file_store.sniff(data) != expected:
        raise InvalidInput(_l("The file is named %(name)s but it is not a %(format)s file.",
                              name=name, format=FORMAT_NAMES[expected]), field="file")
    pages, text = _EXTRACTORS[expected](data)
    return CheckedFile(filename=name, content_type=expected, size=len(data), pages=pages, text=normalize(text))


def check_name(filename: str | None) -> str:
    name = unicodedata.normalize("NFC", (filename or "").strip())
    if not name:
        raise InvalidInput(_l("Choose a file."), field="file")
    if "/" in name or "\\" in name or name.startswith(".") or ".." in name:
        raise InvalidInput(_l("The file name must be a bare name, without folders: %(name)s.", name=name[:200]),
                           field="file")
    if _FORBIDDEN.search(name) or len(name) > 200:
        raise InvalidInput(_l("The file name has characters a file name cannot have, or is too long."), field="file")
    if name[name.rfind("."):].lower() not in TYPES or "." not in name:
        raise InvalidInput(_l("Only PDF, XLSX and DOCX files are published."), field="file")
    return name


def normalize(text: str) -> str:
    return " ".join(text.lower().replace("ё", "е").split())[:_TEXT_LIMIT]


def _pdf(data: bytes) -> tuple[int, str]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise InvalidInput(_l("The PDF is protected by a password; publish it without one."), field="file")
        pages = len(reader.pages)
    except InvalidInput:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError, OSError) as error:
        raise InvalidInput(_l("The PDF is damaged and cannot be read (%(reason)s).", reason=str(error)[:200]),
                           field="file") from error
    if pages == 0:
        raise InvalidInput(_l("The PDF has no pages."), field="file")
    chunks, length = [], 0
    for page in reader.pages:
        try:
            chunk = page.extract_text() or ""
        except Exception:  # noqa: BLE001 — a page whose text cannot be taken out is still published
            current_app.logger.warning("disclosure: no text from a page", exc_info=True)
            continue
        chunks.append(chunk)
        length += len(chunk)
        if length > _TEXT_LIMIT:
            break
    return pages, "\n".join(chunks)


def _xlsx(data: bytes) -> tuple[None, str]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # noqa: BLE001 — openpyxl raises many kinds for a broken book
        raise InvalidInput(_l("The XLSX file is damaged and cannot be read."), field="file") from error
    chunks, length = [], 0
    try:
        for sheet in book.worksheets:
            chunks.append(sheet.title)
            for row in sheet.iter_rows(values_only=True):
                line = " ".join(str(v) for v in row if v is not None)
                chunks.append(line)
                length += len(line)
                if length > _TEXT_LIMIT:
                    return None, "\n".join(chunks)
    finally:
        book.close()
    return None, "\n".join(chunks)


def _docx(data: bytes) -> tuple[None, str]:
    import docx

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as error:  # noqa: BLE001 — python-docx raises many kinds for a broken document
        raise InvalidInput(_l("The DOCX file is damaged and cannot be read."), field="file") from error
    chunks = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            chunks.append(" ".join(cell.text for cell in row.cells))
    return None, "\n".join(chunks)


_EXTRACTORS = {file_store.PDF: _pdf, file_store.XLSX: _xlsx, file_store.DOCX: _docx}
