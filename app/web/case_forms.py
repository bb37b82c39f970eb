"""Task forms on pages: the declarative JSON form of a task, built for the page's language."""
from flask_babel import get_locale

from workflows import definitions
from workflows import forms as form_defs

_cache: dict = {}


def definition(form_key: str):
    folder = definitions.BPMN_FOLDER / "forms"
    if "all" not in _cache:
        _cache["all"] = form_defs.load_folder(folder)
    return _cache["all"][form_key]


def build(form_key: str, formdata=None):
    """The form object: bound to `formdata` when given (the API), else to the request's POST."""
    spec = definition(form_key)
    form_class = spec.form_class(str(get_locale()))
    return spec, form_class(formdata=formdata) if formdata is not None else form_class()
