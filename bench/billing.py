"""The monthly close on PostgreSQL for 100,000 accounts with mixed meters.

    python -m bench.billing [--accounts 100000] [--batch 2000]

Builds its own data with COPY (accounts, premises, one to three meters each, seven months of
history, a current reading for most meters, old unpaid bills for some so penalties are computed),
then times `close_period` for the month: the same code path as the CLI, the page and Celery.
"""
import argparse
import io
import logging
import random
import time
from datetime import date, datetime, timezone
from decimal import Decimal

import flask_migrate
from sqlalchemy import text

from bench.support import database_url, ensure_database, report

PERIOD = date(2026, 3, 1)
HISTORY = [date(2025, m, 1) for m in range(8, 13)] + [date(2026, 1, 1), date(2026, 2, 1)]
NOW = datetime(2026, 4, 1, tzinfo=timezone.utc).isoformat()
# Monthly use by zone count, kWh.
USE = {1: [220], 2: [170, 80], 3: [70, 80, 90]}


def copy(conn, table: str, columns: list[str], rows) -> int:
    buffer = io.StringIO()
    count = 0
    for row in rows:
        buffer.write("\t".join(r"\N" if v is None else str(v) for v in row) + "\n")
        count += 1
    buffer.seek(0)
    with conn.cursor() as cursor:
        with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as writer:
            while chunk := buffer.read(1 << 20):
                writer.write(chunk)
    return count


def build(app, accounts: int) -> dict:
    from app.extensions import db
    from app.models import ConsumptionNorm, Tariff
    from app.services.accounts import code_hash

    rng = random.Random(2026)
    with app.app_context():
        flask_migrate.downgrade(revision="base")
        flask_migrate.upgrade()
        for zones, prices in ((1, ["6.50"]), (2, ["7.40", "2.60"]), (3, ["7.90", "2.60", "6.50"])):
            db.session.add(Tariff(region="77", category="population_urban", resource="electricity", zones=zones,
                                  valid_from=date(2025, 1, 1), t1=Decimal(prices[0]),
                                  t2=Decimal(prices[1]) if zones > 1 else None,
                                  t3=Decimal(prices[2]) if zones > 2 else None))
        db.session.add(Tariff(region="77", category="population_urban", resource="heat", zones=1,
                              valid_from=date(2025, 1, 1), t1=Decimal("3213.35")))
        db.session.add(ConsumptionNorm(region="77", category="population_urban", resource="electricity",
                                       valid_from=date(2025, 1, 1), per_resident=Decimal("95")))
        db.session.add(ConsumptionNorm(region="77", category="population_urban", resource="heat",
                                       valid_from=date(2025, 1, 1), per_resident=Decimal("0.016")))
        db.session.commit()
        hashed = code_hash("1234")
        raw = db.engine.raw_connection()
        conn = raw.driver_connection
        started = time.perf_counter()
        copy(conn, "account", ["id", "number", "holder_name", "address", "verification_code_hash", "is_closed",
                               "region", "category", "penalty_scheme", "created_at"],
             ((n, f"{3000000000 + n}", f"Абонент {n}", f"г. Москва, ул. Нагрузочная, д. {n}", hashed, "f", "77",
               "population_urban", "household", NOW) for n in range(1, accounts + 1)))
        copy(conn, "premises", ["id", "account_id", "address", "kind", "residents"],
             ((n, n, f"г. Москва, ул. Нагрузочная, д. {n}", "residential", 1 + n % 4) for n in range(1, accounts + 1)))
        meters = []  # (id, account, resource, zones)
        for n in range(1, accounts + 1):
            zones = rng.choices([1, 2, 3], weights=[60, 30, 10])[0]
            meters.append((len(meters) + 1, n, "electricity", zones))
            if n % 10 == 0:
                meters.append((len(meters) + 1, n, "heat", 1))
        copy(conn, "meter", ["id", "premises_id", "resource", "model", "serial", "zones", "digits", "installed_on",
                             "askue"],
             ((mid, account, resource, "Bench", f"B{mid:09d}", zones, 6, "2025-07-10", "f")
              for mid, account, resource, zones in meters))

        def readings():
            rid = 0
            for mid, _account, resource, zones in meters:
                use = [Decimal("0.9")] if resource == "heat" else [Decimal(u) for u in USE[zones]]
                values = [Decimal(1000)] * zones
                months = [date(2025, 7, 1)] + HISTORY
                has_current = rng.random() < 0.85
                if has_current:
                    months.append(PERIOD)
                for n, month in enumerate(months):
                    if n:
                        values = [v + u * Decimal(rng.randint(80, 120)) / 100 for v, u in zip(values, use)]
                    rid += 1
                    padded = [f"{v:.3f}" for v in values] + [None] * (3 - zones)
                    status = "accepted" if month == PERIOD else "billed"
                    source = "installation" if n == 0 else "customer"
                    yield (rid, mid, month.isoformat(), month.replace(day=20).isoformat(), *padded, source, status,
                           "t", "f", NOW)

        count = copy(conn, "meter_reading", ["id", "meter_id", "period", "taken_on", "t1", "t2", "t3", "source",
                                              "status", "is_current", "jump_confirmed", "submitted_at"], readings())

        def ledger():
            eid = 0
            for n in range(1, accounts + 1):
                if n % 5:
                    continue  # one account in five has an unpaid bill from December and a partial payment
                eid += 1
                yield (eid, n, "charge", "1800.00", "2025-12-01", "2026-01-10", "2025-12-31", "f", "bench", NOW)
                eid += 1
                yield (eid, n, "payment", "-600.00", None, None, "2026-02-20", "f", "bench", NOW)

        copy(conn, "ledger_entry", ["id", "account_id", "kind", "amount", "period", "due_date", "booked_on",
                                    "for_penalties", "source", "created_at"], ledger())
        conn.commit()
        with db.engine.begin() as c:
            for table in ("account", "premises", "meter", "meter_reading", "ledger_entry"):
                c.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                               f"(SELECT coalesce(max(id), 1) FROM {table}))"))
            c.execute(text("ANALYZE"))
        raw.close()
        return {"meters": len(meters), "readings": count, "build_s": time.perf_counter() - started}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=2000)
    args = parser.parse_args()
    logging.disable(logging.INFO)

    from app import create_app
    from app.services import billing

    url = database_url()
    ensure_database(url)
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
    built = build(app, args.accounts)
    print(f"built {args.accounts} accounts, {built['meters']} meters, {built['readings']} readings "
          f"in {built['build_s']:.1f} s")
    with app.app_context():
        started = time.perf_counter()
        result = billing.close_period(PERIOD, batch_size=args.batch)
        total = time.perf_counter() - started
    print(f"closed {result.closed} accounts, {result.lines} lines, charged {result.charged}, "
          f"problems {len(result.problems)}")
    report("billing", accounts_per_s=result.closed / total, total_s=total, lines=result.lines,
           problems=len(result.problems))


if __name__ == "__main__":
    main()
