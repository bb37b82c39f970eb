"""Polling ASKUE sources: concentrators and converters with meters behind them, and ASKUE servers.

A source is polled by one task at a time (`claim` moves its `polled_at` with a guarded UPDATE), and
each source is its own task, so the work shards by concentrator and any number of workers share it.

- Meters polled directly (Modbus, IEC 61107, Mercury 206, DLMS) give their counters; two readings
  taken at consecutive interval boundaries give that interval's energy, which is how a meter without
  a load profile still fills the charts. DLMS meters give their load profile as well. A meter that
  fails is tried again after a growing pause (two poll intervals, four, eight ... up to a day) so that a dead line
  does not eat the poll of the healthy ones; every failure goes to the event log.
- ASKUE servers are read page by page from the saved cursor; each page's values and the cursor are
  committed together, so a poll cut off anywhere resumes without losing or repeating an interval.
"""
import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from sqlalchemy import or_, select, update
from sqlalchemy.orm import contains_eager
from sqlalchemy.dialects import postgresql, sqlite

from app.extensions import db
from app.models import AskuePoint, AskueSource, Meter, MeterEventLog
from app.models.types import utcnow
from app.services import askue_storage
from app.services.consumption import delta, is_rollover
from app.services.interval_zones import load_calendar
from askue.protocols import AccessDenied, BadChecksum, MeterError, MeterReading, MeterSilent, UnexpectedAnswer
from askue.series import MeterEvent, Series

METER_PROTOCOLS = ("modbus", "iec61107", "mercury206", "dlms")
SERVER_PROTOCOLS = ("rest", "soap")
MAX_PAUSE = timedelta(days=1)
RECLAIM_AFTER = timedelta(minutes=1)  # an operator's repeated "poll now" within this is one poll
# A reading counts as taken at an interval boundary when it is this close after it.
BOUNDARY_SLACK = 0.34  # of the interval
CLOCK_DRIFT_LIMIT = timedelta(minutes=2)
LINE_EVENTS = {MeterSilent: "silent", BadChecksum: "bad_checksum", UnexpectedAnswer: "unexpected_answer",
               AccessDenied: "access_denied"}


@dataclass
class PollResult:
    source: str
    meters_read: int = 0
    meters_failed: int = 0
    meters_skipped: int = 0  # waiting out their backoff
    values_new: int = 0
    values_repeated: int = 0
    events: int = 0
    pages: int = 0
    errors: list[str] = field(default_factory=list)


