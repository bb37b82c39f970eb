"""ASKUE: where smart-meter data comes from (sources and their metering points) and where it lands
(interval values, daily and monthly sums per tariff zone, substitutes, meter events).

Interval values are the big table: a metering point at 30-minute intervals adds 17,520 rows a year
per channel. On PostgreSQL it is partitioned by month of the interval start (old months can be
detached and archived whole) and loaded with COPY; the primary key (meter, channel, start) is what
makes a re-delivered interval a no-op. Raw values are never changed: validation marks them in the
issue log and substitution writes its own rows beside them.
"""
from sqlalchemy import (JSON, BigInteger, Date, ForeignKey, Index, Integer, PrimaryKeyConstraint, SmallInteger, String, Text,
                        UniqueConstraint, text)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.metering import Meter
from app.models.types import UTCDateTime, utcnow


class AskueSource(db.Model):
    """A place the poller reads: an ASKUE server (REST or SOAP) or a concentrator/converter behind
    which meters answer on one protocol (modbus, iec61107, mercury206, dlms)."""

    __tablename__ = "askue_source"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # rest | soap | modbus | iec61107 | mercury206 | dlms
    protocol: Mapped[str] = mapped_column(String(20))
    host: Mapped[str | None] = mapped_column(String(200))
    port: Mapped[int | None] = mapped_column()
    url: Mapped[str | None] = mapped_column(String(300))
    # Non-secret settings (client id, register map, page size); secrets are named here and read from
    # the environment, so that a database dump carries no passwords.
    settings: Mapped[dict] = mapped_column(JSON, default=dict)
    every_minutes: Mapped[int] = mapped_column(default=15)
    enabled: Mapped[bool] = mapped_column(default=True)
    # The server's "values since" cursor, saved in the same transaction as the values it covers.
    cursor: Mapped[str | None] = mapped_column(String(200))
    polled_at: Mapped[object | None] = mapped_column(UTCDateTime())
    succeeded_at: Mapped[object | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(String(500))

    points: Mapped[list["AskuePoint"]] = relationship(back_populates="source")


class AskuePoint(db.Model):
    """A meter as ASKUE knows it: its code at the source, its address on the line, and how polling it
    goes (last seen, failures in a row, when to try again)."""

    __tablename__ = "askue_point"
    id: Mapped[int] = mapped_column(primary_key=True)
    meter_id: Mapped[int] = mapped_column(ForeignKey("meter.id", ondelete="CASCADE"), unique=True)
    source_id: Mapped[int | None] = mapped_column(ForeignKey("askue_source.id", ondelete="SET NULL"), index=True)
    # The measuring point's code in the ASKUE server and in 80020 files (the serial for direct polling).
    code: Mapped[str] = mapped_column(String(40), unique=True)
    address: Mapped[str | None] = mapped_column(String(40))  # unit id, serial or physical address
    password: Mapped[str | None] = mapped_column(String(40))
    pmax_kw: Mapped[object | None] = mapped_column(db.Numeric(10, 3))  # permitted power, for validation
    last_seen_at: Mapped[object | None] = mapped_column(UTCDateTime())
    failures: Mapped[int] = mapped_column(default=0)
    retry_at: Mapped[object | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(String(300))
    # The last counters read (kWh per zone as strings) and when: the next reading must not be lower.
    counters: Mapped[dict | None] = mapped_column(JSON)
    counters_at: Mapped[object | None] = mapped_column(UTCDateTime())

    meter: Mapped[Meter] = relationship()
    source: Mapped[AskueSource | None] = relationship(back_populates="points")


interval_table = db.Table(
    "meter_interval",
    db.metadata,
    db.Column("meter_id", Integer, primary_key=True),  # no foreign key: it would cost every COPY a lookup
    db.Column("channel", SmallInteger, primary_key=True),  # 1 A+, 2 A-, 3 R+, 4 R-
    db.Column("start", UTCDateTime(), primary_key=True),
    db.Column("minutes", SmallInteger, nullable=False),
    db.Column("wh", BigInteger, nullable=False),
    db.Column("status", SmallInteger, nullable=False, server_default="0"),
    db.Column("source_id", Integer),
    postgresql_partition_by="RANGE (start)",
)


class IntervalAggregate:
    """Columns shared by the daily and monthly sums: Wh per meter, channel and local day or month, by
    tariff zone (T1..T3 by the meter's zone count and the zone hours in local time; a single-zone meter
    has everything in T1), with how many intervals went into the sums and how many were substitutes.
    One row per day rather than per zone halves what every load has to write."""

    meter_id: Mapped[int] = mapped_column()
    channel: Mapped[int] = mapped_column(SmallInteger)
    t1: Mapped[int] = mapped_column(BigInteger, default=0)
    t2: Mapped[int] = mapped_column(BigInteger, default=0)
    t3: Mapped[int] = mapped_column(BigInteger, default=0)
    intervals: Mapped[int] = mapped_column(default=0)
    substituted: Mapped[int] = mapped_column(default=0)

    @property
    def wh(self) -> int:
        return self.t1 + self.t2 + self.t3


class IntervalDay(IntervalAggregate, db.Model):
    __tablename__ = "interval_day"
    __table_args__ = (PrimaryKeyConstraint("meter_id", "channel", "day"),)
    day: Mapped[object] = mapped_column(Date)


class IntervalMonth(IntervalAggregate, db.Model):
    __tablename__ = "interval_month"
    __table_args__ = (PrimaryKeyConstraint("meter_id", "channel", "month"),)
    month: Mapped[object] = mapped_column(Date)  # the first day of the month


class IntervalSubstitute(db.Model):
    """A value put in place of a missing or rejected raw interval by a substitution rule. When the raw
    value arrives later, the substitute is marked superseded, not deleted."""

    __tablename__ = "interval_substitute"
    # Raw values arriving look here for substitutes to supersede: the live ones by start.
    __table_args__ = (Index("ix_interval_substitute_live", "start", postgresql_where=text("superseded_at IS NULL"),
                            sqlite_where=text("superseded_at IS NULL")),)
    meter_id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    start: Mapped[object] = mapped_column(UTCDateTime(), primary_key=True)
    minutes: Mapped[int] = mapped_column(SmallInteger)
    wh: Mapped[int] = mapped_column(BigInteger)
    rule: Mapped[str] = mapped_column(String(40))  # the rule's code and version, e.g. "pp442-same-period@1"
    created_at: Mapped[object] = mapped_column(UTCDateTime(), default=utcnow)
    superseded_at: Mapped[object | None] = mapped_column(UTCDateTime())


class SubstitutionRule(db.Model):
    """The substitution rules as dated data: which method applies to which gap, from which date. A
    change in the regulation is a new version, so past substitutes still name the rule they used."""

    __tablename__ = "substitution_rule"
    __table_args__ = (UniqueConstraint("code", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(30))
    version: Mapped[int] = mapped_column()
    valid_from: Mapped[object] = mapped_column(Date)
    # household | non_residential
    applies_to: Mapped[str] = mapped_column(String(20))
    # Which periods of a gap in a row (1-based billing periods without data) the rule covers.
    first_period: Mapped[int] = mapped_column()
    last_period: Mapped[int | None] = mapped_column()
    # same_period_last_year | nearest_period | max_power_hours | average_daily
    method: Mapped[str] = mapped_column(String(30))
    title: Mapped[str] = mapped_column(String(300))


class MeterEventLog(db.Model):
    """What happened to a meter or on its line: events the meter reported (power off, cover opened,
    magnetic field, clock set), communication errors, validation findings."""

    __tablename__ = "meter_event"
    __table_args__ = (
        UniqueConstraint("meter_id", "at", "kind"),
        Index("ix_meter_event_meter_at", "meter_id", "at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    meter_id: Mapped[int] = mapped_column(ForeignKey("meter.id", ondelete="CASCADE"))
    at: Mapped[object] = mapped_column(UTCDateTime())
    # meter: power_off, power_on, cover_opened, magnetic_field, clock_set;
    # line: silent, bad_checksum, unexpected_answer, access_denied;
    # validation: counter_decreased, profile_mismatch, negative_value, above_pmax, clock_drift, duplicate
    kind: Mapped[str] = mapped_column(String(30))
    category: Mapped[str] = mapped_column(String(12))  # meter | line | validation
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    source_id: Mapped[int | None] = mapped_column(ForeignKey("askue_source.id", ondelete="SET NULL"))
    recorded_at: Mapped[object] = mapped_column(UTCDateTime(), default=utcnow)


class ExchangeFile(db.Model):
    """An 80020 or CSV file taken in (or refused), so that the same file is not applied twice and the
    operator sees what came and what it did."""

    __tablename__ = "askue_exchange_file"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(10))  # 80020 | csv
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(10))  # applied | refused
    values_new: Mapped[int] = mapped_column(default=0)
    values_repeated: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(Text)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[object] = mapped_column(UTCDateTime(), default=utcnow)
