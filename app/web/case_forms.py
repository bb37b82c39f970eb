"""Task forms on pages: the declarative JSON form of a task, built for the page's language."""
from flask_babel import get_locale

from app.services import process_forms
from workflows import forms as form_defs


def definition(form_key: str):
    """The form in use: its latest deployed version (app.services.process_forms)."""
    return process_forms.current(form_key)


def build(form_key: str, formdata=None, draft_values: dict | None = None, task_data=None, **form_options):
    """The form object: bound to `formdata` when given (the API), else to the request's POST, and
    filled with a draft's answers when there are any. A required file already attached to the draft
    need not be chosen again. `task_data` (the data, or a function returning it: reading it loads the
    workflow) gives the options of `choices_from` fields."""
    spec = definition(form_key)
    locale = str(get_locale())
    form_class = spec.form_class(locale)
    if formdata is not None:
        form = form_class(formdata=formdata, **form_options)
    else:
        form = form_class(data=spec.initial(draft_values), **form_options) if draft_values else form_class(**form_options)
    for name in form_defs.kept_files(spec, draft_values or {}):
        form_defs.accept_kept_file(form[name])
    if spec.offered:
        spec.offer(form, (task_data() if callable(task_data) else task_data) or {}, locale)
    return spec, form
