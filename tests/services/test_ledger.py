"""Payment allocation: the ledger always balances, whatever the sequence of operations."""
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from app.services.ledger import Entry, allocate

D = Decimal
START = date(2026, 1, 31)

amounts = st.integers(min_value=-50_000, max_value=500_000).map(lambda k: D(k) / 100)
operations = st.lists(st.tuples(
    st.sampled_from(["charge", "penalty", "correction", "payment"]),
    amounts, st.integers(0, 400), st.integers(0, 12), st.booleans(), st.booleans()), max_size=25)


def build(ops) -> list[Entry]:
    entries = []
    for n, (kind, amount, day, month, choose, for_penalties) in enumerate(ops):
        booked = START + timedelta(days=day)
        period = date(2026 + (month // 12), month % 12 + 1, 1)
        if kind == "payment":
            entries.append(Entry(n, "payment", -abs(amount), booked, chosen_period=period if choose else None,
                                 for_penalties=for_penalties))
        else:
            value = amount if kind == "correction" else abs(amount)
            entries.append(Entry(n, kind, value, booked, period, period + timedelta(days=45)))
    return entries


@settings(max_examples=300, deadline=None)
@given(operations)
def test_charges_minus_payments_equal_debt_minus_advance(ops):
    entries = build(ops)
    statement = allocate(entries)
    charged = sum((e.amount for e in entries if e.kind != "payment"), D(0))
    paid = sum((-e.amount for e in entries if e.kind == "payment"), D(0))
    assert charged - paid == statement.debt - statement.advance
    assert statement.advance >= 0
    assert all(d.outstanding >= 0 for d in statement.debts)


@settings(max_examples=200, deadline=None)
@given(operations)
def test_penalties_are_not_paid_before_the_main_debt_unless_chosen(ops):
    statement = allocate([e for e in build(ops) if not (e.kind == "payment" and e.for_penalties)])
    penalties_paid = sum((d.paid for d in statement.debts if d.kind == "penalty"), D(0))
    assert penalties_paid == 0


def test_oldest_debt_first_and_overpayment_carried_forward():
    entries = [Entry(1, "charge", D("100"), date(2026, 1, 31), date(2026, 1, 1), date(2026, 2, 10)),
               Entry(2, "charge", D("200"), date(2026, 2, 28), date(2026, 2, 1), date(2026, 3, 10)),
               Entry(3, "payment", D("-350"), date(2026, 3, 5)),
               Entry(4, "charge", D("80"), date(2026, 3, 31), date(2026, 3, 1), date(2026, 4, 15))]
    statement = allocate(entries)
    assert [(d.period.month, d.outstanding) for d in statement.debts] == [(1, 0), (2, 0), (3, 30)]
    assert statement.advance == 0 and statement.balance == D("30")


def test_a_chosen_period_is_paid_first():
    entries = [Entry(1, "charge", D("100"), date(2026, 1, 31), date(2026, 1, 1), date(2026, 2, 10)),
               Entry(2, "charge", D("200"), date(2026, 2, 28), date(2026, 2, 1), date(2026, 3, 10)),
               Entry(3, "payment", D("-200"), date(2026, 3, 5), chosen_period=date(2026, 2, 1))]
    statement = allocate(entries)
    assert [(d.period.month, d.outstanding) for d in statement.debts] == [(1, 100), (2, 0)]
