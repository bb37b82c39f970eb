"""Generated documents: the demo act as .docx and PDF, template versions, escaping, and the file store."""
import hashlib
import io
import shutil
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal as D
from pathlib import Path

import docx
import pytest
from flask_babel import force_locale
from PIL import Image
from pypdf import PdfReader

from app import create_app
from app.services import documents, file_store
from app.services.documents import TemplateMissing
from app.services.file_store import BadFileId, FileCorrupted, FileMissing, FileStore
from tests.documents import pdf_text, words

TEMPLATES = Path(__file__).resolve().parents[2] / "docs_templates"
ESCAPE_ME = 'Иванов <b>Иван</b> & сын "ООО"'


@pytest.fixture(scope="module")
def app():
    app = create_app("testing", SQLALCHEMY_DATABASE_URI="sqlite://")
    with app.test_request_context():
        yield app


@pytest.fixture
def store(app, tmp_path, monkeypatch):
    root = tmp_path / "files"
    monkeypatch.setitem(app.config, "FILE_STORE", str(root))
    return root


def act_context(**applicant) -> dict:
    return {
        "case": {"number": "ЗМ-2026-000001", "filed_on": date(2026, 4, 20),
                 "address": "г. Москва, ул. Профсоюзная, д. 10, кв. 5"},
        "applicant": {"full_name": "Иванова Мария Петровна", **applicant},
        "specialist": {"full_name": "Петров П. П.", "position": "инженер"},
        "materials": [
            {"name": "Кабель ВВГнг-LS 3×2,5", "unit": "м", "quantity": D("12.5"), "price": D("148.40"),
             "amount": D("1855.00")},
            {"name": "Автоматический выключатель C16", "unit": "шт.", "quantity": D("2"), "price": D("10245.30"),
             "amount": D("20490.60")},
        ],
        "total": D("22345.60"),
        "today": date(2026, 5, 12),
    }


ROWS = [["1", "Кабель ВВГнг-LS 3×2,5", "м", "12,50", "148,40", "1 855,00"],
        ["2", "Автоматический выключатель C16", "шт.", "2,00", "10 245,30", "20 490,60"]]
VALUES = ["ЗМ-2026-000001", "Иванова Мария Петровна", "г. Москва, ул. Профсоюзная, д. 10, кв. 5",
          "12.05.2026", "20.04.2026", "Петров П. П.", "22 345,60", "АО «ГридКейс Энерго»", "7700000000"]


def docx_text(data: bytes) -> tuple[str, list[list[str]]]:
    """The paragraphs' and table cells' text of a .docx, and its tables' rows."""
    document = docx.Document(io.BytesIO(data))
    rows = [[words(cell.text) for cell in row.cells] for table in document.tables for row in table.rows]
    parts = [p.text for p in document.paragraphs] + [cell for row in rows for cell in row]
    parts += [p.text for p in document.sections[0].footer.paragraphs]
    return words(" ".join(parts)), rows


def copy_templates(folder: Path) -> Path:
    folder.mkdir(exist_ok=True)
    for suffix in documents.SUFFIXES:
        shutil.copy(TEMPLATES / f"demo_act{suffix}", folder)
    return folder


# --- the demo act ---------------------------------------------------------------------------------

def test_demo_act_docx_holds_the_values_and_the_materials_rows(app):
    text, rows = docx_text(documents.render_docx("demo_act", act_context()))
    for value in VALUES:
        assert value in text
    materials = [row for row in rows if len(row) == 6]
    assert materials[1:3] == ROWS  # the loop made one row per material, between the header and the total
    assert materials[0][:2] == ["№", "Наименование"] and materials[3][-1] == "22 345,60"
    assert len(materials) == 4
    assert "{{" not in text and "{%" not in text and "}}" not in text


def test_demo_act_pdf_holds_the_same_values(app):
    pdf = documents.render_pdf("demo_act", act_context())
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 1
    text = pdf_text(pdf)
    for value in VALUES + [" ".join(row) for row in ROWS]:
        assert value in text
    assert "{{" not in text and "None" not in text


def test_pair_carries_the_template_version_and_renders_the_same_bytes_twice(app):
    first, second = documents.render_pair("demo_act", act_context()), documents.render_pair("demo_act", act_context())
    assert first.version == second.version == documents.template_version("demo_act")
    assert len(first.version) == 12 and int(first.version, 16) >= 0
    # Same data, same bytes: a retried service task stores nothing new.
    assert (first.docx, first.pdf) == (second.docx, second.pdf)
    assert file_store.sniff(first.docx) == file_store.DOCX and file_store.sniff(first.pdf) == file_store.PDF


