"""Handlers and checks of technological connection (bpmn/technological_connection.bpmn).

    start check  tp_application        category by power (refused above what can be filed online), INN,
                                       power already connected not above the maximum
    handler      tp_intake             the printed values and the deadline for placing the offer
    handler      tp_request_fix        the deadline for the missing documents (working days)
    handler      tp_prepare_offer      the fee from the dated rates, the invoice and its due day, numbers
    handler      tp_conclude_contract  contract date (payment), the connection deadline, the case's SLA
    check        tp_inspection         the admitted meter, and whether a notice of connection is due
    handler      submit_gis_tp         the stage's data to the state TP system through the outbox

Deadlines count working days on the production calendar in the company's time zone; timers in the
diagram wait for the moments these handlers put in the data (`fix_deadline`, `placement_deadline`,
`invoice_due_at`).
"""
from datetime import date, datetime
from decimal import Decimal

from flask import current_app
from flask_babel import lazy_gettext as _l

from app.models.types import utcnow
from app.services import connection_fees, documents
from app.services.errors import InvalidInput
from app.services.periods import local_today
from workflows import outbox
from workflows.deadlines import due_after
from workflows.handlers import check, handler


def _labels() -> dict[str, dict[str, str]]:
    """The Russian labels of the application's choices (as the form in use says them), for the documents."""
    from app.services import process_forms

    form = process_forms.current("tp_application")
    return {spec.name: {o.value: o.label.get("ru") for o in spec.choices} for spec in form.fields if spec.choices}


def _power(values: dict) -> tuple[Decimal, Decimal]:
    return Decimal(str(values["max_power"])), Decimal(str(values.get("existing_power") or 0))


@check("tp_application")
def tp_application(context, values: dict) -> dict:
    maximum, existing = _power(values)
    if existing > maximum:
        raise InvalidInput(_l("The power already connected cannot exceed the maximum power."), field="existing_power")
    if values.get("applicant_kind") in ("sole_trader", "legal_entity") and not values.get("applicant_inn"):
        raise InvalidInput(_l("Enter the INN of the organisation or the sole trader."), field="applicant_inn")
    code = connection_fees.category(values.get("applicant_kind"), maximum, household=values.get("load") == "household")
    term = connection_fees.term(code, maximum, Decimal(values["voltage"]), int(values["distance_m"]), values["area"])
    return {"category": code, "connection_term": term.text, "term_value": term.value, "term_unit": term.unit}


def _deadline(working_days: int) -> str:
    return due_after(utcnow(), working_days).isoformat()


@handler("tp_intake")
def tp_intake(case, task) -> dict:
    data, labels = task.data, _labels()
    maximum, existing = _power(data)
    data.update({
        "filed_on": local_today().isoformat(),
        "max_power_kw": documents.quantity(maximum), "existing_power_kw": documents.quantity(existing),
        "new_power_kw": documents.quantity(maximum - existing), "voltage_kv": documents.quantity(data["voltage"]),
        "load_character": labels["load"].get(data.get("load"), ""),
        "retail_supplier_name": labels["retail_supplier"].get(data.get("retail_supplier"), ""),
        "placement_deadline": _deadline(current_app.config["TP_PLACEMENT_DAYS"]),
    })
    return {}


@handler("tp_request_fix")
def tp_request_fix(case, task) -> dict:
    task.data["fix_deadline"] = _deadline(current_app.config["TP_FIX_DAYS"])
    return {}


