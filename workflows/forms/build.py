"""A form definition turned into a WTForms class in one language."""
import wtforms
from flask_wtf.file import FileField
from wtforms import DateField, FormField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice

from app.web.forms import Form
from workflows.forms import messages
from workflows.forms.data import plain_value
from workflows.forms.definition import DateBound, FieldSpec, FormDefinition
from workflows.forms.fields import CheckboxesField, LocalDecimalField, TableField, YesNoField
from workflows.forms.validators import FileCheck, Length, Pattern, Presence, Range, local_today

# The browser's date input sends ISO dates; a person typing into a plain text box writes 31.12.2025.
DATE_FORMATS = ["%Y-%m-%d", "%d.%m.%Y"]
REQUIRED_MESSAGE = {"choice": "required_choice", "multichoice": "required_choice", "yesno": "required_choice",
                    "file": "required_file"}
TABLE_TEXTS = ("row", "required_rows", "rows_min", "rows_max", "row_errors")


def build_form_class(definition: FormDefinition, locale: str) -> type[Form]:
    attrs = {spec.name: _field(definition, spec, locale) for spec in definition.fields}
    attrs.update(definition=definition, form_locale=locale, multipart=definition.multipart)
    return type(_class_name(definition.key, "Form"), (Form,), attrs)


def _class_name(*parts: str) -> str:
    return "".join(word.capitalize() for part in parts for word in part.split("_"))


def _field(definition: FormDefinition, spec: FieldSpec, locale: str):
    text = lambda key, **params: messages.message(key, locale, **params)  # noqa: E731
    condition = _condition(definition, spec) if spec.required_if else None
    checks = [Presence(text(REQUIRED_MESSAGE.get(spec.type, "required")), spec.required, condition,
                       flag=spec.type != "multichoice")]
    common = {"label": spec.label.get(locale), "description": spec.help.get(locale) if spec.help else "",
              "default": _default(spec)}

    if spec.type in ("text", "textarea"):
        checks.append(Length(spec.min_length, spec.max_length, locale))
        if spec.pattern:
            message = spec.pattern_message.get(locale) if spec.pattern_message else text("pattern")
            checks.append(Pattern(spec.pattern, message))
        field_class = StringField if spec.type == "text" else TextAreaField
        render_kw = {"maxlength": spec.max_length} | ({"rows": 4} if spec.type == "textarea" else {})
        return field_class(validators=checks, filters=[_strip], render_kw=render_kw, **common)
    if spec.type == "number":
        return IntegerField(validators=checks + [Range(spec.min, spec.max, locale)],
                            invalid_value_message=text("integer"), **common)
    if spec.type == "decimal":
        return LocalDecimalField(validators=checks + [Range(spec.min, spec.max, locale)], places=None,
                                 invalid_value_message=text("decimal"), render_kw={"inputmode": "decimal"},
                                 **common)
    if spec.type == "date":
        return DateField(validators=checks + [Range(spec.min, spec.max, locale)], format=DATE_FORMATS,
                         invalid_value_message=text("date"), render_kw={"type": "date"}, **common)
    if spec.type in ("choice", "multichoice"):
        options = [SelectChoice(o.value, o.label.get(locale)) for o in spec.choices]
        if spec.type == "choice":
            # An empty first option, so that nobody agrees to the first value by not looking.
            return SelectField(validators=checks, choices=[SelectChoice("", text("choose"))] + options,
                               invalid_choice_message=text("choice"), **common)
        return CheckboxesField(validators=checks, choices=options, invalid_choice_message=text("choice"), **common)
    if spec.type == "yesno":
        return YesNoField(validators=checks, choices=[SelectChoice("yes", text("yes")), SelectChoice("no", text("no"))],
                          invalid_choice_message=text("choice"), **common)
    if spec.type == "file":
        return FileField(validators=checks + [FileCheck(spec.accept, spec.max_mb, locale)],
                         render_kw={"accept": ",".join(spec.accept)}, **common)
    return _table(definition, spec, locale, condition, common)


def _table(definition: FormDefinition, spec: FieldSpec, locale: str, condition, common: dict) -> TableField:
    # A plain wtforms.Form: the page's form carries the one CSRF token, rows need none.
    row_class = type(_class_name(definition.key, spec.name, "Row"), (wtforms.Form,),
                     {column.name: _field(definition, column, locale) for column in spec.columns})
    texts = {key: messages.message(key, locale, min=spec.min_rows, max=spec.max_rows, n="{n}")
             for key in TABLE_TEXTS}
    common.pop("default")
    return TableField(FormField(row_class), min_rows=spec.min_rows, max_rows=spec.max_rows,
                      required=spec.required, condition=condition, texts=texts,
                      column_labels=[column.label.get(locale) for column in spec.columns], **common)


def _condition(definition: FormDefinition, spec: FieldSpec):
    target = definition.field(spec.required_if.field)
    expected = spec.required_if.equals
    return lambda form: plain_value(target, form[target.name]) == expected


def _default(spec: FieldSpec):
    if isinstance(spec.default, DateBound):
        bound = spec.default
        return lambda: bound.resolve(local_today())  # "today" is the day the form is shown
    if spec.type == "yesno" and spec.default is not None:
        return "yes" if spec.default else "no"
    if spec.type == "multichoice":
        return list(spec.default or ())
    return spec.default


def _strip(value):
    return value.strip() if isinstance(value, str) else value
