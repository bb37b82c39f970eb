"""Fiscal receipts of online payments: fetched from the provider's cash register once it has
registered them, kept, and printed for the customer with the FNS QR code.

The receipt itself is issued by the provider's online cash register from the receipt data sent with
the payment (`payments.receipt_for`); ours is the customer's printed copy of it.
"""
import logging
from decimal import Decimal
from zoneinfo import ZoneInfo

import segno
from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.models import Payment, PaymentReceipt
from app.services import documents
from integrations.payments import base

log = logging.getLogger(__name__)
QR_SIZE_MM = 25  # at least 20×20 mm since 01.09.2025
# YooKassa's VAT codes (the numbering the settings use) as printed on a receipt, with the rate.
VAT = {1: ("без НДС", Decimal(0)), 2: ("0%", Decimal(0)), 3: ("10%", Decimal(10)), 4: ("20%", Decimal(20)),
       5: ("10/110", Decimal(10)), 6: ("20/120", Decimal(20)), 11: ("22%", Decimal(22)), 12: ("22/122", Decimal(22))}
TAX_SYSTEMS = {1: "ОСН", 2: "УСН доход", 3: "УСН доход − расход", 4: "ЕНВД", 5: "ЕСХН", 6: "Патент"}


def receipts_of(payment: Payment) -> list[PaymentReceipt]:
    """The payment's receipts; asks the provider for those not kept yet (none while it is not paid)."""
    kept = list(db.session.scalars(select(PaymentReceipt).where(PaymentReceipt.payment_id == payment.id)
                                   .order_by(PaymentReceipt.registered_at)))
    if payment.status not in ("succeeded", "refunded") or payment.provider_id is None or complete(payment, kept):
        return kept
    from app.services import payments

    try:
        issued = payments.provider(payment.provider).fiscal_receipts(payment.provider_id)
    except base.ProviderError as error:
        log.warning("receipts of payment %s: %s", payment.public_id, error)
        return kept
    known = {(r.fn, r.fd) for r in kept}
    for fiscal in issued:
        if (fiscal.fn, fiscal.fd) in known:
            continue
        row = PaymentReceipt(payment_id=payment.id, kind=fiscal.kind, registered_at=fiscal.registered_at,
                             fn=fiscal.fn, fd=fiscal.fd, fpd=fiscal.fpd, ecr_registration=fiscal.ecr_registration,
                             shift_number=fiscal.shift_number, number_in_shift=fiscal.number_in_shift,
                             amount=fiscal.amount, qr_text=fiscal.qr_text, raw=fiscal.raw)
        db.session.add(row)
        kept.append(row)
    db.session.commit()
    return kept


def complete(payment: Payment, kept: list[PaymentReceipt]) -> bool:
    """Whether every receipt the payment calls for is kept: the sale's, and refunds' for what was returned
    (then the provider need not be asked again)."""
    refunded = sum((Decimal(r.amount) for r in kept if r.kind == "refund"), Decimal(0))
    return any(r.kind == "payment" for r in kept) and refunded >= Decimal(payment.refunded_amount or 0)


def render_pdf(payment: Payment, receipt: PaymentReceipt) -> bytes:
    cfg = current_app.config
    vat_label, rate = VAT.get(cfg["RECEIPT_VAT_CODE"], ("без НДС", Decimal(0)))
    amount = Decimal(receipt.amount)
    vat = (amount * rate / (100 + rate)).quantize(Decimal("0.01"))
    from app.services import payments

    [line] = payments.receipt_for(payment, payment.account, payments.case_of(payment)).items
    company = {key.removeprefix("COMPANY_").lower(): cfg[key] for key in cfg if key.startswith("COMPANY_")}
    registered = receipt.registered_at.astimezone(ZoneInfo(cfg["TIMEZONE"])).strftime("%d.%m.%Y %H:%M")
    qr = segno.make(receipt.qr_text, error="m", micro=False).svg_data_uri(scale=1, border=2, omitsize=True)
    html = documents.template_env().get_template("receipt.html").render(
        receipt=receipt, payment=payment, company=company, registered=registered,
        place=cfg.get("PUBLIC_URL", ""), tax_system=TAX_SYSTEMS.get(cfg["RECEIPT_TAX_SYSTEM"], ""),
        items=[{"name": line.name, "quantity": line.quantity, "price": amount, "amount": amount, "vat": vat}],
        vat_label=vat_label, vat_total=vat, buyer=_buyer(payment), qr_data_uri=qr, qr_size_mm=QR_SIZE_MM)
    return documents.html_to_pdf(html)


def _buyer(payment: Payment) -> str:
    from app.models import User

    user = db.session.get(User, payment.user_id) if payment.user_id else None
    return user.email if user else ""
