"""Filling the gaps of a month of interval data by the substitution rules (ПП 442, ПП 354).

Gaps are the intervals of the local month with no raw value, or with one validation refused; a
substitute is written beside the raw table (never over it) and names the rule and version that made
it. Which rule applies comes from the `substitution_rule` table by the customer's kind, the number of
periods in a row without data, and the date, so a change in the regulation is a new row, not new code:
- same_period_last_year: the value of the same interval a year earlier, else the same time of day on
  the nearest day with data (ПП 442, the 1st and 2nd period without data);
- max_power_hours: the permitted power over the interval (ПП 442, from the 3rd period);
- average_daily: the average of the same time of day over the previous three months (ПП 354).
A raw value that arrives later supersedes the substitute (see askue_storage).
"""
from collections import defaultdict
from datetime import date, datetime, time, timedelta, timezone
from statistics import mean

from flask import current_app
from sqlalchemy import or_, select
from zoneinfo import ZoneInfo

from app.extensions import db
from app.models import AskuePoint, IntervalMonth, IntervalSubstitute, Meter, SubstitutionRule, interval_table
from app.services import askue_storage
from app.services.interval_zones import ZoneCalendar, load_calendar
from app.services.periods import next_period
from askue.series import CHANNELS, Status

A_PLUS = CHANNELS["A+"]
LOOKBACK_DAYS = 92


def substitute_period(period: date) -> dict[str, int]:
    """Fill the gaps of every ASKUE meter's month; returns counts of meters and substitutes."""
    calendar = load_calendar()
    counts = {"meters": 0, "substituted": 0, "unfilled": 0}
    points = db.session.scalars(select(AskuePoint).join(Meter).where(Meter.askue, Meter.removed_on.is_(None))
                                .order_by(AskuePoint.id)).all()
    for point in points:
        made, left = substitute_month(point, period, calendar)
        counts["meters"] += bool(made)
        counts["substituted"] += made
        counts["unfilled"] += left
        db.session.commit()
    return counts


def month_bounds(period: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.combine(period.replace(day=1), time(), tz).astimezone(timezone.utc)
    end = datetime.combine(next_period(period.replace(day=1)), time(), tz).astimezone(timezone.utc)
    return start, end


def substitute_month(point: AskuePoint, period: date, calendar: ZoneCalendar | None = None) -> tuple[int, int]:
    """(substitutes written, gaps left unfilled) for a point's A+ channel in a local month."""
    calendar = calendar or load_calendar()
    tz = ZoneInfo(current_app.config["TIMEZONE"])
    meter = point.meter
    start, end = month_bounds(period, tz)
    installed = datetime.combine(meter.installed_on, time(), tz).astimezone(timezone.utc)
    start = max(start, installed)
    if start >= end:
        return 0, 0
    raw = _raw_values(point.meter_id, start - timedelta(days=366 + LOOKBACK_DAYS), end)
    minutes = _interval_length(raw)
    step = timedelta(minutes=minutes)
    live = set(db.session.scalars(select(IntervalSubstitute.start).where(
        IntervalSubstitute.meter_id == point.meter_id, IntervalSubstitute.channel == A_PLUS,
        IntervalSubstitute.superseded_at.is_(None), IntervalSubstitute.start >= start, IntervalSubstitute.start < end)))
    live = {s.astimezone(timezone.utc) for s in live}
    slot = start - timedelta(minutes=(start.minute % minutes))
    gaps = []
    while slot < end:
        if slot not in live and slot not in raw:
            gaps.append(slot)
        slot += step
    if not gaps:
        return 0, 0
    rule = applicable_rule(meter, period)
    if rule is None:
        return 0, len(gaps)
    method = METHODS[rule.method]
    values = [(gap, wh) for gap in gaps if (wh := method(gap, raw, point, minutes, tz)) is not None]
    ref = askue_storage.PointRef.of(point)
    made = askue_storage.add_substitutes(ref, "A+", minutes, values, f"{rule.code}@{rule.version}", calendar)
    return made, len(gaps) - made


def applicable_rule(meter: Meter, period: date) -> SubstitutionRule | None:
    kind = "household" if meter.premises.kind == "residential" else "non_residential"
    run = periods_without_data(meter.id, period)
    return db.session.scalar(
        select(SubstitutionRule).where(
            SubstitutionRule.applies_to == kind, SubstitutionRule.valid_from <= period,
            SubstitutionRule.first_period <= run,
            or_(SubstitutionRule.last_period.is_(None), SubstitutionRule.last_period >= run))
        .order_by(SubstitutionRule.valid_from.desc(), SubstitutionRule.version.desc()).limit(1))


def periods_without_data(meter_id: int, period: date) -> int:
    """Which period in a row without complete data this one is: 1 when the month before had data."""
    complete = set(db.session.scalars(select(IntervalMonth.month).where(
        IntervalMonth.meter_id == meter_id, IntervalMonth.channel == A_PLUS,
        IntervalMonth.intervals > IntervalMonth.substituted, IntervalMonth.month < period)))
    run, month = 1, period
    for _ in range(24):
        month = (month - timedelta(days=1)).replace(day=1)
        if month in complete:
            break
        run += 1
    return run


def _raw_values(meter_id: int, start: datetime, end: datetime) -> dict[datetime, tuple[int, int]]:
    rows = db.session.execute(select(interval_table.c.start, interval_table.c.wh, interval_table.c.minutes,
                                     interval_table.c.status)
                              .where(interval_table.c.meter_id == meter_id, interval_table.c.channel == A_PLUS,
                                     interval_table.c.start >= start, interval_table.c.start < end))
    return {s.astimezone(timezone.utc): (wh, minutes) for s, wh, minutes, status in rows
            if not status & Status.INVALID}


def _interval_length(raw: dict) -> int:
    lengths = defaultdict(int)
    for _, minutes in raw.values():
        lengths[minutes] += 1
    return max(lengths, key=lengths.get) if lengths else 30


def _same_period_last_year(gap: datetime, raw: dict, point, minutes: int, tz: ZoneInfo) -> int | None:
    local = gap.astimezone(tz)
    try:
        year_ago = local.replace(year=local.year - 1).astimezone(timezone.utc)
    except ValueError:  # 29 February
        year_ago = None
    if year_ago in raw:
        return raw[year_ago][0]
    # The nearest day with a value at the same time of day, earlier first.
    for days in range(1, LOOKBACK_DAYS + 1):
        for sign in (-1, 1):
            moment = (local + timedelta(days=sign * days)).astimezone(timezone.utc)
            if moment in raw:
                return raw[moment][0]
    return None


def _max_power_hours(gap: datetime, raw: dict, point, minutes: int, tz: ZoneInfo) -> int | None:
    if point.pmax_kw is None:
        return None
    return int(float(point.pmax_kw) * 1000 * minutes / 60)


def _average_daily(gap: datetime, raw: dict, point, minutes: int, tz: ZoneInfo) -> int | None:
    local = gap.astimezone(tz)
    same_time = [raw[m][0] for days in range(1, LOOKBACK_DAYS + 1)
                 if (m := (local - timedelta(days=days)).astimezone(timezone.utc)) in raw]
    return round(mean(same_time)) if same_time else None


METHODS = {"same_period_last_year": _same_period_last_year, "max_power_hours": _max_power_hours,
           "average_daily": _average_daily}

