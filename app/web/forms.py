"""The base of every page form, and helpers shared by the form views."""
from functools import lru_cache
from urllib.parse import urlsplit

from babel import support
from flask import flash
from flask_babel import get_locale
from flask_wtf import FlaskForm
from wtforms.i18n import messages_path

from app.services.errors import ServiceError


@lru_cache(maxsize=8)
def _wtforms_translations(locale: str):
    return support.Translations.load(messages_path(), [locale], domain="wtforms")


class Form(FlaskForm):
    """A FlaskForm whose built-in WTForms messages are translated from a catalog loaded once per
    language, instead of from disk on every request."""

    class Meta(FlaskForm.Meta):
        def get_translations(self, form):
            return _wtforms_translations(str(get_locale()))


def show_error(form: Form, error: ServiceError) -> None:
    """Put a service error next to the field it is about, or above the form when it has no field."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = list(field.errors) + [str(error.message)]
    else:
        flash(str(error.message), "danger")


def safe_next(target: str | None, default: str) -> str:
    """Only local paths: never redirect to another site after login."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target
