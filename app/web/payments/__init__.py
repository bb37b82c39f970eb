"""Paying online: the form, the payment's own page (the provider sends the customer back here), and
the providers' notifications.

The notification endpoint takes no session and no CSRF token: a provider calls it. What it says is
only a reason to ask the provider (app/services/payments.py), so a forged call can change nothing.
"""
import io

import segno
from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import BooleanField, IntegerField, RadioField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, NumberRange, Optional

from app import policy
from app.extensions import csrf, db
from app.models import Payment, PaymentReceipt
from app.policy import require
from app.services import accounts, auto_payments, cases, payment_receipts, payments, statements
from app.services.errors import ServiceError
from app.web.forms import Form, show_error

bp = Blueprint("payments", __name__, url_prefix="/payments")

PROVIDER_NAMES = {"yookassa": _l("YooKassa (cards, SberPay, SBP)"), "tbank": _l("T-Bank"), "sber": _l("Sberbank")}
SBP_PROVIDERS = ("yookassa", "tbank")


class PayForm(Form):
    amount = StringField(_l("Amount, roubles"), validators=[DataRequired(_l("Enter the amount."))],
                         render_kw={"inputmode": "decimal", "autocomplete": "off"})
    purpose = RadioField(_l("What you pay"), default="bill", choices=[
        SelectChoice("bill", _l("Bills for electricity and services")), SelectChoice("penalties", _l("Penalties"))])
    provider = RadioField(_l("How"))
    method = RadioField(_l("With"), default="card", choices=[
        SelectChoice("card", _l("A bank card")), SelectChoice("sbp", _l("SBP: a QR code for your bank's app"))])
    keep_card = BooleanField(_l("Keep the card and pay this account from it automatically every month"))


class AutoPayForm(Form):
    mode = RadioField(_l("When"), default="monthly", choices=[
        SelectChoice("monthly", _l("On a day of each month")), SelectChoice("threshold", _l("When the debt is above"))])
    day = IntegerField(_l("Day of the month"), validators=[Optional(), NumberRange(1, 28, _l("Choose a day from 1 to 28."))])
    threshold = StringField(_l("Debt above, roubles"), render_kw={"inputmode": "decimal"})
    max_amount = StringField(_l("At most, roubles"), validators=[DataRequired(_l("Enter the amount."))],
                             render_kw={"inputmode": "decimal"})


@bp.route("/account/<int:account_id>", methods=["GET", "POST"])
@require("cabinet.use")
def pay_account(account_id):
    account = accounts.get_for(current_user, account_id)
    if not policy.can_act_on_account(current_user, account):
        abort(404)
    enabled = list(payments.providers())
    view = statements.debt(account)
    form = PayForm(data={"amount": _plain(view.statement.debt) if request.method == "GET" else None,
                         "provider": enabled[0] if enabled else None})
    form.provider.choices = [SelectChoice(name, PROVIDER_NAMES.get(name, name)) for name in enabled]
    if form.validate_on_submit():
        if form.method.data == "sbp" and form.provider.data not in SBP_PROVIDERS:
            form.method.errors = [_("SBP is paid through YooKassa or T-Bank; choose one of them or a card.")]
        else:
            try:
                payment = payments.start(current_user, form.provider.data, form.amount.data, purpose=form.purpose.data,
                                         account=account, method=form.method.data, save_method=form.keep_card.data)
            except ServiceError as error:
                show_error(form, error)
            else:
                if payment.status == "pending" and payment.confirmation_url and payment.method == "card":
                    return redirect(payment.confirmation_url)
                return redirect(url_for("payments.show", public_id=payment.public_id))
    return with_payment_forms(make_response(render_template("payments/pay.html", account=account, form=form,
                                                            view=view, enabled=enabled)))


def with_payment_forms(response):
    """Let this page's form lead to the providers' payment pages: the site's policy allows forms to
    our own origin only (`form-action 'self'`), and the browser applies it to the redirect too."""
    from urllib.parse import urlsplit

    from flask import current_app

    cfg = current_app.config
    origins = set(cfg.get("PAYMENT_PAGE_ORIGINS", ()))
    for key in ("YOOKASSA_URL", "TBANK_URL", "SBER_URL"):
        if cfg.get(key):
            parts = urlsplit(cfg[key])
            origins.add(f"{parts.scheme}://{parts.netloc}")
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; "
        f"form-action 'self' {' '.join(sorted(origins))}")
    return response


