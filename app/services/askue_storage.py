"""Storing interval data: raw values, the daily and monthly sums per zone, and what validation found.

Every source (the poller's meters and ASKUE servers, exchange files) ends here with a list of
`Series`. The caller owns the transaction: a poller stores a page of values and the source's cursor
together, so a restart can neither lose nor repeat an interval.

On PostgreSQL the values go in by COPY straight into the month partitions. A re-delivered interval
breaks the primary key; the batch is then rolled back to its savepoint and inserted again with
ON CONFLICT DO NOTHING, which keeps the first value and tells which rows were new. Re-delivery is the
rare case (a poll repeated after a crash, a file loaded twice), so the common case pays nothing for it.
The sums are then raised by exactly the values that were new, which is what keeps them right however
often data is delivered.
"""
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache

import psycopg
from psycopg.copy import QueuedLibpqWriter
from sqlalchemy import insert, select, text, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.dialects import postgresql, sqlite

from app.extensions import db
from app.models import AskuePoint, IntervalSubstitute, Meter, interval_table
from app.models.types import utcnow
from app.services.interval_zones import ZoneCalendar, load_calendar
from askue.series import CHANNEL_NAMES, CHANNELS, Series, Status

COPY_COLUMNS = "meter_id, channel, start, minutes, wh, status, source_id"
CHUNK_BYTES = 1 << 20


class UnknownPoints(ValueError):
    def __init__(self, codes: Iterable[str]):
        self.codes = sorted(codes)
        shown = ", ".join(self.codes[:10]) + (" ..." if len(self.codes) > 10 else "")
        super().__init__(f"unknown metering points: {shown}")


@dataclass(frozen=True)
class PointRef:
    """What storing a point's values needs to know about it."""

    meter_id: int
    zones: int
    pmax_kw: float | None = None

    @classmethod
    def of(cls, point: AskuePoint) -> "PointRef":
        return cls(point.meter_id, point.meter.zones, float(point.pmax_kw) if point.pmax_kw is not None else None)


@dataclass
class Stored:
    new: int = 0
    repeated: int = 0
    invalid: int = 0
    superseded: int = 0
    findings: list[tuple[int, datetime, str, dict]] = field(default_factory=list)  # (meter, at, kind, details)


def point_index(codes: Iterable[str] | None = None, source_id: int | None = None) -> dict[str, PointRef]:
    """The points by code: those named, or all of a source."""
    query = select(AskuePoint.code, AskuePoint.meter_id, Meter.zones, AskuePoint.pmax_kw).join(Meter)
    if source_id is not None:
        query = query.where(AskuePoint.source_id == source_id)
    found: dict[str, PointRef] = {}
    if codes is None:
        chunks = [None]
    else:
        codes = list(dict.fromkeys(codes))
        chunks = [codes[i:i + 5000] for i in range(0, len(codes), 5000)]
    for chunk in chunks:
        rows = db.session.execute(query if chunk is None else query.where(AskuePoint.code.in_(chunk)))
        for code, meter_id, zones, pmax in rows:
            found[code] = PointRef(meter_id, zones, float(pmax) if pmax is not None else None)
    return found


