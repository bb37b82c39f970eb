"""Auto-payment from a saved card, against the YooKassa stand-in: the card is kept from a payment the
customer made, the debt is charged once a month, failures are retried and then stop the rule with a
letter to the customer."""
import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AutoPayment, LedgerEntry, Payment
from app.services import auto_payments, payments
from app.services.errors import InvalidInput
from tests.stand_ins import yookassa  # noqa: F401  (the stand-in fixture)


@pytest.fixture
def saved(yookassa, users):  # noqa: F811
    customer = users.customer()
    account = users.account(owner=customer)
    first = payments.start(customer, "yookassa", "100", account=account, save_method=True)
    yookassa.pay(first.provider_id, save_method=True)
    payments.notification("yookassa", {}, json.dumps({"type": "notification", "event": "payment.succeeded",
                                                      "object": {"id": first.provider_id}}).encode(), "127.0.0.1")
    db.session.add(LedgerEntry(account_id=account.id, kind="charge", amount=Decimal("2500.00"),
                               booked_on=date.today(), period=date.today().replace(day=1), due_date=date.today()))
    db.session.commit()
    return customer, account


def payments_of(account):
    db.session.expire_all()
    return [e.amount for e in db.session.scalars(select(LedgerEntry).where(LedgerEntry.account_id == account.id,
                                                                           LedgerEntry.kind == "payment")
                                                 .order_by(LedgerEntry.id))]


def test_the_kept_card_pays_the_debt_once_a_month(saved):
    customer, account = saved
    rule = auto_payments.rule_of(customer, account)
    assert rule.active and rule.method_id and rule.mode == "monthly"
    auto_payments.configure(customer, account, "monthly", 1, None, "5000")
    today = date.today()
    assert auto_payments.run_due(today) == 1
    assert payments_of(account) == [Decimal("-100.00"), Decimal("-2400.00")]  # the debt left after the first 100
    assert auto_payments.run_due(today) == 0  # once per month
    charge = db.session.scalar(select(Payment).where(Payment.auto_payment_id == rule.id))
    assert charge.status == "succeeded"


def test_a_threshold_and_a_cap(saved):
    customer, account = saved
    auto_payments.configure(customer, account, "threshold", None, "3000", "1000")
    assert auto_payments.run_due(date.today()) == 0  # 2 400 owed: below the threshold
    auto_payments.configure(customer, account, "threshold", None, "2000", "1000")
    assert auto_payments.run_due(date.today()) == 1
    assert payments_of(account)[-1] == Decimal("-1000.00")  # never more than the cap


def test_failures_are_retried_then_the_rule_stops_with_a_letter(saved, yookassa, mailbox):  # noqa: F811
    customer, account = saved
    auto_payments.configure(customer, account, "monthly", 1, None, "5000")
    rule = auto_payments.rule_of(customer, account)
    for attempt in range(auto_payments.MAX_FAILURES):
        yookassa.fail_next(1, status=500)
        rule.next_attempt_at = None  # as if the back-off had passed
        db.session.commit()
        assert auto_payments.run_due(date.today()) == 0
        db.session.refresh(rule)
        assert rule.failures == attempt + 1
    assert not rule.active and rule.stopped_reason
    assert payments_of(account) == [Decimal("-100.00")]
    [letter] = mailbox.messages()
    assert letter["To"] == customer.email and account.number in letter["Subject"]


def test_switching_off_and_forgetting_the_card(saved):
    customer, account = saved
    auto_payments.switch_off(customer, account, forget_card=True)
    rule = auto_payments.rule_of(customer, account)
    assert not rule.active and rule.method_id is None
    assert auto_payments.run_due(date.today() + timedelta(days=31)) == 0
    with pytest.raises(InvalidInput):
        auto_payments.configure(customer, account, "monthly", 5, None, "1000")
