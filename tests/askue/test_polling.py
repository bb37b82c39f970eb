"""The poller against each protocol's simulator on loopback: counters read, intervals derived from
readings at consecutive boundaries, silent meters backed off and logged, the others carry on."""
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AskuePoint, AskueSource, MeterEventLog, interval_table
from app.services import askue_polling
from askue.simulators.meters import Iec61107Simulator, Mercury206Simulator, VirtualMeter
from askue.simulators.modbus import ModbusGatewaySimulator
from tests.helpers import Clock

UTC = timezone.utc
T0 = datetime(2026, 11, 20, 9, 0, 10, tzinfo=UTC)  # ten seconds after a boundary


def _source(protocol, port, **settings):
    source = AskueSource(code=f"{protocol}-1", name=f"{protocol} line", protocol=protocol, host="127.0.0.1",
                         port=port, every_minutes=15, settings={"timeout": 0.3, "retries": 0, **settings})
    db.session.add(source)
    db.session.commit()
    return source


def _points(users, billing, source, addresses):
    points = []
    for address in addresses:
        meter = billing.meter(users.account(), zones=2, askue=True, serial=f"M{address}")
        points.append(billing.askue_point(meter, code=f"P{address}", source=source, address=str(address)))
    return points


def _simulator(protocol, clock):
    if protocol == "modbus":
        return ModbusGatewaySimulator(meters=3, register_map="mercury234_modbus", clock=clock), [1, 2, 3], \
            lambda sim, a: sim.energy_kwh(a, clock())["total"]
    meters = {a: VirtualMeter(a) for a in (41230001, 41230002, 41230003)}
    if protocol == "mercury206":
        return Mercury206Simulator(meters, clock=clock), list(meters), lambda sim, a: meters[a].counters_at(clock())["total"]
    meters = {str(a): m for a, m in meters.items()}
    return Iec61107Simulator(meters, clock=clock), list(meters), lambda sim, a: meters[a].counters_at(clock())["total"]


@pytest.mark.parametrize("protocol", ["modbus", "mercury206", "iec61107"])
def test_polls_give_counters_and_intervals_and_a_silent_meter_is_backed_off(users, billing, protocol):
    clock = Clock(T0)
    simulator, addresses, truth = _simulator(protocol, clock)
    with simulator as sim:
        settings = {"register_map": "mercury234_modbus"} if protocol == "modbus" else {}
        source = _source(protocol, sim.port, **settings)
        points = _points(users, billing, source, addresses)
        sim.silent.add(addresses[2])
        first = askue_polling.poll_source(source.id, now=T0)
        before = {a: truth(sim, a) for a in addresses[:2]}
        clock.now = T0 + timedelta(minutes=15)
        second = askue_polling.poll_source(source.id, now=clock.now)
        after = {a: truth(sim, a) for a in addresses[:2]}

    assert (first.meters_read, first.meters_failed) == (2, 1)
    # The silent meter waits out its backoff: it is not asked again 15 minutes later.
    assert (second.meters_read, second.meters_failed, second.meters_skipped) == (2, 0, 1)
    rows = db.session.execute(select(interval_table.c.meter_id, interval_table.c.start, interval_table.c.wh)
                              .order_by(interval_table.c.meter_id)).all()
    # One interval per heard meter, its energy the counters' difference (to the 0.01 kWh they are read in).
    assert [(m, s.astimezone(UTC)) for m, s, _ in rows] == [(p.meter_id, datetime(2026, 11, 20, 9, 0, tzinfo=UTC))
                                                          for p in points[:2]]
    for (_, _, wh), address in zip(rows, addresses):
        assert abs(wh - (after[address] - before[address]) * 1000) <= 10
    silent = db.session.get(AskuePoint, points[2].id)
    assert silent.failures == 1 and silent.retry_at == T0 + timedelta(minutes=30) and silent.last_seen_at is None
    assert "MeterSilent" in silent.last_error
    events = db.session.scalars(select(MeterEventLog.kind).where(MeterEventLog.meter_id == points[2].meter_id)).all()
    assert events == ["silent"]
    heard = db.session.get(AskuePoint, points[0].id)
    assert heard.last_seen_at == clock.now
    assert abs(Decimal(heard.counters["total"]) - after[addresses[0]]) < Decimal("0.01")
    assert [p.code for p in askue_polling.silent_points(hours=1, now=clock.now)] == [points[2].code]


