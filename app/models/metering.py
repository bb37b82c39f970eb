"""Premises, meters and their readings. Nothing here assumes electricity: a meter measures a
resource (electricity, heat, hot water) in that resource's unit, with one to three tariff zones."""
from sqlalchemy import JSON, Date, ForeignKey, Index, Numeric, String, Time, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.accounts import Account
from app.models.types import UTCDateTime, utcnow

ENERGY = Numeric(14, 3)  # readings and consumption: three decimals of the unit (Wh for kWh)


class Premises(db.Model):
    __tablename__ = "premises"
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"), index=True)
    address: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(20), default="residential")  # residential | non_residential
    residents: Mapped[int] = mapped_column(default=1)  # the normative is per resident

    account: Mapped[Account] = relationship()
    meters: Mapped[list["Meter"]] = relationship(back_populates="premises", order_by="Meter.id")


class Meter(db.Model):
    __tablename__ = "meter"
    __table_args__ = (UniqueConstraint("model", "serial"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    premises_id: Mapped[int] = mapped_column(ForeignKey("premises.id", ondelete="CASCADE"), index=True)
    resource: Mapped[str] = mapped_column(String(20))
    model: Mapped[str] = mapped_column(String(80))
    serial: Mapped[str] = mapped_column(String(40))
    zones: Mapped[int] = mapped_column(default=1)
    # Integer digits of the counter: it rolls over from 10**digits - 1 to 0.
    digits: Mapped[int] = mapped_column(default=6)
    installed_on: Mapped[object] = mapped_column(Date)
    next_verification_on: Mapped[object | None] = mapped_column(Date)
    askue: Mapped[bool] = mapped_column(default=False)
    removed_on: Mapped[object | None] = mapped_column(Date)
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("meter.id"))

    premises: Mapped[Premises] = relationship(back_populates="meters")

    @property
    def zone_names(self) -> list[str]:
        return ["T1", "T2", "T3"][: self.zones]

    @property
    def rollover(self) -> int:
        return 10 ** self.digits


class MeterReading(db.Model):
    """One reading of a meter for a billing period, a value per zone.

    A correction does not overwrite: the new row becomes current and the old one is kept as replaced.
    The partial unique index allows one current reading per meter and period, which also turns two
    simultaneous submissions into one success and one clear refusal.
    """

    __tablename__ = "meter_reading"
    __table_args__ = (
        Index("uq_meter_reading_current", "meter_id", "period", unique=True,
              sqlite_where=text("is_current"), postgresql_where=text("is_current")),
        Index("ix_meter_reading_meter_taken", "meter_id", "taken_on"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    meter_id: Mapped[int] = mapped_column(ForeignKey("meter.id", ondelete="CASCADE"))
    period: Mapped[object] = mapped_column(Date)  # first day of the billing month
    taken_on: Mapped[object] = mapped_column(Date)
    t1: Mapped[object] = mapped_column(ENERGY)
    t2: Mapped[object | None] = mapped_column(ENERGY)
    t3: Mapped[object | None] = mapped_column(ENERGY)
    # customer | staff | askue | import | installation | removal
    source: Mapped[str] = mapped_column(String(20))
    # accepted | billed | rejected | replaced
    status: Mapped[str] = mapped_column(String(20), default="accepted")
    reason: Mapped[str | None] = mapped_column(String(300))
    is_current: Mapped[bool] = mapped_column(default=True)
    jump_confirmed: Mapped[bool] = mapped_column(default=False)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    submitted_at: Mapped[object] = mapped_column(UTCDateTime(), default=utcnow)

    meter: Mapped[Meter] = relationship()

    def values(self) -> dict[str, object]:
        return {zone: getattr(self, zone.lower()) for zone in self.meter.zone_names}


class ZoneHours(db.Model):
    """The hours of each tariff zone in local time, as data: two-zone (T1 day, T2 night) and
    three-zone (T1 peak, T2 night, T3 semi-peak)."""

    __tablename__ = "zone_hours"
    id: Mapped[int] = mapped_column(primary_key=True)
    zones: Mapped[int] = mapped_column()  # 2 or 3
    zone: Mapped[str] = mapped_column(String(2))
    starts: Mapped[object] = mapped_column(Time)
    ends: Mapped[object] = mapped_column(Time)
    valid_from: Mapped[object] = mapped_column(Date)
    details: Mapped[dict] = mapped_column(JSON, default=dict)


class VisitSlot(db.Model):
    """A window in which the metering group can visit (a working day, morning or afternoon) and how
    many visits it takes. Booking raises `booked` with a guarded UPDATE, so two applicants cannot both
    take the last place."""

    __tablename__ = "visit_slot"
    __table_args__ = (UniqueConstraint("day", "window"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[object] = mapped_column(Date)
    window: Mapped[str] = mapped_column(String(11))  # "09:00-13:00", local time
    capacity: Mapped[int] = mapped_column()
    booked: Mapped[int] = mapped_column(default=0)