@handler("tp_prepare_offer")
def tp_prepare_offer(case, task) -> dict:
    data, cfg = task.data, current_app.config
    maximum, _existing = _power(data)
    filed_on = date.fromisoformat(data.get("filed_on") or local_today().isoformat())
    fee = connection_fees.fee(data["category"], maximum, int(data["distance_m"]), data["area"], Decimal(data["voltage"]),
                              data["reliability_category"], bool(data.get("privileged")), filed_on)
    due = due_after(utcnow(), cfg["TP_INVOICE_DAYS"])
    data.update({
        "fee": {"amount": str(fee.amount), "vat": str(fee.vat), "basis": fee.basis},
        "conditions_number": f"{case.number}/ТУ", "invoice_number": f"{case.number}/С",
        "invoice_days": cfg["TP_INVOICE_DAYS"], "invoice_due": due.astimezone(_zone()).date().isoformat(),
        "invoice_due_at": due.isoformat(), "conditions_valid_years": cfg["TP_CONDITIONS_VALID_YEARS"],
        "grid_works": [row["item"] for row in data.get("grid_works_rows") or []],
        "applicant_works": [row["item"] for row in data.get("applicant_works_rows") or []],
        "retail_supplier": data.get("retail_supplier_name") or data.get("retail_supplier"),
    })
    return {"fee": str(fee.amount)}


def _zone():
    from zoneinfo import ZoneInfo

    return ZoneInfo(current_app.config["TIMEZONE"])


@handler("tp_conclude_contract")
def tp_conclude_contract(case, task) -> dict:
    """Paying the invoice concludes the contract: the connection term runs from the payment day."""
    data = task.data
    paid = data.get("invoice_paid") or {}
    paid_on = date.fromisoformat(str(paid.get("paid_on") or data.get("paid_on") or local_today().isoformat())[:10])
    term = connection_fees.Term(int(data["term_value"]), data["term_unit"], data["connection_term"])
    deadline = term.deadline(paid_on)
    data.update({"contract_date": paid_on.isoformat(), "connection_deadline": deadline.isoformat()})
    # The case's deadline is now the connection deadline (the end of that day, local time).
    case.due_at = datetime.combine(deadline, datetime.max.time().replace(microsecond=0), tzinfo=_zone())
    return {"deadline": deadline.isoformat()}


@check("tp_inspection")
def tp_inspection(context, values: dict) -> dict:
    data = context.data
    maximum = Decimal(str(data.get("max_power") or 0))
    return {
        "meter": {"number": values["meter_number"], "model": values["meter_model"],
                  "initial_reading": documents.quantity(values["meter_initial_reading"])},
        # Up to 150 kW at 0.4 kV the company also issues the notice of the possibility of connection.
        "notice_needed": maximum <= 150 and Decimal(str(data.get("voltage") or 0)) <= Decimal("0.4"),
    }


@handler("submit_gis_tp")
def submit_gis_tp(case, task) -> dict:
    """Put the stage's submission in the outbox; the delivery retries and its answer is on the timeline."""
    props = ((getattr(task.task_spec, "extensions", None) or {}).get("properties") or {})
    stage = props.get("gisStage")
    data = task.data
    submission = {
        "registration_number": case.number, "stage": stage,
        "stage_date": local_today().isoformat(),
        "applicant": {"kind": data.get("applicant_kind") or "individual",
                      "name": data.get("organization") or (case.applicant.full_name if case.applicant else ""),
                      **({"inn": data["applicant_inn"]} if data.get("applicant_inn") else {})},
        "object": {"name": data.get("object_name", ""), "address": data.get("object_address", ""),
                   **({"cadastral_number": data["cadastral_number"]} if data.get("cadastral_number") else {})},
        "max_power_kw": str(data.get("max_power")), "existing_power_kw": str(data.get("existing_power") or 0),
        "voltage_kv": str(data.get("voltage")), "reliability_category": data.get("reliability_category", "III"),
        "status": case.status_label or "",
    }
    if stage in ("conditions", "contract", "act") and data.get("fee"):
        submission["fee"] = data["fee"]["amount"]
    if stage == "conditions":
        submission["document_number"] = data.get("conditions_number")
    if stage in ("contract", "act") and data.get("connection_deadline"):
        submission["connection_deadline"] = data["connection_deadline"]
    row = outbox.enqueue(case, "gis_tp.submit", {"submission": submission})
    return {"outbox_id": row.id}


