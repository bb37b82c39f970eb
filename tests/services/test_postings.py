from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Accrual, LedgerEntry
from app.services import postings, statements
from app.services.errors import Conflict, InvalidInput


def test_a_payment_is_posted_once(users):
    account = users.account()
    first = postings.payment(account, "1500.00", date(2026, 4, 10), "bank", external_id="T-1")
    again = postings.payment(account, "1500", date(2026, 4, 10), "bank", external_id="T-1")
    assert first.id == again.id
    assert db.session.scalar(select(func.count()).select_from(LedgerEntry)) == 1
    with pytest.raises(Conflict):
        postings.payment(account, "99", date(2026, 4, 10), "bank", external_id="T-1")
    for bad in ("0", "-5", "abc", "1e12"):
        with pytest.raises(InvalidInput):
            postings.payment(account, bad, date(2026, 4, 10), "bank")


def test_a_correction_is_its_own_line_and_changes_the_balance(users):
    account = users.account()
    postings.correction(account, "-250.00", "Перерасчёт по жалобе: неверное показание", period=date(2026, 4, 1),
                        for_period=date(2026, 3, 1))
    [line] = db.session.scalars(select(Accrual).where(Accrual.account_id == account.id)).all()
    assert (line.basis, line.amount, line.period) == ("correction", Decimal("-250.00"), date(2026, 4, 1))
    assert statements.debt(account).statement.balance == Decimal("-250.00")
    with pytest.raises(InvalidInput):
        postings.correction(account, "10", "  ")