def test_version_changes_with_either_template_file(app, tmp_path, monkeypatch):
    folder = copy_templates(tmp_path / "templates")
    original = documents.template_version("demo_act")
    assert documents.template_version("demo_act", folder) == original

    html = folder / "demo_act.html"
    html.write_text(html.read_text(encoding="utf-8").replace("о выполнении работ", "о выполнении работ (копия)"),
                    encoding="utf-8")
    after_html = documents.template_version("demo_act", folder)
    assert after_html != original
    assert "(копия)" in pdf_text(documents.render_pdf("demo_act", act_context(), folder))

    document = docx.Document(folder / "demo_act.docx")
    document.add_paragraph("Приложение: фотографии {{ case.number }}")
    document.save(folder / "demo_act.docx")
    # The setting points the module at the folder when no folder is given.
    monkeypatch.setitem(app.config, "DOCUMENT_TEMPLATES", str(folder))
    pair = documents.render_pair("demo_act", act_context())
    assert pair.version == documents.template_version("demo_act") not in (original, after_html)
    assert "Приложение: фотографии ЗМ-2026-000001" in docx_text(pair.docx)[0]


def test_missing_templates_are_named(app, tmp_path):
    with pytest.raises(TemplateMissing, match="no_such_act") as missing:
        documents.render_pdf("no_such_act", act_context())
    assert missing.value.name == "no_such_act" and str(TEMPLATES / "no_such_act.html") in str(missing.value)
    with pytest.raises(TemplateMissing, match="no_such_act.docx or no_such_act.html"):
        documents.template_version("no_such_act")

    (tmp_path / "only_word.docx").write_bytes((TEMPLATES / "demo_act.docx").read_bytes())
    assert documents.render_docx("only_word", act_context(), tmp_path)
    with pytest.raises(TemplateMissing, match=r"only_word\.html"):
        documents.render_pair("only_word", act_context(), tmp_path)

    for name in ("../docs_templates/demo_act", "/etc/passwd", "Demo_Act", "", None):
        with pytest.raises(TemplateMissing, match="not a document template name"):
            documents.render_docx(name, act_context())


def test_html_twins_are_self_contained(app, tmp_path):
    # A shared part is not in the version, so it would change documents without a new version.
    (tmp_path / "part.html").write_text("<p>часть</p>", encoding="utf-8")
    (tmp_path / "whole.html").write_text('<h1>Акт</h1>{% include "part.html" %}', encoding="utf-8")
    with pytest.raises(documents.TemplateError, match="self-contained"):
        documents.render_html("whole", {}, tmp_path)


def test_markup_in_values_is_printed_as_text(app):
    context = act_context(full_name=ESCAPE_ME)
    text, _ = docx_text(documents.render_docx("demo_act", context))
    assert ESCAPE_ME in text

    html = documents.render_html("demo_act", context)
    assert "<b>Иван" not in html and "&lt;b&gt;Иван&lt;/b&gt; &amp; сын &#34;ООО&#34;" in html
    assert ESCAPE_ME in pdf_text(documents.render_pdf("demo_act", context))


def test_templates_get_gettext_and_the_filters_in_the_document_language(app, tmp_path):
    (tmp_path / "note.html").write_text(
        '<p>{{ _("Bill") }} | {{ when|day }} | {{ sum|amount }} | {{ sum|money }} | {{ when|date("long") }}'
        ' | {{ "2026-03-01"|day }} | {{ "1234.5"|amount }} | {{ missing|day }}|</p>', encoding="utf-8")
    context = {"when": date(2026, 5, 12), "sum": D("1234.5")}
    # A specialist reading the portal in English still gets the Russian document.
    with force_locale("en"):
        html = documents.render_html("note", context, tmp_path)
    assert words(html) == words("<p>Квитанция | 12.05.2026 | 1 234,50 | 1 234,50 ₽ | 12 мая 2026 г."
                                " | 01.03.2026 | 1 234,50 | |</p>")
    # The app's own environment is left without the document filters.
    assert "day" not in app.jinja_env.filters


def test_documents_load_images_only_from_the_templates_folder(app, tmp_path):
    folder, outside = tmp_path / "templates", tmp_path / "elsewhere"
    folder.mkdir(), outside.mkdir()
    for where in (folder, outside):
        Image.new("RGB", (8, 8), "red").save(where / "logo.png")
    (folder / "logos.html").write_text(
        f'<img src="logo.png"><img src="{(outside / "logo.png").as_uri()}"><img src="../elsewhere/logo.png">'
        '<img src="http://127.0.0.1:9/logo.png">', encoding="utf-8")
    pdf = documents.render_pdf("logos", {}, folder)
    assert len(PdfReader(io.BytesIO(pdf)).pages[0].images) == 1


@dataclass
class Line:
    name: str
    price: D
    paid_on: date | None


