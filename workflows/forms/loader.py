"""Reading task form definitions (bpmn/forms/*.json) and refusing anything a form could not honour.

Analysts edit these files by hand, so every mistake is reported with the form key, the field and what
is wrong, before a process that uses the form can be deployed. The format is in bpmn/forms/README.md.
"""
import difflib
import json
import re
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from flask_wtf import FlaskForm

from workflows.forms.definition import (LANGUAGES, Condition, DateBound, FieldSpec, FormDefinition,
                                        FormDefinitionError, I18n, Option)
from workflows.forms.files import SIGNATURES

NAME = re.compile(r"^[a-z][a-z0-9_]*$")
TYPES = ("text", "textarea", "number", "decimal", "date", "choice", "multichoice", "yesno", "file", "table")
COLUMN_TYPES = ("text", "number", "decimal", "date", "choice")
FORM_KEYS = {"key", "title", "fields"}
COMMON_KEYS = {"name", "type", "label", "help", "required", "required_if", "default"}
TYPE_KEYS = {
    "text": {"min_length", "max_length", "pattern", "pattern_message"},
    "textarea": {"min_length", "max_length"},
    "number": {"min", "max"},
    "decimal": {"min", "max"},
    "date": {"min", "max"},
    "choice": {"choices", "choices_from"},
    "multichoice": {"choices"},
    "yesno": set(),
    "file": {"accept", "max_mb"},
    "table": {"columns", "min_rows", "max_rows"},
}
# A cell has no room for help, depends on no other field, and a default would make blank spare rows
# look filled in.
NOT_IN_COLUMNS = {"help", "required_if", "default"}
# Limits that apply when the definition gives none: storage and regex matching stay bounded.
DEFAULT_MAX_LENGTH = {"text": 255, "textarea": 5000}
DEFAULT_MAX_MB = 10
DEFAULT_MAX_ROWS = 100
# A field named like a form attribute ("data", "errors", "validate") would replace it.
RESERVED = {n for n in dir(FlaskForm) if not n.startswith("_")} | {"csrf_token", "definition", "form_locale",
                                                                    "multipart"}
TODAY = re.compile(r"^today(?:([+-])(\d{1,4}))?$")


def load_definition(data: dict) -> FormDefinition:
    if not isinstance(data, dict):
        raise FormDefinitionError("a form definition must be a JSON object")
    key = data.get("key")
    if not isinstance(key, str) or not NAME.fullmatch(key):
        raise FormDefinitionError(f'"key" must be a name of lowercase letters, digits and "_", not {key!r}')
    _known_keys(data, FORM_KEYS, key)
    title = _text(data, "title", key, required=True)
    raw_fields = data.get("fields")
    if not isinstance(raw_fields, list) or not raw_fields:
        _fail(key, '"fields" must be a non-empty list')
    fields = _fields(raw_fields, key, "field")
    for spec in fields:
        if spec.required_if:
            _check_condition(spec, fields, f'{key}: field "{spec.name}"')
    return FormDefinition(key=key, title=title, fields=fields)


def load_file(path) -> FormDefinition:
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise FormDefinitionError(f"{path.name}: not valid JSON: {error}") from None
    try:
        return load_definition(data)
    except FormDefinitionError as error:
        raise FormDefinitionError(f"{path.name}: {error}") from None


def load_folder(path) -> dict[str, FormDefinition]:
    """Every *.json in the folder by key; a BPMN formKey names the file, so the two must agree."""
    found = {}
    for file in sorted(Path(path).glob("*.json")):
        definition = load_file(file)
        if definition.key != file.stem:
            raise FormDefinitionError(f'{file.name}: the key "{definition.key}" differs from the file name; '
                                      f"name the file {definition.key}.json")
        found[definition.key] = definition
    return found


def _fail(where: str, problem: str):
    raise FormDefinitionError(f"{where}: {problem}")


def _known_keys(raw: dict, allowed: set[str], where: str, kind: str | None = None, what: str = "field") -> None:
    for name in raw:
        if name in allowed:
            continue
        if kind and (name in NOT_IN_COLUMNS or any(name in keys for keys in TYPE_KEYS.values())):
            _fail(where, f'"{name}" is not used by a "{kind}" {what}')
        close = difflib.get_close_matches(str(name), sorted(allowed), n=1)
        _fail(where, f'unknown key "{name}"' + (f' (did you mean "{close[0]}"?)' if close else ""))


def _text(raw: dict, name: str, where: str, required: bool = False) -> I18n | None:
    value = raw.get(name)
    if value is None and not required:
        return None
    if (not isinstance(value, dict) or set(value) != set(LANGUAGES)
            or not all(isinstance(v, str) and v.strip() for v in value.values())):
        _fail(where, f'"{name}" must be {{"ru": "...", "en": "..."}} with both texts filled in')
    return I18n(**value)


