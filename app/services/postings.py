"""Money posted to an account outside the monthly close: payments, and corrections decided on a
complaint. Both are ledger entries with an audit event; a correction also gets its own accrual
line, so the bill explains it next to the ordinary lines."""
from datetime import date
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.models import Account, Accrual, LedgerEntry
from app.services import audit
from app.services.errors import Conflict, InvalidInput
from app.services.periods import due_date, local_today, period_of

MAX = Decimal("100000000")


def _amount(value, field: str = "amount") -> Decimal:
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        raise InvalidInput(_l("Enter the amount in rubles, like 1234.56."), field=field) from None
    if not amount.is_finite() or abs(amount) > MAX:
        raise InvalidInput(_l("The amount is out of range."), field=field)
    return amount


def payment(account: Account, amount, booked_on: date, source: str, external_id: str | None = None,
            chosen_period: date | None = None, for_penalties: bool = False, actor=None,
            description: str | None = None, commit: bool = True) -> LedgerEntry:
    """Credit a payment once: the same (source, external_id) posted again returns the first entry.
    With commit=False the entry commits with the caller's transaction (an online payment's status)."""
    value = _amount(amount)
    if value <= 0:
        raise InvalidInput(_l("A payment must be more than zero."), field="amount")
    if external_id:
        existing = db.session.scalar(select(LedgerEntry).where(LedgerEntry.source == source,
                                                               LedgerEntry.external_id == external_id))
        if existing is not None:
            if existing.account_id != account.id or -existing.amount != value:
                raise Conflict(_l("This payment was already posted with other details."))
            return existing
    entry = LedgerEntry(account_id=account.id, kind="payment", amount=-value, booked_on=booked_on, source=source,
                        external_id=external_id, chosen_period=chosen_period, for_penalties=for_penalties,
                        description=description, created_by_id=getattr(actor, "id", None))
    db.session.add(entry)
    db.session.flush()
    audit.record("ledger.payment", actor=actor, obj=account,
                 details={"amount": str(value), "source": source, "external_id": external_id, "entry": entry.id})
    if commit:
        db.session.commit()
    return entry


def correction(account: Account, amount, reason: str, actor=None, period: date | None = None,
               resource: str = "electricity", for_period: date | None = None, commit: bool = True) -> LedgerEntry:
    """A recalculation decided on a complaint: a separate line in the current period (negative
    returns money), never a change to the lines already billed. A case step passes commit=False: the
    entry then commits with the step, or not at all."""
    value = _amount(amount)
    if value == 0:
        raise InvalidInput(_l("A correction of zero changes nothing."), field="amount")
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_l("Give the reason for the correction."), field="reason")
    period = period or period_of(local_today())
    db.session.add(Accrual(account_id=account.id, period=period, resource=resource, zone="T1", basis="correction",
                           quantity=Decimal(0), amount=value,
                           details={"reason": reason, "for_period": for_period.isoformat() if for_period else None}))
    entry = LedgerEntry(account_id=account.id, kind="correction", amount=value, period=period,
                        due_date=due_date(period), booked_on=local_today(), source="correction",
                        description=reason[:300], created_by_id=getattr(actor, "id", None))
    db.session.add(entry)
    db.session.flush()
    audit.record("ledger.correction", actor=actor, obj=account,
                 details={"amount": str(value), "reason": reason, "period": period.isoformat(), "entry": entry.id})
    if commit:
        db.session.commit()
    return entry
