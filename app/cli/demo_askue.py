"""Demo ASKUE: the sources `make run` starts stand-ins for (Procfile.dev) and meters behind each, so the
operator's pages and the charts fill in live, and a feeder of the street-lighting meters with its input
meter on the ASKUE server, for the group pages and their balance. Idempotent: what exists is left as
it is."""
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.models import (Account, AskuePoint, AskueSource, Meter, MeterGroup, MeterGroupMember, MeterReading, Premises,
                        interval_table)
from app.services import accounts, askue_storage
from app.services.periods import local_today
from askue.series import Series
from askue.simulators.dlms import demo_serial

HOST = "127.0.0.1"
# code, name, protocol, port, url, settings
SOURCES = [
    ("askue-server", "АСКУЭ сервер (REST)", "rest", None, "http://127.0.0.1:8805/api/v1",
     {"client_id": "gridcase", "secret_env": "ASKUE_SERVER_SECRET", "page_size": 500}),
    ("mercury-line", "GSM-шлюз, Меркурий 206", "mercury206", 8801, None, {}),
    ("energomera-line", "GSM-шлюз, Энергомера CE102", "iec61107", 8802, None, {}),
    ("modbus-gw", "Modbus TCP шлюз ТП-14", "modbus", 8803, None, {"register_map": "mercury234_modbus"}),
    ("dlms-line", "Счётчики СПОДЭС (DLMS)", "dlms", 8804, None, {}),
]
# The legal customer's meter reports through the ASKUE server, so its charts have data.
LEGAL_METER = ("35880912", "PT000001")
# An account of street lighting with meters on every line: (source, model, serial, zones, address, password)
LINE_ACCOUNT = ("3000000001", "МБУ «Горсвет»", "г. Москва, ул. Заводская, д. 16", "3311")
LINE_METERS = [
    ("mercury-line", "Меркурий 206 RN", "41000001", 2, "41000001", None),
    ("mercury-line", "Меркурий 206 RN", "41000002", 2, "41000002", None),
    ("energomera-line", "Энергомера CE102", "009217054000001", 2, "1", "777777"),
    ("energomera-line", "Энергомера CE102", "009217054000002", 2, "2", "777777"),
    ("modbus-gw", "Меркурий 234 ARTM", "30000001", 3, "1", None),
    ("modbus-gw", "Меркурий 234 ARTM", "30000002", 3, "2", None),
    ("dlms-line", "МИР С-07 (СПОДЭС)", demo_serial(1), 2, "1", "12345678"),
    ("dlms-line", "МИР С-07 (СПОДЭС)", demo_serial(2), 2, "2", "12345678"),
    ("askue-server", "Меркурий 234 ARTM", "PT000002", 1, None, None),
    ("askue-server", "Меркурий 234 ARTM", "PT000003", 1, None, None),
]
# A feeder of that account's lines: its input meter at the head reports through the ASKUE server.
FEEDER = ("Ф-14", "Ф-14 ТП-14")
FEEDER_INPUT = ("Меркурий 234 ARTM", "PT000004")
FEEDER_SOURCES = ("modbus-gw", "mercury-line")
FEEDER_SERIALS = ("PT000002", "PT000003")


# Ivanova's two-zone meter reports through the ASKUE server too, so a household's charts have zones.
HOUSEHOLD_METER = ("41238765", "PT000005")
# A year of half-hours for the meters on the ASKUE server, so the charts have history to compare;
# the server's stand-in keeps adding to it live (the same virtual meters).
HISTORY_DAYS = 400


def seed() -> int:
    made = _sources_and_meters()
    made += _feeder()
    _history()
    return made


