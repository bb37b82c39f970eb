"""What a customer sees of their money: balance, bills, debt by period and penalties to date.

Everything is derived from the ledger and the accruals; the dashboard's figures for all of a
customer's accounts come from two queries whatever the number of accounts.
"""
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache

from sqlalchemy import bindparam, func, select

from app import policy
from app.extensions import db
from app.models import (Account, AccountAccess, AccountPeriod, Accrual, KeyRate, LedgerEntry, Meter, MeterReading,
                        PenaltyRateCap, Premises)
from app.services import ledger, penalties
from app.services.periods import local_today, previous_period

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class MeterCard:
    id: int
    resource: str
    model: str
    serial: str
    askue: bool


@dataclass(frozen=True)
class LastReading:
    taken_on: date
    by_zone: dict[str, Decimal]

    def values(self) -> dict[str, Decimal]:
        return self.by_zone


@dataclass
class Summary:
    balance: Decimal = ZERO
    last_bill: "LastBill | None" = None
    meters: list[tuple[MeterCard, LastReading | None]] = field(default_factory=list)


@dataclass(frozen=True)
class AccountCard:
    id: int
    number: str
    holder_name: str
    address: str
    is_closed: bool
    role: str
    transferred_on: date | None = None  # the account passed to a new owner: history up to this day only


@dataclass(frozen=True)
class LastBill:
    period: date
    charged: Decimal
    due_date: date


@lru_cache(maxsize=1)
def _dashboard_queries():
    """The dashboard's two statements, built once: constructing them costs more than running them.

    One row per account the user sees, with its balance and latest bill as correlated subqueries,
    then one row per meter with its newest current reading.
    """
    user_id, ids = bindparam("user_id"), bindparam("ids", expanding=True)
    acc, access, bill = Account.__table__.c, AccountAccess.__table__.c, AccountPeriod.__table__.c
    balance = (select(func.coalesce(func.sum(LedgerEntry.__table__.c.amount), 0))
               .where(LedgerEntry.__table__.c.account_id == acc.id).scalar_subquery())
    newer = AccountPeriod.__table__.alias("newer")
    latest = (select(func.max(newer.c.period)).where(newer.c.account_id == acc.id)
              .correlate(Account.__table__).scalar_subquery())
    accounts = (select(acc.id, acc.number, acc.holder_name, acc.address, acc.is_closed, access.role,
                       access.valid_from, access.valid_until,
                       balance.label("balance"), bill.period, bill.charged, bill.due_date)
                .select_from(Account.__table__)
                .join(AccountAccess.__table__, access.account_id == acc.id)
                .outerjoin(AccountPeriod.__table__, (bill.account_id == acc.id) & (bill.period == latest))
                .where(access.user_id == user_id, access.revoked_at.is_(None))
                .order_by(access.granted_at, acc.id))
    m, r, p = Meter.__table__.c, MeterReading.__table__.c, Premises.__table__.c
    newest = (select(r.meter_id, func.max(r.period).label("period"))
              .join(Meter.__table__, m.id == r.meter_id).join(Premises.__table__, p.id == m.premises_id)
              .where(p.account_id.in_(ids), r.is_current).group_by(r.meter_id).subquery())
    meters = (select(m.id, p.account_id, m.resource, m.model, m.serial, m.zones, m.askue, r.taken_on, r.t1, r.t2, r.t3)
              .select_from(Meter.__table__).join(Premises.__table__, p.id == m.premises_id)
              .outerjoin(newest, newest.c.meter_id == m.id)
              .outerjoin(MeterReading.__table__, (r.meter_id == m.id) & r.is_current & (r.period == newest.c.period))
              .where(p.account_id.in_(ids), m.removed_on.is_(None)).order_by(m.id))
    return accounts, meters


