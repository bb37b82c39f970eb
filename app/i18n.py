"""Language and formatting: Russian by default, English on request.

A visitor's choice is kept in the session; a logged-in user's choice is also saved on their profile.
API clients choose with Accept-Language.
"""
from datetime import date
from functools import lru_cache
from decimal import Decimal

from flask import current_app, g, has_request_context, request, session
from babel import Locale
from flask_babel import format_date, format_datetime, format_decimal, get_locale, get_translations
from flask_login import current_user

from app.extensions import babel


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # CLI and Celery: letters choose their language with force_locale
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if request.path.startswith("/api/"):
        return request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = session.get("lang")
    if chosen in languages:
        return chosen
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def _request_translations():
    # Keyed by locale, so letters rendered under force_locale() still get their own language.
    locale = str(get_locale())
    cached = g.get("_translations")
    if cached is None or cached[0] != locale:
        cached = g._translations = (locale, get_translations())
    return cached[1]


def select_timezone() -> str:
    return current_app.config["TIMEZONE"]


def init_app(app) -> None:
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone,
                   default_translation_directories="translations")
    # Templates call _() a hundred times a page; look the catalog up once per request, not per call.
    app.jinja_env.install_gettext_callables(
        lambda text: _request_translations().ugettext(text),
        lambda singular, plural, n: _request_translations().ungettext(singular, plural, n),
        newstyle=True)

    @app.context_processor
    def _i18n_context():
        return {"current_locale": str(get_locale()), "languages": app.config["LANGUAGES"]}

    app.jinja_env.filters["date"] = lambda v, fmt="medium": _date(v, fmt, str(get_locale())) if v else ""
    app.jinja_env.filters["datetime"] = lambda v, fmt="medium": format_datetime(v, fmt) if v else ""
    app.jinja_env.filters["number"] = lambda v: format_decimal(v) if v is not None else ""
    app.jinja_env.filters["money"] = money
    app.jinja_env.filters["quantity"] = quantity
    app.jinja_env.filters["price"] = lambda v: format_decimal(v, "#,##0.00##") if v is not None else ""
    app.jinja_env.filters["isodate"] = lambda v, fmt="short": format_date(date.fromisoformat(v), fmt) if v else ""
    app.jinja_env.filters["filesize"] = filesize
    app.jinja_env.filters["l10n"] = localized_attribute


@lru_cache(maxsize=4096)
def _date(value: date, fmt: str, locale: str) -> str:
    """Dates repeat across a page and across requests (due dates, periods); Babel's formatting is
    the slowest part of a page's rendering, so each (date, format, language) is formatted once."""
    return format_date(value, fmt)


@lru_cache(maxsize=8)
def _separators(locale: str) -> tuple[str, str]:
    symbols = Locale.parse(locale).number_symbols.get("latn", Locale.parse(locale).number_symbols)
    return symbols["group"], symbols["decimal"]


def _localized(text: str) -> str:
    group, decimal = _separators(str(get_locale()))
    return text.replace(",", "\x00").replace(".", decimal).replace("\x00", group)


def filesize(size: int | None) -> str:
    """A file's size as a link should say it: "820 KB", "1.2 MB" ("1,2 МБ" in Russian)."""
    from flask_babel import gettext as _

    if size is None:
        return ""
    if size < 1024:
        return _("%(n)s B", n=size)
    if size < 1024 * 1024:
        return _("%(n)s KB", n=_localized(f"{round(size / 1024):,}"))
    return _("%(n)s MB", n=_localized(f"{size / 1024 / 1024:,.1f}".removesuffix(".0")))


def localized_attribute(obj, name: str) -> str:
    """`obj.<name>_en` on English pages (when filled), else `obj.<name>_ru`: for data kept in both
    languages, such as the disclosure taxonomy."""
    if str(get_locale()) == "en":
        value = getattr(obj, f"{name}_en", None)
        if value:
            return value
    return getattr(obj, f"{name}_ru")


def quantity(value) -> str:
    """Up to three decimals, without trailing zeros: 1 150,5 in Russian."""
    if value in (None, ""):
        return ""
    text = f"{Decimal(str(value)):,.3f}".rstrip("0").rstrip(".")
    return _localized(text)


def money(value, sign: bool = False) -> str:
    """Rubles with kopecks the local way: 1 233,50 ₽ in Russian, 1,233.50 ₽ in English.

    The dashboard prints many amounts, so this formats with Python and only takes the locale's
    separators from Babel (once per locale) instead of running Babel's pattern engine each time.
    """
    if value is None:
        return ""
    return _localized(f"{Decimal(value):{'+' if sign else ''},.2f}") + "\u00a0₽"
