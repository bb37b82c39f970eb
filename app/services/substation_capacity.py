"""The substations' free capacity table that operators keep and the disclosure page publishes.

A row is checked whole before it is saved: capacities are not negative, the free capacity is not
more than the installed one, and the maximum load is at most twice the installed capacity (a
transformer may run overloaded for a while, never at more than that). Every change is audited with
the values before and after.
"""
from dataclasses import dataclass
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.models.disclosure import SubstationCapacity
from app.services import audit
from app.services.errors import InvalidInput, NotFound

FIELDS = ("substation", "voltage", "installed_mva", "max_load_mva", "reserved_mva", "free_mva", "note")
MVA = Decimal("0.001")


@dataclass(frozen=True)
class Values:
    substation: str
    voltage: str
    installed_mva: Decimal
    max_load_mva: Decimal
    reserved_mva: Decimal
    free_mva: Decimal
    note: str = ""


def rows() -> list[SubstationCapacity]:
    return list(db.session.scalars(select(SubstationCapacity)
                                   .order_by(SubstationCapacity.substation, SubstationCapacity.voltage)))


def get(row_id: int) -> SubstationCapacity:
    row = db.session.get(SubstationCapacity, row_id)
    if row is None:
        raise NotFound(_l("There is no such substation row."))
    return row


def check(values: Values) -> Values:
    """The values cleaned, or InvalidInput at the first field that is wrong."""
    substation, voltage = (values.substation or "").strip(), (values.voltage or "").strip()
    if not substation:
        raise InvalidInput(_l("Enter the substation's name."), field="substation")
    if len(substation) > 120:
        raise InvalidInput(_l("The substation's name is longer than %(n)s characters.", n=120), field="substation")
    if not voltage:
        raise InvalidInput(_l("Enter the voltage level, for example 110/10 kV."), field="voltage")
    if len(voltage) > 20:
        raise InvalidInput(_l("The voltage level is longer than %(n)s characters.", n=20), field="voltage")
    numbers = {}
    for name in ("installed_mva", "max_load_mva", "reserved_mva", "free_mva"):
        value = getattr(values, name)
        if value is None:
            raise InvalidInput(_l("Enter the capacity in MVA."), field=name)
        value = Decimal(value)
        if not value.is_finite() or value < 0:
            raise InvalidInput(_l("The capacity cannot be negative."), field=name)
        if value >= Decimal("10000000"):
            raise InvalidInput(_l("The capacity is too large: enter it in MVA."), field=name)
        numbers[name] = value.quantize(MVA)
    if numbers["free_mva"] > numbers["installed_mva"]:
        raise InvalidInput(_l("The free capacity cannot be more than the installed capacity."), field="free_mva")
    if numbers["max_load_mva"] > numbers["installed_mva"] * 2:
        raise InvalidInput(_l("The maximum load cannot be more than twice the installed capacity."),
                           field="max_load_mva")
    note = (values.note or "").strip()
    if len(note) > 300:
        raise InvalidInput(_l("The note is longer than %(n)s characters.", n=300), field="note")
    return Values(substation=substation, voltage=voltage, note=note, **numbers)


def save(values: Values, user, row: SubstationCapacity | None = None) -> SubstationCapacity:
    """Add a row (row=None) or change one; audited with what changed."""
    clean = check(values)
    taken = db.session.scalar(select(SubstationCapacity.id).where(SubstationCapacity.substation == clean.substation,
                                                                  SubstationCapacity.voltage == clean.voltage))
    if taken is not None and (row is None or taken != row.id):
        raise InvalidInput(_l("This substation already has a row for this voltage level; change that row."),
                           field="voltage")
    created = row is None
    before = {} if created else _values(row)
    row = row or SubstationCapacity()
    for name in FIELDS:
        setattr(row, name, getattr(clean, name))
    row.updated_by_id = getattr(user, "id", None)
    db.session.add(row)
    db.session.flush()
    after = _values(row)
    changed = {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}
    audit.record("disclosure.capacity_changed", actor=user, obj=row,
                 details={"created": created, "substation": clean.substation, "voltage": clean.voltage,
                          "changes": changed})
    db.session.commit()
    return row


def _values(row: SubstationCapacity) -> dict:
    return {name: str(Decimal(getattr(row, name)).quantize(MVA)) if name.endswith("_mva") else getattr(row, name) or ""
            for name in FIELDS}
