"""Meter readings: the customer's submission with its checks, staff entry, and corrections.

A reading belongs to a billing period. Customers submit in the company's window; a reading sent
outside it is kept for the next period, and the answer says so. A correction replaces the current
reading of the period until that period is billed.
"""
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from flask import current_app
from flask_babel import format_date
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app import policy
from app.extensions import db
from app.models import Account, BillingPeriod, Meter, MeterReading, Premises, User
from app.services import audit, consumption
from app.services.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.services.periods import local_today, next_period, period_of

MAX_DECIMALS = 3


class NeedsConfirmation(InvalidInput):
    """The reading is possible but far above the usual: the customer confirms it or fixes a typo."""

    code = "needs-confirmation"


@dataclass
class Submitted:
    reading: MeterReading
    period: date
    outside_window: bool  # sent outside the window: the message names the period it counts for
    corrected: bool  # replaced an earlier reading of the same period


def meters_of(account: Account) -> list[Meter]:
    return list(db.session.scalars(
        select(Meter).join(Premises).where(Premises.account_id == account.id, Meter.removed_on.is_(None))
        .order_by(Meter.id)))


def meter_for(user: User, meter_id: int) -> Meter:
    """A meter the user may read: on one of their accounts, or any for staff who enter readings."""
    meter = db.session.get(Meter, meter_id)
    if meter is None or not policy.can_view_account(user, meter.premises.account):
        if meter is not None:
            audit.record("access.denied", actor=user, obj=meter, outcome="denied", commit=True)
        raise NotFound(_l("No such meter on your accounts."))
    return meter


def parse_values(meter: Meter, raw: dict[str, str]) -> dict[str, Decimal]:
    """One value per zone of the meter; each a non-negative number within the counter's digits."""
    values = {}
    for zone in meter.zone_names:
        text = (raw.get(zone) or "").strip().replace(" ", "").replace("\u00a0", "").replace(",", ".")
        if not text:
            raise InvalidInput(_l("Enter the reading of zone %(zone)s.", zone=zone), field=zone)
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise InvalidInput(_l("Enter digits only, like 12345.6."), field=zone) from None
        if not value.is_finite() or value < 0:
            raise InvalidInput(_l("A reading cannot be negative."), field=zone)
        if -value.as_tuple().exponent > MAX_DECIMALS:
            raise InvalidInput(_l("At most %(n)d digits after the point.", n=MAX_DECIMALS), field=zone)
        if value >= meter.rollover:
            raise InvalidInput(_l("This meter shows at most %(n)d digits before the point.", n=meter.digits),
                               field=zone)
        values[zone] = value
    extra = set(k for k, v in raw.items() if v not in (None, "")) - set(meter.zone_names)
    if extra:
        raise InvalidInput(_l("This meter has %(n)d zone(s); remove the other values.", n=meter.zones))
    return values


def period_for(day: date) -> tuple[date, bool]:
    """The period a reading taken on `day` counts for, and whether it falls outside the window."""
    cfg = current_app.config
    first, last = cfg["READINGS_WINDOW_FIRST_DAY"], cfg["READINGS_WINDOW_LAST_DAY"]
    if day.day > last:
        return next_period(period_of(day)), True
    return period_of(day), day.day < first


def _neighbours(meter: Meter, period: date) -> tuple[MeterReading | None, MeterReading | None]:
    base = select(MeterReading).where(MeterReading.meter_id == meter.id, MeterReading.is_current)
    before = db.session.scalar(base.where(MeterReading.period < period).order_by(MeterReading.period.desc()).limit(1))
    after = db.session.scalar(base.where(MeterReading.period > period).order_by(MeterReading.period).limit(1))
    return before, after


def _history(meter: Meter, period: date) -> list[tuple[date, dict]]:
    rows = db.session.scalars(select(MeterReading).where(
        MeterReading.meter_id == meter.id, MeterReading.is_current, MeterReading.period < period)
        .order_by(MeterReading.period))
    return [(r.period, r.values()) for r in rows]


def _check_sequence(meter: Meter, period: date, values: dict, confirm_jump: bool) -> None:
    before, after = _neighbours(meter, period)
    if before is not None:
        for zone, value in values.items():
            previous = before.values()[zone]
            if value < previous and not consumption.is_rollover(previous, value, meter.rollover):
                raise InvalidInput(_l("The reading is lower than the previous one (%(prev)s on %(day)s). "
                                      "Check the digits.", prev=previous, day=format_date(before.taken_on)),
                                   field=zone)
    if after is not None:
        for zone, value in values.items():
            following = after.values()[zone]
            if value > following and not consumption.is_rollover(value, following, meter.rollover):
                raise InvalidInput(_l("The reading is higher than a later one (%(next)s on %(day)s).",
                                      next=following, day=format_date(after.taken_on)), field=zone)
    if before is None or confirm_jump:
        return
    cfg = current_app.config
    average = consumption.monthly_average(_history(meter, period), period, meter.rollover, cfg["AVERAGE_MONTHS"],
                                          cfg["AVERAGE_MONTHS_NEW_METER"], meter.installed_on)
    if not average:
        return
    used = sum(consumption.between(before.values(), values, meter.rollover).values(), Decimal(0))
    usual = sum(average.values(), Decimal(0))
    if usual > 0 and used > usual * cfg["READING_JUMP_FACTOR"]:
        raise NeedsConfirmation(_l("That is %(used)s, many times your usual %(usual)s a month. If the reading is "
                                   "right, confirm it; if not, correct the digits.", used=used, usual=usual))


