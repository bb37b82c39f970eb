"""Rates of the fee for technological connection (ТП), as dated rows that analysts change without code.

An application is charged by the rates in force on the day it was filed, so a rate change never
alters the fee of a case in progress. `kind` says what a row prices (see app/services/connection_fees.py):
per kW of maximum power (standardised, preferential, privileged) or per km of line to build.
"""
from sqlalchemy import Date, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, utcnow

MONEY = Numeric(14, 2)


class ConnectionRate(db.Model):
    __tablename__ = "connection_rate"
    __table_args__ = (UniqueConstraint("valid_from", "kind", "category"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    valid_from: Mapped[object] = mapped_column(Date)
    # standard_per_kw | standard_per_km | preferential_per_kw | privileged_per_kw
    kind: Mapped[str] = mapped_column(String(30))
    # up_to_15 | up_to_150 | from_150_to_670: the applicant's category by maximum power
    category: Mapped[str] = mapped_column(String(20))
    amount: Mapped[object] = mapped_column(MONEY)  # roubles, VAT included
    note: Mapped[str | None] = mapped_column(String(300))  # the regulator's decision it comes from
    created_at: Mapped[object] = mapped_column(UTCDateTime(), default=utcnow)
