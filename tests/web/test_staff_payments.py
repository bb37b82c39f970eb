"""The billing group's payment pages: search, history, refunds that debit the account back, and the
reconciliation spreadsheet."""
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from app.extensions import db
from app.models import LedgerEntry, Payment
from app.services import payments
from tests.factories import PASSWORD
from tests.helpers import Browser
from tests.stand_ins import yookassa  # noqa: F401  (the stand-in fixture)


@pytest.fixture
def paid(app, yookassa, users):  # noqa: F811
    customer = users.customer()
    account = users.account(owner=customer)
    payment = payments.start(customer, "yookassa", "1000", account=account)
    yookassa.pay(payment.provider_id)
    payments.refresh(payment.id, "return")
    staff = Browser(app.test_client())
    staff.login(users.staff("specialist", groups=["billing"]).email, PASSWORD)
    return payment, account, staff


def entries(account):
    db.session.expire_all()
    return sorted((e.kind, e.amount) for e in db.session.scalars(select(LedgerEntry).where(
        LedgerEntry.account_id == account.id)))


def test_search_history_and_a_partial_then_full_refund(paid):
    payment, account, staff = paid
    listing = staff.get(f"/staff/payments?q={account.number}").get_data(as_text=True)
    assert payment.public_id[:8] in listing
    page = staff.get(f"/staff/payments/{payment.id}").get_data(as_text=True)
    assert "succeeded" in page and "notification" not in page and "return" in page

    too_much = staff.submit(f"/staff/payments/{payment.id}", {"amount": "1000,01", "reason": "ошибка"})
    assert too_much.status_code == 200
    staff.submit(f"/staff/payments/{payment.id}", {"amount": "400", "reason": "Переплата по ошибке"})
    assert entries(account) == [("payment", Decimal("-1000.00")), ("refund", Decimal("400.00"))]
    staff.submit(f"/staff/payments/{payment.id}", {"amount": "600", "reason": "Остаток"})
    db.session.expire_all()
    assert db.session.get(Payment, payment.id).status == "refunded"
    assert entries(account)[-1] == ("refund", Decimal("600.00"))
    refused = staff.submit(f"/staff/payments/{payment.id}", {"amount": "1", "reason": "ещё"}, follow=True)
    assert "Вернуть можно только оплаченный платёж" in refused.get_data(as_text=True) or refused.status_code == 200
    assert len(entries(account)) == 3


def test_the_reconciliation_report_lists_ours_against_theirs(paid):
    payment, account, staff = paid
    answer = staff.get("/staff/payments/reconciliation.xlsx")
    assert answer.status_code == 200
    sheet = load_workbook(io.BytesIO(answer.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "Платёж"
    [row] = [r for r in rows[1:] if r[0] == payment.public_id]
    assert (row[6], row[7], row[9]) == ("succeeded", "succeeded", "да")


def test_customers_cannot_reach_the_staff_pages(app, paid, users):
    customer = Browser(app.test_client())
    customer.login(users.customer().email, PASSWORD)
    assert customer.get("/staff/payments").status_code in (403, 404)