def dashboard(user) -> list[tuple[AccountCard, Summary]]:
    """The customer's accounts with balance, latest bill and meters, in two queries; an account
    whose access is dated (it passed to the user, or from them, on a transfer date) shows only its
    part of the history, at a few queries more."""
    accounts_query, meters_query = _dashboard_queries()
    cards: list[tuple[AccountCard, Summary]] = []
    by_id: dict[int, Summary] = {}
    windows: dict[int, policy.Window] = {}
    for row in db.session.execute(accounts_query, {"user_id": user.id}):
        summary = Summary(balance=Decimal(row.balance).quantize(Decimal("0.01")),
                          last_bill=LastBill(row.period, row.charged, row.due_date) if row.period else None)
        cards.append((AccountCard(row.id, row.number, row.holder_name, row.address, row.is_closed, row.role,
                                  transferred_on=row.valid_until), summary))
        by_id[row.id] = summary
        if row.valid_from is not None or row.valid_until is not None:
            windows[row.id] = policy.Window(row.valid_from, row.valid_until)
    if by_id:
        for row in db.session.execute(meters_query, {"ids": list(by_id)}):
            reading = None
            if row.taken_on is not None:
                reading = LastReading(row.taken_on, dict(zip(("T1", "T2", "T3")[:row.zones], (row.t1, row.t2, row.t3))))
            by_id[row.account_id].meters.append(
                (MeterCard(row.id, row.resource, row.model, row.serial, row.askue), reading))
    for account_id, window in windows.items():
        _limit_to(by_id[account_id], account_id, window)
    return cards


def _limit_to(summary: Summary, account_id: int, window: policy.Window) -> None:
    """A dashboard card's figures within the user's part of the account's history."""
    entries = _within(select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(LedgerEntry.account_id == account_id),
                      LedgerEntry.booked_on, window)
    bills_query = _within_periods(select(AccountPeriod).where(AccountPeriod.account_id == account_id),
                                  AccountPeriod.period, window)
    summary.balance = Decimal(db.session.scalar(entries)).quantize(Decimal("0.01"))
    bill = db.session.scalar(bills_query.order_by(AccountPeriod.period.desc()).limit(1))
    summary.last_bill = LastBill(bill.period, bill.charged, bill.due_date) if bill else None
    meters = []
    for card, _reading in summary.meters:
        newest = db.session.scalar(_within(select(MeterReading).where(
            MeterReading.meter_id == card.id, MeterReading.is_current), MeterReading.taken_on, window)
            .order_by(MeterReading.period.desc(), MeterReading.taken_on.desc()).limit(1))
        meters.append((card, LastReading(newest.taken_on, newest.values()) if newest else None))
    summary.meters = meters


def _within(query, column, window: policy.Window | None):
    """The query limited to the rows whose date `column` falls in the window."""
    return query if window is None else _between(query, column, window.start, window.end)


def _within_periods(query, column, window: policy.Window | None):
    """The query limited to the billing months whose charge falls in the window."""
    return query if window is None else _between(query, column, window.first_period, window.end_period)


def _between(query, column, start, end):
    if start is not None:
        query = query.where(column >= start)
    if end is not None:
        query = query.where(column < end)
    return query


def entries_of(account: Account, until: date | None = None, window: policy.Window | None = None) -> list[LedgerEntry]:
    query = _within(select(LedgerEntry).where(LedgerEntry.account_id == account.id), LedgerEntry.booked_on, window)
    if until is not None:
        query = query.where(LedgerEntry.booked_on <= until)
    return list(db.session.scalars(query.order_by(LedgerEntry.booked_on, LedgerEntry.id)))


def as_entries(rows: list[LedgerEntry]) -> list[ledger.Entry]:
    return [ledger.Entry(e.id, e.kind, e.amount, e.booked_on, e.period, e.due_date, e.chosen_period, e.for_penalties)
            for e in rows]


def rate_tables() -> tuple[list[penalties.KeyRate], list[penalties.RateCap]]:
    rates = [penalties.KeyRate(r.valid_from, r.rate)
             for r in db.session.scalars(select(KeyRate).order_by(KeyRate.valid_from))]
    caps = [penalties.RateCap(c.debts_from, c.debts_to, c.cap) for c in db.session.scalars(select(PenaltyRateCap))]
    return rates, caps


