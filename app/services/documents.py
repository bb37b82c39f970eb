"""Documents rendered from `docs_templates/`: a `.docx` (docxtpl) and its PDF twin (an HTML template
printed by WeasyPrint), versioned by the hash of the template files.

A template `<name>` is the pair `<name>.docx` + `<name>.html` in the templates folder (the
`DOCUMENT_TEMPLATES` setting, default the repository's `docs_templates/`); its version is the first
12 hex digits of a SHA-256 over both files, so any edit of either gives a new version. Both twins
are rendered from the same bytes the version was computed from. `docs_templates/README.md` tells
template authors what they get.

Everything here needs an application context: the HTML side is an overlay of the Flask Jinja
environment (its `_()` and filters), and both sides get the company details from the settings.
Documents are printed in one language (`DOCUMENT_LOCALE`, default the app's default locale) whoever
triggers them, so the same case data always give the same document.
"""
import hashlib
import io
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, fields, is_dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo

import jinja2
import jinja2.meta
from flask import current_app, has_app_context
from flask_babel import force_locale, get_locale, gettext, ngettext

from app.config import ROOT
from app.services import file_store

SUFFIXES = (".docx", ".html")
VERSION_LENGTH = 12
NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")
NBSP = "\u00a0"
CENT = Decimal("0.01")
# Zip entries written with this time, so the same content makes the same bytes (and one stored file).
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


class TemplateMissing(LookupError):
    def __init__(self, name: object, path: Path | None = None, detail: str | None = None):
        self.name, self.path = name, path
        super().__init__(detail or f"document template {name!r} is missing: {path} does not exist")


class TemplateError(ValueError):
    def __init__(self, name: str, detail: str):
        self.name = name
        super().__init__(detail)


@dataclass(frozen=True)
class RenderedPair:
    docx: bytes
    pdf: bytes
    version: str


@dataclass(frozen=True)
class GeneratedDocument:
    """A rendered pair put in the file store; what a case attaches."""

    template: str
    version: str
    docx: file_store.StoredFile
    pdf: file_store.StoredFile


# --- templates and their versions -------------------------------------------------------------

def template_folder(folder: str | Path | None = None) -> Path:
    if folder is None and has_app_context():
        folder = current_app.config.get("DOCUMENT_TEMPLATES")
    return Path(folder or ROOT / "docs_templates").resolve()


def _read(name: str, folder: str | Path | None, *required: str) -> tuple[Path, dict[str, bytes]]:
    """The template's files that exist, as bytes; TemplateMissing when a required one does not."""
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise TemplateMissing(name, detail=f"{name!r} is not a document template name "
                                           "(lowercase letters, digits, '_' and '-')")
    root = template_folder(folder)
    found = {}
    for suffix in SUFFIXES:
        try:
            found[suffix] = (root / f"{name}{suffix}").read_bytes()
        except FileNotFoundError:
            pass
    missing = [suffix for suffix in required if suffix not in found]
    if missing or not found:
        path = root / f"{name}{missing[0] if missing else ''}"
        detail = None if missing else f"document template {name!r} is missing: no {name}.docx or {name}.html in {root}"
        raise TemplateMissing(name, path, detail)
    return root, found


def _version(files: dict[str, bytes]) -> str:
    digest = hashlib.sha256()
    for suffix in sorted(files):
        digest.update(suffix.encode() + b"\0" + hashlib.sha256(files[suffix]).digest())
    return digest.hexdigest()[:VERSION_LENGTH]


def template_version(name: str, folder: str | Path | None = None) -> str:
    return _version(_read(name, folder)[1])


# --- values as printed --------------------------------------------------------------------------

def _timezone() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"] if has_app_context() else "Europe/Moscow")


def day(value) -> str:
    """DD.MM.YYYY (a moment: DD.MM.YYYY HH:MM in local time); ISO strings from case data are read,
    other strings are taken as already printed."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value) if "T" in value or " " in value.strip() else date.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(_timezone())
        return value.strftime("%d.%m.%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d.%m.%Y")
    return str(value)


def amount(value) -> str:
    """Two decimals, a decimal comma and no-break spaces between thousands: 12 345,60.
    Numeric strings from case data are read; other strings are taken as already printed."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return str(value)
    try:
        number = Decimal(value) if isinstance(value, (str, int, Decimal)) else Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        return str(value)
    if not number.is_finite():
        return str(value)
    text = f"{number.quantize(CENT, rounding=ROUND_HALF_UP):,.2f}"
    return text.replace(",", NBSP).replace(".", ",")


def quantity(value) -> str:
    """A measured value as documents print it, with the decimals it has (at most three): 4 321,5 or 0,4.
    For readings, power and voltage; money goes through `amount`."""
    number = Decimal(str(value))
    text = f"{number.quantize(Decimal('0.001'), rounding=ROUND_HALF_UP):,.3f}".rstrip("0").rstrip(".")
    return text.replace(",", NBSP).replace(".", ",")


def printable(value):
    """The context as docxtpl should see it: dates as DD.MM.YYYY, Decimals as 12 345,60, None as an
    empty string, through dicts, lists and dataclasses. Everything else is left as it is (numbers
    and booleans still compare; Markup and docxtpl's RichText/InlineImage keep working)."""
    if value is None:
        return ""
    if isinstance(value, (str, bool, int, float)) or hasattr(value, "__html__"):
        return value
    if isinstance(value, (date, Decimal)):
        return day(value) if isinstance(value, date) else amount(value)
    if isinstance(value, Mapping):
        return {key: printable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [printable(item) for item in value]
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: printable(getattr(value, f.name)) for f in fields(value)}
    return value


