"""Online payments: start a payment, learn its outcome from the provider, credit it once.

The order of things is what keeps money safe:
1. A `payment` row is committed before the provider is called; its `public_id` is the idempotency
   key / order number, so a retry after a timeout asks about the same payment instead of making one.
2. Whatever reports an outcome — the provider's notification, the customer coming back, the
   reconciliation job — only makes us ask the provider (`status`) and apply what it says. A
   notification's own claim is never posted: YooKassa's carry no signature at all.
3. Applying a status happens under the payment's row lock, and the ledger entry is keyed by
   (provider, provider payment id): ten copies of a notification at once credit the account once.
4. A paid TP invoice is a message to its case (`invoice_paid`); an annulled application refuses it,
   and the payment is marked for a refund by staff.
"""
import logging
import uuid
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app import policy
from app.extensions import db
from app.models import Payment, PaymentEvent
from app.models.types import utcnow
from app.services import audit, postings
from app.services.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.services.periods import local_today, period_of
from integrations.payments import base

log = logging.getLogger(__name__)
PURPOSES = ("bill", "penalties", "tp_invoice")
MAX_AMOUNT = Decimal("1000000.00")  # above this an online payment is surely a typo


# --- providers from the settings --------------------------------------------------------------------

SETTINGS = ("PAYMENT_PROVIDERS", "PAYMENT_TIMEOUT", "PUBLIC_URL", "YOOKASSA_SHOP_ID", "YOOKASSA_SECRET_KEY", "YOOKASSA_URL",
            "YOOKASSA_NETWORKS", "TBANK_TERMINAL_KEY", "TBANK_PASSWORD", "TBANK_URL", "SBER_USERNAME", "SBER_PASSWORD",
            "SBER_URL", "SBER_CALLBACK_KEY")


def providers() -> dict[str, base.Provider]:
    """The providers the company has enabled (`PAYMENT_PROVIDERS`), configured from the settings. The
    clients are kept per process while the settings stay the same, so their HTTP sessions (and
    connections) are reused from one notification to the next."""
    key = tuple(repr(current_app.config.get(name)) for name in SETTINGS)
    cache = current_app.extensions.setdefault("payment_providers", {})
    if key not in cache:
        cache.clear()
        cache[key] = _build_providers()
    return cache[key]


def _build_providers() -> dict[str, base.Provider]:
    cfg, found = current_app.config, {}
    timeout = cfg.get("PAYMENT_TIMEOUT", 15)
    for name in cfg.get("PAYMENT_PROVIDERS", ()):
        if name == "yookassa":
            from integrations.payments.yookassa import YooKassaClient

            found[name] = YooKassaClient(cfg["YOOKASSA_SHOP_ID"], cfg["YOOKASSA_SECRET_KEY"], base_url=cfg["YOOKASSA_URL"],
                                         timeout=timeout, trusted_networks=cfg.get("YOOKASSA_NETWORKS") or None)
        elif name == "tbank":
            from integrations.payments.tbank import TBankClient

            found[name] = TBankClient(cfg["TBANK_TERMINAL_KEY"], cfg["TBANK_PASSWORD"], base_url=cfg["TBANK_URL"],
                                      timeout=timeout, notification_url=_notify_url("tbank"))
        elif name == "sber":
            from integrations.payments.sber import SberClient

            found[name] = SberClient(cfg["SBER_USERNAME"], cfg["SBER_PASSWORD"], base_url=cfg["SBER_URL"],
                                     timeout=timeout, callback_key=cfg.get("SBER_CALLBACK_KEY"))
    return found


def provider(name: str) -> base.Provider:
    found = providers().get(name)
    if found is None:
        raise NotFound(_l("This way of paying is not available."))
    return found


def _notify_url(name: str) -> str:
    return f"{current_app.config['PUBLIC_URL'].rstrip('/')}/payments/notify/{name}"


# --- starting a payment -----------------------------------------------------------------------------

def amount_of(text) -> Decimal:
    try:
        value = Decimal(str(text).replace(" ", "").replace("\u00a0", "").replace(",", "."))
    except (InvalidOperation, ValueError):
        raise InvalidInput(_l("Enter the amount in rubles, like 1234.56."), field="amount") from None
    if not value.is_finite() or value.as_tuple().exponent < -2:  # kopecks at most
        raise InvalidInput(_l("Enter the amount in rubles, like 1234.56."), field="amount")
    value = value.quantize(Decimal("0.01"))
    if value <= 0:
        raise InvalidInput(_l("The amount must be more than zero."), field="amount")
    if value > MAX_AMOUNT:
        raise InvalidInput(_l("At most %(max)s can be paid online at once.", max=f"{MAX_AMOUNT:,.2f} ₽"),
                           field="amount")
    return value