def check_order(meter: Meter, period: date, values: dict) -> None:
    """Refuse values lower than the meter's previous reading or higher than a later one (a counter
    rollover aside), without the "unusually high" question: a fitter's reading is read off the meter."""
    _check_sequence(meter, period, values, confirm_jump=True)


def record(meter: Meter, period: date, taken_on: date, values: dict[str, Decimal], source: str,
           actor: User | None, confirm_jump: bool = False) -> Submitted:
    """Store a validated reading for a period, replacing the period's current one if not yet billed."""
    billing = db.session.get(BillingPeriod, period)
    if billing is not None and billing.status == "closed":
        raise Conflict(_l("The period %(period)s is closed; readings for it are no longer accepted.",
                          period=format_date(period, "LLLL yyyy")))
    _check_sequence(meter, period, values, confirm_jump)
    current = db.session.scalar(select(MeterReading).where(
        MeterReading.meter_id == meter.id, MeterReading.period == period, MeterReading.is_current))
    if current is not None and current.status == "billed":
        raise Conflict(_l("The reading for this period is already billed. To change it, file a complaint "
                          "about the accrual."))
    if current is not None:
        current.is_current, current.status = False, "replaced"
        db.session.flush()
    reading = MeterReading(meter=meter, period=period, taken_on=taken_on, source=source, status="accepted",
                           jump_confirmed=confirm_jump, submitted_by_id=getattr(actor, "id", None),
                           **{zone.lower(): value for zone, value in values.items()})
    db.session.add(reading)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise Conflict(_l("Another reading for this meter was saved at the same moment. Reload the page "
                          "and check it.")) from None
    audit.record("reading.submit", actor=actor, obj=reading,
                 details={"meter_id": meter.id, "period": period.isoformat(), "source": source,
                          "values": {k: str(v) for k, v in values.items()},
                          "replaced": current.id if current else None})
    db.session.commit()
    return Submitted(reading, period, False, current is not None)


def submit(user: User, meter_id: int, raw: dict[str, str], confirm_jump: bool = False,
           today: date | None = None) -> Submitted:
    """A customer's (or a staff member's) reading taken today, checked and placed in its period."""
    meter = meter_for(user, meter_id)
    if not policy.can_act_on_account(user, meter.premises.account):
        audit.record("access.denied", actor=user, obj=meter, outcome="denied", details={"reason": "transferred"},
                     commit=True)
        raise Forbidden(_l("The account has passed to a new owner: its readings are no longer yours to send."))
    if meter.removed_on is not None:
        raise InvalidInput(_l("This meter has been removed; submit the readings of the new one."))
    if meter.askue and not policy.is_staff(user):
        raise Forbidden(_l("This meter sends its readings automatically (ASKUE); they cannot be entered by hand."))
    values = parse_values(meter, raw)
    today = today or local_today()
    period, outside = period_for(today)
    result = record(meter, period, today, values, "staff" if policy.is_staff(user) else "customer", user,
                    confirm_jump)
    result.outside_window = outside
    return result


def _within(query, window: policy.Window | None):
    """Readings taken within the part of the account's history the viewer sees."""
    if window is not None and window.start is not None:
        query = query.where(MeterReading.taken_on >= window.start)
    if window is not None and window.end is not None:
        query = query.where(MeterReading.taken_on < window.end)
    return query


def last_readings(account: Account, window: policy.Window | None = None) -> dict[int, MeterReading]:
    """The latest current reading of each of the account's meters (within the window, if given)."""
    rows = db.session.scalars(_within(
        select(MeterReading).join(Meter).join(Premises)
        .where(Premises.account_id == account.id, MeterReading.is_current), window)
        .order_by(MeterReading.meter_id, MeterReading.period.desc()))
    latest: dict[int, MeterReading] = {}
    for row in rows:
        latest.setdefault(row.meter_id, row)
    return latest


def history_of(account: Account, limit: int = 36, window: policy.Window | None = None) -> list[MeterReading]:
    """The account's recent readings, newest first; replaced corrections are left out. With a window,
    only the readings taken within it (a previous owner's, or a new owner's since the transfer)."""
    return list(db.session.scalars(_within(
        select(MeterReading).join(Meter).join(Premises)
        .where(Premises.account_id == account.id, MeterReading.status != "replaced"), window)
        .order_by(MeterReading.period.desc(), MeterReading.meter_id).limit(limit)))
