"""Handlers and checks of the change of owner (bpmn/contract_reassignment.bpmn).

    start check  reassignment_request   the account exists and is open, the transfer date is possible and
                                        the applicant does not own the account yet; refusals say nothing
                                        about the account or its owner
    check        reassignment_review    on approval: the readings on the transfer date against the meter,
                                        the decision on the previous owner's debt against the ledger
    handler      transfer_account       the account passes to the new owner from the transfer date, the
                                        readings are recorded; what the contract prints
    handler      reassignment_refusal   the reason for a refusal, as the company's message on the case
"""
from datetime import date
from decimal import Decimal

from flask import current_app
from flask_babel import lazy_gettext as _l

from app.extensions import db
from app.i18n import money
from app.models import Account, CaseEvent, Meter, User
from app.services import audit, documents, throttle, transfers
from app.services.errors import InvalidInput, TooManyAttempts
from app.services.periods import local_today
from workflows.handlers import check, handler

ZONES = ("T1", "T2", "T3")
CONFIRMED = {zone: f"confirmed_{zone.lower()}" for zone in ZONES}  # the specialist's corrected readings


def _forms() -> dict:
    from app.services import process_forms

    return {key: process_forms.current(key) for key in ("reassignment_request", "reassignment_review")}


def _debt_text(decision: str | None, agreement: str | None) -> str:
    """What the contract says about the previous owner's debt: the decision as the review form names it
    in Russian (documents are in Russian), with the agreement when the debt passes by one."""
    labels = {o.value: o.label.get("ru") for o in _forms()["reassignment_review"].field("debt_decision").choices}
    text = labels.get(decision or "", "")
    if not text:
        return ""
    agreement = (agreement or "").strip().rstrip(".")
    return f"{text} ({agreement})." if decision == "transferred_by_agreement" and agreement else f"{text}."


def _title_document(details: str | None) -> str:
    """«Выписка из ЕГРН от 01.10.2026 № …»: the upload's name on the form, then its date and number."""
    name = _forms()["reassignment_request"].field("egrn_extract").label.get("ru")
    details = (details or "").strip()
    if details.lower().startswith(name.lower()):
        return details
    return f"{name} {details}".strip()


def _transfer_date(values: dict, field: str) -> date:
    try:
        return date.fromisoformat(str(values.get("transfer_date") or ""))
    except ValueError:
        raise InvalidInput(_l("Enter the date the ownership passed to you."), field=field) from None


@check("reassignment_request")
def reassignment_request(context, values: dict) -> dict:
    if context.account_id is not None:
        raise InvalidInput(_l("This application names the account by its number: do not choose one of your "
                              "accounts for it."), field="account_id")
    applicant = db.session.get(User, context.applicant_id) if context.applicant_id else None
    limit = current_app.config["ACCOUNT_LINK_MAX_FAILURES"]  # the same limit as on guessing bill codes
    if applicant is not None and throttle.recent_failures("account.lookup", actor_id=applicant.id, minutes=60) >= limit:
        audit.record("account.lookup", actor=applicant, outcome="throttled", commit=True)
        raise TooManyAttempts(_l("Too many account numbers we could not find. Try again in an hour or call the "
                                 "support service."))
    account = transfers.find_account(values.get("account_number"))
    if account is None:
        # The same answer for a number that does not exist and for a closed account, and nothing about
        # whose it is or where: a guessed number teaches nothing.
        audit.record("account.lookup", actor=applicant, outcome="failed",
                     details={"number": str(values.get("account_number") or "")[:30]}, commit=True)
        raise InvalidInput(_l("We cannot find an account with this number. Check it against a bill for these "
                              "premises."), field="account_number")
    transfers.check_transfer(account, context.applicant_id, _transfer_date(values, "transfer_date"), local_today(),
                             field="transfer_date")
    return {"transfer_account_id": account.id, "account_number": account.number}


@check("reassignment_review")
def reassignment_review(context, values: dict) -> dict:
    found = {"reviewer_id": context.actor_id}
    if values.get("decision") != "approve":
        return found
    data = context.data
    account = db.session.get(Account, data.get("transfer_account_id"))
    if account is None or account.is_closed:
        raise InvalidInput(_l("The account is closed: it cannot be reassigned."), field="decision")
    on = _transfer_date(data, "decision")
    # The account may have changed hands since the application was filed.
    transfers.check_transfer(account, context.applicant_id, on, local_today(), field="decision")
    meter = transfers.meter_on(account, values.get("confirmed_serial") or data.get("meter_serial"),
                               field="confirmed_serial")
    found.update(transfer_meter_id=meter.id if meter else None, transfer_values={})
    if meter is not None:
        # The specialist's correction where given, else what the applicant wrote (for the meter's zones).
        raw = {zone: values.get(CONFIRMED[zone]) if values.get(CONFIRMED[zone]) not in (None, "")
               else (data.get(f"reading_{zone.lower()}") if zone in meter.zone_names else None) for zone in ZONES}
        checked = transfers.check_readings(meter, on, raw, CONFIRMED, serial_field="confirmed_serial")
        found["transfer_values"] = {zone: str(value) for zone, value in checked.items()}
    debt = transfers.debt_on(account, on)
    if values.get("debt_decision") == "settled" and debt > 0:
        raise InvalidInput(_l("On the transfer date the account owed %(sum)s: the debt is not paid off.",
                              sum=money(debt)), field="debt_decision")
    return found


@handler("transfer_account")
def transfer_account(case, task) -> dict:
    data = task.data
    account = db.session.get(Account, data["transfer_account_id"])
    new_owner = db.session.get(User, case.applicant_id)
    on = date.fromisoformat(data["transfer_date"])
    reviewer_id = data.get("reviewer_id")
    debt = transfers.debt_on(account, on)
    meter = db.session.get(Meter, data["transfer_meter_id"]) if data.get("transfer_meter_id") else None
    values = {zone: Decimal(value) for zone, value in (data.get("transfer_values") or {}).items()}
    reading = transfers.record_readings(meter, on, values, reviewer_id) if meter is not None and values else None
    transfers.pass_account(account, new_owner, on, actor_id=reviewer_id, case_number=case.number)
    # What the contract prints.
    data.update({
        "account_number": account.number,
        "object_address": account.address,
        "title_document": _title_document(data.get("egrn_details")),
        "transfer_readings": [{"zone": zone, "value": documents.quantity(value)} for zone, value in values.items()],
        "previous_debt": str(debt),
        "debt_text": _debt_text(data.get("debt_decision"), data.get("debt_agreement")),
    })
    return {"account_id": account.id, "meter_id": meter.id if meter else None,
            "reading_id": reading.id if reading else None}


@handler("reassignment_refusal")
def reassignment_refusal(case, task) -> dict:
    """The reason for the refusal goes to the applicant as the company's message on the case."""
    reason = (task.data.get("rejection_reason") or "").strip()
    if reason:
        db.session.add(CaseEvent(case_id=case.id, kind="comment", actor_id=task.data.get("reviewer_id"),
                                 details={"text": reason, "document_id": None, "side": "staff"}))
    return {}
