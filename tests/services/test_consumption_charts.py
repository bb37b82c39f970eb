"""Consumption charts: points by interval, hour, day and month from what the storage keeps; zones by
the zone hours; gaps, substitutes and refused values; caps; months from readings; comparison; rubles;
and who sees what."""
from datetime import date, datetime, timedelta, timezone

import pytest
from flask_babel import force_locale

from app.extensions import db
from app.models import AccountAccess
from app.services import askue_storage, consumption_charts
from app.services import billing as close
from app.services.errors import InvalidInput, NotFound
from askue.series import Series

UTC = timezone.utc
NOV1 = datetime(2026, 10, 31, 21, 0, tzinfo=UTC)  # 1 November 2026, 00:00 in Moscow
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.fixture
def staff(users):
    return users.staff()


def _meter(users, billing, zones=1, pmax_kw=None, owner=None):
    account = users.account(owner=owner)
    meter = billing.meter(account, zones=zones, askue=True)
    billing.askue_point(meter, pmax_kw=pmax_kw)
    return account, meter


def _store(meter, start, values, minutes=30):
    points = askue_storage.point_index([meter.serial])
    askue_storage.store([Series(meter.serial, "A+", start, minutes, values)], points)
    db.session.commit()


def _substitute(meter, starts, wh, minutes=30):
    ref = askue_storage.point_index([meter.serial])[meter.serial]
    askue_storage.add_substitutes(ref, "A+", minutes, [(s, wh) for s in starts], "test@1")
    db.session.commit()


def _chart(user, account, meter, start, end, step, **kwargs):
    with force_locale("en"):  # the messages checked below are the English ones
        return consumption_charts.series(user, account.id, meter.id, start, end, step, now=NOW, **kwargs)


def _gappy_day(meter):
    """1 November, 48 half-hours of 100 Wh with holes: 02:00 one of two missing, 03:00 both missing,
    05:00 both missing but substituted (150 Wh each), 10:00 one refused by validation and substituted
    (120 Wh), 08:00 one of 500 Wh; 2 November whole."""
    values = [100] * 48
    values[16] = 500
    for index in (4, 6, 7, 10, 11):
        values[index] = None
    values[20] = 5000  # above 2 kW × 30 min: kept as INVALID, not summed
    _store(meter, NOV1, values)
    _store(meter, NOV1 + timedelta(days=1), [100] * 48)
    _substitute(meter, [NOV1 + timedelta(minutes=30 * i) for i in (10, 11)], 150)
    _substitute(meter, [NOV1 + timedelta(minutes=30 * 20)], 120)


def test_hours_of_a_two_zone_meter_split_by_the_zone_hours_with_gaps_and_substitutes(users, billing, staff):
    account, meter = _meter(users, billing, zones=2, pmax_kw=2)
    _gappy_day(meter)

    chart = _chart(staff, account, meter, date(2026, 11, 1), date(2026, 11, 1), "hour")

    points = chart["points"]
    assert len(points) == 24 and points[0]["start"] == "2026-11-01T00:00:00+03:00"
    by_hour = {int(p["start"][11:13]): p for p in points}
    # Night T2 23:00-07:00, day T1 07:00-23:00.
    assert by_hour[0] == {"start": "2026-11-01T00:00:00+03:00", "total": 0.2, "T1": 0.0, "T2": 0.2,
                          "quality": "measured"}
    assert (by_hour[8]["T1"], by_hour[8]["T2"], by_hour[8]["quality"]) == (0.6, 0.0, "measured")
    assert (by_hour[2]["total"], by_hour[2]["quality"]) == (0.1, "partial")
    assert (by_hour[3]["total"], by_hour[3]["T1"], by_hour[3]["quality"]) == (None, None, "missing")
    assert (by_hour[5]["total"], by_hour[5]["quality"]) == (0.3, "substituted")
    assert (by_hour[10]["T1"], by_hour[10]["quality"]) == (0.22, "substituted")
    # T1: 14 hours of 200 Wh, 08:00 600, 10:00 220; T2: 5 hours of 200, 02:00 100, 05:00 300, 03:00 none.
    assert chart["totals"] == {"total": 5.02, "T1": 3.62, "T2": 1.4}
    assert chart["peak"] == {"start": "2026-11-01T08:00:00+03:00", "total": 0.6}
    assert [z["code"] for z in chart["zones"]] == ["T1", "T2"]
    assert chart["as_of"] == "2026-11-03T00:00:00+03:00"
    assert chart["meter"] == {"id": meter.id, "serial": meter.serial, "model": meter.model,
                              "resource": "electricity", "zones": 2, "askue": True}
    assert (chart["unit"], chart["step"], chart["clipped_from"], chart["compare"]) == ("kwh", "hour", None, None)