def store(series: list[Series], points: dict[str, PointRef], source_id: int | None = None,
          calendar: ZoneCalendar | None = None) -> Stored:
    """Store the series' values and raise the sums by what was new. Nothing is committed here."""
    unknown = {s.meter for s in series if s.meter not in points}
    if unknown:
        raise UnknownPoints(unknown)
    calendar = calendar or load_calendar()
    stored = Stored()
    batch = [_Prepared(s, points[s.meter], stored) for s in series if s.values]
    if not batch:
        return stored
    connection = db.session.connection()
    total = sum(p.count for p in batch)
    if connection.dialect.name == "postgresql":
        ensure_partitions(min(p.series.start for p in batch), max(p.series.end for p in batch))
        cursor = connection.connection.driver_connection.cursor()
        cursor.execute("SAVEPOINT interval_copy")
        try:
            # The sums are worked out while PostgreSQL is still taking the rows.
            days, months = _copy(cursor, batch, source_id, lambda: _sums_of_series(batch, calendar))
            stored.new, new_rows = total, None
        except psycopg.errors.UniqueViolation:
            cursor.execute("ROLLBACK TO SAVEPOINT interval_copy")
            new_rows = _insert_new(batch, source_id, stored)
            days, months = _sums_of_rows(new_rows, batch, calendar)
            stored.new = len(new_rows)
        else:
            cursor.execute("RELEASE SAVEPOINT interval_copy")
    else:
        new_rows = _insert_new(batch, source_id, stored)
        days, months = _sums_of_rows(new_rows, batch, calendar)
        stored.new = len(new_rows)
    stored.repeated = total - stored.new
    _raise_sums(connection, days, months)
    first, last = min(p.series.start for p in batch), max(p.series.end for p in batch)
    keys = ((p.meter_id, p.channel, start) for p in batch for start, value in zip(p.series.starts(), p.series.values)
            if value is not None) if new_rows is None else \
        ((m, c, s if s.tzinfo else s.replace(tzinfo=timezone.utc)) for m, c, s, _, _ in new_rows)
    stored.superseded = _supersede(keys, first, last, {p.meter_id: p.zones for p in batch}, calendar)
    return stored


class _Prepared:
    """A series checked against its point: values that cannot be right (negative, above the
    permitted power over the interval) are stored as they came with the INVALID bit, and left out of
    the sums, so that substitution treats them as gaps."""

    __slots__ = ("series", "meter_id", "channel", "zones", "statuses", "count", "clean")

    def __init__(self, series: Series, point: PointRef, stored: Stored):
        self.series = series
        self.meter_id = point.meter_id
        self.channel = CHANNELS[series.channel]
        self.zones = point.zones
        values = series.values
        has_gaps = None in values
        present = [v for v in values if v is not None] if has_gaps else values
        self.count = len(present)
        self.statuses = series.statuses
        limit = point.pmax_kw * 1000 * series.minutes / 60 if point.pmax_kw else None
        low, high = (min(present), max(present)) if present else (0, 0)
        bad = low < 0 or (limit is not None and high > limit)
        if bad:
            statuses = list(series.statuses or [0] * len(values))
            for index, value in enumerate(values):
                if value is None:
                    continue
                kind = "negative_value" if value < 0 else "above_pmax" if limit is not None and value > limit else None
                if kind:
                    statuses[index] |= Status.INVALID
                    stored.invalid += 1
                    stored.findings.append((self.meter_id, series.start + timedelta(minutes=series.minutes * index),
                                            kind, {"channel": series.channel, "wh": value}))
            self.statuses = statuses
        # The sums can take whole slices when nothing in the series is missing or flagged.
        self.clean = not has_gaps and not bad and not any(
            s & Status.INVALID for s in (self.statuses or ()))


@lru_cache(maxsize=256)
def _stamps(start: datetime, minutes: int, count: int) -> tuple[str, ...]:
    """The start and length columns of each interval as COPY text, shared by every series of that shape."""
    step = timedelta(minutes=minutes)
    return tuple(f"{(start + step * i).strftime('%Y-%m-%d %H:%M:%S')}+00\t{minutes}\t" for i in range(count))


def _copy(cursor, batch: list["_Prepared"], source_id: int | None, meanwhile):
    """COPY the batch's values; returns what `meanwhile()` returns, called once all rows are sent."""
    source = r"\N" if source_id is None else str(source_id)
    out = io.StringIO()
    # The queued writer sends from a thread, so the next chunk is rendered while PostgreSQL takes this one.
    with cursor.copy(f"COPY meter_interval ({COPY_COLUMNS}) FROM STDIN", writer=QueuedLibpqWriter(cursor)) as copy:
        for item in batch:
            series = item.series
            prefix = f"{item.meter_id}\t{item.channel}\t"
            stamps = _stamps(series.start, series.minutes, len(series.values))
            if item.statuses is None:
                tail = f"\t0\t{source}\n"
                out.write("".join([f"{prefix}{stamp}{value}{tail}"
                                   for stamp, value in zip(stamps, series.values) if value is not None]))
            else:
                out.write("".join([f"{prefix}{stamp}{value}\t{status}\t{source}\n"
                                   for stamp, value, status in zip(stamps, series.values, item.statuses)
                                   if value is not None]))
            if out.tell() > CHUNK_BYTES:
                copy.write(out.getvalue())
                out = io.StringIO()
        copy.write(out.getvalue())
        return meanwhile()