def test_a_counter_going_down_is_logged_and_gives_no_interval(users, billing):
    clock = Clock(T0)
    meter = VirtualMeter(41230009)
    with Mercury206Simulator({41230009: meter}, clock=clock) as sim:
        source = _source("mercury206", sim.port)
        (point,) = _points(users, billing, source, [41230009])
        askue_polling.poll_source(source.id, now=T0)
        # Someone swapped the meter for one with a lower counter without telling us.
        point = db.session.get(AskuePoint, point.id)
        point.counters = {"total": str(meter.counters_at(T0)["total"] + 500)}
        db.session.commit()
        clock.now = T0 + timedelta(minutes=15)
        askue_polling.poll_source(source.id, now=clock.now)

    assert db.session.scalar(select(interval_table.c.wh)) is None
    assert db.session.scalars(select(MeterEventLog.kind)).all() == ["counter_decreased"]


def test_claim_lets_one_worker_take_a_due_source(app):
    source = AskueSource(code="c", name="c", protocol="modbus", host="127.0.0.1", port=1, every_minutes=15)
    db.session.add(source)
    db.session.commit()
    assert askue_polling.due_sources(T0) == [source.id]
    assert askue_polling.claim(source.id, T0) is True
    assert askue_polling.claim(source.id, T0) is False
    assert askue_polling.due_sources(T0 + timedelta(minutes=5)) == []
    assert askue_polling.due_sources(T0 + timedelta(minutes=15)) == [source.id]


def test_dlms_meters_give_counters_and_their_load_profile(users, billing):
    from askue.simulators.dlms import DlmsSimulator

    clock = Clock(T0)
    meters = {1: VirtualMeter("DL0001"), 2: VirtualMeter("DL0002")}
    with DlmsSimulator(meters=meters, password="12345678", clock=clock) as sim:
        source = _source("dlms", sim.port)
        points = _points(users, billing, source, [1, 2])
        for point in points:
            point.password = "12345678"
        db.session.commit()
        result = askue_polling.poll_source(source.id, now=T0)

    assert (result.meters_read, result.meters_failed) == (2, 0)
    # A day of half-hours before the meter's clock (9:00 UTC plus the meter's drift), give or take one.
    assert 46 <= result.values_new / 2 <= 50
    for point, meter in zip(points, meters.values()):
        rows = db.session.execute(select(interval_table.c.start, interval_table.c.wh)
                                  .where(interval_table.c.meter_id == point.meter_id)
                                  .order_by(interval_table.c.start)).all()
        first, last = rows[0].start.astimezone(UTC), rows[-1].start.astimezone(UTC) + timedelta(minutes=30)
        growth = (meter.counters_at(last)["total"] - meter.counters_at(first)["total"]) * 1000
        assert abs(sum(r.wh for r in rows) - growth) <= 20


def test_a_profile_that_does_not_add_up_to_the_counters_is_logged(users, billing):
    from askue.simulators.dlms import DlmsSimulator

    clock = Clock(T0)
    meter = VirtualMeter("DL0003")
    with DlmsSimulator(meters={1: meter}, password="12345678", clock=clock) as sim:
        source = _source("dlms", sim.port)
        (point,) = _points(users, billing, source, [1])
        point.password = "12345678"
        db.session.commit()
        askue_polling.poll_source(source.id, now=T0)
        clock.now = T0 + timedelta(hours=3)
        askue_polling.poll_source(source.id, now=clock.now)
        assert db.session.scalars(select(MeterEventLog.kind)).all() == []
        # The counters jump by 50 kWh that the profile does not show (a tampered or replaced meter).
        point = db.session.get(AskuePoint, point.id)
        point.counters = {"total": str(Decimal(point.counters["total"]) - 50)}
        db.session.commit()
        clock.now = T0 + timedelta(hours=6)
        askue_polling.poll_source(source.id, now=clock.now)

    assert db.session.scalars(select(MeterEventLog.kind)).all() == ["profile_mismatch"]