def _fields(raw_fields: list, key: str, prefix: str, column: bool = False) -> tuple[FieldSpec, ...]:
    fields, names = [], set()
    for index, raw in enumerate(raw_fields, start=1):
        spec = _field(raw, key, f"{prefix} #{index}", prefix, column)
        if spec.name in names:
            _fail(f'{key}: {prefix} "{spec.name}"', "the name is used twice")
        names.add(spec.name)
        fields.append(spec)
    return tuple(fields)


def _field(raw, key: str, position: str, prefix: str, column: bool) -> FieldSpec:
    if not isinstance(raw, dict):
        _fail(f"{key}: {position}", "must be a JSON object")
    name = raw.get("name")
    if not isinstance(name, str) or not NAME.fullmatch(name):
        _fail(f"{key}: {position}", f'"name" must be lowercase letters, digits and "_", not {name!r}')
    where = f'{key}: {prefix} "{name}"'
    if name in RESERVED or name.startswith(("validate_", "filter_")):
        _fail(where, "the name is reserved by the form library; choose another")
    kind = raw.get("type")
    types = COLUMN_TYPES if column else TYPES
    if kind not in types:
        _fail(where, f'unknown type "{kind}" (one of: {", ".join(types)})')
    allowed = COMMON_KEYS - NOT_IN_COLUMNS if column else COMMON_KEYS
    _known_keys(raw, allowed | TYPE_KEYS[kind], where, kind, "column" if column else "field")

    spec = {"name": name, "type": kind, "label": _text(raw, "label", where, required=True),
            "help": _text(raw, "help", where), "required": _bool(raw, "required", where)}
    if "required_if" in raw:
        spec["required_if"] = _condition(raw["required_if"], where)
        if spec["required"]:
            _fail(where, '"required" and "required_if" together: a field is either always required or on condition')
    if kind in ("text", "textarea"):
        spec.update(_lengths(raw, kind, where))
    if kind in ("number", "decimal", "date"):
        spec.update(_bounds(raw, kind, where))
    if kind == "choice" and "choices_from" in raw:
        spec["choices_from"] = _choices_from(raw, where, column)
    elif kind in ("choice", "multichoice"):
        spec["choices"] = _choices(raw.get("choices"), where)
    if kind == "file":
        spec.update(_file(raw, where))
    if kind == "table":
        spec.update(_table(raw, key, name, where))
    if "default" in raw:
        spec["default"] = _default(raw["default"], spec, where)
    return FieldSpec(**spec)


def _bool(raw: dict, name: str, where: str) -> bool:
    value = raw.get(name, False)
    if not isinstance(value, bool):
        _fail(where, f'"{name}" must be true or false')
    return value


def _count(raw: dict, name: str, where: str, least: int = 0) -> int | None:
    value = raw.get(name)
    if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < least):
        _fail(where, f'"{name}" must be a whole number, at least {least}')
    return value


def _lengths(raw: dict, kind: str, where: str) -> dict:
    least = _count(raw, "min_length", where)
    most = _count(raw, "max_length", where, least=1) or DEFAULT_MAX_LENGTH[kind]
    if least is not None and least > most:
        _fail(where, f'"min_length" {least} is more than "max_length" {most}')
    found = {"min_length": least, "max_length": most}
    if "pattern" in raw:
        if not isinstance(raw["pattern"], str) or not raw["pattern"]:
            _fail(where, '"pattern" must be a regular expression')
        try:
            found["pattern"] = re.compile(raw["pattern"])
        except re.error as error:
            _fail(where, f'"pattern" is not a valid regular expression: {error}')
        found["pattern_message"] = _text(raw, "pattern_message", where)
    elif "pattern_message" in raw:
        _fail(where, '"pattern_message" without "pattern"')
    return found


def _scalar(value, kind: str, where: str, what: str):
    """A number, decimal or date bound as written in JSON, checked and converted."""
    if kind == "number":
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        _fail(where, f"{what} must be a whole number, not {value!r}")
    if kind == "decimal":
        try:
            if isinstance(value, bool) or not isinstance(value, (int, float, str)):
                raise InvalidOperation
            number = Decimal(str(value))
            if number.is_finite():
                return number
        except InvalidOperation:
            pass
        _fail(where, f"{what} must be a number, not {value!r}")
    if isinstance(value, str):
        relative = TODAY.fullmatch(value)
        if relative:
            sign, days = relative.groups()
            return DateBound(days_from_today=int(days or 0) * (-1 if sign == "-" else 1))
        try:
            return DateBound(fixed=date.fromisoformat(value))
        except ValueError:
            pass
    _fail(where, f'{what} must be a date as "YYYY-MM-DD", "today" or "today+N", not {value!r}')


def _bounds(raw: dict, kind: str, where: str) -> dict:
    found = {k: _scalar(raw[k], kind, where, f'"{k}"') for k in ("min", "max") if k in raw}
    least, most = found.get("min"), found.get("max")
    if kind == "date" and least and most:
        if (least.fixed is None) != (most.fixed is None):
            return found  # a fixed date against "today+N": which is later depends on the day
        relative = least.fixed is None
        least = least.days_from_today if relative else least.fixed
        most = most.days_from_today if relative else most.fixed
    if least is not None and most is not None and least > most:
        _fail(where, '"min" is more than "max"')
    return found


