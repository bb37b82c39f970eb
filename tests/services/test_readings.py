"""A customer's meter readings: every way to get them wrong is refused with the reason."""
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import MeterReading
from app.services import readings
from app.services.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.services.readings import NeedsConfirmation

IN_WINDOW = date(2026, 3, 20)


@pytest.fixture
def setup(users, billing):
    customer = users.customer()
    account = users.account(owner=customer)
    meter = billing.meter(account, zones=2, digits=5, initial={"T1": "1000", "T2": "400"})
    return customer, account, meter


def current(meter):
    db.session.expire_all()
    return list(db.session.scalars(select(MeterReading).where(MeterReading.meter_id == meter.id,
                                                              MeterReading.is_current).order_by(MeterReading.period)))


def test_accepted_in_the_window(setup):
    customer, _, meter = setup
    done = readings.submit(customer, meter.id, {"T1": "1100,5", "T2": " 450 "}, today=IN_WINDOW)
    assert (done.period, done.outside_window, done.corrected) == (date(2026, 3, 1), False, False)
    assert current(meter)[-1].values() == {"T1": Decimal("1100.5"), "T2": Decimal("450")}


@pytest.mark.parametrize("raw, field", [
    ({"T1": "12a", "T2": "450"}, "T1"), ({"T1": "-5", "T2": "450"}, "T1"), ({"T1": "1100", "T2": ""}, "T2"),
    ({"T1": "1100.1234", "T2": "450"}, "T1"), ({"T1": "100000", "T2": "450"}, "T1"),
    ({"T1": "999", "T2": "450"}, "T1"), ({"T1": "NaN", "T2": "450"}, "T1"),
])
def test_bad_values_are_refused_at_their_zone(setup, raw, field):
    customer, _, meter = setup
    with pytest.raises(InvalidInput) as error:
        readings.submit(customer, meter.id, raw, today=IN_WINDOW)
    assert error.value.field == field
    assert len(current(meter)) == 1  # only the installation reading


def test_wrong_number_of_zones(setup):
    customer, _, meter = setup
    with pytest.raises(InvalidInput):
        readings.submit(customer, meter.id, {"T1": "1100", "T2": "450", "T3": "1"}, today=IN_WINDOW)


def test_outside_the_window_counts_for_the_next_period(setup):
    customer, _, meter = setup
    late = readings.submit(customer, meter.id, {"T1": "1100", "T2": "450"}, today=date(2026, 3, 27))
    assert (late.period, late.outside_window) == (date(2026, 4, 1), True)
    early = readings.submit(customer, meter.id, {"T1": "1100", "T2": "450"}, today=date(2026, 4, 3))
    assert (early.period, early.outside_window, early.corrected) == (date(2026, 4, 1), True, True)


def test_correction_until_billed(setup, billing):
    customer, _, meter = setup
    readings.submit(customer, meter.id, {"T1": "1100", "T2": "450"}, today=IN_WINDOW)
    fixed = readings.submit(customer, meter.id, {"T1": "1101", "T2": "450"}, today=IN_WINDOW)
    assert fixed.corrected
    rows = db.session.scalars(select(MeterReading).where(MeterReading.meter_id == meter.id,
                                                         MeterReading.period == date(2026, 3, 1))).all()
    assert sorted((r.status, r.is_current) for r in rows) == [("accepted", True), ("replaced", False)]

    from app.services import billing as close
    billing.tariff(date(2025, 1, 1), "7", "3")
    close.close_period(date(2026, 3, 1))
    with pytest.raises(Conflict):
        readings.submit(customer, meter.id, {"T1": "1102", "T2": "450"}, today=IN_WINDOW)


def test_rollover_is_recognised_by_the_digit_count(users, billing):
    customer = users.customer()
    account = users.account(owner=customer)
    meter = billing.meter(account, digits=4, initial={"T1": "9950"})
    done = readings.submit(customer, meter.id, {"T1": "30"}, today=IN_WINDOW)
    assert done.reading.t1 == Decimal("30")


def test_a_huge_jump_asks_for_confirmation(users, billing):
    customer = users.customer()
    account = users.account(owner=customer)
    meter = billing.meter(account, installed_on=date(2025, 1, 10))
    for month in range(2, 13):
        billing.reading(meter, date(2025, month, 1), T1=100 * (month - 1))
    with pytest.raises(NeedsConfirmation):
        readings.submit(customer, meter.id, {"T1": "9000"}, today=IN_WINDOW)
    assert readings.submit(customer, meter.id, {"T1": "9000"}, confirm_jump=True, today=IN_WINDOW).reading.jump_confirmed


def test_someone_elses_meter_and_askue_meters(users, billing, setup):
    _, _, meter = setup
    stranger = users.customer()
    with pytest.raises(NotFound):
        readings.submit(stranger, meter.id, {"T1": "1100", "T2": "450"}, today=IN_WINDOW)
    owner = users.customer()
    smart = billing.meter(users.account(owner=owner), askue=True)
    with pytest.raises(Forbidden):
        readings.submit(owner, smart.id, {"T1": "10"}, today=IN_WINDOW)


def test_a_closed_period_refuses_readings(setup, billing):
    from app.services import billing as close

    customer, _, meter = setup
    billing.tariff(date(2025, 1, 1), "7", "3")
    billing.tariff(date(2025, 1, 1), "5")
    billing.norm(date(2025, 1, 1), "90")
    assert not close.close_period(date(2026, 3, 1)).problems
    with pytest.raises(Conflict):
        readings.submit(customer, meter.id, {"T1": "1100", "T2": "450"}, today=IN_WINDOW)
