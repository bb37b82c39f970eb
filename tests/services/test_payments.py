"""Online payments against the YooKassa stand-in on loopback: recorded before the provider is asked,
credited only from the provider's own answer, once, however many notifications come and whenever."""
import json
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import LedgerEntry, Payment, PaymentEvent
from app.services import payments
from app.services.errors import Forbidden, InvalidInput
from tests.helpers import at_once
from tests.stand_ins import yookassa  # noqa: F401  (the stand-in fixture)


@pytest.fixture
def holder(users):
    customer = users.customer()
    return customer, users.account(owner=customer)


def webhook(payment: Payment, event: str = "payment.succeeded") -> bytes:
    return json.dumps({"type": "notification", "event": event,
                       "object": {"id": payment.provider_id, "status": event.split(".")[1],
                                  "amount": {"value": str(payment.amount), "currency": "RUB"}}}).encode()


def credits(account) -> list[Decimal]:
    db.session.expire_all()
    return [e.amount for e in db.session.scalars(select(LedgerEntry).where(LedgerEntry.account_id == account.id,
                                                                           LedgerEntry.kind == "payment"))]


def test_paid_then_notified_credits_the_account_once(yookassa, holder):
    customer, account = holder
    payment = payments.start(customer, "yookassa", "1 234,56", account=account)
    assert payment.status == "pending" and payment.confirmation_url and payment.provider_id
    # The customer has not paid: a notification claiming otherwise changes nothing.
    payments.notification("yookassa", {}, webhook(payment), "127.0.0.1")
    assert credits(account) == []
    yookassa.pay(payment.provider_id)
    for _ in range(3):  # the provider repeats its notifications
        assert payments.notification("yookassa", {}, webhook(payment), "127.0.0.1")[0] == 200
    assert credits(account) == [Decimal("-1234.56")]
    payment = db.session.get(Payment, payment.id)
    assert payment.status == "succeeded" and payment.paid_at is not None
    history = [(e.source, e.to_status) for e in db.session.scalars(
        select(PaymentEvent).where(PaymentEvent.payment_id == payment.id).order_by(PaymentEvent.id))]
    assert history[:2] == [("create", "created"), ("create", "pending")] and ("notification", "succeeded") in history


def test_a_notification_from_outside_the_providers_networks_is_refused(yookassa, holder):
    customer, account = holder
    payment = payments.start(customer, "yookassa", "100", account=account)
    yookassa.pay(payment.provider_id)
    assert payments.notification("yookassa", {}, webhook(payment), "203.0.113.9")[0] == 403
    assert payments.notification("yookassa", {}, b"not json", "127.0.0.1")[0] == 403
    assert credits(account) == []


def test_ten_copies_of_a_notification_at_once_credit_once(app, yookassa, holder, database_url):
    if database_url.startswith("sqlite"):
        pytest.skip("row locks are what this shows; SQLite serialises writers by itself")
    customer, account = holder
    payment = payments.start(customer, "yookassa", "500.00", account=account)
    yookassa.pay(payment.provider_id)
    body = webhook(payment)
    outcomes = at_once(app, [None] * 10, lambda _: payments.notification("yookassa", {}, body, "127.0.0.1"))
    assert outcomes == ["ok"] * 10
    assert credits(account) == [Decimal("-500.00")]


def test_a_provider_down_at_creation_is_registered_and_credited_by_reconciliation(yookassa, holder):
    customer, account = holder
    yookassa.fail_next(1)
    payment = payments.start(customer, "yookassa", "750", account=account)
    assert payment.status == "created" and payment.provider_id is None and payment.last_error
    payments.reconcile(older_than=timedelta(0))
    payment = db.session.get(Payment, payment.id)
    assert payment.status == "pending" and payment.provider_id, payment.last_error
    assert len(yookassa.payments) == 1  # asked twice, one payment at the provider
    yookassa.pay(payment.provider_id)
    payments.reconcile(older_than=timedelta(0))
    payments.reconcile(older_than=timedelta(0))
    assert credits(account) == [Decimal("-750.00")]


