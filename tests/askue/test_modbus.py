import json
import threading
import time
from datetime import datetime, timezone
from decimal import ROUND_FLOOR, Decimal

import pytest

from askue.protocols import MeterError, MeterReading, MeterSilent, UnexpectedAnswer
from askue.protocols.modbus import ModbusMeterClient, read_many
from askue.protocols.register_maps import (
    RegisterMapError,
    bundled_maps,
    load_register_map,
    parse_register_map,
)
from askue.simulators.modbus import ModbusGatewaySimulator

AT = datetime(2025, 3, 14, 18, 30, 15, tzinfo=timezone.utc)
CENT = Decimal("0.01")


@pytest.fixture
def sim():
    with ModbusGatewaySimulator(
        meters=60, register_map="mercury234_modbus", clock=lambda: AT,
        silent={7}, exception_for={9: 0x02}, short_for={11},
    ) as simulator:
        yield simulator


def test_bundled_maps_load_and_group_into_blocks():
    assert {"mercury234_modbus", "generic_energy_meter"} <= set(bundled_maps())
    mercury = load_register_map("mercury234_modbus")
    assert [(b.address, b.count) for b in mercury.blocks()] == [(0, 4), (16, 10), (32, 2)]
    generic = load_register_map("generic_energy_meter")
    assert len(generic.blocks()) == 3


def _good():
    return {"values": {"serial": {"address": 0, "count": 4, "type": "ascii"},
                       "total": {"address": 4, "count": 2, "type": "uint32", "scale": "0.01", "unit": "kWh"}}}


@pytest.mark.parametrize(
    "change, key",
    [
        (lambda m: m.update(colour="red"), "colour"),
        (lambda m: m["values"]["total"].update(type="int7"), "values.total.type"),
        (lambda m: m["values"]["total"].update(count=4), "values.total.count"),
        (lambda m: m["values"]["total"].update(scale="abc"), "values.total.scale"),
        (lambda m: m["values"]["total"].update(unit="J"), "values.total.unit"),
        (lambda m: m["values"]["total"].update(address=3), "values.total"),  # overlaps serial 0..3
        (lambda m: m["values"].update(T9={"address": 50, "count": 2, "type": "uint32"}), "values.T9"),
        (lambda m: m["values"]["total"].update(bogus=1), "values.total.bogus"),
        (lambda m: m["values"].pop("total"), "values.total"),
    ],
)
def test_bad_maps_are_refused_naming_file_and_key(tmp_path, change, key):
    data = _good()
    parse_register_map(data, "ok.json")
    change(data)
    path = tmp_path / "bad_map.json"
    path.write_text(json.dumps(data))
    with pytest.raises(RegisterMapError) as err:
        load_register_map(path)
    assert str(path) in str(err.value) and key in str(err.value)


def test_overlap_message_names_both_values(tmp_path):
    data = _good()
    data["values"]["T1"] = {"address": 5, "count": 2, "type": "uint32"}
    with pytest.raises(RegisterMapError, match=r"values\.T1.*overlap values\.total"):
        parse_register_map(data, "m.json")


def test_read_gives_kwh_per_tariff_and_total(sim):
    expected = sim.energy_kwh(5)
    with ModbusMeterClient(sim.host, sim.port, 5, "mercury234_modbus", timeout=1.0) as client:
        reading = client.read()
    assert isinstance(reading, MeterReading)
    assert reading.serial == sim.serial(5)
    for name in ("total", "T1", "T2", "T3", "T4"):
        assert isinstance(reading.energy_kwh[name], Decimal)
        assert reading.energy_kwh[name] == expected[name].quantize(CENT, rounding=ROUND_FLOOR)
    assert reading.meter_clock == AT.replace(microsecond=0)


def test_generic_map_float_and_wh_registers():
    with ModbusGatewaySimulator(meters=3, register_map="generic_energy_meter", clock=lambda: AT) as sim:
        expected = sim.energy_kwh(2)
        with ModbusMeterClient(sim.host, sim.port, 2, "generic_energy_meter", timeout=1.0) as client:
            reading = client.read()
    assert reading.serial == sim.serial(2)
    assert reading.energy_kwh["total"] == expected["total"]  # uint64 Wh is exact
    for name in ("T1", "T2", "T3", "T4"):
        assert abs(reading.energy_kwh[name] - expected[name]) < Decimal("0.01")  # float32


def test_counters_grow_with_time():
    sim = ModbusGatewaySimulator(meters=1)
    night = sim.energy_kwh(1, datetime(2025, 1, 1, 2, tzinfo=timezone.utc))
    later = sim.energy_kwh(1, datetime(2025, 1, 1, 4, tzinfo=timezone.utc))
    assert later["T2"] > night["T2"] and later["T1"] == night["T1"]
    assert later["total"] - night["total"] == later["T2"] - night["T2"]


def test_silent_unit_raises_meter_silent_within_budget(sim):
    with ModbusMeterClient(sim.host, sim.port, 7, "mercury234_modbus", timeout=0.2, retries=1) as client:
        started = time.monotonic()
        with pytest.raises(MeterSilent):
            client.read()
    assert time.monotonic() - started < 0.2 * 2 + 0.5


def test_exception_and_short_answers_raise_unexpected_answer(sim):
    with ModbusMeterClient(sim.host, sim.port, 9, "mercury234_modbus", timeout=0.5) as client:
        with pytest.raises(UnexpectedAnswer, match="0x02"):
            client.read()
    with ModbusMeterClient(sim.host, sim.port, 11, "mercury234_modbus", timeout=0.5, retries=0) as client:
        with pytest.raises(MeterError):  # pymodbus may reject the frame itself or hand it over short
            client.read()


def test_read_many_over_50_meters(sim):
    units = [u for u in range(1, 61) if u not in sim.silent | set(sim.exception_for) | sim.short_for][:50]
    targets = [(sim.host, sim.port, unit, "mercury234_modbus") for unit in units]
    assert len(targets) == 50
    results = read_many(targets, concurrency=16, timeout=1.0)
    assert len(results) == 50 and all(isinstance(r, MeterReading) for r in results)
    assert results[0].serial == sim.serial(1)
    assert results[0].energy_kwh["T1"] == sim.energy_kwh(1)["T1"].quantize(CENT, rounding=ROUND_FLOOR)


def test_read_many_reports_failures_in_place(sim):
    targets = [(sim.host, sim.port, unit, "mercury234_modbus") for unit in (5, 7, 9, 11, 200)]
    started = time.monotonic()
    results = read_many(targets, timeout=0.2, retries=1)
    assert time.monotonic() - started < 1.5
    assert isinstance(results[0], MeterReading)
    assert isinstance(results[1], MeterSilent)
    assert isinstance(results[2], UnexpectedAnswer)
    assert isinstance(results[3], UnexpectedAnswer)
    assert isinstance(results[4], MeterSilent)  # gateway exception 0x0B: no such device behind it


def test_many_gateways_for_more_than_247_meters():
    with ModbusGatewaySimulator(meters=300, clock=lambda: AT) as sim:
        assert len(sim.ports) == 2
        results = read_many(sim.targets("mercury234_modbus"), timeout=1.0)
        assert len(results) == 300 and all(isinstance(r, MeterReading) for r in results)
        assert results[299].serial == sim.serial(300)


def test_unreachable_gateway_is_a_meter_error():
    results = read_many([("127.0.0.1", 1, 1, "mercury234_modbus")], timeout=0.5)
    assert isinstance(results[0], MeterError)


def test_no_threads_left_behind():
    before = threading.active_count()
    with ModbusGatewaySimulator(meters=2):
        pass
    assert threading.active_count() == before
