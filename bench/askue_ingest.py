"""Ingest of half-hour A+ profiles: 100,000 meters × 3 days (14.4 million values) on PostgreSQL.

The values go through the poller's own path (`askue_storage.store` with the source's cursor saved in
the same transaction, a page of meters per transaction); then the same rows are loaded by a plain
COPY into the same, emptied table, for comparison. Only loading is timed: making up the profiles and
rendering the COPY text for the comparison are not.

    python -m bench.askue_ingest [--meters 100000] [--days 3] [--page 5000]
"""
import argparse
import io
import random
import time
from datetime import datetime, timedelta, timezone

from sqlalchemy import text
from sqlalchemy.engine import make_url

from bench.support import copy_askue_meters, database_url, migrated_app, report

FIRST_DAY = datetime(2026, 10, 31, 21, 0, tzinfo=timezone.utc)  # 1 November 2026, 00:00 Moscow
NOW = datetime(2026, 11, 4, tzinfo=timezone.utc).isoformat()


def build(app, meters: int) -> None:
    from app.extensions import db

    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(text("TRUNCATE account, meter_interval, interval_day, interval_month, askue_source "
                              "RESTART IDENTITY CASCADE"))
        raw = db.engine.raw_connection()
        conn = raw.driver_connection
        copy_askue_meters(conn, meters, number_base=5000000000, street="ул. Профильная", serial_prefix="P",
                          point_prefix="PT", installed_on="2025-07-10", created_at=NOW)
        conn.commit()
        raw.close()
        with db.engine.begin() as c:
            c.execute(text("ANALYZE"))


def profiles(meters: int, days: int, pool_size: int = 4000):
    """Pages of series in the order a server hands them over: day by day, meter by meter. The value
    lists come from a pool of realistic day shapes, so that the profiles cost no memory per meter."""
    from askue.series import Series

    rng = random.Random(442)
    shape = [0.45, 0.4, 0.38, 0.37, 0.38, 0.45, 0.7, 1.1, 1.3, 1.05, 0.9, 0.85,
             0.85, 0.85, 0.85, 0.9, 1.0, 1.2, 1.55, 1.75, 1.7, 1.45, 1.1, 0.7]
    pool = []
    for _ in range(pool_size):
        mean_wh = rng.uniform(100, 1000)
        pool.append([max(0, int(mean_wh * shape[i // 2] * rng.uniform(0.8, 1.2))) for i in range(48)])
    for day in range(days):
        start = FIRST_DAY + timedelta(days=day)
        yield [Series(f"PT{n:09d}", "A+", start, 30, pool[(n * 7 + day) % pool_size]) for n in range(1, meters + 1)]


def ingest(app, meters: int, days: int, page: int) -> tuple[float, int]:
    """The poller's path: a page of series stored and the cursor saved in one transaction."""
    from app.extensions import db
    from app.models import AskueSource
    from app.services import askue_storage
    from app.services.interval_zones import load_calendar

    elapsed, values = 0.0, 0
    with app.app_context():
        started = time.perf_counter()
        points = askue_storage.point_index(source_id=1)
        calendar = load_calendar()
        elapsed += time.perf_counter() - started
        cursor = 0
        for day_series in profiles(meters, days):
            for first in range(0, len(day_series), page):
                batch = day_series[first:first + page]
                cursor += 1
                started = time.perf_counter()
                stored = askue_storage.store(batch, points, source_id=1, calendar=calendar)
                db.session.execute(db.update(AskueSource).where(AskueSource.id == 1).values(cursor=str(cursor)))
                db.session.commit()
                elapsed += time.perf_counter() - started
                values += stored.new
    return elapsed, values


def raw_copy(app, meters: int, days: int, page: int) -> tuple[float, int]:
    from app.extensions import db

    elapsed, values = 0.0, 0
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(text("TRUNCATE meter_interval, interval_day, interval_month"))
        raw = db.engine.raw_connection()
        conn = raw.driver_connection
        for day_series in profiles(meters, days):
            for first in range(0, len(day_series), page):
                out = io.StringIO()
                for series in day_series[first:first + page]:
                    meter_id = int(series.meter[2:])
                    step = timedelta(minutes=series.minutes)
                    for index, value in enumerate(series.values):
                        stamp = (series.start + step * index).strftime("%Y-%m-%d %H:%M:%S")
                        out.write(f"{meter_id}\t1\t{stamp}+00\t30\t{value}\t0\t1\n")
                        values += 1
                data = out.getvalue()
                started = time.perf_counter()
                with conn.cursor() as cursor:
                    with cursor.copy("COPY meter_interval (meter_id, channel, start, minutes, wh, status, source_id) "
                                     "FROM STDIN") as writer:
                        for offset in range(0, len(data), 1 << 20):
                            writer.write(data[offset:offset + (1 << 20)])
                conn.commit()
                elapsed += time.perf_counter() - started
        raw.close()
    return elapsed, values


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--meters", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=3)
    parser.add_argument("--page", type=int, default=5000, help="series per transaction")
    args = parser.parse_args()
    url = make_url(database_url())
    url = url.set(database=f"{url.database}_askue").render_as_string(hide_password=False)
    app = migrated_app(url)
    build(app, args.meters)
    ours, stored = ingest(app, args.meters, args.days, args.page)
    theirs, copied = raw_copy(app, args.meters, args.days, args.page)
    assert stored == copied == args.meters * args.days * 48, (stored, copied)
    report("askue_ingest", values_per_s=stored / ours, raw_copy_values_per_s=copied / theirs,
           ratio=round(theirs / ours, 2), values=stored, ingest_s=ours, raw_copy_s=theirs)


if __name__ == "__main__":
    main()