@pytest.mark.parametrize("amount", ["0", "-5", "1e9", "12,345", "много"])
def test_absurd_amounts_are_refused_before_anything_is_recorded(yookassa, holder, amount):
    customer, account = holder
    with pytest.raises(InvalidInput):
        payments.start(customer, "yookassa", amount, account=account)
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 0


def test_someone_elses_account_cannot_be_paid_here(yookassa, holder, users):
    customer, account = holder
    with pytest.raises(Forbidden):
        payments.start(users.customer(), "yookassa", "100", account=account)
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 0


def test_a_paid_connection_invoice_concludes_the_contract_and_a_late_one_is_flagged(app, yookassa, users, tmp_path):
    from app.services import connection_fees
    from app.services.errors import Forbidden as Refused
    from tests.helpers import age_timers
    from tests.workflows.test_technological_connection import to_offer
    from workflows import definitions, engine

    app.config["FILE_STORE"] = str(tmp_path / "files")
    diagram = Path(__file__).resolve().parents[2] / "bpmn" / "technological_connection.bpmn"
    definitions.deploy(diagram.read_bytes(), source="test")
    connection_fees.seed_demo_rates()
    people = {"applicant": users.customer(), "engineer": users.staff("specialist", groups=["connection"])}
    case = to_offer(people)
    assert payments.invoice_of(case) == Decimal("52500.00")
    with pytest.raises(Refused):
        payments.pay_invoice(users.customer(), case, "yookassa")
    payment = payments.pay_invoice(people["applicant"], case, "yookassa")
    yookassa.pay(payment.provider_id)
    payments.notification("yookassa", {}, webhook(payment), "127.0.0.1")
    db.session.expire_all()
    data = engine.case_data(db.session.get(type(case), case.id))
    assert data["invoice_paid"]["payment"] == payment.public_id and data["contract_date"]
    assert payments.invoice_of(db.session.get(type(case), case.id)) is None

    # An application annulled for an unpaid invoice: the money that comes later is flagged for a refund.
    late = to_offer(people)
    late_payment = payments.pay_invoice(people["applicant"], late, "yookassa")
    age_timers(late, timedelta(days=30))
    assert engine.fire_due_timers() == 1
    yookassa.pay(late_payment.provider_id)
    payments.notification("yookassa", {}, webhook(late_payment), "127.0.0.1")
    flagged = db.session.scalars(select(PaymentEvent).where(PaymentEvent.payment_id == late_payment.id)).all()
    assert any("refund_needed" in e.details for e in flagged)


def test_every_payment_carries_its_receipt_data(yookassa, holder):
    customer, account = holder
    payments.start(customer, "yookassa", "1500", account=account)
    sent = next(r for r in yookassa.requests if r["path"].endswith("/payments"))
    receipt = sent["body"]["receipt"]
    assert receipt["customer"]["email"] == customer.email
    [item] = receipt["items"]
    assert item["description"].endswith(account.number) and item["vat_code"] == 11
    assert (item["amount"]["value"], item["quantity"], item["payment_subject"], item["payment_mode"]) == (
        "1500.00", "1", "service", "full_payment")


def test_a_double_click_makes_one_payment(yookassa, holder):
    customer, account = holder
    first = payments.start(customer, "yookassa", "300", account=account)
    second = payments.start(customer, "yookassa", "300", account=account)
    assert first.id == second.id and len(yookassa.payments) == 1


def test_the_receipt_is_fetched_and_sent_to_the_customer(yookassa, holder, mailbox):
    customer, account = holder
    payment = payments.start(customer, "yookassa", "250", account=account)
    yookassa.pay(payment.provider_id)
    payments.notification("yookassa", {}, webhook(payment), "127.0.0.1")
    payments.reconcile(older_than=timedelta(0))
    payments.reconcile(older_than=timedelta(0))  # sent once
    [letter] = mailbox.messages()
    assert letter["To"] == customer.email and "ФПД" in letter.get_content()