def test_days_of_a_one_zone_meter_match_what_was_stored(users, billing, staff):
    account, meter = _meter(users, billing, zones=1, pmax_kw=2)
    _gappy_day(meter)

    chart = _chart(staff, account, meter, date(2026, 11, 1), date(2026, 11, 3), "day")

    first, second, third = chart["points"]
    # 41 raw values of 100, one of 500, three substitutes (150, 150, 120); 3 of 48 half-hours missing.
    assert first == {"start": "2026-11-01T00:00:00+03:00", "total": 5.02, "quality": "partial"}
    assert second == {"start": "2026-11-02T00:00:00+03:00", "total": 4.8, "quality": "measured"}
    assert third == {"start": "2026-11-03T00:00:00+03:00", "total": None, "quality": "missing"}
    assert chart["totals"] == {"total": 9.82}
    assert chart["top_days"] == [{"day": "2026-11-01", "total": 5.02}, {"day": "2026-11-02", "total": 4.8}]
    assert chart["peak"] == {"start": "2026-11-01T00:00:00+03:00", "total": 5.02}


def test_a_day_with_substitutes_and_nothing_missing_is_substituted(users, billing, staff):
    account, meter = _meter(users, billing, zones=2)
    values = [100] * 48
    values[0] = None
    _store(meter, NOV1, values)
    _substitute(meter, [NOV1], 80)

    [day] = _chart(staff, account, meter, date(2026, 11, 1), date(2026, 11, 1), "day")["points"]

    assert day == {"start": "2026-11-01T00:00:00+03:00", "total": 4.78, "T1": 3.2, "T2": 1.58,
                   "quality": "substituted"}


def test_intervals_are_the_meters_own_with_zones_and_holes(users, billing, staff):
    account, meter = _meter(users, billing, zones=2, pmax_kw=2)
    _gappy_day(meter)

    chart = _chart(staff, account, meter, date(2026, 11, 1), date(2026, 11, 2), "interval")

    points = chart["points"]
    assert len(points) == 96
    assert points[0] == {"start": "2026-11-01T00:00:00+03:00", "total": 0.1, "T1": 0.0, "T2": 0.1,
                         "quality": "measured"}
    assert points[4]["quality"] == "missing" and points[4]["total"] is None
    assert (points[10]["total"], points[10]["quality"]) == (0.15, "substituted")
    assert (points[20]["T1"], points[20]["quality"]) == (0.12, "substituted")
    assert points[14]["start"] == "2026-11-01T07:00:00+03:00" and points[14]["T1"] == 0.1
    assert chart["peak"] == {"start": "2026-11-01T08:00:00+03:00", "total": 0.6}
    assert sum(p["total"] or 0 for p in points) == pytest.approx(chart["totals"]["total"])


def test_months_from_the_monthly_sums_and_cut_months_from_the_days(users, billing, staff):
    account, meter = _meter(users, billing, zones=2)
    october = datetime(2026, 9, 30, 21, 0, tzinfo=UTC)
    _store(meter, october, [100] * (31 * 48))  # all of October
    _store(meter, NOV1, [200] * 48)

    chart = _chart(staff, account, meter, date(2026, 10, 1), date(2026, 11, 30), "month")
    october_point, november = chart["points"]
    assert october_point == {"start": "2026-10-01T00:00:00+03:00", "total": 148.8, "T1": 99.2, "T2": 49.6,
                             "quality": "measured"}
    assert (november["total"], november["quality"]) == (9.6, "partial")

    # A range that cuts October: only its days count.
    cut = _chart(staff, account, meter, date(2026, 10, 30), date(2026, 11, 1), "month")["points"]
    assert [(p["start"], p["total"], p["quality"]) for p in cut] == [
        ("2026-10-30T00:00:00+03:00", 9.6, "measured"), ("2026-11-01T00:00:00+03:00", 9.6, "measured")]


