"""Consumption between two readings, and the monthly average that stands in for a missing reading."""
from datetime import date
from decimal import Decimal

from app.services.periods import months_between

ZONES = ("T1", "T2", "T3")


def is_rollover(previous: Decimal, current: Decimal, rollover: int) -> bool:
    """A counter that went past its last digit starts again from zero: a drop from the top tenth of
    the range into the bottom tenth is read as that, anything else as a lower reading."""
    return current < previous and previous >= Decimal(rollover) * Decimal("0.9") and current < Decimal(rollover) * Decimal("0.1")


def delta(previous: Decimal, current: Decimal, rollover: int) -> Decimal:
    if current >= previous:
        return current - previous
    if is_rollover(previous, current, rollover):
        return Decimal(rollover) - previous + current
    raise ValueError("reading lower than the previous one")


def between(previous: dict, current: dict, rollover: int) -> dict[str, Decimal]:
    return {zone: delta(previous[zone], current[zone], rollover) for zone in current}


def monthly_average(history: list[tuple[date, dict]], period: date, rollover: int, months: int,
                    months_new_meter: int, installed_on: date) -> dict[str, Decimal] | None:
    """Average monthly consumption per zone from actual readings before `period`.

    `history` holds (period, values) of actual readings, oldest first. The span used is the last
    `months` months (or `months_new_meter` for a meter installed more recently than that); with a
    shorter history there is no average and the normative applies.
    """
    earlier = [(p, v) for p, v in history if p < period]
    if len(earlier) < 2:
        return None
    needed = months if months_between(installed_on, period) >= months else months_new_meter
    last_period, last_values = earlier[-1]
    window = [(p, v) for p, v in earlier if months_between(p, last_period) <= months]
    first_period, first_values = window[0]
    span = months_between(first_period, last_period)
    if span < needed:
        return None
    total = between(first_values, last_values, rollover)
    return {zone: (value / span).quantize(Decimal("0.001")) for zone, value in total.items()}
