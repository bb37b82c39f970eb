"""Between a filled-in form and task data: plain JSON values out, WTForms values back in."""
from datetime import date
from decimal import Decimal

from workflows.forms.definition import FieldSpec, FormDefinition
from workflows.forms.files import client_name, has_file, inspect

YES_NO = {"yes": True, "no": False}


def values(definition: FormDefinition, form) -> dict:
    return {spec.name: plain_value(spec, form[spec.name]) for spec in definition.fields}


def plain_value(spec: FieldSpec, field):
    """One field's value as task data: None when left empty, dates ISO, decimals as exact strings."""
    data = field.data
    kind = spec.type
    if kind in ("text", "textarea"):
        return (data.strip() or None) if isinstance(data, str) else None
    if kind == "number":
        return data
    if kind == "decimal":
        return format(data, "f") if data is not None else None  # "f": never "1E+2"
    if kind == "date":
        return data.isoformat() if data else None
    if kind == "choice":
        return data or None
    if kind == "multichoice":
        return list(data or [])
    if kind == "yesno":
        return YES_NO.get(data)
    if kind == "file":
        return _file(data)
    return [{column.name: plain_value(column, entry.form[column.name]) for column in spec.columns}
            for entry in field.filled_entries()]


def _file(storage) -> dict | None:
    if not has_file(storage):
        return None
    content_type, size = inspect(storage)
    content = storage.stream.read()
    storage.stream.seek(0)
    # The type found by the content check, not the one the browser sent.
    return {"filename": client_name(storage), "content_type": content_type, "size": size, "data": content}


def initial(definition: FormDefinition, data: dict) -> dict:
    """Stored values converted for `form_class(data=...)`. Files cannot be put back into a file input.
    A value that no longer fits its field (the form changed since it was stored) is left out rather than
    breaking the page."""
    found = {}
    for spec in definition.fields:
        if spec.type == "file" or spec.name not in data:
            continue
        try:
            found[spec.name] = _python_value(spec, data[spec.name])
        except (TypeError, ValueError, ArithmeticError, AttributeError):
            continue
    return found


def _python_value(spec: FieldSpec, value):
    if value is None:
        return None
    kind = spec.type
    if kind in ("text", "textarea", "choice"):
        return _typed(value, str)
    if kind == "number":
        if isinstance(value, bool):
            raise TypeError(value)
        return _typed(value, int)
    if kind == "decimal":
        return Decimal(str(value))
    if kind == "date":
        return date.fromisoformat(value)
    if kind == "multichoice":
        return [_typed(v, str) for v in value]
    if kind == "yesno":
        return "yes" if _typed(value, bool) else "no"
    rows = []
    for row in value:
        rows.append({column.name: _python_value(column, row.get(column.name)) for column in spec.columns})
    return rows


def _typed(value, kind: type):
    if not isinstance(value, kind):
        raise TypeError(f"{value!r} is not {kind.__name__}")
    return value


def kept_files(definition: FormDefinition, data: dict) -> list[str]:
    """The file fields for which `data` (a draft) holds a stored file already."""
    return [spec.name for spec in definition.fields if spec.type == "file" and isinstance(data.get(spec.name), dict)]


def offer(definition: FormDefinition, form, data: dict, locale: str) -> None:
    """Options from the case data: each `{"value": "...", "label": "..." or {"ru": ..., "en": ...}}`.
    Only what is offered now validates, so a value posted from an outdated page is refused."""
    from wtforms.fields.choices import SelectChoice

    for spec in definition.offered:
        field = form[spec.name]
        empty = field.choices[:1]  # "— choose —"
        options = [item for item in data.get(spec.choices_from) or [] if isinstance(item, dict) and "value" in item]
        field.choices = empty + [SelectChoice(str(item["value"]), _label(item.get("label"), locale))
                                 for item in options]


def _label(label, locale: str) -> str:
    if isinstance(label, dict):
        return str(label.get(locale) or label.get("ru") or next(iter(label.values()), ""))
    return str(label or "")


def as_formdata(values: dict):
    """JSON values as the fields a page posts, so one form class checks both: a table's rows become
    name-0-column, lists repeat the name, yes/no are words, and a file given as bytes becomes an upload."""
    import io

    from werkzeug.datastructures import FileStorage, MultiDict

    items = []
    for name, value in values.items():
        if isinstance(value, dict) and isinstance(value.get("data"), bytes):
            items.append((name, FileStorage(stream=io.BytesIO(value["data"]), filename=value.get("filename") or name,
                                            content_type=value.get("content_type"))))
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            for n, row in enumerate(value):
                items += [(f"{name}-{n}-{column}", "" if cell is None else str(cell)) for column, cell in row.items()]
        elif isinstance(value, list):
            items += [(name, str(v)) for v in value]
        elif isinstance(value, bool):
            items.append((name, "yes" if value else "no"))
        elif value is not None:
            items.append((name, str(value)))
    return MultiDict(items)