@dataclass
class DebtView:
    statement: ledger.Statement
    penalties: list[tuple[ledger.Debt, penalties.PenaltyResult]]
    penalties_accrued: Decimal
    penalties_posted: Decimal
    as_of: date

    @property
    def penalties_not_yet_billed(self) -> Decimal:
        return max(ZERO, self.penalties_accrued - self.penalties_posted)


def debt(account: Account, as_of: date | None = None, window: policy.Window | None = None) -> DebtView:
    """Debt by period and the penalties accrued day by day up to `as_of` (today by default). Within a
    window only its entries count, and a window that has ended is shown as of its last day."""
    as_of = as_of or local_today()
    if window is not None and window.end is not None:
        as_of = min(as_of, window.end - timedelta(days=1))
    rows = entries_of(account, as_of, window)
    statement = ledger.allocate(as_entries(rows))
    rates, caps = rate_tables()
    scheme = penalties.SCHEMES[account.penalty_scheme]
    accrued = ledger.accrued_penalties(statement, as_of, scheme, rates, caps)
    posted = sum((e.amount for e in rows if e.kind == "penalty"), ZERO)
    return DebtView(statement, accrued, sum((calc.total for _, calc in accrued), ZERO), posted, as_of)


def bills(account: Account, window: policy.Window | None = None) -> list[AccountPeriod]:
    return list(db.session.scalars(_within_periods(select(AccountPeriod).where(AccountPeriod.account_id == account.id),
                                                   AccountPeriod.period, window)
                                   .order_by(AccountPeriod.period.desc())))


def lines(account: Account, period: date) -> list[Accrual]:
    return list(db.session.scalars(select(Accrual).where(Accrual.account_id == account.id, Accrual.period == period)
                                   .order_by(Accrual.resource, Accrual.meter_id, Accrual.zone, Accrual.id)))


@dataclass
class Change:
    """Why this month differs from the previous one, for one resource."""

    resource: str
    quantity: Decimal
    previous_quantity: Decimal
    amount: Decimal
    previous_amount: Decimal
    prices: list[Decimal]
    previous_prices: list[Decimal]
    bases: set[str]
    days: int

    @property
    def reasons(self) -> list[str]:
        found = []
        if self.quantity != self.previous_quantity:
            found.append("consumption")
        if set(self.prices) != set(self.previous_prices) and self.previous_prices:
            found.append("tariff")
        if self.bases - {"reading"}:
            found.append("estimate")
        return found


def changes(account: Account, period: date, window: policy.Window | None = None) -> list[Change]:
    """Why the month differs from the one before; a month before the window is not compared with."""
    before = previous_period(period)
    current = lines(account, period)
    earlier = lines(account, before) if window is None or window.covers_period(before) else []
    grouped: dict[str, list[list[Accrual]]] = defaultdict(lambda: [[], []])
    for line in current:
        grouped[line.resource][0].append(line)
    for line in earlier:
        grouped[line.resource][1].append(line)
    result = []
    for resource, (now, before) in grouped.items():
        result.append(Change(
            resource, sum((a.quantity for a in now), Decimal(0)), sum((a.quantity for a in before), Decimal(0)),
            sum((a.amount for a in now), ZERO), sum((a.amount for a in before), ZERO),
            sorted({a.price for a in now if a.price is not None}),
            sorted({a.price for a in before if a.price is not None}),
            {a.basis for a in now}, max((a.days or 0 for a in now), default=0)))
    return result


def payments(account: Account, window: policy.Window | None = None) -> list[LedgerEntry]:
    return list(db.session.scalars(_within(select(LedgerEntry).where(
        LedgerEntry.account_id == account.id, LedgerEntry.kind == "payment"), LedgerEntry.booked_on, window)
        .order_by(LedgerEntry.booked_on.desc(), LedgerEntry.id.desc())))