def start(user, provider_name: str, amount, purpose: str = "bill", account=None, case=None, method: str = "card",
          return_url: str = "", receipt: base.Receipt | None = None, save_method: bool = False) -> Payment:
    """Record the payment, then register it with the provider. A provider that cannot be reached
    leaves it `created`: the reconciliation job registers it later under the same id."""
    value = amount_of(amount)
    if purpose not in PURPOSES or method not in base.METHODS:
        raise InvalidInput(_l("Choose what to pay and how."))
    if account is not None and not policy.can_act_on_account(user, account):
        audit.record("access.denied", actor=user, obj=account, outcome="denied", commit=True)
        raise Forbidden(_l("Only the account's holders can pay it online."))
    client = provider(provider_name)
    again = _same_recent(user, provider_name, value, purpose, account, case, method)
    if again is not None:  # a double click on "pay": the same payment, not a second one
        return again
    payment = Payment(public_id=str(uuid.uuid4()), user_id=getattr(user, "id", None),
                      account_id=getattr(account, "id", None), case_id=getattr(case, "id", None), purpose=purpose,
                      provider=provider_name, method=method, amount=value, status="created",
                      save_method=bool(save_method) and method == "card" and account is not None)
    db.session.add(payment)
    db.session.flush()
    _event(payment, "create", None, "created")
    audit.record("payment.start", actor=user, obj=payment, details={"amount": str(value), "provider": provider_name})
    db.session.commit()
    return _register(payment, client, return_url, receipt)


def _same_recent(user, provider_name, value, purpose, account, case, method) -> Payment | None:
    since = utcnow() - timedelta(seconds=current_app.config["PAYMENT_REPEAT_SECONDS"])
    return db.session.scalar(select(Payment).where(
        Payment.user_id == getattr(user, "id", None), Payment.provider == provider_name, Payment.amount == value,
        Payment.purpose == purpose, Payment.account_id == getattr(account, "id", None),
        Payment.case_id == getattr(case, "id", None), Payment.method == method,
        Payment.status.in_(("created", "pending")), Payment.created_at >= since).order_by(Payment.id.desc()).limit(1))


def _register(payment: Payment, client: base.Provider, return_url: str = "", receipt: base.Receipt | None = None) -> Payment:
    """Register the payment with the provider under its own id: asking twice is asking about one payment."""
    request = request_for(payment, return_url, receipt)
    try:
        seen = client.create(request, idempotency_key=payment.public_id)
    except base.ProviderUnavailable as error:
        payment.last_error = str(error)[:500]
        db.session.commit()
        return payment
    except base.ProviderRejected as error:
        _set_status(payment, "failed", "create", {"code": error.code, "message": error.message})
        payment.last_error = str(error)[:500]
        db.session.commit()
        return payment
    payment.provider_id, payment.confirmation_url, payment.qr_payload = seen.provider_id, seen.confirmation_url, seen.qr_payload
    payment.last_error = None
    _set_status(payment, "pending", "create", {"provider_status": seen.raw.get("status")})
    db.session.commit()
    return payment


def receipt_for(payment: Payment, account, case) -> base.Receipt:
    """The 54-ФЗ receipt data sent with the payment: one service line, paid in full, VAT and tax
    system from the settings, the payer's e-mail for the electronic receipt."""
    from app.models import User

    cfg = current_app.config
    payer = db.session.get(User, payment.user_id) if payment.user_id else None
    if case is not None:
        name = f"Плата за технологическое присоединение по заявке {case.number}"
    elif payment.purpose == "penalties":
        name = f"Пени по лицевому счёту {account.number}"
    else:
        name = f"Электроэнергия и услуги по лицевому счёту {account.number}" if account is not None else "Оплата услуг"
    item = base.ReceiptItem(name=name[:128], quantity=Decimal(1), price=Decimal(payment.amount),
                            vat_code=cfg["RECEIPT_VAT_CODE"])
    return base.Receipt(items=(item,), email=getattr(payer, "email", None), phone=None,
                        full_name=getattr(payer, "full_name", None), tax_system_code=cfg["RECEIPT_TAX_SYSTEM"])


