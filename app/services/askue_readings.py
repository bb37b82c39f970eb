"""Period readings of meters on ASKUE, made at the close from the interval data.

A meter on ASKUE is not read by its customer (the cabinet refuses a reading for it): its reading
for a period is its previous reading raised by the period's A+ energy per tariff zone, summed from
the intervals (and substitutes) of the local month. Done at the close, before the accruals, so the
bill uses it like any other reading.
"""
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from app.extensions import db
from app.models import AskuePoint, IntervalMonth, Meter, MeterReading
from app.services import readings
from app.services.errors import Conflict, InvalidInput
from app.services.periods import last_day

A_PLUS = 1
KWH = Decimal("0.001")


def close_readings(period: date) -> dict[str, int]:
    """Record the ASKUE readings of a period; returns how many were recorded, kept, or could not be."""
    period = period.replace(day=1)
    counts = {"recorded": 0, "kept": 0, "no_data": 0, "refused": 0}
    rows = db.session.execute(
        select(Meter, IntervalMonth).join(AskuePoint, AskuePoint.meter_id == Meter.id)
        .outerjoin(IntervalMonth, (IntervalMonth.meter_id == Meter.id) & (IntervalMonth.month == period)
                   & (IntervalMonth.channel == A_PLUS))
        .where(Meter.askue, Meter.removed_on.is_(None), Meter.installed_on <= last_day(period))
        .order_by(Meter.id)).all()
    for meter, month in rows:
        if month is None or not month.intervals:
            counts["no_data"] += 1
            continue
        previous = db.session.scalar(
            select(MeterReading).where(MeterReading.meter_id == meter.id, MeterReading.is_current,
                                       MeterReading.period < period)
            .order_by(MeterReading.period.desc()).limit(1))
        current = db.session.scalar(select(MeterReading).where(
            MeterReading.meter_id == meter.id, MeterReading.period == period, MeterReading.is_current))
        if previous is None:
            counts["no_data"] += 1
            continue
        used = {"T1": month.t1, "T2": month.t2, "T3": month.t3}
        values = {zone: ((previous.values()[zone] or Decimal(0)) + Decimal(used[zone]) / 1000).quantize(KWH)
                  % meter.rollover for zone in meter.zone_names}
        if current is not None and (current.status == "billed" or
                                    (current.source == "askue" and current.values() == values)):
            counts["kept"] += 1
            continue
        try:
            readings.record(meter, period, last_day(period), values, "askue", None, confirm_jump=True)
        except (Conflict, InvalidInput):
            db.session.rollback()
            counts["refused"] += 1
            continue
        counts["recorded"] += 1
    return counts
