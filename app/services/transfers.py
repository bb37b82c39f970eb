"""A change of the premises' owner (переоформление лицевого счёта): the account passes to the new
owner from the transfer date.

The new owner's access begins on the transfer date and the previous owner's ends on it (see
AccountAccess): the previous owner keeps a read-only view of the history before that day, the
representatives they appointed lose theirs, and the account is in the new owner's name. The readings on
the transfer date are written like any staff reading, and the previous owner's debt on that date is
what the ledger says about the days before it. Nothing here commits: a transfer is one step of a case
and commits with it.
"""
import re
from datetime import date, timedelta
from decimal import Decimal

from flask_babel import format_date
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.models import OWNER, Account, AccountAccess, BillingPeriod, Meter, MeterReading, User
from app.models.types import utcnow
from app.services import audit, consumption, ledger, readings, statements
from app.services.errors import InvalidInput
from app.services.periods import local_date, period_of

NUMBER = re.compile(r"\d{6,20}")
ZERO = Decimal("0.00")


def find_account(number: str | None) -> Account | None:
    """An open account by its number as people type it (spaces and hyphens ignored)."""
    number = re.sub(r"[\s-]", "", number or "")
    if not NUMBER.fullmatch(number):
        return None
    account = db.session.scalar(select(Account).where(Account.number == number))
    return account if account is not None and not account.is_closed else None


def owner_since(access: AccountAccess) -> date:
    """The first day of an owner's time with the account: its dated start, or the day they linked it."""
    if access.valid_from is not None:
        return access.valid_from
    return local_date(access.granted_at)


def check_transfer(account: Account, applicant_id: int | None, on: date, today: date, field: str) -> None:
    """What makes a transfer impossible whatever the documents say: a date in the future, a date
    before the present owner's time began, an applicant who already owns the account. The messages
    tell nothing about the account or its owner."""
    if on > today:
        raise InvalidInput(_l("The transfer date cannot be in the future."), field=field)
    owner = account.owner_access(today)
    if owner is not None and owner.user_id == applicant_id:
        raise InvalidInput(_l("You are already the owner of this account."), field="account_number")
    if owner is not None and on < owner_since(owner):
        raise InvalidInput(_l("On this date the account was not yet with its present owner: check the date in "
                              "the title document."), field=field)


def debt_on(account: Account, on: date) -> Decimal:
    """What the account owed when the day `on` began (the ledger's entries before it), or zero if it was
    paid ahead."""
    statement = ledger.allocate(statements.as_entries(statements.entries_of(account, until=on - timedelta(days=1))))
    return max(statement.balance, ZERO).quantize(Decimal("0.01"))


def meter_on(account: Account, serial: str | None, field: str) -> Meter | None:
    """The meter whose readings are taken on the transfer date: the one in service with this serial
    number, or the only one. None when the account has no meter (billed by the normative)."""
    from app.services import meter_changes

    meters = meter_changes.active_meters(account.id)
    if not meters:
        return None
    if serial and serial.strip():
        wanted = serial.strip().lower()
        found = [m for m in meters if m.serial.lower() == wanted]
        if not found:
            raise InvalidInput(_l("No meter with this number on the account (meters in service: %(numbers)s).",
                                  numbers=", ".join(m.serial for m in meters)), field=field)
        return found[0]
    if len(meters) > 1:
        raise InvalidInput(_l("The account has several meters: give the number of the one the readings are "
                              "of."), field=field)
    return meters[0]


def check_readings(meter: Meter, on: date, raw: dict[str, str | None], fields: dict[str, str],
                   serial_field: str) -> dict[str, Decimal]:
    """The readings on the transfer date: one value per zone of the meter, each within its counter and
    in order with the meter's readings before and after that day (the readings service's rule)."""
    if meter.installed_on > on:
        raise InvalidInput(_l("This meter was installed after the transfer date."), field=serial_field)
    given = {zone: value for zone, value in raw.items() if value not in (None, "")}
    for zone in given:
        if zone not in meter.zone_names:
            raise InvalidInput(_l("This meter has %(n)d zone(s); remove the other values.", n=meter.zones),
                               field=fields[zone])
    for zone in meter.zone_names:
        if zone not in given:
            raise InvalidInput(_l("Enter the reading of zone %(zone)s.", zone=zone), field=fields[zone])
    try:
        values = readings.parse_values(meter, {zone: str(value) for zone, value in given.items()})
        period = period_of(on)
        readings.check_order(meter, period, values)
        _check_same_month(meter, period, on, values)
    except InvalidInput as error:
        error.field = fields.get(error.field, error.field)
        raise
    return values


