"""Demo billing data: tariffs, meters, a year of readings, payments and closed periods, so that every
customer page has something to show. Idempotent: what exists is left as it is."""
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from app.extensions import db
from app.models import Account, ConsumptionNorm, LedgerEntry, Meter, MeterReading, Premises, Tariff
from app.services import billing
from app.services.periods import next_period

D = Decimal
FIRST = date(2025, 11, 1)  # the first billed period of the demo
LAST = date(2026, 10, 1)  # the last closed period; November 2026 is open for readings

# Demo tariffs for region 77 (not the regulator's figures): (valid_from, zones, prices)
TARIFFS = [
    ("population_urban", "electricity", date(2025, 7, 1), ["7.87"], ["9.06", "3.05"], ["9.45", "3.05", "7.87"]),
    ("population_urban", "electricity", date(2026, 10, 1), ["8.66"], ["9.97", "3.36"], ["10.40", "3.36", "8.66"]),
    ("population_rural", "electricity", date(2025, 7, 1), ["5.51"], ["6.34", "2.14"], None),
    ("population_rural", "electricity", date(2026, 10, 1), ["6.06"], ["6.97", "2.35"], None),
    ("other", "electricity", date(2025, 7, 1), ["11.20"], None, None),
    ("other", "electricity", date(2026, 10, 1), ["12.30"], None, None),
    ("population_urban", "heat", date(2025, 7, 1), ["3213.35"], None, None),
    ("population_urban", "heat", date(2026, 10, 1), ["3534.69"], None, None),
    ("population_urban", "hot_water", date(2025, 7, 1), ["296.20"], None, None),
    ("population_urban", "hot_water", date(2026, 10, 1), ["325.82"], None, None),
]
NORMS = [("population_urban", "electricity", "95"), ("population_rural", "electricity", "120"),
         ("other", "electricity", "500"), ("population_urban", "heat", "0.0160"),
         ("population_urban", "hot_water", "3.5")]

# account number → (category, penalty scheme, residents, [(resource, model, serial, zones, digits, monthly use per zone)])
METERS = {
    "1000000001": ("population_urban", "household", 3, [("electricity", "Меркурий 206 RN", "41238765", 2, 6, ["180", "95"])]),
    "1000000002": ("population_rural", "household", 2, [("electricity", "Энергомера CE102", "009217735", 1, 6, ["240"])]),
    "1000000003": ("population_urban", "household", 2, [
        ("electricity", "МИР С-05", "7730012", 3, 6, ["60", "110", "85"]),
        ("heat", "ВКТ-7", "TH-55102", 1, 6, ["0.9"]),
        ("hot_water", "Пульсар ГВС", "HW-882210", 1, 5, ["3.1"])]),
    "2000000001": ("other", "legal", 1, [("electricity", "Меркурий 234 ARTM", "35880912", 1, 7, ["4200"])]),
}
# Months without a reading, to show estimates and the recalculation that follows them.
SKIPPED = {"1000000002": {date(2026, 2, 1), date(2026, 3, 1)}}
# Everyone pays each bill in full on the 12th of the next month, except from here on.
UNPAID_FROM = {"1000000003": date(2026, 6, 1)}  # Petrov stops paying: debt and penalties


def seed() -> int:
    if db.session.scalar(select(Tariff.id).limit(1)) is not None:
        return 0
    for category, resource, since, one, two, three in TARIFFS:
        for prices in (one, two, three):
            if prices:
                db.session.add(Tariff(region="77", category=category, resource=resource, zones=len(prices),
                                      valid_from=since, t1=D(prices[0]), t2=D(prices[1]) if len(prices) > 1 else None,
                                      t3=D(prices[2]) if len(prices) > 2 else None, note="demo"))
    for category, resource, per_resident in NORMS:
        db.session.add(ConsumptionNorm(region="77", category=category, resource=resource, valid_from=date(2025, 1, 1),
                                       per_resident=D(per_resident)))
    meters = []
    for number, (category, scheme, residents, specs) in METERS.items():
        account = db.session.scalar(select(Account).where(Account.number == number))
        account.category, account.penalty_scheme = category, scheme
        premises = Premises(account=account, address=account.address, residents=residents,
                            kind="non_residential" if scheme == "legal" else "residential")
        db.session.add(premises)
        for resource, model, serial, zones, digits, use in specs:
            meter = Meter(premises=premises, resource=resource, model=model, serial=serial, zones=zones, digits=digits,
                          installed_on=date(2025, 10, 20), next_verification_on=date(2031, 10, 20))
            db.session.add(meter)
            meters.append((number, meter, [D(u) for u in use]))
    db.session.flush()
    period = date(2025, 10, 1)
    values = {}
    for number, meter, use in meters:
        values[meter.id] = [D(1000) * (n + 1) for n in range(meter.zones)]
        db.session.add(_reading(meter, period, date(2025, 10, 20), values[meter.id], "installation", "billed"))
    period = FIRST
    while period <= date(2026, 11, 1):
        season = D("1.25") if period.month in (12, 1, 2) else D("0.85") if period.month in (6, 7, 8) else D(1)
        for number, meter, use in meters:
            values[meter.id] = [v + (u * season).quantize(D("0.001")) for v, u in zip(values[meter.id], use)]
            if period in SKIPPED.get(number, set()):
                continue
            source = "customer" if meter.resource == "electricity" else "staff"
            db.session.add(_reading(meter, period, period.replace(day=21), values[meter.id], source, "accepted"))
        db.session.flush()
        if period <= LAST:
            db.session.commit()
            billing.close_period(period)
            _pay(period)
        period = next_period(period)
    db.session.commit()
    return len(meters)


def _reading(meter, period, taken_on, values, source, status) -> MeterReading:
    zones = {f"t{n + 1}": v for n, v in enumerate(values)}
    return MeterReading(meter=meter, period=period, taken_on=taken_on, source=source, status=status, **zones)


def _pay(period: date) -> None:
    """Each customer pays the bill of `period` in the next month, except where the demo shows a debt."""
    for number in METERS:
        account = db.session.scalar(select(Account).where(Account.number == number))
        if number in UNPAID_FROM and period >= UNPAID_FROM[number]:
            continue
        charged = db.session.scalar(select(LedgerEntry.amount).where(
            LedgerEntry.account_id == account.id, LedgerEntry.kind == "charge", LedgerEntry.period == period))
        if charged:
            paid_on = next_period(period).replace(day=12)
            db.session.add(LedgerEntry(account_id=account.id, kind="payment", amount=-charged, booked_on=paid_on,
                                       source="demo", external_id=f"demo:{number}:{period:%Y-%m}",
                                       description="Оплата через банк"))
    db.session.commit()
