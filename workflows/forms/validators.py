"""The checks a definition asks for, as WTForms validators speaking the form's language."""
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app
from wtforms.validators import StopValidation, ValidationError

from workflows.forms import messages
from workflows.forms.definition import DateBound
from workflows.forms.files import SIGNATURES, has_file, inspect


def local_today() -> date:
    # "Not in the past" means the utility's calendar day, not the server's.
    return datetime.now(ZoneInfo(current_app.config["TIMEZONE"])).date()


def _blank_value(value) -> bool:
    if value is None or value == [] or value == ():
        return True
    if isinstance(value, str):
        return not value.strip()
    return hasattr(value, "filename") and not has_file(value)


def is_blank(field) -> bool:
    """Nothing entered: judged by what was submitted when there was a submission, since a field whose
    input could not be parsed has no data but is not empty."""
    raw = field.raw_data
    if raw:
        return all(_blank_value(v) for v in raw)
    return _blank_value(field.data)


class Presence:
    """Required, required on a condition, or optional. An empty field ends its checks here either way,
    so an optional date left empty is not called "not a valid date"."""

    def __init__(self, message: str, required: bool = False, condition=None, flag: bool = True):
        self.message, self.required, self.condition = message, required, condition
        # The flag makes widgets write `required`; checkbox groups opt out, since on every box it would
        # ask the browser for all of them.
        self.field_flags = {"required": True} if required and flag else {}

    def __call__(self, form, field):
        if not is_blank(field):
            return
        field.errors[:] = []
        if self.required or (self.condition is not None and self.condition(form)):
            raise StopValidation(self.message)
        raise StopValidation()


class Length:
    def __init__(self, least: int | None, most: int | None, locale: str):
        self.least, self.most, self.locale = least, most, locale

    def __call__(self, form, field):
        size = len(field.data or "")
        # Stops the chain: an over-long value is not worth matching against a pattern.
        if self.least is not None and size < self.least:
            raise StopValidation(messages.message("min_length", self.locale, min=self.least))
        if self.most is not None and size > self.most:
            raise StopValidation(messages.message("max_length", self.locale, max=self.most))


class Pattern:
    def __init__(self, regex, message: str):
        self.regex, self.message = regex, message

    def __call__(self, form, field):
        # The whole value must match, as with HTML's pattern attribute; re.match would accept a prefix.
        if field.data and not self.regex.fullmatch(field.data):
            raise ValidationError(self.message)


class Range:
    """min/max of numbers and dates; date bounds relative to today are resolved at each check."""

    def __init__(self, least, most, locale: str):
        self.least, self.most, self.locale = least, most, locale

    def __call__(self, form, field):
        value = field.data
        if value is None:
            return
        if self.least is not None and value < self._resolve(self.least):
            raise ValidationError(self._text("min", self.least))
        if self.most is not None and value > self._resolve(self.most):
            raise ValidationError(self._text("max", self.most))

    @staticmethod
    def _resolve(bound):
        return bound.resolve(local_today()) if isinstance(bound, DateBound) else bound

    def _text(self, side: str, bound) -> str:
        if not isinstance(bound, DateBound):
            return messages.message(f"{side}_number", self.locale, **{side: messages.number(bound, self.locale)})
        if bound.days_from_today == 0:
            return messages.message("past_date" if side == "min" else "future_date", self.locale)
        return messages.message(f"{side}_date", self.locale,
                                **{side: messages.day(self._resolve(bound), self.locale)})


class FileCheck:
    """The content must be one of the accepted types by its first bytes, and not too large."""

    def __init__(self, accept: tuple[str, ...], max_mb: float, locale: str):
        self.accept, self.max_bytes, self.locale = accept, int(max_mb * 1024 * 1024), locale
        self.type_message = messages.message(
            "file_type", locale, types=messages.one_of([SIGNATURES[t][1] for t in accept], locale))
        self.size_message = messages.message("file_size", locale, max_mb=messages.number(max_mb, locale))

    def __call__(self, form, field):
        if not has_file(field.data):
            return
        content_type, size = inspect(field.data)
        if size == 0:
            raise ValidationError(messages.message("file_empty", self.locale))
        if content_type not in self.accept:
            raise ValidationError(self.type_message)
        if size > self.max_bytes:
            raise ValidationError(self.size_message)


def accept_kept_file(field) -> None:
    """A required file a draft already holds: an empty input now keeps that file, so the field stops
    being required (for this form object only: the class's validators are left alone)."""
    field.validators = [Presence(v.message) if isinstance(v, Presence) else v for v in field.validators]
    field.flags.required = False