def _choices_from(raw: dict, where: str, column: bool) -> str:
    """Options offered by the process at the time (free visit slots, say): a list in the task data."""
    name = raw["choices_from"]
    if column:
        _fail(where, '"choices_from" is for fields, not table columns')
    if "choices" in raw:
        _fail(where, '"choices" and "choices_from" together: the options come either from the form or from the case')
    if not isinstance(name, str) or not NAME.fullmatch(name):
        _fail(where, '"choices_from" must name a list in the case data (lowercase letters, digits and "_")')
    return name


def _choices(raw, where: str) -> tuple[Option, ...]:
    if not isinstance(raw, list) or not raw:
        _fail(where, '"choices" must be a non-empty list of {"value": ..., "label": {"ru": ..., "en": ...}}')
    options, seen = [], set()
    for index, item in enumerate(raw, start=1):
        place = f"{where}, choice #{index}"
        if not isinstance(item, dict):
            _fail(place, 'must be {"value": ..., "label": {"ru": ..., "en": ...}}')
        _known_keys(item, {"value", "label"}, place)
        value = item.get("value")
        if not isinstance(value, str) or not value.strip():
            _fail(place, '"value" must be a non-empty string')
        if value in seen:
            _fail(place, f'the value "{value}" is used twice')
        seen.add(value)
        options.append(Option(value, _text(item, "label", place, required=True)))
    return tuple(options)


def _file(raw: dict, where: str) -> dict:
    accept = raw.get("accept", list(SIGNATURES))
    if not isinstance(accept, list) or not accept or not all(isinstance(a, str) for a in accept):
        _fail(where, '"accept" must be a non-empty list of MIME types')
    for content_type in accept:
        if content_type not in SIGNATURES:
            _fail(where, f'cannot check the content of "{content_type}" files (known: {", ".join(SIGNATURES)})')
    max_mb = raw.get("max_mb", DEFAULT_MAX_MB)
    if isinstance(max_mb, bool) or not isinstance(max_mb, (int, float)) or max_mb <= 0:
        _fail(where, '"max_mb" must be a positive number')
    return {"accept": tuple(dict.fromkeys(accept)), "max_mb": max_mb}


def _table(raw: dict, key: str, name: str, where: str) -> dict:
    columns = raw.get("columns")
    if not isinstance(columns, list) or not columns:
        _fail(where, '"columns" must be a non-empty list of fields')
    least = _count(raw, "min_rows", where) or 0
    most = _count(raw, "max_rows", where, least=1) or DEFAULT_MAX_ROWS
    if least > most:
        _fail(where, f'"min_rows" {least} is more than "max_rows" {most}')
    return {"columns": _fields(columns, key, f'field "{name}", column', column=True),
            "min_rows": least, "max_rows": most}


def _condition(raw, where: str) -> Condition:
    if not isinstance(raw, dict) or set(raw) != {"field", "equals"} or not isinstance(raw["field"], str):
        _fail(where, '"required_if" must be {"field": "<another field>", "equals": <its value>}')
    return Condition(raw["field"], raw["equals"])


def _check_condition(spec: FieldSpec, fields: tuple[FieldSpec, ...], where: str) -> None:
    condition = spec.required_if
    target = next((f for f in fields if f.name == condition.field), None)
    if target is None or target is spec:
        _fail(where, f'"required_if" refers to "{condition.field}", which is not another field of this form')
    equals = condition.equals
    fits = {
        "choice": lambda: equals in {o.value for o in target.choices},
        "yesno": lambda: isinstance(equals, bool),
        "text": lambda: isinstance(equals, str),
        "number": lambda: isinstance(equals, int) and not isinstance(equals, bool),
    }
    if target.type not in fits:
        _fail(where, f'"required_if" can depend on a choice, yesno, text or number field, not "{target.type}"')
    if not fits[target.type]():
        _fail(where, f'"required_if": {equals!r} is not a possible value of "{target.name}"')


def _default(value, spec: dict, where: str):
    kind = spec["type"]
    if kind in ("file", "table"):
        _fail(where, f'a "{kind}" field has no default')
    if kind in ("number", "decimal", "date"):
        return _scalar(value, kind, where, '"default"')
    values = {o.value for o in spec.get("choices", ())}
    ok = {
        "text": lambda: isinstance(value, str),
        "textarea": lambda: isinstance(value, str),
        "choice": lambda: value in values,
        "multichoice": lambda: isinstance(value, list) and all(v in values for v in value),
        "yesno": lambda: isinstance(value, bool),
    }[kind]()
    if not ok:
        _fail(where, f'"default" {value!r} is not a possible value of this field')
    return tuple(value) if kind == "multichoice" else value
