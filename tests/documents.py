"""Reading generated documents back in tests: PDF and DOCX text, and the payment QR code on a page."""
import io
import shutil
import subprocess
from pathlib import Path

import docx
from docx.table import Table
from pypdf import PdfReader

from tests.conftest import unavailable


def parse_qr(text: str) -> dict[str, str]:
    """A ГОСТ Р 56042-2014 string back into its fields; the header is kept under "format"."""
    header, *pairs = text.split("|")
    fields = dict(pair.split("=", 1) for pair in pairs)
    assert len(fields) == len(pairs), f"a field repeats in {text!r}"
    return {"format": header, **fields}


def words(text: str) -> str:
    # Babel groups thousands with no-break spaces; PDF text extraction may turn them into anything.
    return " ".join(text.split())


def pdf_text(pdf: bytes) -> str:
    return words(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages))


def docx_text(data: bytes) -> str:
    """The text of a .docx in reading order: paragraphs and table rows (cells left to right), then the
    footer."""
    document = docx.Document(io.BytesIO(data))
    parts = []
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            for row in block.rows:
                cells = []
                for cell in row.cells:  # a merged cell is listed once per grid column it spans
                    if not cells or cell._tc is not cells[-1]._tc:
                        cells.append(cell)
                parts.append(" ".join(cell.text for cell in cells))
        else:
            parts.append(block.text)
    parts += [p.text for p in document.sections[0].footer.paragraphs]
    return words(" ".join(parts))


def qr_codes(pdf: bytes, folder: Path) -> list[str]:
    """The QR codes on page 1, read from a 200 dpi rendering of it as a phone camera would."""
    import zxingcpp
    from PIL import Image

    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        unavailable("pdftoppm (poppler-utils)", "not installed; the QR code cannot be read back from the PDF")
    (folder / "doc.pdf").write_bytes(pdf)
    subprocess.run([pdftoppm, "-r", "200", "-png", "-f", "1", "-l", "1", "-singlefile",
                    str(folder / "doc.pdf"), str(folder / "page")], check=True, timeout=60)
    return [c.bytes.decode("utf-8") for c in zxingcpp.read_barcodes(Image.open(folder / "page.png"))
            if c.format == zxingcpp.BarcodeFormat.QRCode]