FILTERS = {"day": day, "amount": amount, "printable": printable}


# --- rendering ------------------------------------------------------------------------------------

def document_locale() -> str:
    cfg = current_app.config
    return cfg.get("DOCUMENT_LOCALE") or cfg["BABEL_DEFAULT_LOCALE"]


def base_context() -> dict:
    """What every template gets unless the caller gives its own: the company, today, the language."""
    cfg = current_app.config
    return {
        "company": {key.removeprefix("COMPANY_").lower(): cfg[key] for key in cfg if key.startswith("COMPANY_")},
        "today": datetime.now(_timezone()).date(),
        "lang": str(get_locale() or cfg["BABEL_DEFAULT_LOCALE"]),
    }


def template_env(folder: str | Path | None = None) -> jinja2.Environment:
    """Flask's Jinja environment (its `_()` and `date`/`money`/`quantity` filters) reading the
    templates folder, with `day`, `amount` and `printable` added and autoescaping always on."""
    app = current_app._get_current_object()
    root = template_folder(folder)
    envs = app.extensions.setdefault("gridcase.documents", {})
    env = envs.get(root)
    if env is None:
        env = app.jinja_env.overlay(loader=jinja2.FileSystemLoader(root), autoescape=True)
        env.filters = {**app.jinja_env.filters, **FILTERS}  # an overlay shares the dict otherwise
        envs[root] = env
    return env


def _docx_env() -> jinja2.Environment:
    # docxtpl sets `autoescape` on the environment it is given, so each render gets its own.
    env = jinja2.Environment(autoescape=True, extensions=["jinja2.ext.i18n"])
    env.install_gettext_callables(gettext, ngettext, newstyle=True)
    env.filters.update(FILTERS)
    return env


def normalize_zip(data: bytes) -> bytes:
    """The same OOXML package with fixed entry times, so equal content gives equal bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            info = zipfile.ZipInfo(entry.filename, date_time=ZIP_EPOCH)
            info.compress_type, info.external_attr = zipfile.ZIP_DEFLATED, 0o644 << 16
            target.writestr(info, source.read(entry.filename))
    return out.getvalue()


def _render_docx(source: bytes, context: Mapping) -> bytes:
    from docxtpl import DocxTemplate  # only the processes that print documents load it

    template = DocxTemplate(io.BytesIO(source))
    with force_locale(document_locale()):
        template.render(printable({**base_context(), **context}), jinja_env=_docx_env(), autoescape=True)
    out = io.BytesIO()
    template.save(out)
    return normalize_zip(out.getvalue())


def _render_html(name: str, root: Path, source: bytes, context: Mapping) -> str:
    env = template_env(root)
    # Compiled from the bytes read for this render (not through the loader's cache), so the HTML
    # is exactly the version reported.
    filename = str(root / f"{name}.html")
    tree = env.parse(source.decode("utf-8"), f"{name}.html", filename)
    if any(True for _ in jinja2.meta.find_referenced_templates(tree)):
        # The version covers the twin files only; a shared part would change documents unseen.
        raise TemplateError(name, f"document template {name}.html includes, imports or extends another "
                                  "template; document templates must be self-contained")
    code = env.compile(tree, f"{name}.html", filename)
    template = env.template_class.from_code(env, code, env.make_globals(None))
    with force_locale(document_locale()):
        return template.render({**base_context(), **context})


def _template_files(root: Path):
    """A WeasyPrint URL fetcher that loads images, fonts and stylesheets from the templates folder
    and `data:` URLs, nothing else: no network, no other local file."""
    from weasyprint.urls import URLFetcher

    class TemplateFiles(URLFetcher):
        def fetch(self, url, headers=None):
            if url.lower().startswith("file:"):
                path = Path(unquote(urlsplit(url).path)).resolve()
                if not path.is_relative_to(root):
                    raise ValueError(f"a document may only load files from {root}, not {path}")
            return super().fetch(url, headers)

    return TemplateFiles(allowed_protocols={"file", "data"})


def html_to_pdf(html: str, folder: str | Path | None = None) -> bytes:
    """Print HTML with WeasyPrint; relative URLs resolve against the templates folder."""
    import weasyprint  # heavy; only the processes that print documents pay for it

    root = template_folder(folder)
    return weasyprint.HTML(string=html, base_url=f"{root}/", url_fetcher=_template_files(root)).write_pdf()


def render_html(name: str, context: Mapping, folder: str | Path | None = None) -> str:
    """The HTML twin as text (a preview, or what render_pdf prints)."""
    root, files = _read(name, folder, ".html")
    return _render_html(name, root, files[".html"], context)


def render_docx(name: str, context: Mapping, folder: str | Path | None = None) -> bytes:
    root, files = _read(name, folder, ".docx")
    return _render_docx(files[".docx"], context)


def render_pdf(name: str, context: Mapping, folder: str | Path | None = None) -> bytes:
    root, files = _read(name, folder, ".html")
    return html_to_pdf(_render_html(name, root, files[".html"], context), root)


def render_pair(name: str, context: Mapping, folder: str | Path | None = None) -> RenderedPair:
    root, files = _read(name, folder, *SUFFIXES)
    return RenderedPair(docx=_render_docx(files[".docx"], context),
                        pdf=html_to_pdf(_render_html(name, root, files[".html"], context), root),
                        version=_version(files))


def generate(name: str, context: Mapping, folder: str | Path | None = None) -> GeneratedDocument:
    """Render both twins and put them in the file store (FILE_STORE)."""
    pair = render_pair(name, context, folder)
    return GeneratedDocument(template=name, version=pair.version,
                             docx=file_store.save(pair.docx), pdf=file_store.save(pair.pdf))
