"""Accruals with their explanation, debt and penalties day by day, payments, and the bill PDF."""
from flask import Response, abort, render_template, request
from flask_login import current_user

from app import policy
from app.policy import require
from app.services import accounts, statements
from app.services.periods import parse_period
from app.services.resources import RESOURCES, zone_label
from app.web.cabinet import bp


def _period_arg(bills):
    text = request.args.get("period")
    if not text:
        return bills[0].period if bills else None
    try:
        return parse_period(text)
    except ValueError:
        abort(404)


def _account(account_id):
    """The account and the part of its history the customer sees (all of it, or their time with it)."""
    account = accounts.get_for(current_user, account_id)
    return account, policy.account_window(current_user, account)


@bp.get("/accounts/<int:account_id>/accruals")
@require("cabinet.use")
def accruals(account_id):
    account, window = _account(account_id)
    bills = statements.bills(account, window)
    period = _period_arg(bills)
    if period is not None and not window.covers_period(period):
        abort(404)
    lines = statements.lines(account, period) if period else []
    return render_template("cabinet/accruals.html", account=account, bills=bills, period=period, lines=lines,
                           changes=statements.changes(account, period, window) if period else [],
                           resources=RESOURCES, zone_label=zone_label, window=window)


@bp.get("/accounts/<int:account_id>/debt")
@require("cabinet.use")
def debt(account_id):
    account, window = _account(account_id)
    return render_template("cabinet/debt.html", account=account, view=statements.debt(account, window=window),
                           window=window)


@bp.get("/accounts/<int:account_id>/payments")
@require("cabinet.use")
def payments(account_id):
    account, window = _account(account_id)
    return render_template("cabinet/payments.html", account=account, payments=statements.payments(account, window),
                           window=window)


@bp.get("/accounts/<int:account_id>/bills/<period>.pdf")
@require("cabinet.use")
def bill_pdf(account_id, period):
    from app.services import bills

    account, window = _account(account_id)
    try:
        month = parse_period(period)
    except ValueError:
        abort(404)
    if not window.covers_period(month):
        abort(404)
    pdf = bills.render_pdf(bills.bill_for(account, month))
    filename = f"bill-{account.number}-{month:%Y-%m}.pdf"
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{filename}"'})
