"""Penalty calculator: worked examples by hand, then properties checked with hypothesis."""
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.services.penalties import (
    HOUSEHOLD, LEGAL, LEGAL_UTILITY, SCHEMES, KeyRate, PenaltyLine, PenaltyResult, RateCap, Repayment,
    Scheme, Step, calculate, effective_rate, key_rate_on,
)

D = Decimal
RATES_9_5 = [KeyRate(date(2025, 1, 1), D("0.21")), KeyRate(date(2026, 6, 1), D("0.095"))]
RATES_21 = [KeyRate(date(2022, 1, 1), D("0.21"))]
CAP_2022 = [RateCap(date(2022, 2, 28), date(2026, 12, 31), D("0.095"))]
FEW = settings(max_examples=150, deadline=None)


# --- worked example -------------------------------------------------------------------------------------

def test_worked_example_key_rate_in_force_on_payment_day():
    result = calculate(D("5000.00"), date(2026, 4, 15), date(2026, 9, 30), HOUSEHOLD, RATES_9_5,
                       repayments=[Repayment(date(2026, 9, 1), D("5000.00"))])
    assert [line.amount for line in result.lines] == [D("95.00"), D("179.04")]
    assert result.total == D("274.04")


def test_worked_example_capped_rate():
    result = calculate(D("5000.00"), date(2026, 4, 15), date(2026, 9, 1), HOUSEHOLD, RATES_21, CAP_2022,
                       repayments=[Repayment(date(2026, 9, 1), D("5000.00"))])
    assert {line.rate for line in result.lines} == {D("0.095")}
    assert result.total == D("274.04")


def test_worked_example_line_dates_and_days():
    result = calculate(D("5000.00"), date(2026, 4, 15), date(2026, 9, 1), HOUSEHOLD, RATES_9_5,
                       repayments=[Repayment(date(2026, 9, 1), D("5000.00"))])
    paid = date(2026, 9, 1)
    assert result == PenaltyResult((
        PenaltyLine(D("5000.00"), paid, date(2026, 5, 16), date(2026, 7, 14), 60, 300, D("0.095"), D("95.00")),
        PenaltyLine(D("5000.00"), paid, date(2026, 7, 15), date(2026, 9, 1), 49, 130, D("0.095"), D("179.04")),
    ), D("274.04"))


# --- tranches -------------------------------------------------------------------------------------------

def test_partial_repayment_in_the_middle():
    # Debt 10 000.00 due 2026-01-10; 4 000.00 paid on 2026-03-11 (day 60); calculated on 2026-05-10 (day 120).
    # Key rate: 18 % from 2026-03-01, 16 % from 2026-04-25.
    #   repaid tranche, rate on 2026-03-11 = 18 %:
    #     days 31..60  (2026-02-10..2026-03-11)  4000 × 0.18 × 30 / 300 = 72.00
    #   unpaid tranche 6 000.00, rate on 2026-05-10 = 16 %:
    #     days 31..90  (2026-02-10..2026-04-10)  6000 × 0.16 × 60 / 300 = 192.00
    #     days 91..120 (2026-04-11..2026-05-10)  6000 × 0.16 × 30 / 130 = 221.538… → 221.54
    #   total 72.00 + 192.00 + 221.54 = 485.54
    rates = [KeyRate(date(2025, 1, 1), D("0.21")), KeyRate(date(2026, 3, 1), D("0.18")),
             KeyRate(date(2026, 4, 25), D("0.16"))]
    result = calculate(D("10000.00"), date(2026, 1, 10), date(2026, 5, 10), HOUSEHOLD, rates,
                       repayments=[Repayment(date(2026, 3, 11), D("4000.00"))])
    assert result.lines == (
        PenaltyLine(D("4000.00"), date(2026, 3, 11), date(2026, 2, 10), date(2026, 3, 11), 30, 300, D("0.18"),
                    D("72.00")),
        PenaltyLine(D("6000.00"), None, date(2026, 2, 10), date(2026, 4, 10), 60, 300, D("0.16"), D("192.00")),
        PenaltyLine(D("6000.00"), None, date(2026, 4, 11), date(2026, 5, 10), 30, 130, D("0.16"), D("221.54")),
    )
    assert result.total == D("485.54")


def test_payment_day_itself_carries_the_penalty():
    # Paid on day 31: exactly one penalised day, 3000 × 0.10 × 1 / 300 = 1.00.
    result = calculate(D("3000.00"), date(2026, 1, 10), date(2026, 3, 1), HOUSEHOLD,
                       [KeyRate(date(2026, 1, 1), D("0.10"))],
                       repayments=[Repayment(date(2026, 2, 10), D("3000.00"))])
    assert [(line.start, line.end, line.days) for line in result.lines] == [(date(2026, 2, 10), date(2026, 2, 10), 1)]
    assert result.total == D("1.00")


