"""The monthly close: consumption, accrual lines, the charge, and penalties, for every account.

Idempotent per period and account: an account whose period is closed (an `account_period` row) is
skipped, and each batch of accounts is one transaction, so a close that stopped half-way is simply
run again. Work is done in batches with a few set-based queries each, never a query per account.

Consumption of a meter in a period comes from, in this order:
- its reading for the period minus the previous actual reading (basis "reading"); when periods
  billed by estimate lie between them, the actual consumption is spread over those months and this
  one by days, and the estimates are reversed ("recalculation" lines);
- without a reading, the monthly average of recent actual readings for at most AVERAGE_MAX_PERIODS
  periods in a row ("average");
- after that, or without enough history, the normative per resident ("normative").
"""
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from flask import current_app
from sqlalchemy import func, select, update

from app.extensions import db
from app.models import (Account, AccountPeriod, Accrual, BillingPeriod, ConsumptionNorm, KeyRate, LedgerEntry, Meter,
                        MeterReading, PenaltyRateCap, Premises, Tariff)
from app.models.types import utcnow
from app.services import askue_readings, askue_substitution, bulk, consumption, ledger, penalties, tariffs
from app.services.periods import days_in, due_date, due_date_rules, last_day, months_between

ZERO = Decimal("0.00")
ESTIMATES = ("average", "normative")
HISTORY_MONTHS = 24


class CloseError(Exception):
    pass


@dataclass(frozen=True)
class Reading:
    id: int
    period: date
    taken_on: date
    values: dict[str, Decimal]


@dataclass
class CloseResult:
    period: date
    closed: int = 0
    skipped: int = 0
    lines: int = 0
    charged: Decimal = ZERO
    problems: dict[int, str] = field(default_factory=dict)


@dataclass
class Rules:
    """The dated tables, loaded once per close."""

    tariffs: dict[tuple, list[Tariff]]
    norms: dict[tuple, list[ConsumptionNorm]]
    due_rules: list
    rates: list[penalties.KeyRate]
    caps: list[penalties.RateCap]
    cfg: dict

    @classmethod
    def load(cls) -> "Rules":
        by_key: dict[tuple, list[Tariff]] = defaultdict(list)
        for t in db.session.scalars(select(Tariff).order_by(Tariff.valid_from)):
            by_key[(t.region, t.category, t.resource, t.zones)].append(t)
        norms: dict[tuple, list[ConsumptionNorm]] = defaultdict(list)
        for n in db.session.scalars(select(ConsumptionNorm).order_by(ConsumptionNorm.valid_from)):
            norms[(n.region, n.category, n.resource)].append(n)
        rates = [penalties.KeyRate(r.valid_from, r.rate) for r in
                 db.session.scalars(select(KeyRate).order_by(KeyRate.valid_from))]
        caps = [penalties.RateCap(c.debts_from, c.debts_to, c.cap) for c in db.session.scalars(select(PenaltyRateCap))]
        # Detached, so the commits of the batches neither expire nor reload them.
        for row in [t for ts in by_key.values() for t in ts] + [n for ns in norms.values() for n in ns]:
            db.session.expunge(row)
        return cls(by_key, norms, due_date_rules(), rates, caps, dict(current_app.config))

    def segments(self, account: Account, resource: str, zones: int, period: date) -> list[tariffs.Segment]:
        return tariffs.segments(self.tariffs.get((account.region, account.category, resource, zones), []), period)

    def norm(self, account: Account, resource: str, period: date) -> Decimal | None:
        rows = [n for n in self.norms.get((account.region, account.category, resource), []) if n.valid_from <= period]
        return rows[-1].per_resident if rows else None


