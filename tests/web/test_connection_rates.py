"""Analysts keep the technological connection fee rates: dated rows, added on a page, audited."""
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, ConnectionRate
from tests.factories import PASSWORD
from tests.helpers import Browser, location_path


def test_an_analyst_adds_a_rate_and_a_customer_cannot(app, users):
    analyst = users.staff("analyst")
    browser = Browser(app.test_client())
    browser.login(analyst.email, PASSWORD)
    page = browser.get("/staff/connection-rates").get_data(as_text=True)
    assert "Ставки платы за технологическое присоединение" in page
    added = browser.submit("/staff/connection-rates", {"valid_from": "2027-01-01", "kind": "preferential_per_kw",
                                                       "category": "up_to_15", "amount": "3800,00",
                                                       "note": "Постановление РЭК № 1"})
    assert location_path(added) == "/staff/connection-rates"
    db.session.rollback()
    row = db.session.scalar(select(ConnectionRate))
    assert (row.valid_from, row.amount) == (date(2027, 1, 1), Decimal("3800.00"))
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "connection_rate.add")) is not None

    twice = browser.submit("/staff/connection-rates", {"valid_from": "2027-01-01", "kind": "preferential_per_kw",
                                                       "category": "up_to_15", "amount": "-1"})
    assert twice.status_code == 200 and 'aria-invalid="true"' in twice.get_data(as_text=True)

    customer = Browser(app.test_client())
    customer.login(users.customer().email, PASSWORD)
    assert customer.get("/staff/connection-rates").status_code in (403, 404)
