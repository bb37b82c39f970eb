"""A checked task form definition: plain, immutable objects made from the analysts' JSON (see `loader`)."""
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

LANGUAGES = ("ru", "en")


class FormDefinitionError(ValueError):
    """A form definition that cannot be used; the message names the form and the field."""


def language(locale: str | None) -> str:
    """"en_US" -> "en"; anything we have no texts for falls back to Russian, the default."""
    base = str(locale or "").replace("-", "_").split("_")[0].lower()
    return base if base in LANGUAGES else "ru"


@dataclass(frozen=True)
class I18n:
    ru: str
    en: str

    def get(self, locale: str) -> str:
        return getattr(self, language(locale))


@dataclass(frozen=True)
class Option:
    value: str
    label: I18n


@dataclass(frozen=True)
class Condition:
    """`required_if`: the field is required while another field's value equals `equals`."""
    field: str
    equals: Any


@dataclass(frozen=True)
class DateBound:
    """A fixed date, or a number of days from the day the form is checked ("today", "today+3")."""
    fixed: date | None = None
    days_from_today: int | None = None

    def resolve(self, today: date) -> date:
        return self.fixed if self.fixed is not None else today + timedelta(days=self.days_from_today)


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type: str
    label: I18n
    help: I18n | None = None
    required: bool = False
    required_if: Condition | None = None
    default: Any = None
    min: int | Decimal | DateBound | None = None
    max: int | Decimal | DateBound | None = None
    min_length: int | None = None
    max_length: int | None = None
    pattern: re.Pattern | None = None
    pattern_message: I18n | None = None
    choices: tuple[Option, ...] = ()
    choices_from: str | None = None  # the options are a list in the task data: [{"value", "label"}]
    accept: tuple[str, ...] = ()
    max_mb: float | None = None
    columns: tuple["FieldSpec", ...] = ()
    min_rows: int = 0
    max_rows: int | None = None

    def column(self, name: str) -> "FieldSpec":
        return next(c for c in self.columns if c.name == name)


@dataclass(frozen=True, eq=False)
class FormDefinition:
    key: str
    title: I18n
    fields: tuple[FieldSpec, ...]
    # One WTForms class per language, built on first use: pages ask for them on every request.
    _classes: dict = field(default_factory=dict, init=False, repr=False)

    def field(self, name: str) -> FieldSpec:
        for spec in self.fields:
            if spec.name == name:
                return spec
        raise KeyError(name)

    @property
    def multipart(self) -> bool:
        """Whether the page's <form> needs enctype="multipart/form-data"."""
        return any(spec.type == "file" for spec in self.fields)

    def form_class(self, locale: str = "ru"):
        """A subclass of app.web.forms.Form with this form's fields, texts and messages in `locale`."""
        # Imported here so that loading and checking definitions (deployment, CLI) needs no web layer.
        from workflows.forms.build import build_form_class

        locale = language(locale)
        if locale not in self._classes:
            self._classes[locale] = build_form_class(self, locale)
        return self._classes[locale]

    @property
    def offered(self) -> tuple[FieldSpec, ...]:
        """Fields whose options come from the case data (`choices_from`)."""
        return tuple(spec for spec in self.fields if spec.choices_from)

    def offer(self, form, data: dict, locale: str = "ru") -> None:
        """Put the options the case offers now into the form's `choices_from` fields."""
        from workflows.forms.data import offer

        offer(self, form, data, language(locale))

    def values(self, form) -> dict:
        """The validated form as task data (JSON-ready except the bytes of uploaded files)."""
        from workflows.forms.data import values

        return values(self, form)

    def initial(self, data: dict) -> dict:
        """Stored task data as `data=` for the form class, to show the form filled in again."""
        from workflows.forms.data import initial

        return initial(self, data)