def test_in_time_late_unknown_and_excess_repayments():
    rates = [KeyRate(date(2026, 1, 1), D("0.10"))]
    due = date(2026, 1, 10)
    result = calculate(D("9000.00"), due, date(2026, 3, 11), HOUSEHOLD, rates, repayments=[
        Repayment(date(2026, 1, 10), D("6000.00")),   # in time: only lowers the debt to 3 000
        Repayment(date(2026, 3, 12), D("3000.00")),   # after as_of: not known yet
    ])
    # 3000 × 0.10 × 30 / 300 = 30.00 for days 31..60
    assert [(line.tranche, line.paid_on) for line in result.lines] == [(D("3000.00"), None)]
    assert result.total == D("30.00")

    overpaid = calculate(D("3000.00"), due, date(2026, 3, 11), HOUSEHOLD, rates,
                         repayments=[Repayment(date(2026, 3, 11), D("5000.00"))])
    assert [line.tranche for line in overpaid.lines] == [D("3000.00")]
    assert overpaid.total == D("30.00")


def test_input_validation_and_early_as_of():
    with pytest.raises(ValueError):
        calculate(D("-1"), date(2026, 1, 10), date(2026, 5, 1), HOUSEHOLD, RATES_21)
    for as_of in (date(2026, 1, 10), date(2026, 1, 1)):
        assert calculate(D("100"), date(2026, 1, 10), as_of, LEGAL, RATES_21) == PenaltyResult((), D("0.00"))


# --- legal schemes --------------------------------------------------------------------------------------

def test_legal_schemes_start_on_day_one():
    rates = [KeyRate(date(2026, 1, 1), D("0.10"))]
    legal = calculate(D("13000.00"), date(2026, 1, 10), date(2026, 1, 19), SCHEMES["legal"], rates)
    # 13000 × 0.10 × 9 / 130 = 90.00 for 2026-01-11..2026-01-19
    assert [(line.start, line.end, line.days, line.divisor) for line in legal.lines] == [
        (date(2026, 1, 11), date(2026, 1, 19), 9, 130)]
    assert legal.total == D("90.00")
    utility = calculate(D("30000.00"), date(2026, 1, 10), date(2026, 1, 19), SCHEMES["legal_utility"], rates)
    # 30000 × 0.10 × 9 / 300 = 90.00
    assert [(line.days, line.divisor) for line in utility.lines] == [(9, 300)]
    assert utility.total == D("90.00")
    assert LEGAL.steps == (Step(1, None, 130),) and LEGAL_UTILITY.steps == (Step(1, None, 300),)


def test_custom_scheme_is_data():
    scheme = Scheme("test", (Step(1, 2, 100), Step(3, None, 50)))
    result = calculate(D("1000.00"), date(2026, 1, 10), date(2026, 1, 14), scheme,
                       [KeyRate(date(2026, 1, 1), D("0.10"))])
    # days 1..2: 1000 × 0.1 × 2 / 100 = 2.00; days 3..4: 1000 × 0.1 × 2 / 50 = 4.00
    assert [line.amount for line in result.lines] == [D("2.00"), D("4.00")]
    with pytest.raises(ValueError):
        Step(5, 4, 300)


# --- rates ----------------------------------------------------------------------------------------------

def test_key_rate_lookup():
    rates = [KeyRate(date(2026, 3, 1), D("0.18")), KeyRate(date(2025, 1, 1), D("0.21"))]  # order does not matter
    assert key_rate_on(rates, date(2026, 2, 28)) == D("0.21")
    assert key_rate_on(rates, date(2026, 3, 1)) == D("0.18")
    with pytest.raises(ValueError, match="no key rate in force on 2024-12-31"):
        key_rate_on(rates, date(2024, 12, 31))


def test_rate_on_payment_day_after_a_key_rate_change():
    rates = [KeyRate(date(2025, 1, 1), D("0.21")), KeyRate(date(2026, 3, 1), D("0.18"))]
    result = calculate(D("1000.00"), date(2026, 1, 1), date(2026, 6, 1), LEGAL, rates,
                       repayments=[Repayment(date(2026, 3, 2), D("1000.00"))])
    assert [line.rate for line in result.lines] == [D("0.18")]


def test_rate_before_first_row_raises_in_calculate():
    with pytest.raises(ValueError, match="no key rate"):
        calculate(D("100"), date(2021, 1, 1), date(2021, 6, 1), LEGAL, RATES_21)


def test_cap_applies_by_arising_day():
    assert effective_rate(RATES_21, CAP_2022, date(2022, 2, 28), date(2026, 1, 1)) == D("0.095")
    assert effective_rate(RATES_21, CAP_2022, date(2022, 2, 27), date(2026, 1, 1)) == D("0.21")
    assert effective_rate(RATES_21, CAP_2022, date(2027, 1, 1), date(2027, 1, 1)) == D("0.21")
    low = [KeyRate(date(2022, 1, 1), D("0.075"))]
    assert effective_rate(low, CAP_2022, date(2023, 1, 1), date(2023, 1, 1)) == D("0.075")  # key rate is lower


# --- properties -----------------------------------------------------------------------------------------

