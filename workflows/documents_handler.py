"""The `generate_document` handler: renders the template named by the service task's `document`
property as DOCX and a PDF twin, stores both, and attaches them to the case."""
from decimal import Decimal, InvalidOperation

from sqlalchemy import select

from app.extensions import db
from app.models import CaseDocument, CaseEvent, User
from workflows.handlers import handler

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _decimal(value) -> Decimal:
    try:
        return Decimal(str(value or 0))
    except InvalidOperation:
        return Decimal(0)


def _materials(rows) -> tuple[list[dict], Decimal]:
    materials = []
    for row in rows or []:
        quantity, price = _decimal(row.get("quantity")), _decimal(row.get("price"))
        materials.append({"name": row.get("name", ""), "unit": row.get("unit") or "шт.", "quantity": quantity,
                          "price": price, "amount": (quantity * price).quantize(Decimal("0.01"))})
    return materials, sum((m["amount"] for m in materials), Decimal("0.00"))


def _specialist_id(case) -> int | None:
    """Who signs for the company: the staff member whose step this is, else the last one who acted."""
    from app import policy
    from workflows import engine

    actor_id = engine.current_actor_id()
    actor = db.session.get(User, actor_id) if actor_id else None
    if actor is not None and policy.is_staff(actor):
        return actor.id
    staff_events = select(CaseEvent.actor_id).where(CaseEvent.case_id == case.id, CaseEvent.kind == "task_completed",
                                                    CaseEvent.actor_id != case.applicant_id)
    return db.session.scalar(staff_events.order_by(CaseEvent.id.desc()).limit(1))


@handler("generate_document")
def generate_document(case, task) -> dict:
    from app.services import documents

    name = ((getattr(task.task_spec, "extensions", None) or {}).get("properties") or {}).get("document")
    if not name:
        raise ValueError(f"service task {task.task_spec.name} names no document template")
    applicant = db.session.get(User, case.applicant_id) if case.applicant_id else None
    specialist_id = _specialist_id(case)
    specialist = db.session.get(User, specialist_id) if specialist_id else None
    materials, total = _materials(task.data.get("materials"))
    data = task.data
    address = case.account.address if case.account else data.get("object_address") or data.get("address", "")
    context = {
        "case": {"number": case.number, "filed_on": case.opened_at.date(), "address": address},
        # Who the applicant is in law (kind, INN) is what they stated in the application.
        "applicant": {"full_name": applicant.full_name if applicant else "", "phone": applicant.phone if applicant else "",
                      "email": applicant.email if applicant else "", "kind": data.get("applicant_kind") or "individual",
                      "inn": data.get("applicant_inn") or "", "address": data.get("applicant_address") or address},
        "specialist": {"full_name": specialist.full_name if specialist else "", "position": "специалист"},
        "materials": materials, "total": total, "data": dict(task.data),
    }
    generated = documents.generate(name, context)
    title = task.task_spec.bpmn_name or name
    for extension, content_type, stored in (("docx", DOCX, generated.docx), ("pdf", "application/pdf", generated.pdf)):
        db.session.add(CaseDocument(case_id=case.id, kind="generated", title=title,
                                    filename=f"{name}-{case.number}.{extension}", content_type=content_type,
                                    size=stored.size, sha256=stored.sha256, template=name,
                                    template_version=generated.version))
    db.session.flush()
    return {"template": name, "version": generated.version, "pdf": generated.pdf.sha256,
            "docx": generated.docx.sha256}
