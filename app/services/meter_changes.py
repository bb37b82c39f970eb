"""Replacing a meter on premises: the old meter is closed with its final reading and the new one
opened with its initial reading, so the readings history goes on without a false jump.

The final reading becomes the old meter's reading of the replacement month (a `removal` reading:
billed like any reading, so the month's consumption up to the replacement is charged); the initial
reading is the new meter's base (`installation`, never billed itself: the next reading is counted from
it). Nothing here commits: replacement is one step of a case and commits with it.
"""
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.models import Meter, MeterReading, Premises
from app.services import audit, readings
from app.services.errors import Conflict, InvalidInput
from app.services.periods import period_of


@dataclass(frozen=True)
class NewMeter:
    model: str
    serial: str
    zones: int
    installed_on: date
    next_verification_on: date | None = None
    digits: int = 6
    askue: bool = False


def active_meters(account_id: int) -> list[Meter]:
    return list(db.session.scalars(select(Meter).join(Premises).where(
        Premises.account_id == account_id, Meter.removed_on.is_(None)).order_by(Meter.id)))


def find_active(account_id: int | None, serial: str | None, field: str | None = None) -> Meter:
    """The meter in service on the account with this serial number; with no serial, the only one."""
    if not account_id:
        raise InvalidInput(_l("Choose the account whose meter is to be replaced."), field="account_id")
    meters = active_meters(account_id)
    if not meters:
        raise InvalidInput(_l("There is no meter in service on this account."), field=field)
    if serial:
        wanted = serial.strip().lower()
        found = [m for m in meters if m.serial.lower() == wanted]
        if not found:
            numbers = ", ".join(m.serial for m in meters)
            raise InvalidInput(_l("No meter with this number on the account (meters in service: %(numbers)s).",
                                  numbers=numbers), field=field)
        return found[0]
    if len(meters) > 1:
        raise InvalidInput(_l("The account has several meters: give the number of the one to replace."),
                           field=field)
    return meters[0]


def check_final(meter: Meter, on: date, values: dict[str, Decimal], fields: dict[str, str]) -> None:
    """The final reading: one value per zone of the old meter, not lower than its last reading."""
    for zone in meter.zone_names:
        if values.get(zone) is None:
            raise InvalidInput(_l("Enter the final reading of zone %(zone)s.", zone=zone), field=fields[zone])
    try:
        readings.check_order(meter, period_of(on), {z: values[z] for z in meter.zone_names})
    except InvalidInput as error:
        error.field = fields.get(error.field, error.field)
        raise


def check_new(new: NewMeter, initial: dict[str, Decimal], fields: dict[str, str]) -> None:
    zones = ["T1", "T2", "T3"][: new.zones]
    for zone in zones:
        if initial.get(zone) is None:
            raise InvalidInput(_l("Enter the initial reading of zone %(zone)s.", zone=zone), field=fields[zone])
        if initial[zone] >= 10 ** new.digits:
            raise InvalidInput(_l("This meter shows at most %(n)d digits before the point.", n=new.digits),
                               field=fields[zone])
    taken = db.session.scalar(select(Meter.id).where(Meter.model == new.model, Meter.serial == new.serial))
    if taken:
        raise InvalidInput(_l("A meter %(model)s No. %(serial)s is already registered.", model=new.model,
                              serial=new.serial), field=fields.get("serial"))


def replace(old: Meter, final: dict[str, Decimal], new: NewMeter, initial: dict[str, Decimal],
            actor_id: int | None = None) -> Meter:
    on, period = new.installed_on, period_of(new.installed_on)
    current = db.session.scalar(select(MeterReading).where(
        MeterReading.meter_id == old.id, MeterReading.period == period, MeterReading.is_current))
    if current is not None and current.status == "billed":
        raise Conflict(_l("The month of the replacement is already billed for the old meter; "
                          "correct it with a recalculation."))
    if current is not None:  # the final reading supersedes one sent earlier in the month
        current.is_current, current.status = False, "replaced"
        db.session.flush()
    db.session.add(MeterReading(meter=old, period=period, taken_on=on, source="removal", status="accepted",
                                submitted_by_id=actor_id, jump_confirmed=True,
                                **{zone.lower(): final[zone] for zone in old.zone_names}))
    old.removed_on = on
    meter = Meter(premises_id=old.premises_id, resource=old.resource, model=new.model, serial=new.serial,
                  zones=new.zones, digits=new.digits, installed_on=on, next_verification_on=new.next_verification_on,
                  askue=new.askue, replaces_id=old.id)
    db.session.add(meter)
    db.session.flush()
    db.session.add(MeterReading(meter=meter, period=period, taken_on=on, source="installation", status="billed",
                                submitted_by_id=actor_id,
                                **{zone.lower(): initial[zone] for zone in meter.zone_names}))
    db.session.flush()
    audit.record("meter.replace", actor=None, obj=meter, details={
        "old_meter_id": old.id, "on": on.isoformat(), "by": actor_id,
        "final": {z: str(v) for z, v in final.items()}, "initial": {z: str(v) for z, v in initial.items()}})
    return meter
