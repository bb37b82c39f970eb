"""The customer's billing pages and their API: readings, accruals, debt, payments, calculators."""
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import LedgerEntry, MeterReading
from app.services import billing as close
from app.services.periods import local_today
from tests.factories import PASSWORD


@pytest.fixture
def customer(users, billing):
    user = users.customer()
    account = users.account(owner=user)
    billing.tariff(date(2025, 1, 1), "7.00", "3.00")
    billing.tariff(date(2025, 1, 1), "6.00")
    billing.norm(date(2025, 1, 1), "90")
    meter = billing.meter(account, zones=2, initial={"T1": "1000", "T2": "400"})
    return user, account, meter


def test_reading_form_keeps_input_and_accepts_a_correct_reading(client, customer):
    user, account, meter = customer
    client.login(user.email, PASSWORD)
    page = f"/cabinet/accounts/{account.id}/readings"
    html = client.get(page).get_data(as_text=True)
    assert "1\u00a0000" in html or "1 000" in html  # the previous value is shown
    bad = client.submit(page, {f"m{meter.id}-meter_id": meter.id, f"m{meter.id}-T1": "99x", f"m{meter.id}-T2": "450"})
    html = bad.get_data(as_text=True)
    assert f'id="m{meter.id}-T1-error"' in html and 'value="99x"' in html and 'value="450"' in html
    lower = client.submit(page, {f"m{meter.id}-meter_id": meter.id, f"m{meter.id}-T1": "900",
                                 f"m{meter.id}-T2": "450"})
    assert f'id="m{meter.id}-T1-error"' in lower.get_data(as_text=True)
    ok = client.submit(page, {f"m{meter.id}-meter_id": meter.id, f"m{meter.id}-T1": "1120,5",
                              f"m{meter.id}-T2": "450"}, follow=True)
    assert ok.status_code == 200
    db.session.rollback()
    saved = db.session.scalar(select(MeterReading).where(MeterReading.meter_id == meter.id,
                                                         MeterReading.source == "customer"))
    assert (saved.t1, saved.t2, saved.period) == (Decimal("1120.5"), Decimal("450"), _expected_period())


def _expected_period():
    from app.services.readings import period_for

    return period_for(local_today())[0]


def test_readings_of_someone_elses_account(client, users, customer):
    _, account, meter = customer
    stranger = users.customer()
    client.login(stranger.email, PASSWORD)
    assert client.get(f"/cabinet/accounts/{account.id}/readings").status_code == 404
    response = client.api("POST", f"/api/v1/meters/{meter.id}/readings", json={"values": {"T1": "2000", "T2": "500"}})
    assert response.status_code == 404 and response.mimetype == "application/problem+json"


def test_accruals_debt_and_payments_pages(client, customer, billing):
    user, account, meter = customer
    billing.reading(meter, date(2026, 3, 1), T1="1100", T2="450")
    close.close_period(date(2026, 3, 1))
    db.session.add(LedgerEntry(account_id=account.id, kind="payment", amount=Decimal("-500.00"),
                               booked_on=date(2026, 4, 10), source="bank", external_id="p-1"))
    db.session.commit()
    client.login(user.email, PASSWORD)
    accruals = client.get(f"/cabinet/accounts/{account.id}/accruals?period=2026-03").get_data(as_text=True)
    assert "700,00" in accruals and "150,00" in accruals and "850,00" in accruals
    debt = client.get(f"/cabinet/accounts/{account.id}/debt").get_data(as_text=True)
    assert "350,00" in debt  # 850 charged − 500 paid
    payments = client.get(f"/cabinet/accounts/{account.id}/payments").get_data(as_text=True)
    assert "500,00" in payments
    dashboard = client.get("/cabinet/").get_data(as_text=True)
    assert "350,00" in dashboard
    assert client.get(f"/cabinet/accounts/{account.id}/accruals?period=garbage").status_code == 404


def test_billing_api(client, customer, billing):
    user, account, meter = customer
    billing.reading(meter, date(2026, 3, 1), T1="1100", T2="450")
    close.close_period(date(2026, 3, 1))
    client.login(user.email, PASSWORD)
    meters = client.api("GET", f"/api/v1/accounts/{account.id}/meters").get_json()
    assert meters[0]["zones"] == ["T1", "T2"] and meters[0]["last_reading"]["values"] == {"T1": "1100.000",
                                                                                           "T2": "450.000"}
    bills = client.api("GET", f"/api/v1/accounts/{account.id}/bills").get_json()
    assert bills == [{"period": "2026-03-01", "charged": "850.00", "due_date": "2026-04-15"}]
    lines = client.api("GET", f"/api/v1/accounts/{account.id}/accruals?period=2026-03").get_json()
    assert sorted((l["zone"], l["amount"]) for l in lines) == [("T1", "700.00"), ("T2", "150.00")]
    debt = client.api("GET", f"/api/v1/accounts/{account.id}/debt").get_json()
    assert debt["balance"] == "850.00"
    missing = client.api("GET", f"/api/v1/accounts/{account.id}/accruals")
    assert missing.status_code == 422 and "period" in missing.get_json()["errors"]

    bad = client.api("POST", f"/api/v1/meters/{meter.id}/readings", json={"values": {"T1": "abc", "T2": "500"}})
    assert bad.status_code == 422 and bad.get_json()["errors"] == {"T1": [bad.get_json()["detail"]]}
    ok = client.api("POST", f"/api/v1/meters/{meter.id}/readings", json={"values": {"T1": "1200", "T2": "500"}})
    assert ok.status_code == 201, ok.get_json()
    assert ok.get_json()["reading"]["values"] == {"T1": "1200.000", "T2": "500.000"}


def test_penalty_calculator_page_and_api_give_the_worked_example(client):
    page = client.submit("/calculators/penalty", {"amount": "5000", "due_date": "2026-04-15",
                                                  "paid_on": "2026-09-01", "scheme": "household"})
    assert "274,04" in page.get_data(as_text=True)
    api = client.post("/api/v1/calculators/penalty", json={"amount": "5000", "due_date": "2026-04-15",
                                                           "paid_on": "2026-09-01"})
    assert api.status_code == 200 and api.get_json()["total"] == "274.04"
    assert [line["days"] for line in api.get_json()["lines"]] == [60, 49]
    wrong = client.post("/api/v1/calculators/penalty", json={"amount": "-1", "due_date": "2026-04-15",
                                                             "paid_on": "2026-09-01"})
    assert wrong.status_code == 422 and "amount" in wrong.get_json()["errors"]


def test_bill_estimate(client, billing, app):
    billing.tariff(date(2025, 1, 1), "7.00", "3.00")
    page = client.submit("/calculators/bill", {"region": "77", "category": "population_urban", "zones": "2",
                                               "month": "2026-03", "T1": "100", "T2": "50"})
    assert "850,00" in page.get_data(as_text=True)
    api = client.post("/api/v1/calculators/bill", json={"region": "77", "category": "population_urban",
                                                        "month": "2026-03-10", "quantities": {"T1": "100", "T2": "50"}})
    assert [l["amount"] for l in api.get_json()] == ["700.00", "150.00"]
    none = client.post("/api/v1/calculators/bill", json={"region": "99", "category": "x", "month": "2026-03-10",
                                                         "quantities": {"T1": "1"}})
    assert none.status_code == 422