def request_for(payment: Payment, return_url: str = "", receipt: base.Receipt | None = None) -> base.PaymentRequest:
    """What the provider is asked: the amount, the description, the receipt data, where to come back."""
    account, case = payment.account, case_of(payment)
    return base.PaymentRequest(order_id=payment.public_id, amount=Decimal(payment.amount), method=payment.method,
                               receipt=receipt or receipt_for(payment, account, case),
                               description=_description(payment, account, case), save_method=payment.save_method,
                               return_url=return_url or _return_url(payment), metadata={"payment": payment.public_id})


def case_of(payment: Payment):
    """The application whose invoice the payment pays, if any."""
    if not payment.case_id:
        return None
    from app.models import Case

    return db.session.get(Case, payment.case_id)


def _return_url(payment: Payment) -> str:
    return f"{current_app.config['PUBLIC_URL'].rstrip('/')}/payments/{payment.public_id}"


def invoice_of(case) -> Decimal | None:
    """What a case's applicant may pay online now: the invoice its process waits to be paid for (the
    technological connection fee), or None."""
    from workflows import engine

    data = engine.data_if_waiting_for(case, "invoice_paid")
    if data is None:
        return None
    fee = data.get("fee") or {}
    return Decimal(fee["amount"]) if fee.get("amount") else None


def pay_invoice(user, case, provider_name: str, method: str = "card") -> Payment:
    """Start paying a case's invoice; only its applicant may, and only the invoiced amount."""
    if case.applicant_id != getattr(user, "id", None):
        raise Forbidden(_l("Only the applicant pays the application's invoice online."))
    amount = invoice_of(case)
    if amount is None:
        raise InvalidInput(_l("The application has no invoice waiting to be paid."))
    return start(user, provider_name, amount, purpose="tp_invoice", case=case, method=method)


def _description(payment: Payment, account, case) -> str:
    if case is not None:
        return f"Оплата счёта по заявке {case.number}"
    return f"Оплата по лицевому счёту {account.number}" if account is not None else "Оплата"


# --- learning the outcome ---------------------------------------------------------------------------

def refresh(payment_id: int, source: str) -> Payment:
    """Ask the provider about the payment and apply what it says (the return page, reconciliation)."""
    payment = db.session.get(Payment, payment_id)
    if payment is None:
        raise NotFound(_l("No such payment."))
    if payment.provider_id is None:
        if payment.status == "created":  # the provider was not reached when the payment started
            return _register(payment, provider(payment.provider))
        return payment
    try:
        seen = provider(payment.provider).status(payment.provider_id)
    except base.ProviderUnavailable as error:
        log.warning("payment %s: provider unavailable: %s", payment.public_id, error)
        return payment
    return apply(payment.id, seen, source)


def apply(payment_id: int, seen: base.ProviderPayment, source: str) -> Payment:
    """The provider's verified view applied under the payment's lock: credited once, whoever comes."""
    payment = db.session.scalar(select(Payment).where(Payment.id == payment_id).with_for_update())
    paid_now = False
    if seen.status == "succeeded" and payment.paid_at is None:
        paid = seen.paid_amount if seen.paid_amount is not None else seen.amount
        if Decimal(paid) != Decimal(payment.amount):
            _event(payment, source, payment.status, payment.status, {"refused": "amount", "provider_amount": str(paid)})
            audit.record("payment.amount_mismatch", obj=payment, outcome="refused",
                         details={"ours": str(payment.amount), "provider": str(paid)})
            db.session.commit()
            return payment
        _credit(payment)
        paid_now = True
        from app.services import auto_payments

        auto_payments.remember_card(payment, seen)
    new = seen.status if seen.status in base.STATUSES else payment.status
    if new != payment.status:
        _set_status(payment, new, source, {"provider_status": seen.raw.get("status")})
    # Some providers do not report partial refunds in the status: never lower what we know was returned.
    payment.refunded_amount = max(Decimal(payment.refunded_amount or 0), Decimal(seen.refunded_amount or 0))
    db.session.commit()
    if paid_now and payment.purpose == "tp_invoice":  # the case's own step, in its own transaction
        _invoice_paid(payment)
    return payment


def _credit(payment: Payment) -> None:
    payment.paid_at = utcnow()
    if payment.purpose == "tp_invoice":
        return
    entry = postings.payment(payment.account, payment.amount, local_today(), payment.provider,
                             external_id=payment.provider_id, for_penalties=payment.purpose == "penalties",
                             description=f"Онлайн-оплата {payment.public_id}", commit=False)
    payment.ledger_entry_id = entry.id