RATE_TABLE = [KeyRate(date(2000, 1, 1), D("0.16"))]
money = st.integers(0, 10**9).map(lambda k: D(k) / 100)
due_dates = st.dates(date(2020, 1, 1), date(2030, 12, 31))
schemes = st.sampled_from([HOUSEHOLD, LEGAL, LEGAL_UTILITY])
repayment_lists = st.lists(st.tuples(st.integers(-10, 400), money), max_size=6)


def _repayments(due, offsets_and_amounts):
    return [Repayment(due + timedelta(days=n), amount) for n, amount in offsets_and_amounts]


@FEW
@given(money, due_dates, st.integers(-5, 30), repayment_lists)
def test_household_first_30_days_are_free(amount, due, days, pays):
    result = calculate(amount, due, due + timedelta(days=days), HOUSEHOLD, RATE_TABLE,
                       repayments=_repayments(due, pays))
    assert result.total == D("0.00") and result.lines == ()


@FEW
@given(money, due_dates, schemes, st.integers(-5, 500), st.integers(0, 200))
def test_total_grows_with_as_of(amount, due, scheme, days, more):
    earlier = calculate(amount, due, due + timedelta(days=days), scheme, RATE_TABLE)
    later = calculate(amount, due, due + timedelta(days=days + more), scheme, RATE_TABLE)
    assert earlier.total <= later.total


@FEW
@given(money, due_dates, schemes, st.integers(-5, 500), repayment_lists,
       st.lists(st.tuples(st.integers(-400, 400), st.integers(0, 3000).map(lambda k: D(k) / 10000)),
                min_size=1, max_size=4))
def test_total_never_negative_and_zero_debt_costs_nothing(amount, due, scheme, days, pays, rate_rows):
    rates = [KeyRate(date(2000, 1, 1), D("0.10"))] + [KeyRate(due + timedelta(days=n), r) for n, r in rate_rows]
    as_of = due + timedelta(days=days)
    result = calculate(amount, due, as_of, scheme, rates, repayments=_repayments(due, pays))
    assert result.total >= 0 and all(line.amount >= 0 and line.days > 0 for line in result.lines)
    assert result.total == sum((line.amount for line in result.lines), D("0.00"))
    assert calculate(D("0"), due, as_of, scheme, rates, repayments=_repayments(due, pays)).total == D("0.00")


@FEW
@given(money, due_dates, schemes, st.integers(-5, 500), repayment_lists, st.data())
def test_order_of_repayments_does_not_matter(amount, due, scheme, days, pays, data):
    # The rate changes inside the period, so mixing up tranches would show in the result.
    rates = [KeyRate(date(2000, 1, 1), D("0.16")), KeyRate(due + timedelta(days=100), D("0.21"))]
    shuffled = data.draw(st.permutations(pays))
    given_order = calculate(amount, due, due + timedelta(days=days), scheme, rates,
                            repayments=_repayments(due, pays))
    other_order = calculate(amount, due, due + timedelta(days=days), scheme, rates,
                            repayments=_repayments(due, shuffled))
    assert given_order == other_order


@FEW
@given(money, money, due_dates, schemes, st.integers(-5, 300), st.integers(0, 200), st.integers(0, 200))
def test_paying_earlier_never_costs_more(amount, paid, due, scheme, pay_day, delay, after):
    # One payment moved later, arbitrary kopeck amounts: the same tranches, only longer.
    as_of = due + timedelta(days=pay_day + delay + after)
    early = calculate(amount, due, as_of, scheme, RATE_TABLE,
                      repayments=[Repayment(due + timedelta(days=pay_day), paid)])
    late = calculate(amount, due, as_of, scheme, RATE_TABLE,
                     repayments=[Repayment(due + timedelta(days=pay_day + delay), paid)])
    assert early.total <= late.total


@FEW
@given(st.integers(0, 50), due_dates, schemes, st.lists(st.tuples(st.integers(-5, 300), st.integers(0, 20),
                                                                 st.integers(0, 200)), max_size=5),
       st.integers(0, 100))
def test_paying_more_earlier_never_costs_more(units, due, scheme, pays, after):
    # Each repayment may be delayed; capping and same-day merging then regroup the tranches. Rounding every
    # line to kopecks could move a regrouped total by a kopeck either way, so amounts sit on a 3 900 ₽ grid
    # where, at a whole-percent rate, every line is exact and the property tests the rule, not the rounding.
    grid = D("3900.00")
    early_pays = [Repayment(due + timedelta(days=day), grid * k) for day, k, _ in pays]
    late_pays = [Repayment(due + timedelta(days=day + delay), grid * k) for day, k, delay in pays]
    as_of = due + timedelta(days=max([day + delay for day, _, delay in pays], default=0) + after)
    early = calculate(grid * units, due, as_of, scheme, RATE_TABLE, repayments=early_pays)
    late = calculate(grid * units, due, as_of, scheme, RATE_TABLE, repayments=late_pays)
    assert early.total <= late.total
