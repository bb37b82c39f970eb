"""Consumption charts: a meter's use over a range of local days, by interval, hour, day or month.

Where the numbers come from, so that no chart reads more than its own meter's rows:
- day and month points: the daily and monthly sums per tariff zone (interval_day, interval_month),
  which the storage keeps right as values arrive; a month the range cuts is summed from its days;
- interval and hour points: the raw values of the one meter by its primary key range (meter,
  channel, start), hours summed by the database; a live substitute stands in for a raw value that is
  missing or was refused by validation (INVALID), and marks its point "substituted";
- meters without ASKUE: months from their period readings (the difference of consecutive readings);
  months billed by an estimate (average, normative) show the estimate.

Values are JSON numbers, not strings, because the charts plot them: kWh (or the resource's own
unit) with at most three decimals, added up in whole Wh so they are exact; rubles with two. A point
without data has null values: a gap is a gap, not a zero.

Rubles are an estimate: each point's zones at the tariff in force on its day, a point that spans a
tariff change split by days like the bill; the prices are taken as the tariff tables hold them, with
no VAT added and no penalties.
"""
from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import format_date
from flask_babel import lazy_gettext as _l
from sqlalchemy import BigInteger, Float, Integer, bindparam, cast, exists, func, literal, select

from app import policy
from app.extensions import db
from app.models import (Account, Accrual, IntervalDay, IntervalMonth, IntervalSubstitute, Meter, MeterReading, Premises,
                        ZoneHours, interval_table)
from app.models.types import utcnow
from app.services import accounts, audit, consumption, tariffs
from app.services.errors import InvalidInput, NotFound
from app.services.interval_zones import ZoneCalendar
from app.services.periods import days_in, last_day, next_period
from app.services.resources import ZONE_LABELS
from askue.series import Status

A_PLUS = 1
STEPS = ("interval", "hour", "day", "month")
COMPARES = ("prev_year", "prev_period")
UNITS = ("kwh", "rub")
QUALITIES = ("measured", "substituted", "partial", "missing", "estimated")
# The longest range of each step, in days. A chart by hour is a month at most: a year of hours is
# 8,760 bars, more than a chart can show.
CAPS = {"interval": 3, "hour": 31, "day": 731, "month": 3653}
CAP_MESSAGES = {
    "interval": _l("A chart by interval covers at most 3 days. Choose a shorter range or a longer step."),
    "hour": _l("A chart by hour covers at most 31 days. Choose a shorter range or a longer step."),
    "day": _l("A chart by day covers at most 2 years. Choose a shorter range or a longer step."),
    "month": _l("A chart by month covers at most 10 years. Choose a shorter range."),
}
UNIT_CODES = {"electricity": "kwh", "heat": "gcal", "hot_water": "m3"}
ESTIMATES = ("average", "normative")
TOP_DAYS = 5
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
HOUR_TEXTS = tuple(f"{hour:02d}:00:00" for hour in range(24))
HOUR_MINUTES = tuple(hour * 60 for hour in range(24))
KOPECK = Decimal("0.01")
MILLI = Decimal(1000)
# Wh of one zone as (T1, T2, T3), by the zone's index.
IN_ZONE = (lambda wh: (wh, 0, 0), lambda wh: (0, wh, 0), lambda wh: (0, 0, wh))
ZERO_ZONES = (0,) * 25  # the zone of every hour of a day (25 on a clock change) of a single-zone meter


# A point before it is put in the asked unit: (local start as ISO text with offset, or None for a
# compared point with no counterpart; its first and last local day, for the tariff; Wh per zone as
# (T1, T2, T3), a zone None when unknown, or None for no data; quality). A plain tuple on purpose:
# the garbage collector stops tracking plain tuples of plain values, never a tuple subclass, and the
# 8,760 points of a year by hour would each be carried into the oldest generation and make it run
# (100 ms a time in a loaded app).
START, FIRST_DAY, LAST_DAY, WH, QUALITY = range(5)
NO_COUNTERPART = (None, None, None, None, "missing")


