"""The `generate_document` handler: renders the template named by the service task's `document`
property as DOCX and a PDF twin, stores both, and attaches them to the case."""
from datetime import date

from app.extensions import db
from app.models import CaseDocument, User
from workflows import properties
from workflows.handlers import handler


@handler("generate_document")
def generate_document(case, task) -> dict:
    from app.services import documents, file_store

    name = ((getattr(task.task_spec, "extensions", None) or {}).get("properties") or {}).get("document")
    if not name:
        raise ValueError(f"service task {task.task_spec.name} names no document template")
    applicant = db.session.get(User, case.applicant_id) if case.applicant_id else None
    context = {"case": {"number": case.number, "opened_at": case.opened_at},
               "applicant": {"full_name": applicant.full_name if applicant else "", "email": applicant.email if applicant else ""},
               "account": {"number": case.account.number, "address": case.account.address} if case.account else {},
               "data": dict(task.data), "today": date.today(), "materials": task.data.get("materials") or []}
    rendered = documents.render_pair(name, context)
    title = task.task_spec.bpmn_name or name
    stored = []
    for extension, content_type, content in (
            ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", rendered.docx),
            ("pdf", "application/pdf", rendered.pdf)):
        saved = file_store.save(content)
        row = CaseDocument(case_id=case.id, kind="generated", title=title,
                           filename=f"{name}-{case.number}.{extension}", content_type=content_type, size=saved.size,
                           sha256=saved.sha256, template=name, template_version=rendered.version)
        db.session.add(row)
        stored.append(saved.sha256)
    db.session.flush()
    return {"template": name, "version": rendered.version, "files": stored}
