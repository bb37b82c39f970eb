"""Taking in and giving out interval data as files: XML 80020 and the operators' CSV.

A file is applied whole or not at all: it is read completely first (any problem is an
`ExchangeError` naming the file, line and element), its measuring points must all be known, and its
values are stored in one transaction. Every file, taken or refused, is kept in the file log with what
it did, and a file applied before is not applied again (its values would be repeats anyway).
"""
import hashlib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.models import AskuePoint, ExchangeFile, Meter, interval_table
from app.services import askue_polling, askue_storage, audit
from askue.exchange import ExchangeError, parse_exchange_file
from askue.exchange.csv_format import write_csv
from askue.exchange.xml80020 import file_name_80020, write_80020
from askue.series import CHANNEL_NAMES, Series


@dataclass
class ImportResult:
    file: ExchangeFile
    already_applied: bool = False

    @property
    def applied(self) -> bool:
        return self.file.status == "applied"


def local_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


def import_file(data: bytes, name: str, actor=None) -> ImportResult:
    digest = hashlib.sha256(data).hexdigest()
    earlier = db.session.scalar(select(ExchangeFile).where(ExchangeFile.sha256 == digest,
                                                           ExchangeFile.status == "applied"))
    if earlier is not None:
        return ImportResult(earlier, already_applied=True)
    kind = "80020" if name.lower().endswith(".xml") or data.lstrip()[:1] == b"<" else "csv"
    try:
        parsed = parse_exchange_file(data, name, local_zone())
        points = askue_storage.point_index(s.meter for s in parsed.series)
        unknown = sorted({s.meter for s in parsed.series} - set(points))
        if unknown:
            raise ExchangeError(f"unknown measuring point codes: {', '.join(unknown[:10])}"
                                + (" ..." if len(unknown) > 10 else ""), file=name,
                                element=f"measuringpoint[code={unknown[0]}]" if parsed.kind == "80020" else "column meter")
        stored = askue_storage.store(parsed.series, points)
    except ExchangeError as error:
        db.session.rollback()
        refused = ExchangeFile(name=name[:200], kind=kind, sha256=digest, status="refused", error=str(error),
                               uploaded_by_id=getattr(actor, "id", None))
        db.session.add(refused)
        db.session.flush()
        audit.record("askue.file_refused", actor=actor, obj=refused, outcome="refused",
                     details={"name": name, "error": str(error)[:500]})
        db.session.commit()
        return ImportResult(refused)
    applied = ExchangeFile(name=name[:200], kind=parsed.kind, sha256=digest, status="applied",
                           values_new=stored.new, values_repeated=stored.repeated,
                           uploaded_by_id=getattr(actor, "id", None))
    db.session.add(applied)
    askue_polling.record_events([(m, at, kind, "validation", details) for m, at, kind, details in stored.findings])
    db.session.flush()
    audit.record("askue.file_applied", actor=actor, obj=applied,
                 details={"name": name, "new": stored.new, "repeated": stored.repeated})
    db.session.commit()
    return ImportResult(applied)


def day_series(day: date, codes: list[str] | None = None, channels=tuple(CHANNEL_NAMES.values())) -> tuple[list[Series], dict]:
    """The stored values of a local day as series covering the whole day (gaps as None), per point
    and channel, with the points' names for the file."""
    tz = local_zone()
    start = datetime.combine(day, time(), tz)
    end = datetime.combine(day + timedelta(days=1), time(), tz)
    query = select(AskuePoint.code, AskuePoint.meter_id, Meter.model, Meter.serial).join(Meter)
    if codes:
        query = query.where(AskuePoint.code.in_(codes))
    points = {meter_id: (code, model, serial) for code, meter_id, model, serial in db.session.execute(query)}
    wanted = [number for number, name in CHANNEL_NAMES.items() if name in channels]
    rows = db.session.execute(
        select(interval_table.c.meter_id, interval_table.c.channel, interval_table.c.start, interval_table.c.minutes,
               interval_table.c.wh, interval_table.c.status)
        .where(interval_table.c.start >= start, interval_table.c.start < end, interval_table.c.channel.in_(wanted),
               interval_table.c.meter_id.in_(list(points)))
        .order_by(interval_table.c.meter_id, interval_table.c.channel, interval_table.c.start))
    grouped: dict[tuple, dict] = {}
    for meter_id, channel, at, minutes, wh, status in rows:
        grouped.setdefault((meter_id, channel, minutes), {})[at.astimezone(tz)] = (wh, status)
    series = []
    for (meter_id, channel, minutes), values in grouped.items():
        step = timedelta(minutes=minutes)
        count = int((end - start) / step)
        slots = [start.astimezone(tz) + step * i for i in range(count)]
        taken = [values.get(slot) for slot in slots]
        series.append(Series(points[meter_id][0], CHANNEL_NAMES[channel], start, minutes,
                             [t[0] if t else None for t in taken], [t[1] if t else 0 for t in taken]))
    names = {code: {"name": f"{model} {serial}", "serial": serial} for code, model, serial in points.values()}
    return series, names


def export_day(day: date, kind: str = "80020", number: int = 1, codes: list[str] | None = None) -> tuple[str, bytes]:
    """A file of a day's stored values: (file name, content)."""
    series, names = day_series(day, codes)
    if kind == "csv":
        return f"askue_{day:%Y%m%d}.csv", write_csv(series, local_zone())
    config = current_app.config
    inn, company = config["COMPANY_INN"], config["COMPANY_NAME"]
    return file_name_80020(inn, day, number), write_80020(
        series, number=number, sender_inn=inn, sender_name=company, day=day, tz=local_zone(), area_inn=inn,
        area_name=company, points=names)
