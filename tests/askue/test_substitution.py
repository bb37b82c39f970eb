"""Gaps filled by the dated substitution rules, beside the raw values; raw data arriving later takes
the substitute's place in the sums."""
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import select

from app.extensions import db
from app.models import IntervalMonth, IntervalSubstitute, Premises
from app.services import askue_storage, askue_substitution
from askue.series import Series

UTC = timezone.utc
NOV = datetime(2026, 10, 31, 21, 0, tzinfo=UTC)  # 1 November 2026 00:00 Moscow
NOV_2025 = datetime(2025, 10, 31, 21, 0, tzinfo=UTC)


def _point(users, billing, kind="non_residential", pmax_kw=None, installed_on=date(2025, 1, 10)):
    meter = billing.meter(users.account(), zones=1, askue=True, installed_on=installed_on)
    db.session.get(Premises, meter.premises_id).kind = kind
    db.session.commit()
    return billing.askue_point(meter, pmax_kw=pmax_kw)


def _store(point, start, days, value=100, skip=()):
    series = [Series(point.code, "A+", start + timedelta(days=d), 30, [value] * 48) for d in range(days) if d not in skip]
    askue_storage.store(series, askue_storage.point_index([point.code]))
    db.session.commit()


def _month(point, month=date(2026, 11, 1)):
    return db.session.scalar(select(IntervalMonth).where(IntervalMonth.meter_id == point.meter_id,
                                                         IntervalMonth.month == month))


def test_a_missing_day_takes_the_same_day_of_last_year_and_raw_data_later_takes_its_place(users, billing):
    point = _point(users, billing)
    _store(point, NOV_2025, 30, value=70)  # November 2025
    _store(point, NOV - timedelta(days=31), 31, value=90)  # October 2026: complete, so November is the 1st period
    _store(point, NOV, 30, skip={9})  # 10 November missing

    made, left = askue_substitution.substitute_month(point, date(2026, 11, 1))
    db.session.commit()

    assert (made, left) == (48, 0)
    rules = set(db.session.scalars(select(IntervalSubstitute.rule)))
    assert rules == {"pp442-same-period@1"}
    month = _month(point)
    assert (month.wh, month.intervals, month.substituted) == (29 * 48 * 100 + 48 * 70, 30 * 48, 48)

    _store(point, NOV + timedelta(days=9), 1)  # the day arrives after all

    month = _month(point)
    assert (month.wh, month.intervals, month.substituted) == (30 * 48 * 100, 30 * 48, 0)
    assert db.session.scalar(select(IntervalSubstitute.superseded_at).limit(1)) is not None
    assert askue_substitution.substitute_month(point, date(2026, 11, 1)) == (0, 0)


def test_from_the_third_period_without_data_the_permitted_power_is_used(users, billing):
    point = _point(users, billing, pmax_kw=4)
    _store(point, NOV - timedelta(days=92), 1)  # some data in August; September and October empty

    made, left = askue_substitution.substitute_month(point, date(2026, 11, 1))

    assert (made, left) == (30 * 48, 0)
    assert set(db.session.scalars(select(IntervalSubstitute.wh))) == {2000}  # 4 kW over half an hour
    assert set(db.session.scalars(select(IntervalSubstitute.rule))) == {"pp442-max-power@1"}


def test_a_household_gap_takes_the_average_of_the_same_time_of_day(users, billing):
    point = _point(users, billing, kind="residential")
    _store(point, NOV - timedelta(days=31), 31, value=60)
    _store(point, NOV, 30, skip={29}, value=100)

    made, _ = askue_substitution.substitute_month(point, date(2026, 11, 1))

    assert made == 48
    # The 92 days before 30 November: 31 October days at 60 and 29 November days at 100.
    assert set(db.session.scalars(select(IntervalSubstitute.wh))) == {round((31 * 60 + 29 * 100) / 60)}
    assert set(db.session.scalars(select(IntervalSubstitute.rule))) == {"pp354-average@1"}
