"""A meter on ASKUE gets its period reading from the interval data at the close."""
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from sqlalchemy import select

from app.extensions import db
from app.models import MeterReading
from app.services import askue_readings, askue_storage
from askue.series import Series

MOSCOW_MIDNIGHT = datetime(2026, 10, 31, 21, 0, tzinfo=timezone.utc)  # 1 November 2026, 00:00 local


def test_the_close_makes_the_reading_of_an_askue_meter_from_its_month_of_intervals(users, billing):
    account = users.account()
    meter = billing.meter(account, zones=2, askue=True, installed_on=date(2026, 10, 5),
                          initial={"T1": "1000.000", "T2": "500.000"})
    billing.askue_point(meter)
    # 30 days of half-hours at 250 Wh: 32 day intervals (T1) and 16 night ones (T2) a day.
    series = [Series(meter.serial, "A+", MOSCOW_MIDNIGHT + timedelta(days=d), 30, [250] * 48) for d in range(30)]
    askue_storage.store(series, askue_storage.point_index([meter.serial]))
    db.session.commit()

    first = askue_readings.close_readings(date(2026, 11, 1))
    again = askue_readings.close_readings(date(2026, 11, 1))

    reading = db.session.scalar(select(MeterReading).where(MeterReading.meter_id == meter.id,
                                                           MeterReading.period == date(2026, 11, 1)))
    assert reading.source == "askue" and reading.taken_on == date(2026, 11, 30)
    assert (reading.t1, reading.t2) == (Decimal("1000") + Decimal("240.000"), Decimal("500") + Decimal("120.000"))
    assert first["recorded"] == 1 and again == {"recorded": 0, "kept": 1, "no_data": 0, "refused": 0}


def test_a_meter_without_interval_data_is_left_to_the_usual_estimate(users, billing):
    meter = billing.meter(users.account(), askue=True)
    billing.askue_point(meter)
    assert askue_readings.close_readings(date(2026, 11, 1))["no_data"] == 1
