"""A customer sends the readings of a two-zone meter, the billing specialist closes the month, and
the customer sees the accrual lines and downloads the bill whose QR code pays exactly that."""
from datetime import date
from decimal import Decimal

import pytest

from app.services.periods import local_today, period_of
from tests.documents import parse_qr, pdf_text, qr_codes
from tests.factories import BillingFactory, UserFactory
from tests.helpers import log_in, log_out

pytestmark = pytest.mark.e2e


@pytest.fixture
def billed_customer(live_server):
    app = live_server["app"]
    # Every day of the month is a reading day here, so the reading counts for the month the test runs in.
    app.config.update(READINGS_WINDOW_FIRST_DAY=1, READINGS_WINDOW_LAST_DAY=31)
    with app.app_context():
        users, billing = UserFactory(app), BillingFactory(app)
        customer = users.customer(email="zones@example.com", name="Двухзонова Анна")
        account = users.account(number="5500000001", owner=customer)
        billing.tariff(date(2020, 1, 1), "7.00", "3.00")
        billing.meter(account, zones=2, installed_on=date(2020, 1, 10), initial={"T1": "1000", "T2": "400"})
        specialist = users.staff("specialist", groups=["billing"], email="billing.e2e@example.com")
        return {"customer": customer.email, "account_id": account.id, "specialist": specialist.email,
                "period": period_of(local_today())}



def test_readings_close_accruals_and_bill(browser, live_server, billed_customer, tmp_path):
    base, data = live_server["url"], billed_customer
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)

    log_in(page, base, data["customer"])
    page.get_by_role("link", name="Передать показания").click()
    page.get_by_label("T1 день").fill("1150,5")
    page.get_by_label("T2 ночь").fill("460")
    page.get_by_role("button", name="Отправить показание").click()
    page.get_by_role("status").filter(has_text="Показание сохранено").wait_for()
    history = page.locator("table").filter(has_text="1 150,5")
    assert "принято" in history.inner_text()
    log_out(page, base)

    log_in(page, base, data["specialist"])
    page.get_by_role("link", name="Расчёты").click()
    page.get_by_label("Месяц для закрытия").fill(data["period"].strftime("%Y-%m"))
    page.get_by_role("button", name="Закрыть месяц").click()
    page.get_by_role("status").filter(has_text="закрыт").wait_for()
    log_out(page, base)

    log_in(page, base, data["customer"])
    page.goto(f"{base}/cabinet/accounts/{data['account_id']}/accruals")
    table = page.locator("table").first.inner_text()
    # 150.5 kWh × 7.00 = 1 053,50 ₽ and 60 kWh × 3.00 = 180,00 ₽, 1 233,50 ₽ in all.
    for amount in ("1 053,50", "180,00", "1 233,50"):
        assert amount in " ".join(table.split()), table

    href = page.get_by_role("link", name="Квитанция (PDF)").first.get_attribute("href")
    response = context.request.get(f"{base}{href}")
    assert response.ok and response.headers["content-type"] == "application/pdf"
    pdf = response.body()
    text = pdf_text(pdf)
    assert "5500000001" in text and "1 233,50" in text
    [code] = qr_codes(pdf, tmp_path)
    fields = parse_qr(code)
    assert fields["format"] == "ST00012"
    assert fields["Sum"] == str(int(Decimal("1233.50") * 100)) and fields["PersAcc"] == "5500000001"
    context.close()