def close_period(period: date, batch_size: int = 500, account_ids: list[int] | None = None) -> CloseResult:
    period = period.replace(day=1)
    billing = db.session.get(BillingPeriod, period)
    if billing is None:
        billing = BillingPeriod(period=period, status="open")
        db.session.add(billing)
        db.session.commit()
    rules = Rules.load()
    result = CloseResult(period)
    # Meters on ASKUE get their reading, gaps substituted by the rules, before anything is billed.
    askue_substitution.substitute_period(period)
    askue_readings.close_readings(period)
    query = select(Account.id).where(Account.is_closed.is_(False)).order_by(Account.id)
    if account_ids is not None:
        query = query.where(Account.id.in_(account_ids))
    all_ids = list(db.session.scalars(query))
    for start in range(0, len(all_ids), batch_size):
        _close_batch(all_ids[start:start + batch_size], period, rules, result)
    if account_ids is None and not result.problems:
        billing = db.session.get(BillingPeriod, period)
        billing.status, billing.closed_at = "closed", utcnow()
        billing.accounts = db.session.query(AccountPeriod).filter_by(period=period).count()
        db.session.commit()
    return result


def _close_batch(ids: list[int], period: date, rules: Rules, result: CloseResult) -> None:
    # The batch is a slice of ascending ids, so its queries filter by an id range: no lists of
    # thousands of parameters to send and parse. Rows of accounts outside the batch are dropped.
    low, high = ids[0], ids[-1]
    wanted = set(ids)
    done = set(db.session.scalars(select(AccountPeriod.account_id).where(
        AccountPeriod.period == period, AccountPeriod.account_id.between(low, high)))) & wanted
    ids = [i for i in ids if i not in done]
    result.skipped += len(done)
    if not ids:
        return
    wanted = set(ids)
    end = last_day(period)
    accounts = {a.id: a for a in db.session.scalars(select(Account).where(Account.id.between(low, high)))
                if a.id in wanted}
    meters_by_account: dict[int, list[tuple[Meter, Premises]]] = defaultdict(list)
    for meter, premises in db.session.execute(
            select(Meter, Premises).join(Premises).where(
                Premises.account_id.between(low, high), Meter.installed_on <= end,
                (Meter.removed_on.is_(None)) | (Meter.removed_on >= period)).order_by(Meter.id)):
        if premises.account_id in wanted:
            meters_by_account[premises.account_id].append((meter, premises))
    since = date(period.year - HISTORY_MONTHS // 12, period.month, 1)
    # Plain rows, not ORM objects: a batch reads tens of thousands of readings.
    zones_of = {m.id: m.zone_names for ms in meters_by_account.values() for m, _ in ms}
    readings: dict[int, list[Reading]] = defaultdict(list)
    r, p = MeterReading.__table__.c, Premises.__table__.c
    m = Meter.__table__.c
    for row in db.session.execute(
            select(r.id, r.meter_id, r.period, r.taken_on, r.t1, r.t2, r.t3)
            .join(Meter.__table__, m.id == r.meter_id).join(Premises.__table__, p.id == m.premises_id)
            .where(p.account_id.between(low, high), r.is_current, r.period <= period, r.period >= since)
            .order_by(r.period)).all():
        if row.meter_id in zones_of:
            values = dict(zip(zones_of[row.meter_id], (row.t1, row.t2, row.t3)))
            readings[row.meter_id].append(Reading(row.id, row.period, row.taken_on, values))
    # A meter whose last reading is older than the window still has it as the start of counting.
    stale = [mid for mid in zones_of if not any(x.period < period for x in readings[mid])]
    if stale:
        last = (select(r.meter_id, func.max(r.period).label("period"))
                .where(r.meter_id.in_(stale), r.is_current, r.period < since).group_by(r.meter_id).subquery())
        for row in db.session.execute(select(r.id, r.meter_id, r.period, r.taken_on, r.t1, r.t2, r.t3).join(
                last, (last.c.meter_id == r.meter_id) & (last.c.period == r.period)).where(r.is_current)).all():
            values = dict(zip(zones_of[row.meter_id], (row.t1, row.t2, row.t3)))
            readings[row.meter_id].insert(0, Reading(row.id, row.period, row.taken_on, values))
    estimates: dict[int, list] = defaultdict(list)
    a = Accrual.__table__.c
    for row in db.session.execute(select(Accrual.__table__).where(
            a.account_id.between(low, high), a.basis.in_(ESTIMATES), a.period < period, a.period >= since)):
        estimates[row.meter_id].append(row)
    entries: dict[int, list[ledger.Entry]] = defaultdict(list)
    e = LedgerEntry.__table__.c
    for row in db.session.execute(select(e.id, e.account_id, e.kind, e.amount, e.booked_on, e.period, e.due_date,
                                         e.chosen_period, e.for_penalties).where(e.account_id.between(low, high))):
        if row.account_id in wanted:
            entries[row.account_id].append(ledger.Entry(row.id, row.kind, row.amount, row.booked_on, row.period,
                                                        row.due_date, row.chosen_period, row.for_penalties))

    accrual_rows, ledger_rows, closed_rows, billed = [], [], [], []
    due = due_date(period, rules.due_rules)
    for account_id in ids:
        account = accounts[account_id]
        try:
            lines, used = [], []
            for meter, premises in meters_by_account.get(account_id, []):
                meter_lines, reading = _meter_lines(account, meter, premises, readings[meter.id],
                                                    estimates[meter.id], period, rules)
                lines += meter_lines
                if reading is not None:
                    used.append(reading.id)
        except (tariffs.NoTariff, CloseError, ValueError) as exc:
            result.problems[account_id] = str(exc)
            continue
        charged = sum((line["amount"] for line in lines), ZERO)
        for line in lines:
            line.update(account_id=account_id, period=period)
        accrual_rows += lines
        new_entries = []
        if lines:
            new_entries.append(dict(account_id=account_id, kind="charge", amount=charged, period=period,
                                    due_date=due, booked_on=end, source="close",
                                    description=f"charge {period:%Y-%m}"))
        penalty = _new_penalty(account, entries[account_id], new_entries, end, rules)
        if penalty > 0:
            new_entries.append(dict(account_id=account_id, kind="penalty", amount=penalty, period=period,
                                    due_date=due, booked_on=end, source="close",
                                    description=f"penalties to {end.isoformat()}"))
        ledger_rows += new_entries
        closed_rows.append(dict(account_id=account_id, period=period, charged=charged, due_date=due))
        billed += used
        result.lines += len(lines)
        result.charged += charged
    # One transaction for the batch: either every account in it is closed, or none.
    now = utcnow()
    bulk.insert_rows(Accrual.__table__, accrual_rows)
    bulk.insert_rows(LedgerEntry.__table__, [{"created_at": now, "for_penalties": False, **row} for row in ledger_rows])
    bulk.insert_rows(AccountPeriod.__table__, [{"closed_at": now, **row} for row in closed_rows])
    if billed:
        db.session.execute(update(MeterReading.__table__).where(MeterReading.__table__.c.id.in_(billed))
                           .values(status="billed"))
    db.session.commit()
    result.closed += len(closed_rows)


def _new_penalty(account: Account, existing: list[ledger.Entry], new: list[dict], as_of: date, rules: Rules) -> Decimal:
    """Penalties accrued up to the end of the period, less what earlier closes already posted."""
    if not existing:
        return ZERO
    scheme = penalties.SCHEMES[account.penalty_scheme]
    entries = existing + [ledger.Entry(-n, row["kind"], row["amount"], row["booked_on"], row["period"],
                                       row["due_date"]) for n, row in enumerate(new, 1)]
    statement = ledger.allocate(entries)
    accrued = sum((calc.total for _debt, calc in ledger.accrued_penalties(statement, as_of, scheme, rules.rates,
                                                                         rules.caps)), ZERO)
    posted = sum((e.amount for e in existing if e.kind == "penalty"), ZERO)
    return max(ZERO, accrued - posted)


def _line(meter: Meter, zone: str, basis: str, price_line: tariffs.PriceLine, **details) -> dict:
    seg = price_line.segment
    return dict(meter_id=meter.id, resource=meter.resource, zone=zone, basis=basis, quantity=price_line.quantity,
                price=price_line.price, amount=price_line.amount, days=seg.days, tariff_id=seg.tariff.id,
                details={"from": seg.start.isoformat(), "to": seg.end.isoformat(), **details})


def _meter_lines(account, meter, premises, history, estimated, period, rules) -> tuple[list[dict], Reading | None]:
    current = next((r for r in history if r.period == period), None)
    earlier = [r for r in history if r.period < period]
    previous = earlier[-1] if earlier else None
    cfg = rules.cfg
    if current is not None and previous is None:
        return [], None  # the first reading of a meter only sets where counting starts
    if current is not None:
        used = consumption.between(previous.values, current.values, meter.rollover)
        reading_info = {"previous": {k: str(v) for k, v in previous.values.items()},
                        "current": {k: str(v) for k, v in current.values.items()},
                        "previous_on": previous.taken_on.isoformat(), "current_on": current.taken_on.isoformat()}
        # Months billed by estimate since the previous reading share the actual consumption; months
        # never billed (before the portal billed this meter) leave theirs to this period.
        months = sorted({e.period for e in estimated if previous.period < e.period < period}) + [period]
        if len(months) == 1:
            parts = rules.segments(account, meter.resource, meter.zones, period)
            return [_line(meter, pl.zone, "reading", pl, **reading_info)
                    for pl in tariffs.price(used, parts, period)], current
        return _recalculated(account, meter, used, months, estimated, rules, reading_info), current
    # No reading this period: estimate.
    estimated_in_row = months_between(previous.period, period) if previous else None
    if previous is not None and estimated_in_row <= cfg["AVERAGE_MAX_PERIODS"]:
        average = consumption.monthly_average([(r.period, r.values) for r in earlier], period, meter.rollover,
                                              cfg["AVERAGE_MONTHS"], cfg["AVERAGE_MONTHS_NEW_METER"],
                                              meter.installed_on)
        if average is not None:
            parts = rules.segments(account, meter.resource, meter.zones, period)
            return [_line(meter, pl.zone, "average", pl, average=str(average[pl.zone]),
                          estimated_in_row=estimated_in_row)
                    for pl in tariffs.price(average, parts, period)], None
    norm = rules.norm(account, meter.resource, period)
    if norm is None:
        raise CloseError(f"no normative for {meter.resource} in region {account.region}, category {account.category}")
    quantity = norm * premises.residents
    # The normative is billed at the single-rate tariff, whatever zones the meter has.
    parts = rules.segments(account, meter.resource, 1, period)
    return [_line(meter, "T1", "normative", pl, per_resident=str(norm), residents=premises.residents)
            for pl in tariffs.price({"T1": quantity}, parts, period)], None


def _recalculated(account, meter, used: dict, months: list[date], estimated: list, rules,
                  reading_info: dict) -> list[dict]:
    """An actual reading after estimated months: the actual consumption is spread over the months by
    days, each month priced at its own tariffs, and the estimates billed for them are reversed."""
    total_days = sum(days_in(m) for m in months)
    lines = []
    shares: dict[date, dict[str, Decimal]] = {m: {} for m in months}
    for zone, quantity in used.items():
        given = Decimal(0)
        for month in months[:-1]:
            share = (quantity * days_in(month) / total_days).quantize(tariffs.QTY)
            shares[month][zone] = share
            given += share
        shares[months[-1]][zone] = quantity - given
    for month in months:
        parts = rules.segments(account, meter.resource, meter.zones, month)
        basis = "reading" if month == months[-1] else "recalculation"
        for pl in tariffs.price(shares[month], parts, month):
            lines.append(_line(meter, pl.zone, basis, pl, for_period=month.isoformat(), **reading_info))
    for old in estimated:
        if old.period in months:
            lines.append(dict(meter_id=meter.id, resource=old.resource, zone=old.zone, basis="recalculation",
                              quantity=-old.quantity, price=old.price, amount=-old.amount, days=old.days,
                              tariff_id=old.tariff_id, details={"for_period": old.period.isoformat(),
                                                               "reverses": old.id, "estimate": old.basis}))
    return lines

