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


def build(form_key: str, data=None):
    """The form object for a request (bound to the POSTed data when there is any)."""
    spec = definition(form_key)
    return spec, spec.form_class(str(get_locale()))(data=data)