@dataclass(frozen=True)
class Scope:
    """What one chart reads: the meter, its account (the tariffs), the local time zone, the clock."""

    account: Account
    meter: Meter
    step: str
    tz: ZoneInfo
    now: datetime
    minutes: int  # the meter's interval length
    window: policy.Window

    def midnight(self, day: date) -> datetime:
        return datetime.combine(day, time(), self.tz).astimezone(timezone.utc)

    def local(self, moment: datetime) -> str:
        return moment.astimezone(self.tz).isoformat()

    def expected(self, start: datetime, end: datetime) -> int:
        """Intervals that should be stored between two moments: only those already over count."""
        span = (min(end, self.now) - start).total_seconds()
        return max(0, int(span // (self.minutes * 60)))


# ---- the request ------------------------------------------------------------------------------------------

def parse_day(text: str | None, field: str) -> date:
    try:
        return date.fromisoformat((text or "").strip())
    except ValueError:
        raise InvalidInput(_l("Write the date as YYYY-MM-DD, for example 2026-11-01."), field=field) from None


def series(user, account_id: int, meter_id: int, start: date, end: date, step: str, compare: str | None = None,
           unit: str = "kwh", *, now: datetime | None = None, caps: Mapping[str, int] = CAPS) -> dict:
    """The chart of a meter over local days `start`..`end` (inclusive), JSON-ready (see the README).
    `now` is the clock the completeness of recent points is judged by; `caps` the longest range of
    each step (the benchmark lifts the hour's to time a whole year)."""
    _check(step, compare, unit)
    if start > end:
        raise InvalidInput(_l("The start of the range is after its end."), field="from")
    if (end - start).days + 1 > caps[step]:
        raise InvalidInput(CAP_MESSAGES[step], field="to")
    account, meter = authorize(user, account_id, meter_id)
    if not meter.askue and step != "month":
        raise InvalidInput(_l("This meter is not on ASKUE: its consumption is known by month, from the readings."),
                           field="step")
    window = policy.account_window(user, account)
    first, last = _clip(window, start, end)
    if first > last:
        raise InvalidInput(_l("This range lies outside the part of the account's history available to you."),
                           field="from")
    as_of, minutes = latest_interval(meter.id) if meter.askue else (None, 30)
    scope = Scope(account, meter, step, ZoneInfo(current_app.config["TIMEZONE"]), now or utcnow(), minutes, window)
    render = _Renderer(scope, unit)
    if render.prices is not None:
        render.prices.check(first)
    raws, peak, top = _read(scope, first, last, with_extremes=True)
    points, totals = render.points(raws)
    clipped = (first, last) != (start, end)
    notes = []
    if clipped:
        notes.append(str(_l("The range is cut to the part of the account's history available to you.")))
    if unit == "rub":
        notes.append(str(_l("Rubles are an estimate: consumption at the tariff in force on each day, "
                            "before VAT and penalties as the tariff tables hold them.")))
    return {
        "account_id": account.id,
        "meter": {"id": meter.id, "serial": meter.serial, "model": meter.model, "resource": meter.resource,
                  "zones": meter.zones, "askue": meter.askue},
        "step": step,
        "unit": "rub" if unit == "rub" else UNIT_CODES.get(meter.resource, "kwh"),
        "from": first.isoformat(),
        "to": last.isoformat(),
        "clipped_from": {"from": start.isoformat(), "to": end.isoformat()} if clipped else None,
        "zones": [{"code": code, "name": str(name)} for code, name in ZONE_LABELS[meter.zones].items()],
        "as_of": scope.local(as_of) if as_of else None,
        "points": points,
        "totals": totals,
        "peak": render.extreme(peak),
        "top_days": [{"day": raw[FIRST_DAY].isoformat(), "total": render.extreme(raw)["total"]} for raw in top],
        "compare": _compare(scope, render, compare, first, last, raws) if compare else None,
        "notes": notes,
    }


def _check(step: str, compare: str | None, unit: str) -> None:
    if step not in STEPS:
        raise InvalidInput(_l("Choose the step: interval, hour, day or month."), field="step")
    if compare is not None and compare not in COMPARES:
        raise InvalidInput(_l("Compare with prev_year or prev_period, or leave it out."), field="compare")
    if unit not in UNITS:
        raise InvalidInput(_l("Choose the unit: kwh or rub."), field="unit")


def authorize(user, account_id: int, meter_id: int) -> tuple[Account, Meter]:
    """The account if the user may see it (someone else's answers like a missing one, and is
    audited), and the meter if it is on that account."""
    account = accounts.get_for(user, account_id)
    meter = db.session.scalar(select(Meter).join(Premises).where(Meter.id == meter_id,
                                                                 Premises.account_id == account.id))
    if meter is None:
        if db.session.get(Meter, meter_id) is not None:
            audit.record("access.denied", actor=user, object_type="meter", object_id=meter_id, outcome="denied",
                         details={"account_id": account.id}, commit=True)
        raise NotFound(_l("There is no such meter on this account."), field="meter")
    return account, meter


def _clip(window: policy.Window, start: date, end: date) -> tuple[date, date]:
    """The days of the range the user may see (a window's end is the first day it does not cover)."""
    first = max(start, window.start) if window.start else start
    last = min(end, window.end - DAY) if window.end else end
    return first, last


def _read(scope: Scope, first: date, last: date, with_extremes: bool = False):
    """The points of a range, and (when asked) its peak and top days."""
    if not scope.meter.askue:
        return _reading_points(scope, first, last), None, []
    reader = {"interval": _interval_points, "hour": _hour_points, "day": _day_points,
              "month": _month_points}[scope.step]
    return reader(scope, first, last, with_extremes)


def local_days(first: date, last: date):
    day = first
    while day <= last:
        yield day
        day += DAY


# ---- statements: one meter's rows by its primary key range ----------------------------------------------

_iv = interval_table.c
_sub = IntervalSubstitute.__table__.c
_kept = interval_table.alias("kept")
_valid = _iv.status.op("&")(int(Status.INVALID)) == 0
_raw_range = (_iv.meter_id == bindparam("meter"), _iv.channel == A_PLUS, _iv.start >= bindparam("start"),
              _iv.start < bindparam("end"), _valid)
INTERVALS = select(_iv.start, _iv.wh).where(*_raw_range)
# Live substitutes of the range where no valid raw value is. They are few (gaps the close filled), so
# they are read apart and added in: the big read stays a plain scan of the meter's raw rows.
SUBSTITUTES = select(_sub.start, _sub.minutes, _sub.wh).where(
    _sub.meter_id == bindparam("meter"), _sub.channel == A_PLUS, _sub.start >= bindparam("start"),
    _sub.start < bindparam("end"), _sub.superseded_at.is_(None),
    ~exists().where(_kept.c.meter_id == _sub.meter_id, _kept.c.channel == _sub.channel, _kept.c.start == _sub.start,
                    _kept.c.status.op("&")(int(Status.INVALID)) == 0))


def _hours_statement(dialect: str):
    """Each valid raw value of the range with the index of its hour from the range's first local
    midnight (local hours, whatever the offset). PostgreSQL hands them over as three arrays in one
    row: a year is 8,760 hours or more, and row objects by the thousand cost more than the query (and
    wake the garbage collector). The hours are summed by the caller: measured on a year of one meter,
    a GROUP BY costs the database more (5 ms) than the additions cost Python (2 ms), and with hourly
    intervals it groups nothing. date_part gives a float, cheaper than EXTRACT's numeric."""
    if dialect == "postgresql":
        seconds = func.date_part("epoch", _iv.start, type_=Float)
        hour = cast(func.floor((seconds - bindparam("origin", type_=BigInteger)) / literal(3600.0, Float)), Integer)
        return select(func.array_agg(hour), func.array_agg(_iv.wh), func.array_agg(_iv.minutes)).where(*_raw_range)
    hour = (cast(func.strftime("%s", _iv.start), Integer) - bindparam("origin", type_=BigInteger)) // 3600
    return select(hour, _iv.wh, _iv.minutes).where(*_raw_range)


HOURS = {"postgresql": _hours_statement("postgresql"), "sqlite": _hours_statement("sqlite")}


def _hour_sums(scope: Scope, origin: datetime, stop: datetime) -> tuple[list, list, list]:
    """Wh, minutes stored and substitutes of each hour from `origin`, by index; Wh None for no data."""
    dialect = "postgresql" if db.session.get_bind().dialect.name == "postgresql" else "sqlite"
    params = {"meter": scope.meter.id, "start": origin, "end": stop, "origin": int(origin.timestamp())}
    if dialect == "postgresql":
        columns = db.session.execute(HOURS[dialect], params).one()
    else:
        columns = tuple(zip(*db.session.execute(HOURS[dialect], params).all())) or (None,)
    count = (stop - origin) // HOUR
    whs, minutes, subs = [None] * count, [0] * count, [0] * count
    if columns[0] is not None:
        for hour, wh, length in zip(*columns):
            found = whs[hour]
            whs[hour] = wh if found is None else found + wh
            minutes[hour] += length
    for start, length, wh in db.session.execute(SUBSTITUTES, params).all():
        hour = (start - origin) // HOUR
        whs[hour] = (whs[hour] or 0) + wh
        minutes[hour] += length
        subs[hour] += 1
    return whs, minutes, subs


LATEST = (select(_iv.start, _iv.minutes).where(_iv.meter_id == bindparam("meter"), _iv.channel == A_PLUS)
          .order_by(_iv.start.desc()).limit(1))
_day = IntervalDay.__table__.c
_month = IntervalMonth.__table__.c
DAYS = (select(_day.day, _day.t1, _day.t2, _day.t3, _day.intervals, _day.substituted)
        .where(_day.meter_id == bindparam("meter"), _day.channel == A_PLUS, _day.day >= bindparam("first"),
               _day.day <= bindparam("last")).order_by(_day.day))
MONTHS = (select(_month.month, _month.t1, _month.t2, _month.t3, _month.intervals, _month.substituted)
          .where(_month.meter_id == bindparam("meter"), _month.channel == A_PLUS,
                 _month.month >= bindparam("first"), _month.month <= bindparam("last")).order_by(_month.month))
TOP = (select(_day.day, _day.t1, _day.t2, _day.t3)
       .where(_day.meter_id == bindparam("meter"), _day.channel == A_PLUS, _day.day >= bindparam("first"),
              _day.day <= bindparam("last"), _day.intervals > 0)
       .order_by((_day.t1 + _day.t2 + _day.t3).desc(), _day.day).limit(TOP_DAYS))


def latest_interval(meter_id: int) -> tuple[datetime | None, int]:
    """The end of the newest interval stored for the meter ("data as of"), and its interval length."""
    row = db.session.execute(LATEST, {"meter": meter_id}).first()
    if row is None:
        return None, 30
    return row.start + timedelta(minutes=row.minutes), row.minutes


def quality_of(present: int, expected: int, substituted: int) -> str:
    if not present:
        return "missing"
    if present < expected:
        return "partial"
    return "substituted" if substituted else "measured"


class _Zones:
    """The tariff zone (0-based) of local times for a meter with 2 or 3 zones. The zone hours change
    only on the dates their rows take effect, so the zones of a day's hours are worked out once per
    schedule rather than once per day."""

    def __init__(self, scope: Scope):
        rows = [tuple(row) for row in db.session.execute(select(
            ZoneHours.zones, ZoneHours.zone, ZoneHours.starts, ZoneHours.ends, ZoneHours.valid_from))]
        self.calendar = ZoneCalendar(rows, scope.tz)
        self.zones = scope.meter.zones
        self.changes = sorted({row[4] for row in rows if row[0] == self.zones})
        self.cache: dict[tuple, list[int]] = {}

    @classmethod
    def of(cls, scope: Scope) -> "_Zones | None":
        return cls(scope) if scope.meter.zones > 1 else None

    def at(self, day: date, minute: int) -> int:
        return self.calendar.zone_at(self.zones, day, minute) - 1

    def of_hours(self, day: date, minutes: tuple[int, ...]) -> list[int]:
        key = (bisect_right(self.changes, day), minutes)
        found = self.cache.get(key)
        if found is None:
            found = self.cache[key] = [self.at(day, minute) for minute in minutes]
        return found


def _hours_of(scope: Scope, start: datetime, end: datetime) -> tuple[list[str], tuple[int, ...]]:
    """The local starts (ISO) and minutes of the day of the hours of a local day. A day without a
    clock change is its midnight's date and offset around 24 fixed texts; a day with one (23 or 25
    hours) is worked out hour by hour."""
    head = scope.local(start)
    if end - start == DAY and scope.local(end)[19:] == head[19:]:
        prefix = head[:11]
        return [prefix + text for text in _hour_texts(head[19:])], HOUR_MINUTES
    locals_ = [(start + HOUR * n).astimezone(scope.tz) for n in range((end - start) // HOUR)]
    return [moment.isoformat() for moment in locals_], tuple(m.hour * 60 + m.minute for m in locals_)


@lru_cache(maxsize=64)
def _hour_texts(offset: str) -> tuple[str, ...]:
    """"00:00:00+03:00" ... "23:00:00+03:00": the time part of the hours of a day at an offset."""
    return tuple(text + offset for text in HOUR_TEXTS)


# ---- interval and hour points -------------------------------------------------------------------------------

def _interval_points(scope: Scope, first: date, last: date, with_extremes: bool):
    origin, stop = scope.midnight(first), scope.midnight(last + DAY)
    step = timedelta(minutes=scope.minutes)
    params = {"meter": scope.meter.id, "start": origin, "end": stop}
    found = {(start - origin) // step: (wh, 0) for start, wh in db.session.execute(INTERVALS, params).all()}
    found.update({(start - origin) // step: (wh, 1) for start, _, wh in db.session.execute(SUBSTITUTES, params).all()})
    zones = _Zones.of(scope)
    raws, hours = [], {}
    for index in range((stop - origin) // step):
        local = (origin + step * index).astimezone(scope.tz)
        day = local.date()
        value = found.get(index)
        if value is None:
            raws.append((local.isoformat(), day, day, None, "missing"))
            continue
        wh, sub = value
        split = IN_ZONE[zones.at(day, local.hour * 60 + local.minute) if zones else 0](wh)
        raws.append((local.isoformat(), day, day, split, "substituted" if sub else "measured"))
        hour = local.replace(minute=0)
        hours[hour] = tuple(a + b for a, b in zip(hours.get(hour, (0, 0, 0)), split))
    if not with_extremes:
        return raws, None, []
    peak = None
    if hours:
        hour, split = max(hours.items(), key=lambda item: (sum(item[1]), -item[0].timestamp()))
        peak = (hour.isoformat(), hour.date(), hour.date(), split, "measured")
    return raws, peak, _top_days(scope, first, last)


def _hour_points(scope: Scope, first: date, last: date, with_extremes: bool):
    """Hour by hour of each local day. A year of hours is 8,760 points, so the loop is kept lean: the
    texts of a day's hours are made once, the zones once per schedule, and a day whose hours are all
    over takes the short way."""
    origin = scope.midnight(first)
    whs, minutes_stored, subs = _hour_sums(scope, origin, scope.midnight(last + DAY))
    zones = _Zones.of(scope)
    over = (scope.now - origin) // HOUR  # hours before this index are over: all their intervals are due
    raws = []
    append = raws.append
    index = 0
    start = origin
    for day in local_days(first, last):
        end = scope.midnight(day + DAY)
        texts, minutes = _hours_of(scope, start, end)
        stop = index + len(texts)
        # Zone hours change on the hour, so an hour lies in one zone: the zone of its start.
        hour_zones = zones.of_hours(day, minutes) if zones else ZERO_ZONES
        if stop <= over:
            for text, wh, present, substituted, zone in zip(texts, whs[index:stop], minutes_stored[index:stop],
                                                           subs[index:stop], hour_zones):
                if wh is None:
                    append((text, day, day, None, "missing"))
                else:
                    append((text, day, day, (wh, 0, 0) if zone == 0 else (0, wh, 0) if zone == 1 else (0, 0, wh),
                            "partial" if present < 60 else "substituted" if substituted else "measured"))
        else:
            for n, text in enumerate(texts):
                wh = whs[index + n]
                if wh is None:
                    append((text, day, day, None, "missing"))
                    continue
                expected = scope.expected(start + HOUR * n, start + HOUR * (n + 1)) * scope.minutes
                append((text, day, day, IN_ZONE[hour_zones[n]](wh),
                        quality_of(minutes_stored[index + n], expected, subs[index + n])))
        index, start = stop, end
    if not with_extremes:
        return raws, None, []
    # The points are the hours in order, so the peak hour's index is the peak point's.
    filled = [-1 if wh is None else wh for wh in whs]
    peak = raws[max(range(len(filled)), key=filled.__getitem__)] if any(wh is not None for wh in whs) else None
    return raws, peak, _top_days(scope, first, last)


# ---- day and month points, from the sums ------------------------------------------------------------------

def _day_points(scope: Scope, first: date, last: date, with_extremes: bool):
    rows = {row[0]: row for row in db.session.execute(DAYS, {"meter": scope.meter.id, "first": first,
                                                             "last": last}).all()}
    raws = []
    start = scope.midnight(first)
    for day in local_days(first, last):
        end = scope.midnight(day + DAY)
        row = rows.get(day)
        if row is None or not row.intervals:
            raws.append((scope.local(start), day, day, None, "missing"))
        else:
            raws.append((scope.local(start), day, day, (row.t1, row.t2, row.t3),
                         quality_of(row.intervals, scope.expected(start, end), row.substituted)))
        start = end
    if not with_extremes:
        return raws, None, []
    top = sorted((r for r in raws if r[WH] is not None), key=lambda r: (-sum(r[WH]), r[FIRST_DAY]))[:TOP_DAYS]
    return raws, (top[0] if top else None), top


def _month_points(scope: Scope, first: date, last: date, with_extremes: bool):
    """Whole months from interval_month; a month the range cuts (or the access window does) is
    summed from its days, so a month point never holds a day outside the range."""
    months = {row[0]: row for row in db.session.execute(MONTHS, {"meter": scope.meter.id,
                                                                 "first": first.replace(day=1), "last": last}).all()}
    raws = []
    month = first.replace(day=1)
    while month <= last:
        begin, end = max(month, first), min(last_day(month), last)
        start, stop = scope.midnight(begin), scope.midnight(end + DAY)
        if (begin, end) == (month, last_day(month)):
            row = months.get(month)
            sums = tuple(row[1:]) if row is not None else None
        else:
            sums = _days_summed(scope.meter.id, begin, end)
        if sums is None or not sums[3]:
            raws.append((scope.local(start), begin, end, None, "missing"))
        else:
            raws.append((scope.local(start), begin, end, sums[:3],
                         quality_of(sums[3], scope.expected(start, stop), sums[4])))
        month = next_period(month)
    if not with_extremes:
        return raws, None, []
    top = _top_days(scope, first, last)
    return raws, (top[0] if top else None), top


def _days_summed(meter_id: int, first: date, last: date) -> tuple | None:
    """(T1, T2, T3, intervals, substituted) of some days, or None when none has a row."""
    rows = db.session.execute(DAYS, {"meter": meter_id, "first": first, "last": last}).all()
    if not rows:
        return None
    return tuple(sum(row[i] for row in rows) for i in range(1, 6))


def _top_days(scope: Scope, first: date, last: date) -> list[tuple]:
    return [(scope.local(scope.midnight(day)), day, day, (t1, t2, t3), "measured")
            for day, t1, t2, t3 in db.session.execute(TOP, {"meter": scope.meter.id, "first": first,
                                                            "last": last}).all()]


# ---- months from readings (meters without ASKUE) -------------------------------------------------------------

def _reading_points(scope: Scope, first: date, last: date) -> list[tuple]:
    """A month's consumption is its reading minus the previous one. A difference over several months
    (months without a reading between two readings) is spread over them by days, as the bill
    recalculates it, and those months are "estimated"; months after the last reading that were billed
    by an estimate show that estimate."""
    known = _measured_months(scope.meter)
    after = max(known, default=date.min)
    for period, by_zone in _estimates(scope.meter.id, after, last).items():
        known[period] = (tuple(by_zone.get(zone) for zone in ("T1", "T2", "T3")), "estimated")
    raws = []
    month = first.replace(day=1)
    while month <= last:
        start = scope.local(scope.midnight(month))
        # A month counts for the user only if their access window covers its bill (as the bills do).
        value = known.get(month) if scope.window.covers_period(month) else None
        if value is None:
            raws.append((start, month, last_day(month), None, "missing"))
        else:
            raws.append((start, month, last_day(month), value[0], value[1]))
        month = next_period(month)
    return raws


def _measured_months(meter: Meter) -> dict[date, tuple[tuple, str]]:
    readings = db.session.execute(
        select(MeterReading.period, MeterReading.t1, MeterReading.t2, MeterReading.t3)
        .where(MeterReading.meter_id == meter.id, MeterReading.is_current,
               MeterReading.status.in_(("accepted", "billed")))
        .order_by(MeterReading.period)).all()
    known: dict[date, tuple[tuple, str]] = {}
    for previous, current in zip(readings, readings[1:]):
        try:
            used = [round(consumption.delta(previous[n], current[n], meter.rollover) * MILLI)
                    for n in range(1, meter.zones + 1)]
        except (ValueError, TypeError):
            continue  # lower without a rollover (a replaced counter): nothing to say about these months
        months = []
        month = next_period(previous.period)
        while month <= current.period:
            months.append(month)
            month = next_period(month)
        if len(months) == 1:
            known[months[0]] = (_pad(used), "measured")
            continue
        total_days = sum(days_in(m) for m in months)
        given = [0] * len(used)
        for month in months[:-1]:
            share = [round(u * days_in(month) / total_days) for u in used]
            given = [g + s for g, s in zip(given, share)]
            known[month] = (_pad(share), "estimated")
        known[months[-1]] = (_pad([u - g for u, g in zip(used, given)]), "estimated")
    return known


def _estimates(meter_id: int, after: date, last: date) -> dict[date, dict[str, int]]:
    """The quantities billed by estimate (average, normative) per period and zone, in thousandths."""
    found: dict[date, dict[str, int]] = {}
    for period, zone, quantity in db.session.execute(
            select(Accrual.period, Accrual.zone, func.sum(Accrual.quantity))
            .where(Accrual.meter_id == meter_id, Accrual.basis.in_(ESTIMATES), Accrual.period > after,
                   Accrual.period <= last).group_by(Accrual.period, Accrual.zone)):
        found.setdefault(period, {})[zone] = round(Decimal(str(quantity)) * MILLI)
    return found


def _pad(values: list[int]) -> tuple:
    return tuple(values) + (0,) * (3 - len(values))


# ---- comparison ----------------------------------------------------------------------------------------------

def _compare(scope: Scope, render: "_Renderer", kind: str, first: date, last: date, raws: list[tuple]) -> dict:
    """The same chart for the range a year earlier or the one right before, aligned with the main
    points: compare[i] is the point that corresponds to points[i], empty when there is none (29
    February a year earlier, or a day outside the user's access window)."""
    months = (last.year - first.year) * 12 + last.month - first.month + 1
    shift_months = 12 if kind == "prev_year" else months
    shift_days = timedelta(days=(last - first).days + 1)
    if scope.step == "month":
        start, end = _add_months(first, -shift_months), _add_months(last, -shift_months, keep_month_end=True)
    elif kind == "prev_year":
        start, end = _year_before(first), _year_before(last)
    else:
        start, end = first - shift_days, first - DAY
    shown_start, shown_end = _clip(scope.window, start, end)
    earlier = _read(scope, shown_start, shown_end)[0] if shown_start <= shown_end else []
    by_key = {_key(scope, raw[START]): raw for raw in earlier}
    aligned = []
    for raw in raws:
        local = datetime.fromisoformat(raw[START][:19])
        if scope.step == "month":
            wanted = _key(scope, _add_months(local.date().replace(day=1), -shift_months).isoformat())
        elif kind == "prev_year":
            wanted = _year_before(local, exact=True)
        else:
            wanted = local - shift_days
        aligned.append(by_key.get(wanted, NO_COUNTERPART))
    points, totals = render.points(aligned)
    return {"kind": kind, "from": start.isoformat(), "to": end.isoformat(),
            "clipped_from": None if (shown_start, shown_end) == (start, end) else
            {"from": start.isoformat(), "to": end.isoformat()}, "points": points, "totals": totals}


def _key(scope: Scope, start: str):
    """What a compared point is found by: its local month for months, its local start otherwise."""
    return start[:7] if scope.step == "month" else datetime.fromisoformat(start[:19])


def _year_before(value, exact: bool = False):
    """The same day a year earlier; 29 February becomes the 28th, or None when `exact`."""
    try:
        return value.replace(year=value.year - 1)
    except ValueError:
        return None if exact else value.replace(year=value.year - 1, day=28)


def _add_months(day: date, months: int, keep_month_end: bool = False) -> date:
    index = day.year * 12 + day.month - 1 + months
    month = date(index // 12, index % 12 + 1, 1)
    if keep_month_end and day == last_day(day.replace(day=1)):
        return last_day(month)
    return month.replace(day=min(day.day, days_in(month)))


# ---- rendering -----------------------------------------------------------------------------------------------

class _Renderer:
    """Points in the asked unit: the zones of 2- and 3-zone meters, the total, the quality. Energy is
    added up in whole Wh and divided once, so that 0.1 + 0.2 stays 0.3."""

    def __init__(self, scope: Scope, unit: str):
        self.names = scope.meter.zone_names if scope.meter.zones > 1 else []
        self.count = scope.meter.zones
        self.prices = _Prices(scope.account, scope.meter) if unit == "rub" else None
        self.zero = 0 if self.prices is None else Decimal(0)
        # Only months from readings can leave a zone unknown (a normative is billed in T1 alone).
        self.whole_zones = scope.meter.askue

    def values(self, raw: tuple) -> tuple:
        """The zone values of a point with data: Wh (ints), or rubles (Decimals); None where unknown."""
        wh = raw[WH][:self.count]
        return wh if self.prices is None else self.prices.amounts(raw[FIRST_DAY], raw[LAST_DAY], wh)

    def number(self, value):
        if value is None:
            return None
        return value / 1000 if self.prices is None else float(value)

    def points(self, raws: list[tuple]) -> tuple[list[dict], dict]:
        if self.prices is None and (self.whole_zones or not any(raw[WH] and None in raw[WH] for raw in raws)):
            return self._energy_points(raws)
        names, number, zero = self.names, self.number, self.zero
        sums = [zero] * self.count
        points = []
        for raw in raws:
            start, wh, quality = raw[START], raw[WH], raw[QUALITY]
            if wh is None:
                point = {"start": start, "total": None}
                for name in names:
                    point[name] = None
            else:
                values = self.values(raw)
                if None in values:  # a zone an estimate does not tell
                    point = {"start": start, "total": number(sum((v for v in values if v is not None), zero))}
                    values = tuple(zero if v is None else v for v in values)
                else:
                    point = {"start": start, "total": number(sum(values, zero))}
                for name, value in zip(names, values):
                    point[name] = number(value)
                sums = [s + v for s, v in zip(sums, values)]
            point["quality"] = quality
            points.append(point)
        totals = {"total": number(sum(sums, zero))}
        for name, value in zip(names, sums):
            totals[name] = number(value)
        return points, totals

    def _energy_points(self, raws: list[tuple]) -> tuple[list[dict], dict]:
        """The common case, kWh with every zone known, kept lean: a year by hour is 8,760 points."""
        names = list(enumerate(self.names))
        blank = {name: None for name in self.names}
        t1 = t2 = t3 = 0
        points = []
        append = points.append
        for start, _, _, wh, quality in raws:
            if wh is None:
                append({"start": start, "total": None, **blank, "quality": quality})
                continue
            point = {"start": start, "total": (wh[0] + wh[1] + wh[2]) / 1000}
            for n, name in names:
                point[name] = wh[n] / 1000
            point["quality"] = quality
            append(point)
            t1, t2, t3 = t1 + wh[0], t2 + wh[1], t3 + wh[2]
        totals = {"total": (t1 + t2 + t3) / 1000}
        for n, name in names:
            totals[name] = (t1, t2, t3)[n] / 1000
        return points, totals

    def extreme(self, raw: tuple | None) -> dict | None:
        """A peak or a top day: its start and total in the asked unit."""
        if raw is None:
            return None
        total = sum((v for v in self.values(raw) if v is not None), self.zero)
        return {"start": raw[START], "total": self.number(total)}


class _Prices:
    """The account's tariffs for the meter's resource and zone count, by day."""

    def __init__(self, account: Account, meter: Meter):
        self.rows = tariffs.tariffs_for(account.region, account.category, meter.resource, meter.zones)
        self.starts = [t.valid_from for t in self.rows]

    def check(self, day: date) -> None:
        """Refuse a range that starts before the first tariff, rather than show it as free."""
        self._at(day)

    def _at(self, day: date) -> int:
        index = bisect_right(self.starts, day) - 1
        if index < 0:
            raise InvalidInput(_l("There is no tariff for this meter on %(day)s, so the cost cannot be shown.",
                                  day=format_date(day)), field="unit")
        return index

    def amounts(self, first: date, last: date, wh) -> tuple:
        """Rubles per zone; a point that spans a tariff change is split by days, like the bill."""
        days = (last - first).days + 1
        parts = []  # (tariff, days of the point under it)
        day = first
        while day <= last:
            index = self._at(day)
            until = min(last, self.starts[index + 1] - DAY) if index + 1 < len(self.rows) else last
            parts.append((self.rows[index], (until - day).days + 1))
            day = until + DAY
        amounts = []
        for zone, value in zip(("T1", "T2", "T3"), wh):
            if value is None:
                amounts.append(None)
                continue
            total = Decimal(0)
            for tariff, covered in parts:
                price = tariff.price(zone)
                if price is None:
                    raise InvalidInput(_l("There is no tariff for this meter on %(day)s, so the cost cannot "
                                          "be shown.", day=format_date(first)), field="unit")
                total += Decimal(value) / MILLI * covered / days * price
            amounts.append(total.quantize(KOPECK, rounding=ROUND_HALF_UP))
        return tuple(amounts)
