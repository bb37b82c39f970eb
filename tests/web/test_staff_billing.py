"""Staff billing pages: who may use them, closing a month, and the file exchange."""
import io
from datetime import date

from sqlalchemy import func, select

from app.extensions import db
from app.models import Account, BillingPeriod
from tests.factories import PASSWORD


def test_only_admins_and_the_billing_group_manage_billing(client, users):
    for user, allowed in [(users.staff("specialist", groups=["billing"]), True), (users.staff("admin"), True),
                          (users.staff("specialist", groups=["connection"]), False), (users.staff("team_lead"), False),
                          (users.customer(), False)]:
        client.login(user.email, PASSWORD)
        assert (client.get("/staff/billing").status_code == 200) == allowed, user.roles
        client.submit("/profile/", {}, action="/auth/logout")


def test_closing_a_month_from_the_page(client, users, billing):
    specialist = users.staff("specialist", groups=["billing"])
    billing.tariff(date(2025, 1, 1), "5.00")
    meter = billing.meter(users.account())
    billing.reading(meter, date(2026, 3, 1), T1="100")
    client.login(specialist.email, PASSWORD)
    done = client.submit("/staff/billing", {"period": "2026-03"}, follow=True)
    assert done.status_code == 200
    db.session.rollback()
    assert db.session.get(BillingPeriod, date(2026, 3, 1)).status == "closed"
    future = client.submit("/staff/billing", {"period": "2099-01"}, follow=True)
    assert 'role="alert"' in future.get_data(as_text=True)


def test_import_with_a_bad_row_applies_nothing_and_names_the_line(client, users):
    specialist = users.staff("specialist", groups=["billing"])
    client.login(specialist.email, PASSWORD)
    content = ("number;holder_name;address;code\n"
               "4000000001;Иванов И.И.;г. Москва, ул. Первая, д. 1;1111\n"
               "40000;Петров П.П.;г. Москва, ул. Вторая, д. 2;2222\n").encode("utf-8-sig")
    token = client.csrf("/staff/billing/exchange")
    page = client.post("/staff/billing/exchange", data={
        "csrf_token": token, "kind": "accounts", "file": (io.BytesIO(content), "accounts.csv")},
        content_type="multipart/form-data")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<td>3</td>" in html
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Account)) == 0


def test_export_readings_downloads_a_file(client, users, billing):
    specialist = users.staff("specialist", groups=["billing"])
    meter = billing.meter(users.account(number="4000000009"))
    billing.reading(meter, date(2026, 3, 1), T1="100")
    client.login(specialist.email, PASSWORD)
    response = client.submit("/staff/billing/exchange", {"what": "readings", "month": "2026-03", "format": "csv"},
                             action="/staff/billing/export")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "4000000009" in response.get_data(as_text=True)
