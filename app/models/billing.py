"""Tariffs and the other dated rule tables, accruals, and the account ledger.

Every rule that changes over time is a dated row, so an old period is always computed by the rules
that were in force then.
"""
from sqlalchemy import JSON, Date, ForeignKey, Index, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.metering import ENERGY
from app.models.types import UTCDateTime, utcnow

MONEY = Numeric(14, 2)
PRICE = Numeric(12, 4)  # rubles per unit, tariffs are published with up to four decimals
RATE = Numeric(7, 4)  # a fraction: 0.0950 is 9.5 %


class Tariff(db.Model):
    """Prices per zone for a region, consumer category, resource and zone count, from a date."""

    __tablename__ = "tariff"
    __table_args__ = (Index("ix_tariff_lookup", "region", "category", "resource", "zones", "valid_from"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    region: Mapped[str] = mapped_column(String(10))
    category: Mapped[str] = mapped_column(String(40))
    resource: Mapped[str] = mapped_column(String(20))
    zones: Mapped[int] = mapped_column()
    valid_from: Mapped[object] = mapped_column(Date)
    t1: Mapped[object] = mapped_column(PRICE)
    t2: Mapped[object | None] = mapped_column(PRICE)
    t3: Mapped[object | None] = mapped_column(PRICE)
    note: Mapped[str | None] = mapped_column(String(200))

    def price(self, zone: str):
        return getattr(self, zone.lower())


class ConsumptionNorm(db.Model):
    """The normative monthly consumption per resident, used when no reading nor average is allowed."""

    __tablename__ = "consumption_norm"
    id: Mapped[int] = mapped_column(primary_key=True)
    region: Mapped[str] = mapped_column(String(10))
    category: Mapped[str] = mapped_column(String(40))
    resource: Mapped[str] = mapped_column(String(20))
    valid_from: Mapped[object] = mapped_column(Date)
    per_resident: Mapped[object] = mapped_column(ENERGY)


class KeyRate(db.Model):
    """The Bank of Russia key rate from a date."""

    __tablename__ = "key_rate"
    valid_from: Mapped[object] = mapped_column(Date, primary_key=True)
    rate: Mapped[object] = mapped_column(RATE)


class PenaltyRateCap(db.Model):
    """A decree capping the rate for penalties on debts that arose within a date range."""

    __tablename__ = "penalty_rate_cap"
    id: Mapped[int] = mapped_column(primary_key=True)
    debts_from: Mapped[object] = mapped_column(Date)
    debts_to: Mapped[object] = mapped_column(Date)
    cap: Mapped[object] = mapped_column(RATE)
    basis: Mapped[str] = mapped_column(String(200))


class DueDateRule(db.Model):
    """Bills of periods from `valid_from_period` on are due on this day of the following month."""

    __tablename__ = "due_date_rule"
    valid_from_period: Mapped[object] = mapped_column(Date, primary_key=True)
    day: Mapped[int] = mapped_column()
    basis: Mapped[str | None] = mapped_column(String(200))


class BillingPeriod(db.Model):
    __tablename__ = "billing_period"
    period: Mapped[object] = mapped_column(Date, primary_key=True)
    status: Mapped[str] = mapped_column(String(10), default="open")  # open | closed
    closed_at: Mapped[object | None] = mapped_column(UTCDateTime())
    accounts: Mapped[int] = mapped_column(default=0)


class AccountPeriod(db.Model):
    """An account's closed period: its presence makes the monthly close idempotent per account."""

    __tablename__ = "account_period"
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"), primary_key=True)
    period: Mapped[object] = mapped_column(Date, primary_key=True)
    charged: Mapped[object] = mapped_column(MONEY)
    due_date: Mapped[object] = mapped_column(Date)
    closed_at: Mapped[object] = mapped_column(UTCDateTime(), default=utcnow)


class Accrual(db.Model):
    """One line of a bill: quantity × price for a zone and a tariff segment, with how it was found."""

    __tablename__ = "accrual"
    __table_args__ = (Index("ix_accrual_account_period", "account_id", "period"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"))
    period: Mapped[object] = mapped_column(Date)
    meter_id: Mapped[int | None] = mapped_column(ForeignKey("meter.id", ondelete="SET NULL"))
    resource: Mapped[str] = mapped_column(String(20))
    zone: Mapped[str] = mapped_column(String(2))
    # reading | average | normative | recalculation | correction
    basis: Mapped[str] = mapped_column(String(20))
    quantity: Mapped[object] = mapped_column(ENERGY)
    price: Mapped[object | None] = mapped_column(PRICE)
    amount: Mapped[object] = mapped_column(MONEY)
    days: Mapped[int | None] = mapped_column()
    tariff_id: Mapped[int | None] = mapped_column(ForeignKey("tariff.id"))
    details: Mapped[dict] = mapped_column(JSON, default=dict)


class LedgerEntry(db.Model):
    """Money on an account: charges and penalties are positive, payments negative.

    The balance is the plain sum; debt by period and overpayment are derived from the entries by the
    allocation rule in app.services.ledger, so nothing here can drift out of balance.
    """

    __tablename__ = "ledger_entry"
    __table_args__ = (
        Index("ix_ledger_entry_account", "account_id", "booked_on"),
        UniqueConstraint("source", "external_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"))
    # opening | charge | penalty | correction | payment
    kind: Mapped[str] = mapped_column(String(12))
    amount: Mapped[object] = mapped_column(MONEY)
    period: Mapped[object | None] = mapped_column(Date)  # the period a charge belongs to
    due_date: Mapped[object | None] = mapped_column(Date)
    booked_on: Mapped[object] = mapped_column(Date)  # local date it counts from (payment day)
    # A payment the customer earmarked for a period and/or for penalties.
    chosen_period: Mapped[object | None] = mapped_column(Date)
    for_penalties: Mapped[bool] = mapped_column(default=False)
    source: Mapped[str] = mapped_column(String(20), default="portal")
    external_id: Mapped[str | None] = mapped_column(String(80))
    description: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[object] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
