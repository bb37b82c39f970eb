"""Cases and tasks as JSON: what the application pages and the task queues do."""
import io

from flask import send_file
from flask_login import current_user
from flask_smorest import Blueprint

from app.policy import require
from app.services import accounts, cases, file_store
from app.services.errors import InvalidInput
from app.web import case_forms
from workflows.forms.data import as_formdata
from app.web.api.schemas import (CaseDocumentSchema, CaseEventSchema, CaseSchema, CaseStartSchema, HumanTaskSchema,
                                 TaskCompleteSchema)
from workflows import definitions, engine

blp = Blueprint("api_cases", __name__, url_prefix="/api/v1", description="Cases (applications) and tasks")


def _validated(form_key: str | None, values: dict, task_data=None) -> dict:
    """Check JSON values with the same declarative form the pages use; problems come back by field."""
    if not form_key:
        return {}
    # The API authenticates writes itself (token, or session plus X-CSRFToken), so no form token.
    spec, form = case_forms.build(form_key, formdata=as_formdata(values), task_data=task_data,
                                  meta={"csrf": False})
    if not form.validate():
        errors = {name: [str(m) for m in messages] for name, messages in form.errors.items()}
        error = InvalidInput(next(iter(errors.values()))[0] if errors else "invalid", field=next(iter(errors), None))
        raise error
    return spec.values(form)


@blp.get("/cases")
@blp.response(200, CaseSchema(many=True))
def my_cases():
    """The caller's applications (filed by them or on their accounts)."""
    return cases.cases_of(current_user)


@blp.post("/cases")
@require("cabinet.use")
@blp.arguments(CaseStartSchema)
@blp.response(201, CaseSchema)
def start_case(body):
    """File an application: `values` are the fields of the process's start form."""
    definition = definitions.latest_version(body["process"])
    if definition is None:
        raise InvalidInput("unknown process", field="process")
    account = accounts.get_for(current_user, body["account_id"]) if body.get("account_id") else None
    parsed = definitions.specs(definition.id, definition.sha256)
    return cases.start(current_user, body["process"], _validated(parsed.start_form, body["values"]), account=account)


@blp.get("/cases/<number>")
@blp.response(200, CaseSchema)
def get_case(number):
    return cases.case_for(current_user, number)


@blp.get("/cases/<number>/timeline")
@blp.response(200, CaseEventSchema(many=True))
def timeline(number):
    return cases.timeline(cases.case_for(current_user, number))


@blp.get("/cases/<number>/tasks")
@blp.response(200, HumanTaskSchema(many=True))
def case_tasks(number):
    """The case's open tasks; the applicant's own steps have actor = applicant."""
    return cases.open_tasks(cases.case_for(current_user, number))


@blp.get("/cases/<number>/documents")
@blp.response(200, CaseDocumentSchema(many=True))
def documents(number):
    case = cases.case_for(current_user, number)
    return cases.documents(case, current_user)


@blp.get("/cases/<number>/documents/<int:document_id>")
@blp.response(200, content_type="application/octet-stream")
def document(number, document_id):
    case = cases.case_for(current_user, number)
    doc = cases.document_for(current_user, case, document_id)
    return send_file(io.BytesIO(file_store.open_bytes(doc.sha256)), mimetype=doc.content_type,
                     download_name=doc.filename)


@blp.get("/tasks")
@require("tasks.work")
@blp.response(200, HumanTaskSchema(many=True))
def queue():
    """The caller's queue: ?scope=mine|groups|all (all: team leads)."""
    from flask import request

    scope = request.args.get("scope", "mine")
    return cases.queue(current_user, scope if scope in ("mine", "groups", "all") else "mine",
                       request.args.get("process") or None, overdue=request.args.get("overdue") == "1")


@blp.post("/tasks/<int:task_id>/claim")
@require("tasks.work")
@blp.response(200, HumanTaskSchema)
def claim(task_id):
    return cases.claim(current_user, task_id)


@blp.post("/tasks/<int:task_id>/unclaim")
@require("tasks.work")
@blp.response(200, HumanTaskSchema)
def unclaim(task_id):
    return cases.unclaim(current_user, task_id)


@blp.post("/tasks/<int:task_id>/complete")
@blp.arguments(TaskCompleteSchema)
@blp.response(200, CaseSchema)
def complete(body, task_id):
    """Complete a task with its form's fields (staff tasks, or the applicant's own step)."""
    task = cases.task_for(current_user, task_id)
    return cases.complete(current_user, task.id, _validated(task.form_key, body["values"],
                                                            lambda: engine.task_data(task.case, task)))