def _current(meter: Meter, period: date) -> MeterReading | None:
    return db.session.scalar(select(MeterReading).where(
        MeterReading.meter_id == meter.id, MeterReading.period == period, MeterReading.is_current))


def _check_same_month(meter: Meter, period: date, on: date, values: dict[str, Decimal]) -> None:
    """The month's own reading, taken before or after the transfer date, is a neighbour too."""
    other = _current(meter, period)
    if other is None:
        return
    for zone, value in values.items():
        known = other.values()[zone]
        if other.taken_on <= on and value < known and not consumption.is_rollover(known, value, meter.rollover):
            raise InvalidInput(_l("The reading is lower than the previous one (%(prev)s on %(day)s). "
                                  "Check the digits.", prev=known, day=format_date(other.taken_on)), field=zone)
        if other.taken_on > on and value > known and not consumption.is_rollover(value, known, meter.rollover):
            raise InvalidInput(_l("The reading is higher than a later one (%(next)s on %(day)s).",
                                  next=known, day=format_date(other.taken_on)), field=zone)


def record_readings(meter: Meter, on: date, values: dict[str, Decimal], actor_id: int | None) -> MeterReading | None:
    """Write the readings on the transfer date as the reading of that month, superseding one taken
    earlier in the month. Nothing is written when the month is closed, or already holds a billed or a
    later reading: the month keeps it, and the transfer readings stay in the contract."""
    period = period_of(on)
    billing = db.session.get(BillingPeriod, period)
    current = _current(meter, period)
    if (billing is not None and billing.status == "closed") or (
            current is not None and (current.status == "billed" or current.taken_on > on)):
        return None
    if current is not None:
        current.is_current, current.status = False, "replaced"
        db.session.flush()
    reading = MeterReading(meter=meter, period=period, taken_on=on, source="staff", status="accepted",
                           jump_confirmed=True, submitted_by_id=actor_id,
                           **{zone.lower(): value for zone, value in values.items()})
    db.session.add(reading)
    db.session.flush()
    audit.record("reading.submit", actor=None, obj=reading,
                 details={"meter_id": meter.id, "period": period.isoformat(), "source": "staff", "by": actor_id,
                          "transfer": True, "values": {k: str(v) for k, v in values.items()},
                          "replaced": current.id if current else None})
    return reading


def pass_account(account: Account, new_owner: User, on: date, actor_id: int | None = None,
                 case_number: str | None = None) -> AccountAccess:
    """The account is the new owner's from `on`: the present owner's access ends that day, the
    representatives lose theirs, and the account is in the new owner's name."""
    now = utcnow()
    ended, removed = [], []
    for access in account.accesses:
        if access.user_id == new_owner.id or access.revoked_at is not None:
            continue
        if access.valid_until is not None and access.valid_until <= on:
            continue  # a previous owner's time that ended before
        if access.role == OWNER:
            access.valid_until = on
            ended.append(access.user_id)
        else:
            access.revoked_at = now
            removed.append(access.user_id)
    mine = next((a for a in account.accesses if a.user_id == new_owner.id), None)
    if mine is None:
        mine = AccountAccess(account=account, user_id=new_owner.id)
        db.session.add(mine)
    mine.role, mine.revoked_at, mine.valid_from, mine.valid_until = OWNER, None, on, None
    mine.granted_at, mine.granted_by_id = now, actor_id
    previous_holder, account.holder_name = account.holder_name, new_owner.full_name[:200]
    db.session.flush()
    audit.record("account.transfer", actor=None, obj=account, details={
        "on": on.isoformat(), "to": new_owner.id, "from": ended, "representatives_removed": removed,
        "previous_holder": previous_holder, "by": actor_id, "case": case_number})
    return mine