def interval_start(moment: datetime, minutes: int) -> datetime:
    """The start of the polling interval `moment` is in, counted from midnight UTC."""
    midnight = moment.astimezone(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    elapsed = (moment - midnight) // timedelta(minutes=minutes)
    return midnight + elapsed * timedelta(minutes=minutes)


def due_sources(now: datetime | None = None) -> list[int]:
    """Enabled sources not polled yet in the current interval. Polls follow the interval boundaries
    (not the last poll plus the interval), so that counters are read right after each boundary and
    give that interval's energy."""
    now = now or utcnow()
    sources = db.session.execute(select(AskueSource.id, AskueSource.polled_at, AskueSource.every_minutes)
                                 .where(AskueSource.enabled)).all()
    return [sid for sid, polled, every in sources if polled is None or polled < interval_start(now, every)]


def claim(source_id: int, now: datetime | None = None, at_once: bool = False) -> bool:
    """Take the source for this interval's poll; False when another worker has taken it. `at_once`
    (an operator's "poll now") takes it unless it was taken within the last minute."""
    now = now or utcnow()
    source = db.session.get(AskueSource, source_id)
    if source is None:
        return False
    boundary = now - RECLAIM_AFTER if at_once else interval_start(now, source.every_minutes)
    taken = db.session.execute(update(AskueSource).where(
        AskueSource.id == source_id, or_(AskueSource.polled_at.is_(None), AskueSource.polled_at < boundary))
        .values(polled_at=now).execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    return bool(taken)


def poll_source(source_id: int, now: datetime | None = None) -> PollResult:
    """Poll one source. `now` fixes the moment the meters count as read at (a replay, a test against
    simulated meters); by default each reading counts at the moment its answer arrived."""
    source = db.session.get(AskueSource, source_id)
    result = PollResult(source.code)
    try:
        if source.protocol in SERVER_PROTOCOLS:
            _poll_server(source, result)
        else:
            _poll_meters(source, now, result)
    except Exception as error:
        db.session.rollback()
        source = db.session.get(AskueSource, source_id)
        source.last_error = f"{type(error).__name__}: {error}"[:500]
        db.session.commit()
        raise
    source.last_error = "; ".join(result.errors)[:500] or None
    source.succeeded_at = utcnow()
    db.session.commit()
    return result


# ---- meters polled directly ----------------------------------------------------------------------------------

def _poll_meters(source: AskueSource, fixed_now: datetime | None, result: PollResult) -> None:
    now = fixed_now or utcnow()
    points = list(db.session.scalars(
        select(AskuePoint).join(Meter).options(contains_eager(AskuePoint.meter))
        .where(AskuePoint.source_id == source.id, Meter.removed_on.is_(None))
        .where(or_(AskuePoint.retry_at.is_(None), AskuePoint.retry_at <= now)).order_by(AskuePoint.id)))
    result.meters_skipped = db.session.query(AskuePoint).filter(
        AskuePoint.source_id == source.id, AskuePoint.retry_at > now).count()
    if not points:
        return
    answers = read_meters(source, points)
    series: list[Series] = []
    events: list[tuple[int, datetime, str, str, dict]] = []
    for point, answer in zip(points, answers):
        if isinstance(answer, MeterError):
            result.meters_failed += 1
            _failed(point, answer, now, source.every_minutes, events)
            continue
        reading, profile = answer
        result.meters_read += 1
        previous, previous_at = point.counters, point.counters_at
        read_at = fixed_now or reading.read_at
        series.extend(_accepted(point, reading, read_at, source.every_minutes, events))
        if profile and previous and previous_at and "total" in reading.energy_kwh:
            _check_profile(point, profile[0], Decimal(previous["total"]), previous_at, reading, read_at, events)
        series.extend(profile)
    refs = {p.code: askue_storage.PointRef.of(p) for p in points}
    stored = askue_storage.store(series, refs, source.id)
    result.values_new, result.values_repeated = stored.new, stored.repeated
    events.extend((meter_id, at, kind, "validation", details) for meter_id, at, kind, details in stored.findings)
    result.events = record_events(events, source.id)


def read_meters(source: AskueSource, points: list[AskuePoint]) -> list:
    """(reading, profile series) or the MeterError for each point, in order."""
    settings = source.settings or {}
    timeout, retries = float(settings.get("timeout", 3.0)), int(settings.get("retries", 2))
    if source.protocol == "modbus":
        from askue.protocols.modbus import ModbusTarget, read_many

        register_map = settings.get("register_map", "generic_energy_meter")
        answers = read_many([ModbusTarget(source.host, source.port, int(p.address), register_map) for p in points],
                            timeout=timeout, retries=retries)
        return [a if isinstance(a, MeterError) else (a, []) for a in answers]
    return [_read_one(source, point, timeout, retries) for point in points]


def _read_one(source: AskueSource, point: AskuePoint, timeout: float, retries: int):
    try:
        if source.protocol == "mercury206":
            from askue.protocols.mercury206 import Mercury206Client

            return Mercury206Client(source.host, source.port, int(point.address), timeout=timeout,
                                    retries=retries).read(), []
        if source.protocol == "iec61107":
            from askue.protocols.iec61107 import Iec61107Client

            return Iec61107Client(source.host, source.port, address=point.address or "",
                                  password=point.password or "777777", timeout=timeout, retries=retries).read(), []
        if source.protocol == "dlms":
            return _read_dlms(source, point, timeout, retries)
    except MeterError as error:
        return error
    except (ValueError, OSError) as error:  # a misconfigured address is the line's fault, not the poll's
        return UnexpectedAnswer(str(error))
    return UnexpectedAnswer(f"unknown protocol {source.protocol}")


def _read_dlms(source: AskueSource, point: AskuePoint, timeout: float, retries: int):
    from askue.protocols.dlms import DlmsClient

    with DlmsClient(source.host, source.port, int(point.address), password=point.password, timeout=timeout,
                    retries=retries) as client:
        reading = client.read()
        # The profile is stamped by the meter's clock: ask from an hour before the last reading (what
        # is stored already comes back as repeats) up to the meter's now.
        until = (reading.meter_clock or reading.read_at).astimezone(timezone.utc)
        since = (point.counters_at or until - timedelta(days=1)) - timedelta(hours=1)
        profile = client.read_profile(since, until)
    profile.meter = point.code
    return reading, [profile] if profile.values else []


def _failed(point: AskuePoint, error: MeterError, now: datetime, every_minutes: int, events: list) -> None:
    point.failures += 1
    # Skip one regular poll after the first failure, then twice as many after each next one.
    pause = timedelta(minutes=every_minutes * 2 ** min(point.failures, 10))
    point.retry_at = now + min(pause, MAX_PAUSE)
    point.last_error = f"{type(error).__name__}: {error}"[:300]
    kind = next((k for cls, k in LINE_EVENTS.items() if isinstance(error, cls)), "connection")
    events.append((point.meter_id, now.replace(microsecond=0), kind, "line", {"error": str(error)[:200]}))


def _accepted(point: AskuePoint, reading: MeterReading, read_at: datetime, minutes: int,
              events: list) -> list[Series]:
    """Take a reading: the counters must not go down; taken at the boundary after the previous one, it
    gives that interval's energy."""
    previous, previous_at = point.counters, point.counters_at
    point.failures, point.retry_at, point.last_error = 0, None, None
    point.last_seen_at = read_at
    if reading.meter_clock is not None and abs(reading.meter_clock - read_at) > CLOCK_DRIFT_LIMIT:
        drift = int((reading.meter_clock - read_at).total_seconds())
        day = read_at.replace(hour=0, minute=0, second=0, microsecond=0)
        events.append((point.meter_id, day, "clock_drift", "validation", {"seconds": drift}))
    total = reading.energy_kwh.get("total")
    if total is None:
        return []
    if previous and "total" in previous and Decimal(previous["total"]) > total and \
            not is_rollover(Decimal(previous["total"]), total, point.meter.rollover):
        events.append((point.meter_id, read_at.replace(microsecond=0), "counter_decreased", "validation",
                       {"previous": previous["total"], "now": str(total)}))
        return []  # keep the previous counters: the next good reading is compared with them
    point.counters = {zone: str(value) for zone, value in reading.energy_kwh.items()}
    point.counters_at = read_at
    if not previous or previous_at is None or minutes not in (15, 30, 60):
        return []
    start, end = _boundary(previous_at, minutes), _boundary(read_at, minutes)
    if start is None or end is None or end - start != timedelta(minutes=minutes):
        return []
    used = delta(Decimal(previous["total"]), total, point.meter.rollover)
    return [Series(point.code, "A+", start, minutes, [int((used * 1000).to_integral_value())])]


def _check_profile(point: AskuePoint, profile: Series, previous: Decimal, previous_at: datetime,
                   reading: MeterReading, read_at: datetime, events: list) -> None:
    """The profile between two readings must add up to the counters' growth. The readings fall inside
    intervals and the profile may stop short of the reading (the meter's clock lags, the last interval
    is not closed yet), so the intervals at the edges and the time the profile does not cover are
    allowed for, at the profile's highest rate, with the counters' 10 Wh resolution."""
    step = timedelta(minutes=profile.minutes)
    inside, edges, highest = 0, 0, 0
    for start, value in zip(profile.starts(), profile.values):
        if value is None:
            if previous_at <= start and start + step <= read_at:
                return  # a gap: nothing to compare; substitution deals with it
            continue
        highest = max(highest, value)
        if previous_at <= start and start + step <= read_at:
            inside += value
        elif start < read_at and start + step > previous_at:
            edges += value
    if not highest:
        return
    uncovered = max(timedelta(0), read_at - profile.end) + max(timedelta(0), profile.start - previous_at)
    slack = edges + -(-uncovered // step) * highest + 20
    grown = int(delta(previous, reading.energy_kwh["total"], point.meter.rollover) * 1000)
    if not inside - 20 <= grown <= inside + slack:
        events.append((point.meter_id, read_at.replace(microsecond=0), "profile_mismatch", "validation",
                       {"profile_wh": inside, "counters_wh": grown, "since": previous_at.isoformat()}))


def _boundary(moment: datetime, minutes: int) -> datetime | None:
    """The interval boundary `moment` was taken at, or None when it was taken mid-interval."""
    moment = moment.astimezone(timezone.utc)
    floor = moment.replace(minute=moment.minute - moment.minute % minutes, second=0, microsecond=0)
    return floor if moment - floor <= timedelta(minutes=minutes * BOUNDARY_SLACK) else None


# ---- ASKUE servers ------------------------------------------------------------------------------------------

def server_adapter(source: AskueSource):
    """The REST or SOAP adapter for a source. The secret comes from the environment variable the
    settings name (`secret_env`), so that the database holds no passwords."""
    settings = source.settings or {}
    secret = os.environ.get(settings.get("secret_env") or "ASKUE_SERVER_SECRET", "")
    page_size = int(settings.get("page_size", 500))
    if source.protocol == "rest":
        from askue.sources.rest import RestSource

        return RestSource(source.url, settings.get("client_id", ""), secret, page_size=page_size)
    from askue.sources.soap import WSDL_PATH, SoapSource

    return SoapSource(wsdl=settings.get("wsdl") or WSDL_PATH, endpoint=source.url,
                      username=settings.get("username", ""), password=secret, page_size=page_size)


def _poll_server(source: AskueSource, result: PollResult) -> None:
    source_id = source.id
    refs = askue_storage.point_index(source_id=source_id)
    calendar = None
    for page in server_adapter(source).pages(source.cursor):
        known = [s for s in page.series if s.meter in refs]
        unknown = {s.meter for s in page.series} - set(refs)
        if unknown:
            result.errors.append(f"values for unknown points skipped: {', '.join(sorted(unknown)[:5])}")
        calendar = calendar or load_calendar()
        stored = askue_storage.store(known, refs, source_id, calendar)
        events = meter_events(page.events, refs)
        events.extend((m, at, kind, "validation", details) for m, at, kind, details in stored.findings)
        result.events += record_events(events, source_id)
        seen = {refs[s.meter].meter_id: s.end for s in known}
        _mark_seen(seen)
        db.session.execute(update(AskueSource).where(AskueSource.id == source_id).values(cursor=page.cursor))
        db.session.commit()  # the page's values and the cursor after them, together
        result.pages += 1
        result.values_new += stored.new
        result.values_repeated += stored.repeated


def _mark_seen(last_interval_end: dict[int, datetime]) -> None:
    for meter_id, end in last_interval_end.items():
        db.session.execute(update(AskuePoint).where(
            AskuePoint.meter_id == meter_id, or_(AskuePoint.last_seen_at.is_(None), AskuePoint.last_seen_at < end))
            .values(last_seen_at=end, failures=0, retry_at=None, last_error=None))


# ---- the event log -------------------------------------------------------------------------------------------

def record_events(events: list[tuple[int, datetime, str, str, dict]], source_id: int | None = None) -> int:
    """Add events (meter_id, at, kind, category, details); one already logged is not logged again."""
    if not events:
        return 0
    dialect = postgresql if db.session.connection().dialect.name == "postgresql" else sqlite
    rows = {(m, at, kind): {"meter_id": m, "at": at, "kind": kind, "category": category, "details": details,
                            "source_id": source_id, "recorded_at": utcnow()}
            for m, at, kind, category, details in events}
    statement = dialect.insert(MeterEventLog).on_conflict_do_nothing()
    db.session.execute(statement, list(rows.values()))
    return len(rows)


def meter_events(events: list[MeterEvent], refs: dict[str, askue_storage.PointRef]) -> list[tuple]:
    return [(refs[e.meter].meter_id, e.at, e.kind, "meter", e.details) for e in events if e.meter in refs]


def silent_points(hours: int, now: datetime | None = None) -> list[AskuePoint]:
    """Points not heard from for more than `hours` (or never), longest silent first."""
    now = now or utcnow()
    limit = now - timedelta(hours=hours)
    return list(db.session.scalars(
        select(AskuePoint).join(Meter).where(Meter.removed_on.is_(None))
        .where(or_(AskuePoint.last_seen_at.is_(None), AskuePoint.last_seen_at < limit))
        .order_by(AskuePoint.last_seen_at.asc().nulls_first(), AskuePoint.code)))
