"""Consumption charts on PostgreSQL: 10,000 meters × a year of hourly A+ values (87.6 million rows).

The data is made by the database itself: the raw values by INSERT ... SELECT over generate_series
into the month partitions, the daily sums per tariff zone (the zone hours in local time, from
`zone_hours`) by GROUP BY over the raw rows, the monthly sums from the daily ones; then ANALYZE.
A build of the same size is kept and reused by the next run (`--rebuild` to make it again).

Timed, in-process through `consumption_charts.series` (the API's own code path, authorization
included) as a staff member with accounts.read_any, for 200 random meters: the year by hour, by day
and by month. The chart API caps a range by hour at 31 days (a chart shows no more); the benchmark
lifts that cap (the `caps` argument, nothing else differs from the API's path) to time the heaviest
read there is, a whole year of 8,760 hours.

    python -m bench.charts [--meters 10000] [--samples 200] [--seed N] [--rebuild]
"""
import argparse
import logging
import random
import threading
import time
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.engine import make_url

from bench.support import copy_askue_meters, database_url, migrated_app, percentile, report

YEAR = 2025
NOW = "2026-01-15T00:00:00+00:00"
# A household's day in per-mille of its mean hour, by local hour.
SHAPE = [450, 400, 380, 370, 380, 450, 700, 1100, 1300, 1050, 900, 850,
         850, 850, 850, 900, 1000, 1200, 1550, 1750, 1700, 1450, 1100, 700]


def year_bounds(tz: ZoneInfo) -> tuple[datetime, datetime]:
    first = datetime(YEAR, 1, 1, tzinfo=tz).astimezone(timezone.utc)
    last = datetime(YEAR + 1, 1, 1, tzinfo=tz).astimezone(timezone.utc)
    return first, last


def built_already(app, meters: int) -> bool:
    """Whether the database holds a finished build of this size (the marker is written last)."""
    from app.extensions import db

    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(text("CREATE TABLE IF NOT EXISTS bench_charts_build (meters int, year int, rows bigint)"))
            row = conn.execute(text("SELECT meters, year FROM bench_charts_build")).first()
    return row is not None and (row.meters, row.year) == (meters, YEAR)


def build(app, meters: int) -> dict:
    from app.extensions import db
    from app.services import askue_storage
    from app.services.interval_zones import load_calendar

    timings = {}
    with app.app_context():
        tz = ZoneInfo(app.config["TIMEZONE"])
        first, last = year_bounds(tz)
        started = time.perf_counter()
        with db.engine.begin() as conn:
            conn.execute(text("TRUNCATE bench_charts_build, account, meter_interval, interval_day, interval_month, "
                              "interval_substitute, askue_source RESTART IDENTITY CASCADE"))
        raw = db.engine.raw_connection()
        conn = raw.driver_connection
        copy_askue_meters(conn, meters, number_base=6000000000, street="ул. Графиков", serial_prefix="C",
                          point_prefix="CP", installed_on=f"{YEAR - 1}-12-01", created_at=NOW)
        conn.commit()
        raw.close()
        askue_storage.ensure_partitions(first, last - timedelta(hours=1))
        timings["meters_s"] = time.perf_counter() - started

        started = time.perf_counter()
        _raw_values(db.engine, meters, first, last, tz)
        timings["raw_s"] = time.perf_counter() - started

        started = time.perf_counter()
        zones = _zone_table(load_calendar(), date(YEAR, 1, 1))
        _sums(db.engine, meters, zones, tz)
        timings["sums_s"] = time.perf_counter() - started

        started = time.perf_counter()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(text("VACUUM ANALYZE meter_interval"))
            c.execute(text("VACUUM ANALYZE interval_day"))
            c.execute(text("VACUUM ANALYZE interval_month"))
            c.execute(text("ANALYZE"))
            # Written out now, so that the timings do not share the disk with the build's writes.
            c.execute(text("CHECKPOINT"))
            rows = c.scalar(text("SELECT count(*) FROM meter_interval"))
            c.execute(text("INSERT INTO bench_charts_build VALUES (:m, :y, :r)"), {"m": meters, "y": YEAR, "r": rows})
        timings["analyze_s"] = time.perf_counter() - started
    timings["rows"] = rows
    return timings