def _plain(amount) -> str:
    return f"{amount:.2f}".replace(".", ",") if amount and amount > 0 else ""


def _payment_for(public_id: str) -> Payment:
    payment = db.session.query(Payment).filter_by(public_id=public_id).one_or_none()
    if payment is None or payment.user_id != getattr(current_user, "id", None):
        abort(404)  # someone else's payment looks like a missing one
    return payment


@bp.get("/<public_id>")
@require("cabinet.use")
def show(public_id):
    payment = _payment_for(public_id)
    if payment.status in ("created", "pending"):  # back from the provider: ask it now
        payment = payments.refresh(payment.id, "return")
    return render_template("payments/show.html", payment=payment, qr=_qr_svg(payment),
                           receipts=payment_receipts.receipts_of(payment))


@bp.get("/<public_id>/receipts/<int:receipt_id>.pdf")
@require("cabinet.use")
def receipt_pdf(public_id, receipt_id):
    payment = _payment_for(public_id)
    receipt = db.session.get(PaymentReceipt, receipt_id)
    if receipt is None or receipt.payment_id != payment.id:
        abort(404)
    return send_file(io.BytesIO(payment_receipts.render_pdf(payment, receipt)), mimetype="application/pdf",
                     download_name=f"receipt-{receipt.fd}.pdf")


@bp.get("/<public_id>/status")
@require("cabinet.use")
def status(public_id):
    """The status line, polled by the page while the payment is pending."""
    payment = _payment_for(public_id)
    if payment.status in ("created", "pending"):
        payment = payments.refresh(payment.id, "return")
    return render_template("payments/_status.html", payment=payment)


def _qr_svg(payment: Payment) -> str | None:
    if not payment.qr_payload or payment.status != "pending":
        return None
    out = io.BytesIO()
    segno.make(payment.qr_payload, error="m", micro=False).save(out, kind="svg", scale=6, xmldecl=False,
                                                                 svgns=True, title=_("SBP payment QR code"))
    return out.getvalue().decode()


@bp.route("/notify/<provider_name>", methods=["POST", "GET"])
@csrf.exempt
def notify(provider_name):
    if provider_name not in payments.providers():
        abort(404)
    code, headers, body = payments.notification(provider_name, dict(request.headers), request.get_data() or
                                                request.query_string, request.remote_addr)
    return body, code, headers


@bp.post("/case/<number>")
@require("cabinet.use")
def pay_case(number):
    """Pay an application's invoice (the technological connection fee) from the case page."""
    case = cases.case_for(current_user, number)
    method = request.form.get("method", "card")
    try:
        payment = payments.pay_invoice(current_user, case, request.form.get("provider", ""), method=method)
    except ServiceError as error:
        flash(str(error.message), "danger")
        return redirect(url_for("cases.show", number=case.number))
    if payment.status == "pending" and payment.confirmation_url and payment.method == "card":
        return redirect(payment.confirmation_url)
    return redirect(url_for("payments.show", public_id=payment.public_id))


@bp.route("/auto/<int:account_id>", methods=["GET", "POST"])
@require("cabinet.use")
def auto(account_id):
    """Auto-payment of an account: when and how much, switch it off, forget the card."""
    account = accounts.get_for(current_user, account_id)
    if not policy.can_act_on_account(current_user, account):
        abort(404)
    rule = auto_payments.rule_of(current_user, account)
    form = AutoPayForm(obj=None, data=None if request.method == "POST" or rule is None else {
        "mode": rule.mode, "day": rule.day, "threshold": rule.threshold or "", "max_amount": rule.max_amount})
    action = request.form.get("action")
    if request.method == "POST" and action in ("off", "forget"):
        try:
            auto_payments.switch_off(current_user, account, forget_card=action == "forget")
        except ServiceError as error:
            flash(str(error.message), "danger")
        else:
            flash(_("Auto-payment is switched off.") if action == "off" else _("The card is deleted."), "success")
        return redirect(url_for("payments.auto", account_id=account.id))
    if form.validate_on_submit():
        try:
            auto_payments.configure(current_user, account, form.mode.data, form.day.data, form.threshold.data,
                                    form.max_amount.data)
        except ServiceError as error:
            show_error(form, error)
        else:
            flash(_("Auto-payment is set up."), "success")
            return redirect(url_for("payments.auto", account_id=account.id))
    return render_template("payments/auto.html", account=account, rule=rule, form=form)
