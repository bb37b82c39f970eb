"""Meters, readings, accruals, debt, payments and bills: what the customer pages show, as JSON."""
import marshmallow as ma
from flask import Response
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_smorest import Blueprint

from app import policy
from app.services import accounts, readings, statements
from app.services.errors import NotFound
from app.services.periods import parse_period
from app.web.api.schemas import (AccrualSchema, BillSchema, DebtSchema, MeterSchema, PaymentSchema, ReadingSchema,
                                 ReadingSubmitSchema, SubmittedSchema)

blp = Blueprint("api_billing", __name__, url_prefix="/api/v1", description="Meters, readings and money")


def _period(text: str, window=None):
    try:
        period = parse_period(text)
    except ValueError as error:
        raise NotFound(str(error)) from None
    if window is not None and not window.covers_period(period):
        raise NotFound(_l("There is no bill for %(period)s yet: the period is not closed.", period=f"{period:%m.%Y}"))
    return period


def _account(account_id):
    """The account and the part of its history the caller sees."""
    account = accounts.get_for(current_user, account_id)
    return account, policy.account_window(current_user, account)


@blp.get("/accounts/<int:account_id>/meters")
@blp.response(200, MeterSchema(many=True))
def meters(account_id):
    account, window = _account(account_id)
    latest = readings.last_readings(account, window)
    return [{"meter": m, "last_reading": latest.get(m.id)} for m in readings.meters_of(account)]


@blp.get("/meters/<int:meter_id>/readings")
@blp.response(200, ReadingSchema(many=True))
def meter_readings(meter_id):
    meter = readings.meter_for(current_user, meter_id)
    account = meter.premises.account
    return [r for r in readings.history_of(account, limit=120, window=policy.account_window(current_user, account))
            if r.meter_id == meter.id]


@blp.post("/meters/<int:meter_id>/readings")
@blp.arguments(ReadingSubmitSchema)
@blp.response(201, SubmittedSchema)
def submit_reading(body, meter_id):
    """Submit a reading taken today: one value per zone. A far-too-high value answers 422 with type
    `urn:gridcase:problem:needs-confirmation`; send it again with `confirm: true` if it is right."""
    done = readings.submit(current_user, meter_id, body["values"], confirm_jump=body.get("confirm", False))
    return {"reading": done.reading, "period": done.period, "outside_window": done.outside_window,
            "corrected": done.corrected}


@blp.get("/accounts/<int:account_id>/bills")
@blp.response(200, BillSchema(many=True))
def bills(account_id):
    return statements.bills(*_account(account_id))


class PeriodQuery(ma.Schema):
    period = ma.fields.String(required=True, metadata={"description": "YYYY-MM"})


@blp.get("/accounts/<int:account_id>/accruals")
@blp.arguments(PeriodQuery, location="query")
@blp.response(200, AccrualSchema(many=True))
def accruals(query, account_id):
    account, window = _account(account_id)
    return statements.lines(account, _period(query["period"], window))


@blp.get("/accounts/<int:account_id>/debt")
@blp.response(200, DebtSchema)
def debt(account_id):
    """Debt by period, the advance, and the penalties accrued to today with their calculation lines."""
    account, window = _account(account_id)
    view = statements.debt(account, window=window)
    return {"as_of": view.as_of, "debt": view.statement.debt, "advance": view.statement.advance,
            "balance": view.statement.balance, "penalties_accrued": view.penalties_accrued,
            "penalties_billed": view.penalties_posted,
            "periods": [d for d in view.statement.debts if d.charged != 0],
            "penalties": [{"period": d.period, "due_date": d.due_date, "total": calc.total, "lines": calc.lines}
                          for d, calc in view.penalties]}


@blp.get("/accounts/<int:account_id>/payments")
@blp.response(200, PaymentSchema(many=True))
def payments(account_id):
    return statements.payments(*_account(account_id))


@blp.get("/accounts/<int:account_id>/bills/<period>.pdf")
@blp.response(200, content_type="application/pdf")
def bill_pdf(account_id, period):
    """The monthly bill with the payment QR code (ГОСТ Р 56042-2014)."""
    from app.services import bills as bill_service

    account, window = _account(account_id)
    pdf = bill_service.render_pdf(bill_service.bill_for(account, _period(period, window)))
    return Response(pdf, mimetype="application/pdf")
