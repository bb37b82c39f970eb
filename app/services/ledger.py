"""How payments settle debts, derived from the ledger entries alone.

Rules: a payment goes to the period the customer chose, then to the oldest main debt first;
penalties are paid only when the payment was earmarked for them; whatever is left is an advance
that settles the next charges as they are posted. Replaying the entries in date order always gives
the same result, so balances need no stored allocation that could drift.

The identity that always holds: charges − payments = outstanding debt − advance.
"""
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from app.services import penalties

ZERO = Decimal("0.00")
MAIN, PENALTY = "main", "penalty"


@dataclass(frozen=True)
class Entry:
    """A ledger row as the allocation sees it: positive amounts owe, negative pay."""

    id: int
    kind: str  # opening | charge | correction | penalty | payment
    amount: Decimal
    booked_on: date
    period: date | None = None
    due_date: date | None = None
    chosen_period: date | None = None
    for_penalties: bool = False


@dataclass
class Debt:
    period: date
    kind: str  # main | penalty
    due_date: date | None
    charged: Decimal = ZERO
    paid: Decimal = ZERO
    repayments: list[penalties.Repayment] = field(default_factory=list)

    @property
    def outstanding(self) -> Decimal:
        return self.charged - self.paid


@dataclass
class Statement:
    debts: list[Debt]
    advance: Decimal
    charged: Decimal
    paid: Decimal

    @property
    def debt(self) -> Decimal:
        return sum((d.outstanding for d in self.debts), ZERO)

    @property
    def balance(self) -> Decimal:
        """What the customer owes now (negative: they have paid ahead)."""
        return self.debt - self.advance

    def main_debts(self) -> list[Debt]:
        return [d for d in self.debts if d.kind == MAIN]


def _order(entry: Entry) -> tuple:
    # On one day charges come before payments, so a payment on the posting day settles that charge.
    return entry.booked_on, entry.kind == "payment", entry.id


def allocate(entries: list[Entry]) -> Statement:
    debts: dict[tuple[date, str], Debt] = {}
    advance = charged = paid = ZERO

    def settle(debt: Debt, amount: Decimal, on: date) -> Decimal:
        take = min(amount, debt.outstanding)
        if take > 0:
            debt.paid += take
            debt.repayments.append(penalties.Repayment(on, take))
        return amount - take

    for entry in sorted(entries, key=_order):
        if entry.kind == "payment":
            amount = -entry.amount
            paid += amount
            open_debts = sorted((d for d in debts.values() if d.outstanding > 0), key=lambda d: (d.period, d.kind))
            kind = PENALTY if entry.for_penalties else MAIN
            for debt in open_debts:
                if entry.chosen_period == debt.period and debt.kind == kind:
                    amount = settle(debt, amount, entry.booked_on)
            for debt in open_debts:
                if debt.kind == MAIN or entry.for_penalties:
                    amount = settle(debt, amount, entry.booked_on)
            advance += amount
            continue
        charged += entry.amount
        kind = PENALTY if entry.kind == "penalty" else MAIN
        debt = debts.setdefault((entry.period or entry.booked_on, kind),
                                Debt(entry.period or entry.booked_on, kind, entry.due_date))
        debt.due_date = debt.due_date or entry.due_date
        debt.charged += entry.amount
        if debt.outstanding < 0:  # a credit larger than the period's debt becomes an advance
            advance += -debt.outstanding
            debt.charged = debt.paid
        if kind == MAIN and advance > 0 and debt.outstanding > 0:
            advance = settle(debt, advance, entry.booked_on)
    return Statement(sorted(debts.values(), key=lambda d: (d.period, d.kind)), advance, charged, paid)


def accrued_penalties(statement: Statement, as_of: date, scheme: penalties.Scheme,
                      rates: list[penalties.KeyRate], caps: list[penalties.RateCap]) -> list[tuple[Debt, object]]:
    """Penalties on each main debt up to `as_of`, with their calculation lines."""
    result = []
    for debt in statement.main_debts():
        if debt.due_date is None or debt.charged <= 0:
            continue
        calc = penalties.calculate(debt.charged, debt.due_date, as_of, scheme, rates, caps, debt.repayments)
        if calc.total > 0:
            result.append((debt, calc))
    return result