def _invoice_paid(payment: Payment) -> None:
    from workflows import engine

    try:
        engine.correlate(payment.case_id, "invoice_paid", {"paid_on": local_today().isoformat(),
                                                           "amount": str(payment.amount), "payment": payment.public_id})
    except InvalidInput:  # the application was annulled meanwhile: the money goes back
        payment = db.session.get(Payment, payment.id)
        _event(payment, "notification", payment.status, payment.status, {"refund_needed": "the case is not waiting"})
        audit.record("payment.refund_needed", obj=payment, details={"case_id": payment.case_id})
        db.session.commit()


def notification(provider_name: str, headers: dict, body: bytes, remote_addr: str | None) -> tuple[int, dict, bytes]:
    """A provider's notification: verified, then the provider is asked and its answer applied. An
    unknown payment, a forged or repeated notification change nothing."""
    client = provider(provider_name)
    try:
        claim = client.parse_notification(headers, body, remote_addr)
    except base.ForgedNotification as error:
        audit.record("payment.notification_refused", outcome="refused", commit=True,
                     details={"provider": provider_name, "from": remote_addr, "why": str(error)[:200]})
        return 403, {}, b""
    payment = db.session.scalar(select(Payment).where(Payment.provider == provider_name,
                                                      Payment.provider_id == claim.provider_id))
    if payment is None:
        log.warning("%s notification for an unknown payment %s", provider_name, claim.provider_id)
        return client.acknowledge(claim)
    refresh(payment.id, "notification")
    return client.acknowledge(claim)


def reconcile(older_than: timedelta | None = None, limit: int = 200) -> int:
    """Ask about payments left pending (or never registered) for longer than `older_than`."""
    if older_than is None:
        older_than = timedelta(minutes=current_app.config.get("PAYMENT_RECONCILE_MINUTES", 15))
    ids = list(db.session.scalars(select(Payment.id).where(Payment.status.in_(("created", "pending")),
                                                           Payment.updated_at < utcnow() - older_than)
                                  .order_by(Payment.id).limit(limit)))
    for payment_id in ids:
        refresh(payment_id, "reconcile")
    _collect_receipts()
    return len(ids)


def _collect_receipts(days: int = 3) -> None:
    """Fetch the receipts the providers' cash registers have issued since, and send the customer theirs.
    Payments whose receipts are all kept are not asked about again."""
    from app.models import PaymentReceipt, User
    from app.services import mailer, payment_receipts

    recent = list(db.session.scalars(select(Payment).where(Payment.status.in_(("succeeded", "refunded")),
                                                           Payment.paid_at >= utcnow() - timedelta(days=days))))
    kept: dict[int, list] = {}
    for row in db.session.scalars(select(PaymentReceipt).where(PaymentReceipt.payment_id.in_([p.id for p in recent]))):
        kept.setdefault(row.payment_id, []).append(row)
    for payment in recent:
        before = kept.get(payment.id, [])
        if payment_receipts.complete(payment, before):
            continue
        known = {r.id for r in before}
        new = [r for r in payment_receipts.receipts_of(payment) if r.id not in known]
        if new and payment.user_id:
            mailer.send_receipt(db.session.get(User, payment.user_id), payment, new)


def _set_status(payment: Payment, status: str, source: str, details: dict | None = None) -> None:
    _event(payment, source, payment.status, status, details)
    payment.status = status


def record_event(payment: Payment, source: str, before: str | None, after: str | None, details: dict | None = None) -> None:
    _event(payment, source, before, after, details)


def _event(payment: Payment, source: str, before: str | None, after: str | None, details: dict | None = None) -> None:
    db.session.add(PaymentEvent(payment_id=payment.id, source=source, from_status=before, to_status=after,
                                details=details or {}))


# --- staff: search, refunds, reconciliation ---------------------------------------------------------

def search(text: str = "", status: str | None = None, provider_name: str | None = None, limit: int = 200) -> list[Payment]:
    from app.models import Account

    query = select(Payment).outerjoin(Account, Account.id == Payment.account_id)
    text = (text or "").strip()
    if text:
        query = query.where((Payment.public_id.startswith(text)) | (Payment.provider_id == text) |
                            (Account.number == text))
    if status:
        query = query.where(Payment.status == status)
    if provider_name:
        query = query.where(Payment.provider == provider_name)
    return list(db.session.scalars(query.order_by(Payment.id.desc()).limit(limit)))


