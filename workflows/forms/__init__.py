"""Task forms: declarative JSON next to the diagrams (bpmn/forms/*.json), turned into WTForms classes.

    forms = load_folder(BPMN_FOLDER / "forms")          # {key: FormDefinition}, all checked
    form = forms["demo_review"].form_class("ru")()       # an app.web.forms.Form subclass
    if form.validate_on_submit():
        data = forms["demo_review"].values(form)         # plain task data; file bytes under "data"

The format is described for analysts in bpmn/forms/README.md; pages render a form with
app/templates/tasks/_task_form.html.
"""
from workflows.forms.data import kept_files
from workflows.forms.definition import FieldSpec, FormDefinition, FormDefinitionError, I18n
from workflows.forms.loader import load_definition, load_file, load_folder
from workflows.forms.validators import accept_kept_file

__all__ = ["FieldSpec", "FormDefinition", "FormDefinitionError", "I18n", "accept_kept_file", "kept_files",
           "load_definition", "load_file", "load_folder"]