def _insert_new(batch: list["_Prepared"], source_id: int | None, stored: Stored) -> list[tuple]:
    """Insert what is not stored yet; returns the new rows (meter_id, channel, start, wh, status). A
    repeated interval keeps its first value; one repeated with another value is a finding."""
    dialect = postgresql if db.session.connection().dialect.name == "postgresql" else sqlite
    statement = (dialect.insert(interval_table).on_conflict_do_nothing()
                 .returning(interval_table.c.meter_id, interval_table.c.channel, interval_table.c.start,
                            interval_table.c.wh, interval_table.c.status))
    rows: dict[tuple, dict] = {}
    for item in batch:
        series = item.series
        statuses = item.statuses or [0] * len(series.values)
        for start, value, status in zip(series.starts(), series.values, statuses):
            if value is None:
                continue
            key = (item.meter_id, item.channel, start)
            if key in rows:  # the same interval twice in one batch: the first counts
                _compare(stored, key, rows[key]["wh"], value)
                continue
            rows[key] = {"meter_id": item.meter_id, "channel": item.channel, "start": start,
                         "minutes": series.minutes, "wh": value, "status": status, "source_id": source_id}
    values = list(rows.values())
    new = []
    for first in range(0, len(values), 5000):
        new.extend(tuple(r) for r in db.session.execute(statement, values[first:first + 5000]))
    inserted = {(m, c, s if s.tzinfo else s.replace(tzinfo=timezone.utc)) for m, c, s, _, _ in new}
    repeated = [key for key in rows if key not in inserted]
    if repeated:
        kept = db.session.execute(
            select(interval_table.c.meter_id, interval_table.c.channel, interval_table.c.start, interval_table.c.wh)
            .where(interval_table.c.meter_id.in_({key[0] for key in repeated}),
                   interval_table.c.start >= min(key[2] for key in repeated),
                   interval_table.c.start <= max(key[2] for key in repeated)))
        stored_wh = {(m, c, s if s.tzinfo else s.replace(tzinfo=timezone.utc)): wh for m, c, s, wh in kept}
        for key in repeated:
            _compare(stored, key, stored_wh.get(key), rows[key]["wh"])
    return new


def _compare(stored: Stored, key: tuple, kept: int | None, delivered: int) -> None:
    if kept is not None and kept != delivered:
        meter_id, channel, start = key
        stored.findings.append((meter_id, start, "duplicate", {"channel": CHANNEL_NAMES[channel], "kept_wh": kept,
                                                               "delivered_wh": delivered}))


def _sums_of_series(batch: list["_Prepared"], calendar: ZoneCalendar) -> tuple[dict, dict]:
    days: dict[tuple, list[int]] = {}
    for item in batch:
        series = item.series
        values = series.values
        for run in calendar.layout(series.start, series.minutes, len(values), item.zones):
            part = values[run.first:run.stop]
            if item.clean:
                wh, count = sum(part), len(part)
            else:
                flags = (item.statuses or [0] * len(values))[run.first:run.stop]
                kept = [v for v, s in zip(part, flags) if v is not None and not s & Status.INVALID]
                wh, count = sum(kept), len(kept)
            if count:
                _add(days, (item.meter_id, item.channel, run.day), run.zone, wh, count)
    return days, _months_of(days)


def _sums_of_rows(rows: list[tuple], batch: list["_Prepared"], calendar: ZoneCalendar) -> tuple[dict, dict]:
    zones = {item.meter_id: item.zones for item in batch}
    minutes = {(item.meter_id, item.channel): item.series.minutes for item in batch}
    days: dict[tuple, list[int]] = {}
    for meter_id, channel, start, wh, status in rows:
        if status & Status.INVALID:
            continue
        start = start if start.tzinfo else start.replace(tzinfo=timezone.utc)
        (run,) = calendar.layout(start, minutes[meter_id, channel], 1, zones[meter_id])
        _add(days, (meter_id, channel, run.day), run.zone, wh, 1)
    return days, _months_of(days)


