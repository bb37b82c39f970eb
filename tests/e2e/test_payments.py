"""Paying the bill online in Chromium through each provider's stand-in: the balance changes once, and
the receipt PDF carries the fiscal details with a QR code in the FNS format."""
import re
from datetime import date

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import LedgerEntry, Tariff
from app.services import billing as close
from integrations.payments.simulators.sber import SberSimulator
from integrations.payments.simulators.tbank import TBankSimulator
from integrations.payments.simulators.yookassa import YooKassaSimulator
from tests.documents import pdf_text, qr_codes
from tests.helpers import log_in
from tests.factories import BillingFactory, UserFactory

pytestmark = pytest.mark.e2e
REGION = "e2p"
FNS_QR = re.compile(r"t=\d{8}T\d{4}&s=\d+\.\d{2}&fn=\d{16}&i=\d+&fp=\d{10}&n=1")


@pytest.fixture
def stand_ins(live_server):
    app, base = live_server["app"], live_server["url"]
    with YooKassaSimulator(webhook_url=f"{base}/payments/notify/yookassa") as yookassa, \
            TBankSimulator() as tbank, \
            SberSimulator(callback_url=f"{base}/payments/notify/sber") as sber:
        saved = dict(app.config)
        app.config.update(
            PAYMENT_PROVIDERS=("yookassa", "tbank", "sber"), YOOKASSA_SHOP_ID=yookassa.shop_id,
            YOOKASSA_SECRET_KEY=yookassa.secret_key, YOOKASSA_URL=yookassa.url, YOOKASSA_NETWORKS=["127.0.0.0/8"],
            TBANK_TERMINAL_KEY=tbank.terminal_key, TBANK_PASSWORD=tbank.password, TBANK_URL=tbank.url,
            SBER_USERNAME=sber.username, SBER_PASSWORD=sber.password, SBER_URL=sber.url,
            SBER_CALLBACK_KEY=sber.callback_key)
        yield
        app.config.clear()
        app.config.update(saved)


@pytest.fixture(scope="module")
def debtor(live_server):
    app = live_server["app"]
    with app.app_context():
        users, billing = UserFactory(app), BillingFactory(app)
        customer = users.customer(email="payer.e2e@example.com", name="Платёжкина Ольга")
        account = users.account(number="5600000123", owner=customer)
        account.region = REGION  # its own tariff region: other tests' month closings leave it alone
        db.session.commit()
        if db.session.scalar(select(Tariff.id).where(Tariff.region == REGION)) is None:
            billing.tariff(date(2020, 1, 1), "7.00", region=REGION)
            billing.norm(date(2020, 1, 1), "100", region=REGION)
        meter = billing.meter(account, serial="SN-PAY-1", installed_on=date(2024, 3, 1), initial={"T1": "1000"})
        billing.reading(meter, date(2026, 9, 1), T1="1300")
        assert not close.close_period(date(2026, 9, 1), account_ids=[account.id]).problems
        return {"email": customer.email, "account_id": account.id}


def payment_entries(app, account_id):
    with app.app_context():
        return [e.amount for e in db.session.scalars(select(LedgerEntry).where(
            LedgerEntry.account_id == account_id, LedgerEntry.kind == "payment").order_by(LedgerEntry.id))]


@pytest.mark.parametrize("provider, label", [("yookassa", "ЮKassa"), ("tbank", "Т-Банк"), ("sber", "Сбербанк")])
def test_pay_the_bill_through_each_provider(desktop, live_server, stand_ins, debtor, provider, label, tmp_path):
    base, page, app = live_server["url"], desktop, live_server["app"]
    before = payment_entries(app, debtor["account_id"])
    log_in(page, base, debtor["email"])
    page.goto(f"{base}/cabinet/accounts/{debtor['account_id']}/debt")
    page.get_by_role("link", name="Оплатить онлайн").click()
    page.get_by_label("Сумма, руб.").fill("100,00")
    page.get_by_role("radio", name=label).check()
    page.get_by_role("button", name="Перейти к оплате").click()
    page.get_by_role("button", name="Pay").click()  # the provider's own page
    page.get_by_role("status").filter(has_text="Оплачено").wait_for()
    assert payment_entries(app, debtor["account_id"]) == before + [-100]

    link = page.get_by_role("link", name=re.compile("Кассовый чек"))
    link.wait_for()
    response = page.context.request.get(f"{base}{link.get_attribute('href')}")
    assert response.ok and response.headers["content-type"] == "application/pdf"
    text = pdf_text(response.body())
    for field in ("КАССОВЫЙ ЧЕК", "Приход", "ФН", "ФД", "ФПД", "ИНН", "ИТОГ", "100,00"):
        assert field in text, (field, text)
    [code] = qr_codes(response.body(), tmp_path)
    assert FNS_QR.fullmatch(code), code
    assert "&s=100.00&" in code
    page.reload()
    assert payment_entries(app, debtor["account_id"]) == before + [-100]  # nothing posted twice