@pytest.mark.parametrize("step, points", [("interval", 192), ("hour", 48), ("day", 2), ("month", 1)])
def test_every_step_of_a_one_zone_meter_adds_up_to_what_was_stored(users, billing, staff, step, points):
    account, meter = _meter(users, billing, zones=1)
    values = [(n * 37) % 250 for n in range(192)]  # two days of quarter-hours
    _store(meter, NOV1, values, minutes=15)

    chart = _chart(staff, account, meter, date(2026, 11, 1), date(2026, 11, 2), step)

    assert len(chart["points"]) == points
    assert chart["totals"] == {"total": sum(values) / 1000}
    assert sum(round(p["total"] * 1000) for p in chart["points"]) == sum(values)
    assert {p["quality"] for p in chart["points"]} == {"measured"}  # the month cut to these two days is whole
    assert all(set(p) == {"start", "total", "quality"} for p in chart["points"])
    assert [zone["code"] for zone in chart["zones"]] == ["T1"]


def test_months_compared_with_the_year_before(users, billing, staff):
    account, meter = _meter(users, billing, zones=2)
    _store(meter, datetime(2025, 10, 31, 21, 0, tzinfo=UTC), [50] * 48)
    _store(meter, NOV1, [100] * 48)

    chart = _chart(staff, account, meter, date(2026, 10, 1), date(2026, 11, 30), "month", compare="prev_year")

    assert [p["total"] for p in chart["points"]] == [None, 4.8]
    compare = chart["compare"]
    assert (compare["from"], compare["to"]) == ("2025-10-01", "2025-11-30")
    assert [(p["start"], p["total"], p["T2"]) for p in compare["points"]] == [
        ("2025-10-01T00:00:00+03:00", None, None), ("2025-11-01T00:00:00+03:00", 2.4, 0.8)]


@pytest.mark.parametrize("step, days, message", [
    ("interval", 4, "3 days"), ("hour", 32, "31 days"), ("day", 732, "2 years"), ("month", 3654, "10 years")])
def test_ranges_longer_than_the_step_allows_are_refused_naming_the_cap(users, billing, staff, step, days, message):
    account, meter = _meter(users, billing)
    start = date(2020, 1, 1)
    with pytest.raises(InvalidInput) as refused:
        _chart(staff, account, meter, start, start + timedelta(days=days - 1), step)
    with force_locale("en"):
        assert message in str(refused.value.message)
    # One day less is fine.
    _chart(staff, account, meter, start, start + timedelta(days=days - 2), step)


def test_bad_requests_are_refused(users, billing, staff):
    account, meter = _meter(users, billing)
    day = date(2026, 11, 1)
    for args, kwargs, field in [((day, day - timedelta(days=1), "day"), {}, "from"),
                                ((day, day, "week"), {}, "step"),
                                ((day, day, "day"), {"unit": "mwh"}, "unit"),
                                ((day, day, "day"), {"compare": "last_week"}, "compare")]:
        with pytest.raises(InvalidInput) as refused:
            _chart(staff, account, meter, *args, **kwargs)
        assert refused.value.field == field
    with pytest.raises(InvalidInput):
        consumption_charts.parse_day("01.11.2026", "from")


def test_a_meter_without_askue_by_month_from_readings_with_estimates(users, billing, staff):
    billing.tariff(date(2025, 1, 1), "5.00")
    billing.norm(date(2025, 1, 1), "100")
    account = users.account()
    meter = billing.meter(account, installed_on=date(2025, 1, 10), digits=5, initial={"T1": "99500"})
    value = 99500
    for month in range(2, 9):  # February-August: 150 kWh a month, over the counter's top in June
        value = (value + 150) % 100000
        billing.reading(meter, date(2025, month, 1), T1=value)
        close.close_period(date(2025, month, 1))
    close.close_period(date(2025, 9, 1))  # no reading: billed by the average

    chart = _chart(staff, account, meter, date(2025, 1, 1), date(2025, 10, 31), "month")

    got = [(p["start"][:10], p["total"], p["quality"]) for p in chart["points"]]
    assert got == [("2025-01-01", None, "missing")] + [
        (f"2025-{m:02d}-01", 150.0, "measured") for m in range(2, 9)] + [
        ("2025-09-01", 150.0, "estimated"), ("2025-10-01", None, "missing")]
    assert chart["as_of"] is None and chart["peak"] is None and chart["top_days"] == []
    for step in ("interval", "hour", "day"):
        with pytest.raises(InvalidInput) as refused:
            _chart(staff, account, meter, date(2025, 3, 1), date(2025, 3, 2), step)
        with force_locale("en"):
            assert "ASKUE" in str(refused.value.message)

    # A reading after two months without one: spread over them by days, like the bill.
    billing.reading(meter, date(2025, 10, 1), T1=(value + 610) % 100000)
    later = _chart(staff, account, meter, date(2025, 9, 1), date(2025, 10, 31), "month")["points"]
    assert [(p["total"], p["quality"]) for p in later] == [(300.0, "estimated"), (310.0, "estimated")]


