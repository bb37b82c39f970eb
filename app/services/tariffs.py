"""Tariff look-up and the split of a period's consumption between tariffs that changed inside it.

A period that spans a tariff change is split by days: each tariff gets the share of the quantity
that its days make of the month. Quantities are rounded to the meter's resolution (0.001) and the
last segment takes the remainder, so the parts always add up to the whole.
"""
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select

from app.extensions import db
from app.models import Tariff
from app.services.periods import days_in, last_day

QTY = Decimal("0.001")
KOPECK = Decimal("0.01")


def money(value) -> Decimal:
    return Decimal(value).quantize(KOPECK, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Segment:
    tariff: Tariff
    start: date
    end: date  # inclusive

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


@dataclass(frozen=True)
class PriceLine:
    zone: str
    quantity: Decimal
    price: Decimal
    amount: Decimal
    segment: Segment


class NoTariff(LookupError):
    pass


def tariffs_for(region: str, category: str, resource: str, zones: int) -> list[Tariff]:
    return list(db.session.scalars(
        select(Tariff).where(Tariff.region == region, Tariff.category == category, Tariff.resource == resource,
                             Tariff.zones == zones).order_by(Tariff.valid_from)))


def segments(tariffs: list[Tariff], period: date) -> list[Segment]:
    """The tariffs in force during the month, each with the days it covers."""
    end = last_day(period)
    in_force = [t for t in tariffs if t.valid_from <= end]
    if not in_force or in_force[0].valid_from > period:
        raise NoTariff(f"no tariff in force on {period.isoformat()}")
    starts = [t for t in in_force if t.valid_from <= period][-1:] + [t for t in in_force if t.valid_from > period]
    result = []
    for n, tariff in enumerate(starts):
        start = max(tariff.valid_from, period)
        stop = starts[n + 1].valid_from - timedelta(days=1) if n + 1 < len(starts) else end
        result.append(Segment(tariff, start, stop))
    return result


def split_quantity(quantity: Decimal, parts: list[Segment], period: date) -> list[Decimal]:
    total_days = days_in(period)
    shares = [(quantity * part.days / total_days).quantize(QTY, rounding=ROUND_HALF_UP) for part in parts[:-1]]
    return shares + [quantity - sum(shares, Decimal(0))]


def price(quantities: dict[str, Decimal], parts: list[Segment], period: date) -> list[PriceLine]:
    """Lines per zone and tariff segment: quantity share × that tariff's zone price."""
    lines = []
    for zone, quantity in quantities.items():
        for part, share in zip(parts, split_quantity(quantity, parts, period)):
            zone_price = part.tariff.price(zone)
            if zone_price is None:
                raise NoTariff(f"tariff {part.tariff.id} has no price for zone {zone}")
            lines.append(PriceLine(zone, share, zone_price, money(share * zone_price), part))
    return lines
