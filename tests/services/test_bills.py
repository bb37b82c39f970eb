"""The monthly bill: its figures, the PDF, and the payment QR code a banking app reads back."""
from datetime import date
from decimal import Decimal

import pytest

from app.extensions import db
from app.models import LedgerEntry
from app.services import bills
from app.services import billing as close
from app.services.errors import NotFound
from tests.documents import parse_qr, pdf_text, qr_codes

D = Decimal
MARCH = date(2026, 3, 1)


@pytest.fixture
def march(users, billing):
    """A two-zone account read in March 2026 and closed: 150.5 kWh × 7 + 60 kWh × 3 = 1 233,50 ₽."""
    billing.tariff(date(2025, 1, 1), "7.00", "3.00")
    account = users.account(number="1000000001", holder="Иванова Мария Петровна",
                            address="г. Москва, ул. Профсоюзная, д. 10, кв. 5")
    meter = billing.meter(account, zones=2, initial={"T1": "1000", "T2": "500"})
    billing.reading(meter, MARCH, T1="1150.5", T2="560")
    assert close.close_period(MARCH).closed == 1
    return account


def test_bill_gathers_lines_readings_and_balance(march):
    bill = bills.bill_for(march, MARCH)
    assert [(a.zone, a.basis, a.quantity, a.amount) for a in bill.lines] == [
        ("T1", "reading", D("150.500"), D("1053.50")), ("T2", "reading", D("60.000"), D("180.00"))]
    [use] = bill.meters
    assert [(z.zone, z.previous, z.current, z.used) for z in use.zones] == [
        ("T1", D("1000.000"), D("1150.500"), D("150.500")), ("T2", D("500.000"), D("560.000"), D("60.000"))]
    assert (bill.opening_balance, bill.charged, bill.penalties, bill.paid) == (0, D("1233.50"), 0, 0)
    assert bill.total_due == D("1233.50") and bill.due_date == date(2026, 4, 15)
    assert [bill.zone_label(a) for a in bill.lines] == ["T1 день", "T2 ночь"]  # the app speaks Russian by default


def test_pdf_shows_the_account_the_lines_and_the_total(march):
    bill = bills.bill_for(march, MARCH)
    pdf = bills.render_pdf(bill)
    assert pdf.startswith(b"%PDF-")
    text = pdf_text(pdf)
    for expected in ("1000000001", "Иванова Мария Петровна", "1 053,50", "180,00", "1 233,50", "150,5", "1 150,5",
                     "15.04.2026", "март 2026", "7700000000"):
        assert expected in text, f"{expected!r} not in the bill's text: {text}"


def test_qr_code_in_the_pdf_decodes_to_the_payment_details(march, app, tmp_path):
    codes = qr_codes(bills.render_pdf(bills.bill_for(march, MARCH)), tmp_path)
    assert len(codes) == 1, "one QR code on page 1"
    fields = parse_qr(codes[0])
    cfg = app.config
    assert fields["format"] == "ST00012"
    assert fields["Sum"] == "123350"
    assert fields["PersAcc"] == "1000000001"
    assert (fields["PersonalAcc"], fields["BIC"], fields["PayeeINN"], fields["KPP"]) == (
        cfg["COMPANY_ACCOUNT"], cfg["COMPANY_BIC"], cfg["COMPANY_INN"], cfg["COMPANY_KPP"])
    assert (fields["Name"], fields["BankName"], fields["CorrespAcc"]) == (
        cfg["COMPANY_NAME"], cfg["COMPANY_BANK"], cfg["COMPANY_CORR_ACCOUNT"])
    assert fields["Purpose"] == "Оплата электроэнергии за 03.2026, л/с 1000000001"
    assert (fields["PaymPeriod"], fields["TechCode"]) == ("032026", "02")


def test_qr_text_keeps_the_separator_out_of_values(march, app):
    app.config["COMPANY_NAME"] = "ООО «Энерго|Сбыт»"
    text = bills.payment_qr_text(bills.bill_for(march, MARCH))
    fields = parse_qr(text)
    assert fields["Name"] == "ООО «Энерго/Сбыт»"
    assert list(fields)[:6] == ["format", "Name", "PersonalAcc", "BankName", "BIC", "CorrespAcc"]


def test_no_bill_for_a_period_not_closed(march):
    with pytest.raises(NotFound) as raised:
        bills.bill_for(march, date(2026, 4, 1))
    assert "04.2026" in str(raised.value.message)


def test_payment_in_the_period_is_shown_and_reduces_the_total(march):
    db.session.add(LedgerEntry(account_id=march.id, kind="payment", amount=D("-1000.00"),
                               booked_on=date(2026, 3, 31), source="test"))
    db.session.commit()
    bill = bills.bill_for(march, MARCH)
    assert (bill.paid, bill.total_due) == (D("1000.00"), D("233.50"))
    assert bill.opening_balance + bill.charged + bill.penalties - bill.paid == bill.total_due
    assert parse_qr(bills.payment_qr_text(bill))["Sum"] == "23350"
    text = pdf_text(bills.render_pdf(bill))
    assert "1 000,00" in text and "233,50" in text


def test_overpayment_leaves_the_sum_out_of_the_qr(march):
    db.session.add(LedgerEntry(account_id=march.id, kind="payment", amount=D("-2000.00"),
                               booked_on=date(2026, 2, 20), source="test"))
    db.session.commit()
    bill = bills.bill_for(march, MARCH)
    assert (bill.opening_balance, bill.paid, bill.total_due, bill.overpayment) == (
        D("-2000.00"), 0, D("-766.50"), D("766.50"))
    assert "Sum" not in parse_qr(bills.payment_qr_text(bill))
    text = pdf_text(bills.render_pdf(bill))
    assert "766,50" in text and "-2 000,00" in text


def test_estimated_period_names_the_basis_and_the_single_rate(users, billing):
    billing.tariff(date(2025, 1, 1), "7.00", "3.00")
    billing.tariff(date(2025, 1, 1), "5.00")
    billing.norm(date(2025, 1, 1), "100")
    account = users.account(number="1000000002")
    billing.meter(account, zones=2, residents=3)  # only the installation reading: no average yet
    close.close_period(MARCH)
    bill = bills.bill_for(account, MARCH)
    [line] = bill.lines
    assert (line.basis, line.quantity, line.amount) == ("normative", D("300.000"), D("1500.00"))
    assert str(bill.zone_label(line)) == str(bills.zone_label(1, "T1"))
    [use] = bill.meters
    assert (use.basis, use.zones) == ("normative", [])
    text = pdf_text(bills.render_pdf(bill))
    assert "1 500,00" in text and "1000000002" in text