def _add(sums: dict, key: tuple, zone: int, wh: int, count: int, substituted: int = 0) -> None:
    """sums[key] is [T1 Wh, T2 Wh, T3 Wh, intervals, of them substituted]."""
    found = sums.get(key)
    if found is None:
        found = sums[key] = [0, 0, 0, 0, 0]
    found[zone - 1] += wh
    found[3] += count
    found[4] += substituted


def _months_of(days: dict) -> dict:
    months: dict[tuple, list[int]] = {}
    for (meter_id, channel, day), sums in days.items():
        key = (meter_id, channel, day.replace(day=1))
        found = months.get(key)
        if found is None:
            months[key] = list(sums)
        else:
            for index, value in enumerate(sums):
                found[index] += value
    return months


def _raise_sums(connection, days: dict, months: dict) -> None:
    for table, period, sums in (("interval_day", "day", days), ("interval_month", "month", months)):
        if not sums:
            continue
        keys = list(sums)
        values = list(sums.values())
        columns = [[k[0] for k in keys], [k[1] for k in keys], [k[2] for k in keys],
                   *([v[i] for v in values] for i in range(5))]
        update = (f"ON CONFLICT (meter_id, channel, {period}) DO UPDATE SET t1 = {table}.t1 + excluded.t1, "
                  f"t2 = {table}.t2 + excluded.t2, t3 = {table}.t3 + excluded.t3, "
                  f"intervals = {table}.intervals + excluded.intervals, "
                  f"substituted = {table}.substituted + excluded.substituted")
        insert = f"INSERT INTO {table} (meter_id, channel, {period}, t1, t2, t3, intervals, substituted) "
        if connection.dialect.name == "postgresql":
            # Array literals joined here cost a fraction of adapting the lists value by value.
            literals = ["{" + ",".join(map(str, column)) + "}" for column in columns]
            db.session.execute(text(
                insert + "SELECT * FROM unnest(CAST(:a AS int[]), CAST(:b AS int2[]), CAST(:c AS date[]), "
                "CAST(:d AS int8[]), CAST(:e AS int8[]), CAST(:f AS int8[]), CAST(:g AS int4[]), "
                f"CAST(:h AS int4[])) {update}"), dict(zip("abcdefgh", literals)))
        else:
            db.session.execute(text(insert + f"VALUES (:a, :b, :c, :d, :e, :f, :g, :h) {update}"),
                               [dict(zip("abcdefgh", row)) for row in zip(*columns)])


# ---- substitutes ------------------------------------------------------------------------------------------

def add_substitutes(point: PointRef, channel: str, minutes: int, values: list[tuple[datetime, int]], rule: str,
                    calendar: ZoneCalendar | None = None) -> int:
    """Store substitutes (start, Wh) beside the raw values and count them into the sums."""
    if not values:
        return 0
    calendar = calendar or load_calendar()
    number = CHANNELS[channel]
    now = utcnow()
    db.session.execute(insert(IntervalSubstitute), [
        {"meter_id": point.meter_id, "channel": number, "start": start, "minutes": minutes, "wh": wh, "rule": rule,
         "created_at": now} for start, wh in values])
    days: dict[tuple, list[int]] = {}
    for start, wh in values:
        (run,) = calendar.layout(start, minutes, 1, point.zones)
        _add(days, (point.meter_id, number, run.day), run.zone, wh, 1, 1)
    _raise_sums(db.session.connection(), days, _months_of(days))
    return len(values)


