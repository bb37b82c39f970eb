"""Handlers and checks of the complaint about an accrual (bpmn/accrual_complaint.bpmn).

    start check  complaint_request          an account is chosen and the month has accruals on it; the
                                            account number and the month as the answer prints them
    handler      complaint_period_summary   the month's accrual lines and readings, for the reviewer
    check        complaint_decision         a recalculation within what the month accrued (and, on an
                                            appeal, not below what the case already recalculated)
    handler      post_recalculation         the correcting entry on the account, once per case
    handler      prepare_complaint_answer   what the answer letter prints besides the form's values
"""
from datetime import date
from decimal import Decimal, InvalidOperation

from babel.dates import format_date as babel_format_date
from flask_babel import format_date, lazy_gettext as _l
from sqlalchemy import func, select

from app.extensions import db
from app.i18n import money
from app.models import Account, Accrual, LedgerEntry, Meter, MeterReading, Premises, User
from app.services import postings, statements
from app.services.errors import InvalidInput
from app.services.periods import period_of
from workflows.handlers import check, handler

# The days the applicant has to appeal: the `appeal_expired` timer of the diagram ("P14D").
APPEAL_DAYS = 14
CENT = Decimal("0.01")
ZONES = ("T1", "T2", "T3")


def period_text(period: date) -> str:
    """The month as the answer letter prints it: «октябрь 2026» (documents are in Russian)."""
    return babel_format_date(period, "LLLL yyyy", locale="ru")


def accrued(account_id: int, period: date) -> Decimal:
    """What the month accrued on the account: its ordinary lines, without corrections posted in it."""
    total = db.session.scalar(select(func.coalesce(func.sum(Accrual.amount), 0)).where(
        Accrual.account_id == account_id, Accrual.period == period, Accrual.basis != "correction"))
    return Decimal(total or 0).quantize(CENT)


def _has_accruals(account_id: int, period: date) -> bool:
    return db.session.scalar(select(Accrual.id).where(
        Accrual.account_id == account_id, Accrual.period == period, Accrual.basis != "correction").limit(1)) is not None


def reference(case_number: str) -> str:
    """How a correcting entry names the case it was decided on: the start of its description."""
    return f"{case_number}: "


def recalculated(account_id: int, case_number: str) -> Decimal:
    """What the case has already returned to the account (a positive amount)."""
    posted = db.session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
        LedgerEntry.account_id == account_id, LedgerEntry.kind == "correction",
        LedgerEntry.description.startswith(reference(case_number), autoescape=True)))
    return -Decimal(posted or 0).quantize(CENT)


def _amount(value) -> Decimal | None:
    try:
        return Decimal(str(value)).quantize(CENT) if value not in (None, "") else None
    except InvalidOperation:
        return None


def _period(data: dict) -> date:
    return date.fromisoformat(data["period_start"])


@check("complaint_request")
def complaint_request(context, values: dict) -> dict:
    if not context.account_id:
        raise InvalidInput(_l("Choose the account whose accrual you disagree with."), field="account_id")
    account = db.session.get(Account, context.account_id)
    if account is None:
        raise InvalidInput(_l("Choose the account whose accrual you disagree with."), field="account_id")
    try:
        period = period_of(date.fromisoformat(str(values.get("period") or "")))
    except ValueError:
        raise InvalidInput(_l("Give the month of the accrual."), field="period") from None
    if not _has_accruals(account.id, period):
        raise InvalidInput(_l("There were no accruals on account %(number)s for %(period)s: choose a month "
                              "you have a bill for.", number=account.number, period=format_date(period, "LLLL yyyy")),
                           field="period")
    return {"period_start": period.isoformat(), "period": period_text(period), "account_number": account.number}


@handler("complaint_period_summary")
def complaint_period_summary(case, task) -> dict:
    """The month's accrual lines and meter readings, put into the case data for the review page."""
    period = _period(task.data)
    lines = [line for line in statements.lines(case.account, period) if line.basis != "correction"]
    readings = db.session.execute(
        select(MeterReading, Meter.serial, Meter.zones).join(Meter, Meter.id == MeterReading.meter_id)
        .join(Premises, Premises.id == Meter.premises_id)
        .where(Premises.account_id == case.account_id, MeterReading.period == period)
        .order_by(Meter.id, MeterReading.id)).all()
    task.data["period_accruals"] = [
        {"resource": line.resource, "zone": line.zone, "basis": line.basis, "quantity": str(line.quantity),
         "price": str(line.price) if line.price is not None else None, "amount": str(line.amount),
         "for_period": (line.details or {}).get("for_period")} for line in lines]
    task.data["period_accrued"] = str(sum((line.amount for line in lines), Decimal("0.00")))
    task.data["period_readings"] = [
        {"meter": serial, "taken_on": reading.taken_on.isoformat(), "source": reading.source,
         "status": reading.status, "current": reading.is_current,
         "values": {zone: str(getattr(reading, zone.lower())) for zone in ZONES[:zones]
                    if getattr(reading, zone.lower()) is not None}}
        for reading, serial, zones in readings]
    return {"lines": len(lines), "readings": len(readings)}


@check("complaint_decision")
def complaint_decision(context, values: dict) -> dict:
    decided = {"decided_by_id": context.actor_id}
    if values.get("decision") != "recalculate":
        return decided
    amount = _amount(values.get("recalculation_amount"))
    if amount is None or amount <= 0:
        raise InvalidInput(_l("Give the amount of the recalculation, more than zero."), field="recalculation_amount")
    period = _period(context.data)
    limit = accrued(context.account_id, period)
    if amount > limit:
        raise InvalidInput(_l("The recalculation cannot be more than the %(total)s accrued for the month.",
                              total=money(limit)), field="recalculation_amount")
    done = recalculated(context.account_id, context.case.number) if context.case is not None else Decimal(0)
    if amount < done:
        raise InvalidInput(_l("%(done)s has already been recalculated on this complaint: give the new total, not "
                              "less, or uphold the decision.", done=money(done)), field="recalculation_amount")
    return decided


@handler("post_recalculation")
def post_recalculation(case, task) -> dict:
    """Return the decided amount to the account as a correcting entry in the current month.

    The case's entries are found by their reference, so a step run again (a re-delivery, a retry after
    a failure further on) posts only what is still missing: nothing twice. On an appeal the amount is
    the case's new total and only the difference is posted.
    """
    data = task.data
    amount = _amount(data.get("recalculation_amount")) or Decimal(0)
    missing = amount - recalculated(case.account_id, case.number)
    entry_id = None
    if missing > 0:
        actor = db.session.get(User, data["decided_by_id"]) if data.get("decided_by_id") else None
        reason = data.get("recalculation_reason") or data.get("decision") or ""
        entry = postings.correction(case.account, -missing, (reference(case.number) + reason)[:300], actor=actor,
                                    for_period=_period(data), commit=False)
        entry_id = entry.id
    return {"amount": str(amount), "posted": str(max(missing, Decimal(0))), "entry_id": entry_id}


@handler("prepare_complaint_answer")
def prepare_complaint_answer(case, task) -> dict:
    data = task.data
    is_appeal = data.get("response") == "appeal"
    recalculate = data.get("decision") == "recalculate"
    data.update({
        "is_appeal": is_appeal,
        "appeal_days": str(APPEAL_DAYS),
        "decision_text": (data.get("recalculation_reason") if recalculate else data.get("refusal_reason")) or "",
        "recalculation_amount": str(_amount(data.get("recalculation_amount"))) if recalculate else None,
        "account_number": case.account.number if case.account else data.get("account_number", ""),
    })
    return {"is_appeal": is_appeal}
