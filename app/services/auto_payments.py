"""Auto-payment: an account paid from a card the customer saved with a payment of their own.

A rule charges the account's debt (at most `max_amount`) on its day of each month, or when the debt
goes above its threshold — at most once per billing month. A charge that fails is tried again after
1, 2, 4 hours; after `MAX_FAILURES` the rule stops and the customer gets a letter. The charge is an
ordinary payment row (created before the provider is asked, credited from the provider's answer, once).
"""
import logging
import uuid
from datetime import timedelta
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app import policy
from app.extensions import db
from app.models import AutoPayment, Payment, User
from app.models.types import utcnow
from app.services import audit, statements
from app.services.errors import Forbidden, InvalidInput, NotFound
from app.services.periods import local_today, period_of
from integrations.payments import base

log = logging.getLogger(__name__)
MAX_FAILURES = 3
DEFAULT_CAP = Decimal("15000.00")


def remember_card(payment: Payment, seen: base.ProviderPayment) -> AutoPayment | None:
    """After a paid payment whose customer asked to keep the card: the account's rule, on that card."""
    if not payment.save_method or not seen.method_id or payment.account_id is None:
        return None
    rule = db.session.scalar(select(AutoPayment).where(AutoPayment.account_id == payment.account_id,
                                                       AutoPayment.user_id == payment.user_id))
    if rule is None:
        rule = AutoPayment(user_id=payment.user_id, account_id=payment.account_id, mode="monthly",
                           day=min(local_today().day, 28), max_amount=max(DEFAULT_CAP, Decimal(payment.amount)))
        db.session.add(rule)
    card = seen.raw.get("payment_method", {}) if isinstance(seen.raw, dict) else {}
    rule.provider, rule.method_id = payment.provider, seen.method_id
    rule.card_title = (card.get("title") if isinstance(card, dict) else None) or str(_l("Saved card"))
    rule.active, rule.failures, rule.next_attempt_at, rule.stopped_reason = True, 0, None, None
    return rule


def rule_of(user: User, account) -> AutoPayment | None:
    return db.session.scalar(select(AutoPayment).where(AutoPayment.account_id == account.id,
                                                       AutoPayment.user_id == user.id))


def configure(user: User, account, mode: str, day: int | None, threshold, max_amount) -> AutoPayment:
    from app.services.payments import amount_of

    if not policy.can_act_on_account(user, account):
        raise Forbidden(_l("Only the account's holders can pay it online."))
    rule = rule_of(user, account)
    if rule is None or not rule.method_id:
        raise InvalidInput(_l("Pay once with the card and tick “keep the card”: auto-payment uses that card."))
    if mode not in ("monthly", "threshold"):
        raise InvalidInput(_l("Choose when to pay."), field="mode")
    if mode == "monthly" and (day is None or not 1 <= day <= 28):
        raise InvalidInput(_l("Choose a day from 1 to 28."), field="day")
    rule.mode, rule.day = mode, day or rule.day
    rule.threshold = amount_of(threshold) if mode == "threshold" else None
    rule.max_amount = amount_of(max_amount)
    rule.active, rule.failures, rule.next_attempt_at, rule.stopped_reason = True, 0, None, None
    audit.record("autopay.configure", actor=user, obj=rule, details={"mode": mode, "day": day,
                                                                     "max": str(rule.max_amount)})
    db.session.commit()
    return rule


def switch_off(user: User, account, forget_card: bool = False) -> None:
    rule = rule_of(user, account)
    if rule is None:
        raise NotFound(_l("There is no auto-payment on this account."))
    rule.active, rule.stopped_reason = False, "switched off by the customer"
    if forget_card:
        rule.method_id, rule.card_title = None, None
    audit.record("autopay.off", actor=user, obj=rule, details={"card_deleted": forget_card})
    db.session.commit()


def _due(rule: AutoPayment, today, debt: Decimal) -> bool:
    if rule.last_period == period_of(today) or debt <= 0:
        return False
    if rule.mode == "monthly":
        return today.day >= rule.day
    return rule.threshold is not None and debt > Decimal(rule.threshold)


def run_due(today=None) -> int:
    """Charge every rule that is due now; returns how many charges were made."""
    from app.services import payments

    today = today or local_today()
    now = utcnow()
    ids = list(db.session.scalars(select(AutoPayment.id).where(
        AutoPayment.active, AutoPayment.method_id.is_not(None),
        (AutoPayment.next_attempt_at.is_(None)) | (AutoPayment.next_attempt_at <= now))))
    charged = 0
    for rule_id in ids:
        rule = db.session.get(AutoPayment, rule_id)
        debt = statements.debt(rule.account).statement.debt
        if not _due(rule, today, debt):
            continue
        amount = min(debt, Decimal(rule.max_amount))
        payment = Payment(public_id=str(uuid.uuid4()), user_id=rule.user_id, account_id=rule.account_id,
                          purpose="bill", provider=rule.provider, method="card", amount=amount, status="created",
                          auto_payment_id=rule.id)
        db.session.add(payment)
        db.session.flush()
        payments.record_event(payment, "autopay", None, "created", {"rule": rule.id})
        rule.last_period = period_of(today)  # once per month, whatever the answer: a retry is the next try
        db.session.commit()
        try:
            seen = payments.provider(rule.provider).charge_saved(rule.method_id, payments.request_for(payment),
                                                                 payment.public_id)
        except base.ProviderUnavailable as error:
            _failed(rule, payment, f"unavailable: {error}")
            continue
        except base.ProviderRejected as error:
            _failed(rule, payment, f"{error.code}: {error.message}")
            continue
        payment.provider_id = seen.provider_id
        payments.record_event(payment, "autopay", "created", "pending", {})
        payment.status = "pending"
        db.session.commit()
        payments.apply(payment.id, seen, "autopay")
        if seen.status == "canceled":
            _failed(rule, payment, "declined")
            continue
        rule.failures, rule.next_attempt_at = 0, None
        db.session.commit()
        charged += 1
    return charged


def _failed(rule: AutoPayment, payment: Payment, why: str) -> None:
    """Try again later this month; after MAX_FAILURES stop and tell the customer."""
    from app.services import mailer

    payment.status, payment.last_error = "failed", why[:500]
    rule.failures += 1
    rule.last_period = None  # the month is not paid: the next attempt may charge it
    if rule.failures >= MAX_FAILURES:
        rule.active, rule.stopped_reason, rule.next_attempt_at = False, why[:300], None
        audit.record("autopay.stopped", obj=rule, details={"why": why[:200]})
        db.session.commit()
        user = db.session.get(User, rule.user_id)
        mailer.send_autopay_stopped(user, rule)
        return
    rule.next_attempt_at = utcnow() + timedelta(hours=2 ** (rule.failures - 1))
    db.session.commit()
    log.info("auto-payment %s failed (%s), next attempt at %s", rule.id, why, rule.next_attempt_at)