def test_compare_with_the_year_before_aligned_by_index(users, billing, staff):
    account, meter = _meter(users, billing, zones=1)
    year_before = datetime(2025, 10, 31, 21, 0, tzinfo=UTC)
    _store(meter, year_before, [50] * 48)
    _store(meter, NOV1, [100] * 96)

    chart = _chart(staff, account, meter, date(2026, 11, 1), date(2026, 11, 2), "day", compare="prev_year")

    compare = chart["compare"]
    assert (compare["kind"], compare["from"], compare["to"]) == ("prev_year", "2025-11-01", "2025-11-02")
    assert [(p["start"], p["total"], p["quality"]) for p in compare["points"]] == [
        ("2025-11-01T00:00:00+03:00", 2.4, "measured"), ("2025-11-02T00:00:00+03:00", None, "missing")]
    assert compare["totals"] == {"total": 2.4}

    before = _chart(staff, account, meter, date(2026, 11, 2), date(2026, 11, 2), "hour",
                    compare="prev_period")["compare"]
    assert before["from"] == before["to"] == "2026-11-01"
    assert len(before["points"]) == 24 and before["points"][0]["start"] == "2026-11-01T00:00:00+03:00"


def test_rubles_follow_a_tariff_change_inside_the_range(users, billing, staff):
    billing.tariff(date(2025, 1, 1), "7.00", "3.00")
    billing.tariff(date(2026, 11, 2), "8.00", "4.00")
    account, meter = _meter(users, billing, zones=2)
    _store(meter, NOV1, [100] * 96)

    chart = _chart(staff, account, meter, date(2026, 11, 1), date(2026, 11, 2), "day", unit="rub")

    # Each day: T1 3.2 kWh, T2 1.6 kWh.
    assert [(p["T1"], p["T2"], p["total"]) for p in chart["points"]] == [(22.4, 4.8, 27.2), (25.6, 6.4, 32.0)]
    assert chart["totals"] == {"total": 59.2, "T1": 48.0, "T2": 11.2}
    assert chart["unit"] == "rub" and any("VAT" in note for note in chart["notes"])

    # A month point spanning the change is split by days: 1 day of 30 at the old prices.
    [month] = _chart(staff, account, meter, date(2026, 11, 1), date(2026, 11, 30), "month", unit="rub")["points"]
    assert month["T1"] == round(6.4 * (7 * 1 / 30 + 8 * 29 / 30), 2)

    with pytest.raises(InvalidInput):
        _chart(staff, account, meter, date(2024, 12, 31), date(2024, 12, 31), "day", unit="rub")


def test_a_customer_sees_only_their_meters_and_their_part_of_the_history(users, billing):
    owner, stranger = users.customer(), users.customer()
    account, meter = _meter(users, billing, owner=owner)
    other_account, other_meter = _meter(users, billing, owner=stranger)
    _store(meter, NOV1, [100] * 96)
    day = date(2026, 11, 1)

    with pytest.raises(NotFound):
        _chart(owner, other_account, other_meter, day, day, "day")
    with pytest.raises(NotFound):  # someone else's meter through one's own account
        consumption_charts.series(owner, account.id, other_meter.id, day, day, "day")

    # The account passed to the owner on 2 November: the 1st is not theirs to see.
    access = db.session.scalar(db.select(AccountAccess).where(AccountAccess.user_id == owner.id))
    access.valid_from = date(2026, 11, 2)
    db.session.commit()
    chart = _chart(owner, account, meter, date(2026, 11, 1), date(2026, 11, 2), "day")
    assert [p["start"][:10] for p in chart["points"]] == ["2026-11-02"]
    assert chart["clipped_from"] == {"from": "2026-11-01", "to": "2026-11-02"} and chart["from"] == "2026-11-02"
    with pytest.raises(InvalidInput):
        _chart(owner, account, meter, date(2026, 11, 1), date(2026, 11, 1), "day")