def test_printable_formats_dates_and_decimals_all_the_way_down(app):
    moment = datetime(2026, 5, 11, 21, 30, tzinfo=timezone.utc)  # 00:30 on the 12th in Moscow
    context = {"today": date(2026, 5, 12), "at": moment, "n": 3, "ok": True, "note": None, "text": "1.5",
               "lines": [Line("Счётчик", D("1234567.005"), None), Line("Пломба", D("-0.5"), date(2026, 1, 9))],
               "nested": {"sums": (D("0"), D("10.1"))}}
    assert documents.printable(context) == {
        "today": "12.05.2026", "at": "12.05.2026 00:30", "n": 3, "ok": True, "note": "", "text": "1.5",
        "lines": [{"name": "Счётчик", "price": "1\u00a0234\u00a0567,01", "paid_on": ""},
                  {"name": "Пломба", "price": "-0,50", "paid_on": "09.01.2026"}],
        "nested": {"sums": ["0,00", "10,10"]},
    }
    # Already printed values go through the filters unchanged.
    assert documents.day("12.05.2026") == "12.05.2026" and documents.amount("1 234,50") == "1 234,50"


# --- the file store ----------------------------------------------------------------------------

def test_the_same_content_is_stored_once_and_read_back(app, store):
    data = b"%PDF-1.7 a document"
    first, second = file_store.save(data), file_store.save(bytearray(data))
    sha = hashlib.sha256(data).hexdigest()
    assert first == second == file_store.StoredFile(sha256=sha, size=len(data), path=f"{sha[:2]}/{sha[2:4]}/{sha}")
    assert [p.relative_to(store).as_posix() for p in store.rglob("*") if p.is_file()] == [first.path]
    assert file_store.open_bytes(sha) == data
    assert file_store.save(b"other").sha256 != sha and file_store.open_bytes(sha) == data


def test_store_refuses_damaged_missing_and_made_up_files(app, store):
    stored = file_store.save(b"readings 2026-05")
    (store / stored.path).write_bytes(b"readings 2026-06")
    with pytest.raises(FileCorrupted, match=f"{stored.sha256} is corrupted"):
        file_store.open_bytes(stored.sha256)
    assert file_store.save(b"readings 2026-05") == stored  # saving the content again repairs it
    assert file_store.open_bytes(stored.sha256) == b"readings 2026-05"

    (store / stored.path).unlink()
    with pytest.raises(FileMissing, match=f"{stored.sha256} is missing"):
        file_store.open_bytes(stored.sha256)
    for made_up in ("../../etc/passwd", stored.sha256.upper(), stored.sha256[:-1], "", None):
        with pytest.raises(BadFileId):
            file_store.open_bytes(made_up)


def test_store_defaults_to_the_instance_folder(app, monkeypatch):
    monkeypatch.delitem(app.config, "FILE_STORE", raising=False)
    assert file_store.store().root == Path(app.instance_path) / "files"


def test_generate_stores_both_twins(app, store):
    generated = documents.generate("demo_act", act_context())
    assert generated.template == "demo_act" and generated.version == documents.template_version("demo_act")
    assert file_store.sniff(file_store.open_bytes(generated.docx.sha256)) == file_store.DOCX
    assert file_store.sniff(file_store.open_bytes(generated.pdf.sha256)) == file_store.PDF
    assert FileStore(store).exists(generated.pdf.sha256)


def zipped(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def content_types(main: str) -> bytes:
    return (f'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            f'<Override PartName="/x" ContentType="{main}"/></Types>').encode()


def test_sniff_tells_types_by_their_bytes(app):
    import openpyxl

    def image(kind: str) -> bytes:
        out = io.BytesIO()
        Image.new("RGB", (4, 4), "white").save(out, kind)
        return out.getvalue()

    workbook = io.BytesIO()
    openpyxl.Workbook().save(workbook)
    assert file_store.sniff(image("PNG")) == "image/png"
    assert file_store.sniff(image("JPEG")) == "image/jpeg"
    assert file_store.sniff((TEMPLATES / "demo_act.docx").read_bytes()) == file_store.DOCX
    assert file_store.sniff(workbook.getvalue()) == file_store.XLSX
    assert file_store.sniff(b"%PDF-1.4\n...") == "application/pdf"

    word = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
    macros = "application/vnd.ms-word.document.macroEnabled.main+xml"
    not_accepted = [
        b"", b"plain text", b"<html><body>", b"GIF89a...", b"PK\x03\x04 not really a zip",
        zipped({"readme.txt": b"a zip"}),
        zipped({"[Content_Types].xml": content_types(macros), "word/document.xml": b"<w/>"}),  # .docm
        zipped({"[Content_Types].xml": content_types(word)}),  # says Word, holds no word/ part
    ]
    assert [file_store.sniff(data) for data in not_accepted] == [None] * len(not_accepted)
    assert file_store.sniff(zipped({"[Content_Types].xml": content_types(word), "word/document.xml": b"<w/>"})) \
        == file_store.DOCX
