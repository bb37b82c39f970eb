"""Late-payment penalties (пени) on utility debts. Pure arithmetic: no Flask, no database, no I/O.

Rules:
- Day n of the delay is due_date + n. A scheme is a table of steps "days a..b: debt × R / divisor per day":
  households (ЖК РФ ст.155 ч.14) pay nothing for days 1..30, 1/300 for days 31..90 and 1/130 from day 91;
  legal entities (ФЗ-35 ст.37) pay 1/130 from day 1, management companies and utilities 1/300 from day 1.
- R is the Bank of Russia key rate in force on the payment day (for the part repaid that day) or on the
  calculation date `as_of` (for what is still unpaid), lowered to a decree's cap when the debt arose
  (due_date + 1) inside that decree's range.
- A payment reduces the debt at the end of its day, so the payment day itself still carries the penalty.
- Each repayment is a tranche outstanding from day 1 through its payment day; the unpaid rest is a tranche
  outstanding through `as_of`. Every (tranche, step) overlap is one line, rounded to kopecks (half up);
  the total is the sum of the rounded lines.
"""
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

KOPECK = Decimal("0.01")
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Step:
    first_day: int
    last_day: int | None  # None: the step never ends
    divisor: int

    def __post_init__(self):
        if self.first_day < 1 or (self.last_day is not None and self.last_day < self.first_day):
            raise ValueError(f"bad step days {self.first_day}..{self.last_day}")
        if self.divisor <= 0:
            raise ValueError(f"bad step divisor {self.divisor}")


@dataclass(frozen=True)
class Scheme:
    code: str
    steps: tuple[Step, ...]


HOUSEHOLD = Scheme("household", (Step(31, 90, 300), Step(91, None, 130)))
LEGAL = Scheme("legal", (Step(1, None, 130),))
LEGAL_UTILITY = Scheme("legal_utility", (Step(1, None, 300),))
SCHEMES = {s.code: s for s in (HOUSEHOLD, LEGAL, LEGAL_UTILITY)}


@dataclass(frozen=True)
class KeyRate:
    valid_from: date
    rate: Decimal  # a fraction: 0.21 is 21 %


@dataclass(frozen=True)
class RateCap:
    debts_from: date
    debts_to: date
    cap: Decimal


@dataclass(frozen=True)
class Repayment:
    on: date
    amount: Decimal


@dataclass(frozen=True)
class PenaltyLine:
    tranche: Decimal
    paid_on: date | None  # None: the still-unpaid tranche
    start: date
    end: date
    days: int
    divisor: int
    rate: Decimal
    amount: Decimal


@dataclass(frozen=True)
class PenaltyResult:
    lines: tuple[PenaltyLine, ...]
    total: Decimal


def key_rate_on(rates: Sequence[KeyRate], day: date) -> Decimal:
    in_force = [r for r in rates if r.valid_from <= day]
    if not in_force:
        # Guessing a rate for a day the table does not cover would silently misstate the penalty.
        first = min((r.valid_from for r in rates), default=None)
        raise ValueError(f"no key rate in force on {day}; the key-rate table starts on {first}")
    return max(in_force, key=lambda r: r.valid_from).rate


def effective_rate(rates: Sequence[KeyRate], caps: Sequence[RateCap], arose_on: date, rate_day: date) -> Decimal:
    rate = key_rate_on(rates, rate_day)
    # Decrees cap by when the debt arose, not by the day the rate is taken; overlapping decrees: the lowest wins.
    for cap in caps:
        if cap.debts_from <= arose_on <= cap.debts_to:
            rate = min(rate, cap.cap)
    return rate


def calculate(amount: Decimal, due_date: date, as_of: date, scheme: Scheme,
              rates: Sequence[KeyRate], caps: Sequence[RateCap] = (),
              repayments: Sequence[Repayment] = ()) -> PenaltyResult:
    if not isinstance(amount, Decimal):
        raise TypeError("amount must be a Decimal")
    if amount < 0:
        raise ValueError(f"debt amount must not be negative, got {amount}")
    if any(r.amount < 0 for r in repayments):
        raise ValueError("repayment amounts must not be negative")
    if as_of <= due_date:
        return PenaltyResult((), ZERO)

    # Payments on one day share the same days and rate, so they form one tranche; merging them also keeps
    # the result independent of the order they are given in when the last of them overpays.
    paid_by_day: dict[date, Decimal] = {}
    for r in repayments:
        if r.on <= as_of:  # later payments are not known on the calculation date
            paid_by_day[r.on] = paid_by_day.get(r.on, Decimal(0)) + r.amount

    left = amount
    tranches: list[tuple[Decimal, date | None, date]] = []  # (amount, paid_on, last outstanding day)
    for day in sorted(paid_by_day):
        paid = min(paid_by_day[day], left)  # an overpayment belongs elsewhere, not to this debt
        left -= paid
        if day > due_date and paid > 0:  # paid in time: no penalty, it only lowers the debt
            tranches.append((paid, day, day))
    if left > 0:
        tranches.append((left, None, as_of))

    arose_on = due_date + timedelta(days=1)
    lines = []
    for tranche, paid_on, last in tranches:
        delay_days = (last - due_date).days
        rate = None  # looked up only when needed, so a short delay does not require a rate table
        for step in scheme.steps:
            lo = step.first_day
            hi = delay_days if step.last_day is None else min(step.last_day, delay_days)
            if hi < lo:
                continue
            if rate is None:
                rate = effective_rate(rates, caps, arose_on, last)
            days = hi - lo + 1
            # Multiply before dividing so that only the final rounding is inexact.
            value = (tranche * rate * days / step.divisor).quantize(KOPECK, rounding=ROUND_HALF_UP)
            lines.append(PenaltyLine(tranche, paid_on, due_date + timedelta(days=lo),
                                     due_date + timedelta(days=hi), days, step.divisor, rate, value))
    return PenaltyResult(tuple(lines), sum((line.amount for line in lines), ZERO))
