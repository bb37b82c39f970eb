"""Paying online through the pages, against the YooKassa stand-in on loopback."""
import json
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import LedgerEntry, Payment
from tests.factories import PASSWORD
from tests.helpers import Browser, location_path
from tests.stand_ins import yookassa  # noqa: F401  (the stand-in fixture)


@pytest.fixture
def holder(app, users):
    customer = users.customer()
    account = users.account(owner=customer)
    browser = Browser(app.test_client())
    browser.login(customer.email, PASSWORD)
    return customer, account, browser


def test_pay_by_card_come_back_and_see_it_credited_once(yookassa, holder):
    customer, account, browser = holder
    page = browser.get(f"/payments/account/{account.id}").get_data(as_text=True)
    assert "Оплатить онлайн" in page
    sent = browser.submit(f"/payments/account/{account.id}", {"amount": "1 500,00", "purpose": "bill",
                                                              "provider": "yookassa", "method": "card"})
    assert sent.status_code == 302 and sent.headers["Location"].startswith(yookassa.url.rsplit("/v3", 1)[0])
    db.session.rollback()
    payment = db.session.scalar(select(Payment))
    assert (payment.status, payment.amount) == ("pending", Decimal("1500.00"))

    yookassa.pay(payment.provider_id)
    body = json.dumps({"type": "notification", "event": "payment.succeeded",
                       "object": {"id": payment.provider_id, "status": "succeeded"}})
    for _ in range(2):
        assert browser.post("/payments/notify/yookassa", data=body, content_type="application/json").status_code == 200
    back = browser.get(f"/payments/{payment.public_id}").get_data(as_text=True)
    assert "Оплачено" in back
    db.session.rollback()
    entries = db.session.scalars(select(LedgerEntry).where(LedgerEntry.account_id == account.id)).all()
    assert [e.amount for e in entries] == [Decimal("-1500.00")]


def test_sbp_shows_a_qr_code_and_the_page_polls(yookassa, holder):
    customer, account, browser = holder
    sent = browser.submit(f"/payments/account/{account.id}", {"amount": "99", "purpose": "bill",
                                                              "provider": "yookassa", "method": "sbp"})
    page = browser.get(location_path(sent)).get_data(as_text=True)
    assert "<svg" in page and "qr.nspk.ru" in page and 'hx-trigger="every 3s"' in page


def test_bad_amounts_keep_the_form_and_record_nothing(yookassa, holder):
    customer, account, browser = holder
    for amount in ("0", "-10", "abc", "12,345", "99999999"):
        page = browser.submit(f"/payments/account/{account.id}", {"amount": amount, "purpose": "bill",
                                                                  "provider": "yookassa", "method": "card"})
        assert page.status_code == 200 and 'aria-invalid="true"' in page.get_data(as_text=True), amount
    db.session.rollback()
    assert db.session.scalar(select(Payment)) is None


def test_others_cannot_pay_or_see(app, yookassa, holder, users):
    customer, account, browser = holder
    browser.submit(f"/payments/account/{account.id}", {"amount": "10", "purpose": "bill", "provider": "yookassa",
                                                       "method": "card"})
    db.session.rollback()
    payment = db.session.scalar(select(Payment))
    stranger = Browser(app.test_client())
    stranger.login(users.customer().email, PASSWORD)
    assert stranger.get(f"/payments/account/{account.id}").status_code == 404
    assert stranger.get(f"/payments/{payment.public_id}").status_code == 404


def test_a_forged_notification_is_refused(yookassa, holder):
    customer, account, browser = holder
    browser.submit(f"/payments/account/{account.id}", {"amount": "10", "purpose": "bill", "provider": "yookassa",
                                                       "method": "card"})
    db.session.rollback()
    payment = db.session.scalar(select(Payment))
    yookassa.pay(payment.provider_id)
    body = json.dumps({"type": "notification", "event": "payment.succeeded", "object": {"id": payment.provider_id}})
    answer = browser.post("/payments/notify/yookassa", data=body, content_type="application/json",
                          environ_overrides={"REMOTE_ADDR": "203.0.113.7"})
    assert answer.status_code == 403
    db.session.rollback()
    assert db.session.scalar(select(LedgerEntry).where(LedgerEntry.account_id == account.id)) is None


def test_the_connection_invoice_is_paid_from_the_case_page(app, yookassa, users, tmp_path):
    from pathlib import Path

    from app.services import connection_fees
    from tests.workflows.test_technological_connection import to_offer
    from workflows import definitions

    app.config["FILE_STORE"] = str(tmp_path / "files")
    definitions.deploy((Path(__file__).resolve().parents[2] / "bpmn" / "technological_connection.bpmn").read_bytes(),
                       source="test")
    connection_fees.seed_demo_rates()
    people = {"applicant": users.customer(), "engineer": users.staff("specialist", groups=["connection"])}
    case = to_offer(people)
    browser = Browser(app.test_client())
    browser.login(people["applicant"].email, PASSWORD)
    page = browser.get(f"/cases/{case.number}").get_data(as_text=True)
    assert "Оплатить счёт онлайн" in page and "52" in page
    sent = browser.submit(f"/cases/{case.number}", {"provider": "yookassa", "method": "card"},
                          action=f"/payments/case/{case.number}")
    assert sent.status_code == 302 and "/pay/" in sent.headers["Location"]


def test_keep_the_card_then_set_up_and_switch_off_auto_payment(yookassa, holder):
    customer, account, browser = holder
    browser.submit(f"/payments/account/{account.id}", {"amount": "50", "purpose": "bill", "provider": "yookassa",
                                                       "method": "card", "keep_card": "y"})
    db.session.rollback()
    payment = db.session.scalar(select(Payment))
    assert payment.save_method
    yookassa.pay(payment.provider_id, save_method=True)
    browser.get(f"/payments/{payment.public_id}")  # back from the bank: paid, the card kept
    page = browser.get(f"/payments/auto/{account.id}").get_data(as_text=True)
    assert "Карта" in page and "4444" in page
    saved = browser.submit(f"/payments/auto/{account.id}", {"mode": "monthly", "day": "31", "max_amount": "3000"})
    assert saved.status_code == 200 and 'aria-invalid="true"' in saved.get_data(as_text=True)
    browser.submit(f"/payments/auto/{account.id}", {"mode": "monthly", "day": "10", "max_amount": "3000"})
    browser.submit(f"/payments/auto/{account.id}", {"action": "forget"})
    page = browser.get(f"/payments/auto/{account.id}").get_data(as_text=True)
    assert "4444" not in page
