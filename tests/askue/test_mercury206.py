"""Mercury 206 client against the simulator: no database, no Flask."""
import threading
import time
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from askue.protocols import BadChecksum, MeterError, MeterSilent, UnexpectedAnswer
from askue.protocols.mercury206 import Mercury206Client, crc16_modbus, frame
from askue.simulators.meters import Mercury206Simulator, VirtualMeter

SERIAL = 41_000_007
AT = datetime(2025, 1, 15, 9, 30, tzinfo=timezone.utc)


def crc_reference(data: bytes) -> int:
    # CRC-16/MODBUS written out from its definition (reflected 0x8005, init 0xFFFF, no final XOR).
    reg = 0xFFFF
    for byte in data:
        for bit in range(8):
            feedback = (reg ^ (byte >> bit)) & 1
            reg >>= 1
            if feedback:
                reg ^= 0xA001
    return reg


@pytest.fixture
def simulator():
    meters = {SERIAL: VirtualMeter(SERIAL), 41_000_008: VirtualMeter(41_000_008)}
    with Mercury206Simulator(meters, clock=lambda: AT) as server:
        yield server
    assert not [t for t in threading.enumerate() if t.name.startswith("mercury206-simulator")]


def client(server, serial=SERIAL, **options):
    options.setdefault("timeout", 0.3)
    return Mercury206Client("127.0.0.1", server.port, serial, **options)


def test_crc16_modbus_worked_examples():
    assert crc16_modbus(b"123456789") == bytes([0x37, 0x4B])  # the catalogued check value 0x4B37
    assert crc16_modbus(bytes.fromhex("01030000000A")) == bytes.fromhex("C5CD")  # Modbus read holding regs
    request = (SERIAL % 10**8).to_bytes(4, "big") + b"\x27"
    assert crc16_modbus(request) == crc_reference(request).to_bytes(2, "little")
    assert frame(SERIAL, 0x27) == request + crc16_modbus(request)


def test_read_returns_the_meter_counters(simulator):
    reading = client(simulator).read()
    expected = VirtualMeter(SERIAL).counters_at(AT)
    assert reading.serial == str(SERIAL)
    assert reading.energy_kwh == expected
    assert all(isinstance(v, Decimal) and v.as_tuple().exponent == -2 for v in reading.energy_kwh.values())
    assert reading.energy_kwh["T1"] + reading.energy_kwh["T2"] == reading.energy_kwh["total"]
    assert reading.read_at.tzinfo is not None and reading.read_at.utcoffset().total_seconds() == 0
    assert reading.meter_clock == VirtualMeter(SERIAL).clock_at(AT)


def test_counters_grow_and_split_by_zone():
    meter = VirtualMeter(SERIAL)
    night = meter.counters_at(datetime(2025, 1, 15, 0, 0, tzinfo=timezone.utc))  # 03:00 Moscow
    later = meter.counters_at(datetime(2025, 1, 15, 2, 0, tzinfo=timezone.utc))  # 05:00 Moscow
    day = meter.counters_at(datetime(2025, 1, 15, 8, 0, tzinfo=timezone.utc))  # 11:00 Moscow
    assert later["T1"] == night["T1"] and later["T2"] > night["T2"]
    assert day["T2"] > later["T2"] and day["T1"] > later["T1"]  # 05–07 night, 07–11 day
    assert meter.power_kw(datetime(2025, 1, 15, 16, tzinfo=timezone.utc)) > \
        meter.power_kw(datetime(2025, 1, 15, 0, tzinfo=timezone.utc))  # 19:00 peak vs 03:00
    january, july = (meter.power_kw(datetime(2025, month, 15, 16, tzinfo=timezone.utc)) for month in (1, 7))
    assert january > july * 1.1  # winter above summer beyond any day-to-day variation (0.8–1.2 × 1.35/0.72)


@pytest.mark.parametrize("make_silent", ["wrong serial", "silent"])
def test_silence_is_retried_then_reported(simulator, make_silent):
    serial = 41_000_099 if make_silent == "wrong serial" else SERIAL
    simulator.silent.add(SERIAL)
    started = time.monotonic()
    with pytest.raises(MeterSilent):
        client(simulator, serial, timeout=0.2, retries=2).read()
    elapsed = time.monotonic() - started
    assert 0.55 < elapsed < 0.6 + 0.3  # three requests of 0.2 s, nothing more


def test_bad_crc(simulator):
    simulator.bad_crc.add(SERIAL)
    with pytest.raises(BadChecksum):
        client(simulator).read()


def test_garbage(simulator):
    simulator.garbage.add(SERIAL)
    with pytest.raises(UnexpectedAnswer):
        client(simulator).read()


def test_dropped_connection(simulator):
    simulator.drop_after(9 + 10)  # the serial answer and part of the energy answer
    with pytest.raises(MeterError, match="closed"):
        client(simulator).read()


def test_nobody_listening():
    with Mercury206Simulator({}) as server:
        port = server.port
    with pytest.raises(MeterError, match="cannot connect"):
        Mercury206Client("127.0.0.1", port, SERIAL, timeout=0.3).read()