def _sources_and_meters() -> int:
    if db.session.scalar(select(AskueSource.id).limit(1)) is not None:
        return 0
    sources = {}
    for code, name, protocol, port, url, settings in SOURCES:
        sources[code] = AskueSource(code=code, name=name, protocol=protocol, host=HOST if port else None, port=port,
                                    url=url, settings=settings, every_minutes=15)
        db.session.add(sources[code])
    made = 0
    for serial, code in (LEGAL_METER, HOUSEHOLD_METER):
        known = db.session.scalar(select(Meter).where(Meter.serial == serial))
        if known is not None:
            known.askue = True
            db.session.add(AskuePoint(meter=known, source=sources["askue-server"], code=code, pmax_kw=15))
            made += 1
    number, holder, address, code = LINE_ACCOUNT
    account = db.session.scalar(select(Account).where(Account.number == number))
    if account is None:
        account = accounts.create(number, holder, address, code)
        account.category, account.penalty_scheme = "other", "legal"
    premises = Premises(account=account, address=address, kind="non_residential")
    db.session.add(premises)
    for source, model, serial, zones, line_address, password in LINE_METERS:
        meter = Meter(premises=premises, resource="electricity", model=model, serial=serial, zones=zones, digits=6,
                      installed_on=date(2025, 10, 20), askue=True)
        db.session.add(AskuePoint(meter=meter, source=sources[source], code=serial, address=line_address,
                                  password=password, pmax_kw=10))
        db.session.add(MeterReading(meter=meter, period=date(2025, 10, 1), taken_on=meter.installed_on,
                                    source="installation", status="billed",
                                    **{zone.lower(): Decimal(0) for zone in ("T1", "T2", "T3")[:zones]}))
        made += 1
    db.session.commit()
    return made


def _feeder() -> int:
    """The feeder Ф-14, its input meter PT000004 (one more point of the ASKUE server) and its members."""
    if db.session.scalar(select(MeterGroup.id).where(MeterGroup.code == FEEDER[0])) is not None:
        return 0
    server = db.session.scalar(select(AskueSource).where(AskueSource.code == "askue-server"))
    account = db.session.scalar(select(Account).where(Account.number == LINE_ACCOUNT[0]))
    if server is None or account is None:
        return 0
    made = 0
    model, serial = FEEDER_INPUT
    meter = db.session.scalar(select(Meter).where(Meter.model == model, Meter.serial == serial))
    if meter is None:
        premises = db.session.scalar(select(Premises).where(Premises.account_id == account.id,
                                                            Premises.kind == "non_residential").limit(1))
        meter = Meter(premises=premises, resource="electricity", model=model, serial=serial, zones=1, digits=6,
                      installed_on=date(2025, 10, 20), askue=True)
        db.session.add(meter)
        db.session.add(MeterReading(meter=meter, period=date(2025, 10, 1), taken_on=meter.installed_on,
                                    source="installation", status="billed", t1=Decimal(0)))
        made += 1
    db.session.flush()
    if db.session.scalar(select(AskuePoint.id).where(AskuePoint.meter_id == meter.id)) is None:
        db.session.add(AskuePoint(meter=meter, source=server, code=serial, pmax_kw=100))
    members = db.session.scalars(
        select(Meter.id).join(AskuePoint, AskuePoint.meter_id == Meter.id)
        .join(AskueSource, AskueSource.id == AskuePoint.source_id).join(Premises, Premises.id == Meter.premises_id)
        .where(Premises.account_id == account.id, Meter.id != meter.id,
               (AskueSource.code.in_(FEEDER_SOURCES)) | (AskuePoint.code.in_(FEEDER_SERIALS)))
        .order_by(Meter.serial)).all()
    group = MeterGroup(code=FEEDER[0], name=FEEDER[1], kind="feeder", input_meter=meter)
    db.session.add(group)
    db.session.flush()
    db.session.add_all(MeterGroupMember(group_id=group.id, meter_id=meter_id) for meter_id in members)
    db.session.commit()
    return made


def _history() -> None:
    from askue.simulators.meters import VirtualMeter

    points = db.session.scalars(select(AskuePoint).join(AskueSource).where(AskueSource.code == "askue-server")).all()
    if not points or db.session.scalar(select(interval_table.c.meter_id).where(
            interval_table.c.meter_id == points[0].meter_id).limit(1)) is not None:
        return
    db.session.commit()  # end the reading transaction: the load makes month partitions beside it
    tz = ZoneInfo(current_app.config["TIMEZONE"])
    today = local_today()
    series = []
    for point in points:
        meter = VirtualMeter(f"askue:{point.code}")
        for back in range(HISTORY_DAYS, 0, -1):
            start = datetime.combine(today - timedelta(days=back), time(), tz)
            values = [round(meter.power_kw(start + timedelta(minutes=30 * i)) * 500) for i in range(48)]
            series.append(Series(point.code, "A+", start, 30, values))
    askue_storage.store(series, askue_storage.point_index(p.code for p in points))
    db.session.commit()
