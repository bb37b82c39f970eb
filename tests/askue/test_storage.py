"""Storing interval data: raw values kept as they came, sums per local day and zone, re-delivery a no-op."""
from datetime import date, datetime, timezone

from sqlalchemy import func, select, text

from app.extensions import db
from app.models import IntervalDay, IntervalMonth, MeterEventLog, interval_table
from app.services import askue_storage
from askue.series import Series, Status

UTC = timezone.utc


def _point(users, billing, zones=2, pmax_kw=None, code=None):
    account = users.account()
    meter = billing.meter(account, zones=zones, askue=True)
    billing.askue_point(meter, code=code, pmax_kw=pmax_kw)
    return meter


def _day_sums(meter_id):
    rows = db.session.execute(select(IntervalDay.day, IntervalDay.t1, IntervalDay.t2, IntervalDay.t3,
                                     IntervalDay.intervals)
                              .where(IntervalDay.meter_id == meter_id).order_by(IntervalDay.day))
    return [tuple(row) for row in rows]


def _store(series):
    points = askue_storage.point_index(s.meter for s in series)
    stored = askue_storage.store(series, points)
    db.session.commit()
    return stored


def test_a_day_of_half_hours_is_stored_and_summed_by_local_day_and_zone(users, billing):
    meter = _point(users, billing, zones=2)
    # Moscow 2026-11-01 00:00 is 2026-10-31 21:00 UTC; 48 half-hours of 100 Wh, the 08:00 one 500 Wh.
    values = [100] * 48
    values[16] = 500
    _store([Series(meter.serial, "A+", datetime(2026, 10, 31, 21, 0, tzinfo=UTC), 30, values)])

    count = db.session.scalar(select(func.count()).select_from(interval_table))
    assert count == 48
    # Day zone T1 07:00-23:00 = 32 half-hours, night T2 = 16.
    assert _day_sums(meter.id) == [(date(2026, 11, 1), 31 * 100 + 500, 1600, 0, 48)]
    month = db.session.scalars(select(IntervalMonth).where(IntervalMonth.meter_id == meter.id)).one()
    assert (month.month, month.wh, month.intervals) == (date(2026, 11, 1), 5200, 48)


def test_re_delivery_changes_nothing_and_overlap_adds_only_the_new_intervals(users, billing):
    meter = _point(users, billing, zones=1)
    start = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    first = _store([Series(meter.serial, "A+", start, 30, [10, 20, 30, 40])])
    again = _store([Series(meter.serial, "A+", start, 30, [10, 20, 30, 40])])
    # Two known intervals, two new; the repeated ones keep their first value.
    overlap = _store([Series(meter.serial, "A+", datetime(2026, 11, 1, 10, 0, tzinfo=UTC), 30, [999, 999, 50, 60])])

    assert (first.new, first.repeated) == (4, 0)
    assert (again.new, again.repeated) == (0, 4)
    assert (overlap.new, overlap.repeated) == (2, 2)
    # A repeat with another value than the one kept is worth a look.
    assert [(kind, details["kept_wh"], details["delivered_wh"]) for *_, kind, details in overlap.findings] == [
        ("duplicate", 30, 999), ("duplicate", 40, 999)]
    assert again.findings == []
    assert _day_sums(meter.id) == [(date(2026, 11, 1), 210, 0, 0, 6)]
    assert db.session.scalar(select(func.sum(interval_table.c.wh))) == 210


def test_gaps_are_not_stored_and_suspicious_values_are_kept_flagged_but_not_summed(users, billing):
    meter = _point(users, billing, zones=1, pmax_kw=2)
    # 2 kW over 30 min is 1000 Wh at most.
    stored = _store([Series(meter.serial, "A+", datetime(2026, 11, 1, 9, 0, tzinfo=UTC), 30,
                            [100, None, -5, 1500, 200])])

    assert (stored.new, stored.invalid) == (4, 2)
    statuses = dict(db.session.execute(select(interval_table.c.wh, interval_table.c.status)).all())
    assert statuses == {100: 0, -5: Status.INVALID, 1500: Status.INVALID, 200: 0}
    assert _day_sums(meter.id) == [(date(2026, 11, 1), 300, 0, 0, 2)]
    assert [kind for *_, kind, _ in stored.findings] == ["negative_value", "above_pmax"]


def test_unknown_points_refuse_the_whole_batch(users, billing):
    meter = _point(users, billing)
    series = [Series(meter.serial, "A+", datetime(2026, 11, 1, tzinfo=UTC), 30, [1]),
              Series("NO-SUCH", "A+", datetime(2026, 11, 1, tzinfo=UTC), 30, [1])]
    try:
        askue_storage.store(series, askue_storage.point_index(s.meter for s in series))
    except askue_storage.UnknownPoints as error:
        assert error.codes == ["NO-SUCH"]
    else:
        raise AssertionError("unknown point accepted")
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(interval_table)) == 0
    assert db.session.scalar(select(func.count()).select_from(MeterEventLog)) == 0


def test_a_load_after_reading_the_table_in_the_same_transaction_makes_its_partition(users, billing):
    meter = _point(users, billing, zones=1)
    db.session.execute(select(func.count()).select_from(interval_table))  # the transaction now holds a lock
    # A month nobody has stored in yet: its partition is made without waiting on ourselves.
    stored = _store([Series(meter.serial, "A+", datetime(2031, 3, 1, tzinfo=UTC), 30, [5, 6])])
    assert stored.new == 2


def test_months_that_are_over_get_the_index_charts_read_alone(users, billing):
    meter = _point(users, billing, zones=1)
    _store([Series(meter.serial, "A+", datetime(2026, 9, 10, tzinfo=UTC), 30, [1, 2]),
            Series(meter.serial, "A+", datetime(2026, 11, 10, tzinfo=UTC), 30, [3, 4])])

    made = askue_storage.cover_closed_months(now=datetime(2026, 11, 22, tzinfo=UTC))
    again = askue_storage.cover_closed_months(now=datetime(2026, 11, 22, tzinfo=UTC))

    if db.engine.dialect.name != "postgresql":
        assert made == []  # SQLite keeps one table and its key
        return
    assert "meter_interval_y2026m09" in made and "meter_interval_y2026m11" not in made and again == []
    indexes = set(db.session.scalars(text("SELECT indexname FROM pg_indexes WHERE tablename LIKE 'meter_interval_y%'")))
    assert "meter_interval_y2026m09_cover" in indexes and "meter_interval_y2026m11_cover" not in indexes
