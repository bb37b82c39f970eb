"""Helpers shared by the page forms."""
from urllib.parse import urlsplit

from flask import flash
from flask_wtf import FlaskForm

from app.services.errors import ServiceError


def show_error(form: FlaskForm, error: ServiceError) -> None:
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