def _months(first: datetime, last: datetime) -> list[tuple[datetime, datetime]]:
    """The UTC months (the partitions) the year's hours fall in, cut to the year."""
    spans, start = [], first
    while start < last:
        following = datetime(start.year + (start.month == 12), start.month % 12 + 1, 1, tzinfo=timezone.utc)
        spans.append((start, min(following, last)))
        start = following
    return spans


def _raw_values(engine, meters: int, first: datetime, last: datetime, tz: ZoneInfo) -> None:
    """A month partition per statement, two at a time (one per core). Rows go in meter by meter, hour
    by hour, which is the primary key's order: each index insert lands on the rightmost page."""
    shape = "(ARRAY[" + ",".join(map(str, SHAPE)) + "])"
    # The hours are a function of m only so that the planner keeps meters as the outer loop.
    statement = text(f"""
        INSERT INTO meter_interval (meter_id, channel, start, minutes, wh, status, source_id)
        SELECT m, 1, t, 60,
               (100 + m % 900) * {shape}[extract(hour FROM t AT TIME ZONE :tz)::int + 1]
                 * (800 + (m * 7919 + (extract(epoch FROM t)::bigint / 3600) * 104729) % 400) / 1000000,
               0, 1
        FROM generate_series(1, :meters) AS m
        CROSS JOIN LATERAL generate_series(CAST(:start AS timestamptz) + (m - m) * interval '1 hour',
                                           CAST(:stop AS timestamptz) - interval '1 hour', interval '1 hour') AS t
    """)
    _two_at_a_time(engine, statement, [{"meters": meters, "start": start, "stop": stop, "tz": str(tz)}
                                       for start, stop in _months(first, last)])