def history(payment: Payment) -> list[PaymentEvent]:
    return list(db.session.scalars(select(PaymentEvent).where(PaymentEvent.payment_id == payment.id)
                                   .order_by(PaymentEvent.id)))


def refund(actor, payment_id: int, amount, reason: str) -> Payment:
    """Return money of a paid payment (in part or in full), with a reason; the account is debited
    back by the same amount once the provider has accepted the refund."""
    payment = db.session.scalar(select(Payment).where(Payment.id == payment_id).with_for_update())
    if payment is None:
        raise NotFound(_l("No such payment."))
    value = amount_of(amount)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_l("Give the reason for the refund."), field="reason")
    if payment.status not in ("succeeded",):
        raise InvalidInput(_l("Only a paid payment can be refunded."))
    left = Decimal(payment.amount) - Decimal(payment.refunded_amount or 0)
    if value > left:
        raise InvalidInput(_l("At most %(sum)s is left to refund.", sum=f"{left:.2f}"), field="amount")
    number = len([e for e in history(payment) if e.source == "refund"]) + 1
    key = f"{payment.public_id}-refund-{number}"
    sold = receipt_for(payment, payment.account, case_of(payment))  # the refund receipt repeats the line
    item = base.ReceiptItem(name=sold.items[0].name, quantity=Decimal(1), price=value, vat_code=sold.items[0].vat_code)
    try:
        done = provider(payment.provider).refund(payment.provider_id, value, key, receipt=base.Receipt(
            items=(item,), email=sold.email, full_name=sold.full_name, tax_system_code=sold.tax_system_code))
    except base.ProviderUnavailable as error:
        db.session.rollback()
        raise Conflict(_l("The provider does not answer; try the refund again later (it will not be made twice).")) from error
    except base.ProviderRejected as error:
        db.session.rollback()
        raise InvalidInput(_l("The provider refused the refund: %(why)s", why=error.message)) from None
    payment.refunded_amount = Decimal(payment.refunded_amount or 0) + value
    after = "refunded" if payment.refunded_amount >= Decimal(payment.amount) else payment.status
    _event(payment, "refund", payment.status, after, {"amount": str(value), "reason": reason, "refund_id": done.refund_id,
                                                       "by": getattr(actor, "id", None)})
    payment.status = after
    if payment.account is not None and payment.purpose != "tp_invoice":
        _debit_back(payment, value, done.refund_id, reason, actor)
    audit.record("payment.refund", actor=actor, obj=payment, details={"amount": str(value), "reason": reason})
    db.session.commit()
    return payment


def _debit_back(payment: Payment, value: Decimal, refund_id: str, reason: str, actor) -> None:
    from app.models import LedgerEntry

    if db.session.scalar(select(LedgerEntry.id).where(LedgerEntry.source == payment.provider,
                                                      LedgerEntry.external_id == f"refund:{refund_id}")):
        return
    # The money returned is owed again: a charge of the current month, due at once.
    today = local_today()
    db.session.add(LedgerEntry(account_id=payment.account_id, kind="refund", amount=value, booked_on=today,
                               period=period_of(today), due_date=today,
                               source=payment.provider, external_id=f"refund:{refund_id}",
                               description=f"Возврат платежа {payment.public_id}: {reason}"[:300],
                               created_by_id=getattr(actor, "id", None)))


def reconciliation(day_from, day_to) -> list[dict]:
    """Our payments of the days against what the provider says of each, for the staff's report."""
    from datetime import datetime, time
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(current_app.config["TIMEZONE"])
    start = datetime.combine(day_from, time.min, tzinfo=zone)
    end = datetime.combine(day_to, time.max, tzinfo=zone)
    rows = []
    clients = providers()
    for payment in db.session.scalars(select(Payment).where(Payment.created_at >= start, Payment.created_at <= end)
                                      .order_by(Payment.id)):
        theirs, their_amount = "", None
        client = clients.get(payment.provider)
        if client is not None and payment.provider_id:
            try:
                seen = client.status(payment.provider_id)
                theirs, their_amount = seen.status, seen.amount
            except base.ProviderError as error:
                theirs = f"? {error}"[:60]
        rows.append({"payment": payment.public_id, "provider": payment.provider, "provider_id": payment.provider_id or "",
                     "created_at": payment.created_at, "account": payment.account.number if payment.account else "",
                     "amount": Decimal(payment.amount), "ours": payment.status, "theirs": theirs,
                     "their_amount": their_amount,
                     "matches": theirs == payment.status and (their_amount is None or their_amount == Decimal(payment.amount))})
    return rows
