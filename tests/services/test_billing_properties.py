"""Property: the accruals of a period never depend on the order in which the readings arrived."""
from datetime import date
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from app.extensions import db
from app.models import Accrual
from app.services import billing as close
from app.services import readings

# (meter index, period, values): gaps in March–May and July exercise the average, the normative
# and the recalculation when the actual reading comes back.
READINGS = [
    (0, date(2025, 2, 1), {"T1": "120"}), (0, date(2025, 3, 1), {"T1": "250"}),
    (0, date(2025, 6, 1), {"T1": "700"}), (0, date(2025, 8, 1), {"T1": "940.5"}),
    (1, date(2025, 2, 1), {"T1": "80", "T2": "40"}), (1, date(2025, 4, 1), {"T1": "260", "T2": "130"}),
    (1, date(2025, 5, 1), {"T1": "350", "T2": "170"}), (1, date(2025, 8, 1), {"T1": "610", "T2": "300"}),
]
PERIODS = [date(2025, month, 1) for month in range(2, 10)]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(order=st.permutations(range(len(READINGS))))
def test_accruals_do_not_depend_on_arrival_order(app, users, billing, order):
    _ensure_rules(billing)  # hypothesis runs every example inside one test: the rules are made once
    account = users.account()
    meters = [billing.meter(account, zones=1, installed_on=date(2025, 1, 10)),
              billing.meter(account, zones=2, installed_on=date(2025, 1, 10))]
    for n in order:
        index, period, values = READINGS[n]
        readings.record(meters[index], period, period.replace(day=20),
                        {z: Decimal(v) for z, v in values.items()}, "import", None, confirm_jump=True)
    for period in PERIODS:
        assert not close.close_period(period, account_ids=[account.id]).problems
    signature = sorted(
        (meters.index(next(m for m in meters if m.id == a.meter_id)), a.period, a.zone, a.basis, a.quantity, a.amount)
        for a in db.session.scalars(select(Accrual).where(Accrual.account_id == account.id)))
    expected = getattr(test_accruals_do_not_depend_on_arrival_order, "expected", {})
    key = db.engine.url.get_backend_name()
    expected.setdefault(key, signature)
    test_accruals_do_not_depend_on_arrival_order.expected = expected
    assert signature == expected[key]


def _ensure_rules(billing):
    from app.models import ConsumptionNorm, Tariff

    if db.session.scalar(select(Tariff.id).limit(1)) is None:
        billing.tariff(date(2025, 1, 1), "5.00")
        billing.tariff(date(2025, 1, 1), "6.00", "2.50")
        billing.tariff(date(2025, 7, 1), "5.50")
        billing.tariff(date(2025, 7, 1), "6.60", "2.75")
    if db.session.scalar(select(ConsumptionNorm.id).limit(1)) is None:
        billing.norm(date(2025, 1, 1), "75")
