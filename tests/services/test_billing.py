"""The monthly close: accrual lines from readings, tariff changes inside a period, estimates,
recalculation, idempotency and penalties."""
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from app.extensions import db
from app.models import AccountPeriod, Accrual, BillingPeriod, LedgerEntry, MeterReading
from app.services import billing as close
from app.services.periods import due_date

D = Decimal


def lines(account, period):
    db.session.expire_all()
    return list(db.session.scalars(select(Accrual).where(Accrual.account_id == account.id, Accrual.period == period)
                                   .order_by(Accrual.zone, Accrual.id)))


def charges(account):
    db.session.expire_all()
    return list(db.session.scalars(select(LedgerEntry).where(LedgerEntry.account_id == account.id)
                                   .order_by(LedgerEntry.id)))


def test_dual_zone_reading_gives_a_line_per_zone(users, billing):
    billing.tariff(date(2025, 1, 1), "7.00", "3.00")
    account = users.account()
    meter = billing.meter(account, zones=2, initial={"T1": "1000", "T2": "500"})
    billing.reading(meter, date(2026, 3, 1), T1="1150.5", T2="560")
    result = close.close_period(date(2026, 3, 1))
    assert result.closed == 1 and not result.problems
    got = [(a.zone, a.basis, a.quantity, a.price, a.amount) for a in lines(account, date(2026, 3, 1))]
    assert got == [("T1", "reading", D("150.500"), D("7.0000"), D("1053.50")),
                   ("T2", "reading", D("60.000"), D("3.0000"), D("180.00"))]
    [charge] = charges(account)
    assert (charge.kind, charge.amount, charge.due_date) == ("charge", D("1233.50"), date(2026, 4, 15))
    reading = db.session.scalar(select(MeterReading).where(MeterReading.meter_id == meter.id,
                                                           MeterReading.period == date(2026, 3, 1)))
    assert reading.status == "billed"


def test_tariff_change_inside_the_period_is_split_by_days(users, billing):
    billing.tariff(date(2025, 1, 1), "6.00")
    billing.tariff(date(2026, 7, 1), "6.60")
    billing.tariff(date(2026, 7, 21), "7.20")  # a second change in the same month
    account = users.account()
    meter = billing.meter(account, initial={"T1": "0"})
    billing.reading(meter, date(2026, 7, 1), T1="310")
    close.close_period(date(2026, 7, 1))
    got = [(a.quantity, a.price, a.amount, a.days) for a in lines(account, date(2026, 7, 1))]
    # 310 kWh over 31 days: 20 days at 6.60, 11 days at 7.20; July 1st starts the first new tariff.
    assert got == [(D("200.000"), D("6.6000"), D("1320.00"), 20), (D("110.000"), D("7.2000"), D("792.00"), 11)]


def test_period_that_starts_under_an_old_tariff(users, billing):
    billing.tariff(date(2025, 1, 1), "6.00")
    billing.tariff(date(2026, 7, 11), "6.60")
    account = users.account()
    meter = billing.meter(account)
    billing.reading(meter, date(2026, 7, 1), T1="100")
    close.close_period(date(2026, 7, 1))
    got = [(a.quantity, a.price, a.days) for a in lines(account, date(2026, 7, 1))]
    assert got == [(D("32.258"), D("6.0000"), 10), (D("67.742"), D("6.6000"), 21)]
    assert sum(q for q, _, _ in got) == D("100")