def _two_at_a_time(engine, statement, parameters: list[dict]) -> None:
    """Run the statement once per parameter set on two connections, one per core."""
    failures = []

    def work(part: list[dict]) -> None:
        try:
            for params in part:
                with engine.begin() as conn:
                    conn.execute(statement, params)
        except Exception as error:  # re-raised in the main thread
            failures.append(error)

    threads = [threading.Thread(target=work, args=(parameters[n::2],)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]


def _zone_table(calendar, day: date) -> str:
    """The zone (1..3) of each local hour for 1-, 2- and 3-zone meters, as a 2-D array literal."""
    rows = [[calendar.zone_at(zones, day, hour * 60) for hour in range(24)] for zones in (1, 2, 3)]
    return "'{" + ",".join("{" + ",".join(map(str, row)) + "}" for row in rows) + "}'::int[]"


def _sums(engine, meters: int, zones: str, tz: ZoneInfo) -> None:
    """Daily sums per zone from the raw rows, a slice of meters per statement (two at a time), then
    the monthly sums from the daily ones."""
    daily = text(f"""
        INSERT INTO interval_day (meter_id, channel, day, t1, t2, t3, intervals, substituted)
        SELECT v.meter_id, 1, v.day,
               coalesce(sum(v.wh) FILTER (WHERE v.zone = 1), 0), coalesce(sum(v.wh) FILTER (WHERE v.zone = 2), 0),
               coalesce(sum(v.wh) FILTER (WHERE v.zone = 3), 0), count(*), 0
        FROM (SELECT i.meter_id, (i.start AT TIME ZONE :tz)::date AS day, i.wh,
                     ({zones})[m.zones][extract(hour FROM i.start AT TIME ZONE :tz)::int + 1] AS zone
              FROM meter_interval i JOIN meter m ON m.id = i.meter_id
              WHERE i.meter_id BETWEEN :low AND :high AND i.channel = 1) AS v
        GROUP BY v.meter_id, v.day
    """)
    _two_at_a_time(engine, daily, [{"tz": str(tz), "low": low, "high": min(low + 499, meters)}
                                   for low in range(1, meters + 1, 500)])
    with engine.begin() as conn:
        conn.execute(text("""
            INSERT INTO interval_month (meter_id, channel, month, t1, t2, t3, intervals, substituted)
            SELECT meter_id, channel, date_trunc('month', day)::date, sum(t1), sum(t2), sum(t3), sum(intervals),
                   sum(substituted)
            FROM interval_day GROUP BY meter_id, channel, date_trunc('month', day)
        """))


def measure(app, meters: int, samples: int, seed: int) -> dict[str, list[float]]:
    from app.extensions import db
    from app.models import User
    from app.services import consumption_charts, users

    with app.app_context():
        email = "charts@bench.example"
        staff = db.session.scalar(db.select(User).where(User.email == email)) or users.create_staff(
            email, "Нагрузочный Тест", ["specialist"], password="Bench-Password-2026", send_invitation=False)
        staff_id = staff.id
        db.session.remove()
        caps = {**consumption_charts.CAPS, "hour": 366}
        now = datetime.fromisoformat(NOW)
        year = (date(YEAR, 1, 1), date(YEAR, 12, 31))
        rng = random.Random(seed)
        picked = [rng.randint(1, meters) for _ in range(samples)]
        timings: dict[str, list[float]] = {"hour": [], "day": [], "month": []}
        for warm_up, meter_id in [(True, m) for m in picked[:20]] + [(False, m) for m in picked]:
            for step in ("hour", "day", "month"):
                user = db.session.get(User, staff_id)  # what the login manager loads for each request
                started = time.perf_counter()
                chart = consumption_charts.series(user, meter_id, meter_id, *year, step, now=now, caps=caps)
                elapsed = (time.perf_counter() - started) * 1000
                db.session.remove()
                if not warm_up:
                    timings[step].append(elapsed)
                expected = {"hour": 8760, "day": 365, "month": 12}[step]
                assert len(chart["points"]) == expected and chart["points"][0]["total"] is not None, step
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--meters", type=int, default=10_000, help="fewer to build faster (stated in the output)")
    parser.add_argument("--samples", type=int, default=200, help="random meters timed")
    parser.add_argument("--rebuild", action="store_true", help="build the data again even if it is there")
    parser.add_argument("--seed", type=int, default=87_600_000, help="which random meters")
    args = parser.parse_args()
    logging.disable(logging.INFO)
    url = make_url(database_url())
    url = url.set(database=f"{url.database}_charts").render_as_string(hide_password=False)
    app = migrated_app(url)
    if args.meters != 10_000:
        print(f"NOTE: {args.meters} meters instead of 10,000 ({args.meters * 8760:,} hourly values)")
    if not built_already(app, args.meters) or args.rebuild:
        built = build(app, args.meters)
        print(f"built {args.meters} meters × {YEAR} by hour: {built['rows']:,} raw rows; meters "
              f"{built['meters_s']:.0f} s, raw values {built['raw_s']:.0f} s, sums {built['sums_s']:.0f} s, "
              f"analyze {built['analyze_s']:.0f} s", flush=True)
    else:
        print(f"reusing the {args.meters} meters × {YEAR} by hour built before (--rebuild to build again)")
    with app.app_context():  # what the monthly job does once a month is over
        from app.services import askue_storage

        covered = askue_storage.cover_closed_months()
    if covered:
        print(f"covering index made for {len(covered)} closed month(s)", flush=True)
    timings = measure(app, args.meters, args.samples, args.seed)
    for step, values in timings.items():
        values.sort()
        print(f"{step:>5}: median {percentile(values, 0.5):.1f} ms, p95 {percentile(values, 0.95):.1f} ms, "
              f"max {values[-1]:.1f} ms over {len(values)} meters")
    report("charts", p95_ms_hour=percentile(timings["hour"], 0.95), p95_ms_day=percentile(timings["day"], 0.95),
           p95_ms_month=percentile(timings["month"], 0.95))


if __name__ == "__main__":
    main()