def _supersede(new_keys: Iterable[tuple[int, int, datetime]], first: datetime, last: datetime, zones: dict[int, int],
               calendar: ZoneCalendar) -> int:
    """Raw values that arrived for substituted intervals take their place: the substitutes are marked
    superseded (kept, for the record) and taken out of the sums. Substitutes are few, so the common
    case costs one indexed look into an almost empty range."""
    live = IntervalSubstitute.superseded_at.is_(None)
    if db.session.scalar(select(IntervalSubstitute.meter_id).where(
            live, IntervalSubstitute.start >= first, IntervalSubstitute.start < last).limit(1)) is None:
        return 0
    candidates = {(m, c, s.astimezone(timezone.utc)): (wh, minutes) for m, c, s, wh, minutes in db.session.execute(
        select(IntervalSubstitute.meter_id, IntervalSubstitute.channel, IntervalSubstitute.start,
               IntervalSubstitute.wh, IntervalSubstitute.minutes)
        .where(live, IntervalSubstitute.start >= first, IntervalSubstitute.start < last))}
    hit = [key for key in new_keys if key in candidates]
    if not hit:
        return 0
    now = utcnow()
    days: dict[tuple, list[int]] = {}
    for meter_id, channel, start in hit:
        wh, minutes = candidates[meter_id, channel, start]
        db.session.execute(update(IntervalSubstitute).where(
            IntervalSubstitute.meter_id == meter_id, IntervalSubstitute.channel == channel,
            IntervalSubstitute.start == start).values(superseded_at=now))
        (run,) = calendar.layout(start, minutes, 1, zones[meter_id])
        _add(days, (meter_id, channel, run.day), run.zone, -wh, -1, -1)
    _raise_sums(db.session.connection(), days, _months_of(days))
    return len(hit)


# ---- month partitions (PostgreSQL) --------------------------------------------------------------------------

_partitions: set[tuple[str, date]] = set()


def _month_starts(first: datetime, last: datetime) -> list[date]:
    month = date(first.year, first.month, 1)
    months = []
    while month <= last.date():
        months.append(month)
        month = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
    return months


def ensure_partitions(first: datetime, last: datetime) -> None:
    """Create the month partitions the interval starts fall in (UTC months), in their own short
    transaction so that a long load does not hold the parent table locked. When the caller's own
    transaction already holds a lock on the table (it read from it), that transaction would block
    the other connection for ever: after a short wait the partition is made in the caller's
    transaction instead."""
    engine = db.engine
    wanted = [m for m in _month_starts(first, last) if (engine.url.database, m) not in _partitions]
    if not wanted:
        return
    blocked = False
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("SET lock_timeout = '2s'"))
        for month in wanted:
            if not blocked:
                try:
                    conn.execute(_partition_ddl(month))
                except OperationalError as error:
                    if not isinstance(error.orig, psycopg.errors.LockNotAvailable):
                        raise
                    blocked = True
            if blocked:
                db.session.execute(_partition_ddl(month))
            _partitions.add((engine.url.database, month))


def _partition_ddl(month: date):
    following = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
    return text(f"CREATE TABLE IF NOT EXISTS meter_interval_y{month.year}m{month.month:02d} "
                f"PARTITION OF meter_interval FOR VALUES FROM ('{month.isoformat()} 00:00+00') "
                f"TO ('{following.isoformat()} 00:00+00')")


def cover_closed_months(now: datetime | None = None) -> list[str]:
    """Give every month partition whose month is over an index that carries the values (wh, minutes,
    status), so that a chart of one meter reads it alone: values arrive interval by interval for all
    meters, and one meter's year otherwise lies on thousands of heap pages. The current month has no
    such index, so loading pays nothing for it. Built concurrently, so late data still goes in."""
    if db.engine.dialect.name != "postgresql":
        return []
    now = now or utcnow()
    current = date(now.year, now.month, 1)
    made = []
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        partitions = conn.execute(text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'meter_interval'::regclass")).scalars().all()
        covered = set(conn.execute(text(
            "SELECT indexname FROM pg_indexes WHERE indexname LIKE 'meter_interval_y%_cover'")).scalars())
        for name in sorted(partitions):
            found = re.fullmatch(r"meter_interval_y(\d{4})m(\d{2})", name)
            if not found or date(int(found[1]), int(found[2]), 1) >= current or f"{name}_cover" in covered:
                continue
            conn.execute(text(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name}_cover ON {name} "
                              "(meter_id, channel, start) INCLUDE (wh, minutes, status)"))
            conn.execute(text(f"VACUUM (ANALYZE) {name}"))  # marks the pages all-visible: index-only scans
            made.append(name)
    return made