def test_without_readings_average_then_normative_then_recalculation(users, billing):
    billing.tariff(date(2025, 1, 1), "5.00")
    billing.norm(date(2025, 1, 1), "100")
    account = users.account()
    meter = billing.meter(account, installed_on=date(2025, 1, 10), residents=2)
    value = 0
    for month in range(2, 13):  # eleven months of 150 kWh
        value += 150
        billing.reading(meter, date(2025, month, 1), T1=value)
        close.close_period(date(2025, month, 1))
    for month in (1, 2, 3):
        close.close_period(date(2026, month, 1))
        [line] = lines(account, date(2026, month, 1))
        assert (line.basis, line.quantity) == ("average", D("150.000")), month
    close.close_period(date(2026, 4, 1))
    [line] = lines(account, date(2026, 4, 1))
    assert (line.basis, line.quantity, line.amount) == ("normative", D("200.000"), D("1000.00"))

    # The actual reading in May covers Jan–May: spread by days, estimates reversed.
    billing.reading(meter, date(2026, 5, 1), T1=value + 600)
    close.close_period(date(2026, 5, 1))
    may = lines(account, date(2026, 5, 1))
    assert D("600") == sum(a.quantity for a in may if a.quantity > 0)
    reversed_estimates = [a for a in may if a.quantity < 0]
    assert sorted(a.details["for_period"] for a in reversed_estimates) == [
        "2026-01-01", "2026-02-01", "2026-03-01", "2026-04-01"]
    assert sum(a.quantity for a in may) == D("600") - D("150") * 3 - D("200")


def test_close_is_idempotent(users, billing):
    billing.tariff(date(2025, 1, 1), "5.00")
    account = users.account()
    meter = billing.meter(account)
    billing.reading(meter, date(2026, 3, 1), T1="100")
    first = close.close_period(date(2026, 3, 1))
    again = close.close_period(date(2026, 3, 1))
    assert (first.closed, again.closed, again.skipped) == (1, 0, 1)
    assert len(lines(account, date(2026, 3, 1))) == 1 and len(charges(account)) == 1
    assert db.session.get(BillingPeriod, date(2026, 3, 1)).status == "closed"


def test_account_without_tariff_is_reported_and_left_open(users, billing):
    account = users.account()
    meter = billing.meter(account)
    billing.reading(meter, date(2026, 3, 1), T1="100")
    result = close.close_period(date(2026, 3, 1))
    assert result.closed == 0 and account.id in result.problems
    assert db.session.scalar(select(AccountPeriod)) is None
    billing.tariff(date(2025, 1, 1), "5.00")
    assert close.close_period(date(2026, 3, 1)).closed == 1


def test_penalties_are_posted_at_the_close_after_day_30(users, billing):
    billing.tariff(date(2025, 1, 1), "5.00")
    account = users.account()
    meter = billing.meter(account, initial={"T1": "0"})
    billing.reading(meter, date(2026, 3, 1), T1="1000")  # 5000 ₽ due 15.04.2026
    close.close_period(date(2026, 3, 1))
    for month in (4, 5, 6, 7, 8):
        billing.reading(meter, date(2026, month, 1), T1=1000)  # nothing used, nothing paid
        close.close_period(date(2026, month, 1))
    posted = [e for e in charges(account) if e.kind == "penalty"]
    # Day 31 is 16.05.2026; the August close counts to 31.08.2026 (day 138): 60 days at 1/300 and
    # 48 days at 1/130 with the key rate capped at 9.5 %.
    expected = D("95.00") + (D("5000") * D("0.095") * 48 / 130).quantize(D("0.01"))
    assert sum(e.amount for e in posted) == expected
    assert [e.period.month for e in posted] == [5, 6, 7, 8]


def test_due_date_moves_to_the_15th_from_march_2026(app):
    assert due_date(date(2026, 2, 1)) == date(2026, 3, 10)
    assert due_date(date(2026, 3, 1)) == date(2026, 4, 15)


def test_a_reading_years_after_the_previous_one_is_still_counted_from_it(users, billing):
    billing.tariff(date(2019, 1, 1), "5.00")
    account = users.account()
    meter = billing.meter(account, installed_on=date(2020, 1, 10), initial={"T1": "100"})
    billing.reading(meter, date(2026, 3, 1), T1="1100")
    close.close_period(date(2026, 3, 1))
    [line] = lines(account, date(2026, 3, 1))
    assert (line.basis, line.quantity, line.amount) == ("reading", D("1000.000"), D("5000.00"))
