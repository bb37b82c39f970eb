"""Energomera (IEC 61107 mode C) client against the simulator: no database, no Flask."""
import threading
import time
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from askue.protocols import AccessDenied, BadChecksum, MeterError, MeterSilent, UnexpectedAnswer
from askue.protocols.iec61107 import Iec61107Client, bcc, command, parse_values
from askue.simulators.meters import Iec61107Simulator, VirtualMeter

SERIAL = "009217054000042"
AT = datetime(2025, 3, 10, 17, 45, tzinfo=timezone.utc)


@pytest.fixture
def simulator():
    meters = {"42": VirtualMeter(SERIAL), "43": VirtualMeter("009217054000043")}
    with Iec61107Simulator(meters, clock=lambda: AT) as server:
        yield server
    assert not [t for t in threading.enumerate() if t.name.startswith("iec61107-simulator")]


def client(server, address="42", **options):
    options.setdefault("timeout", 0.3)
    return Iec61107Client("127.0.0.1", server.port, address, **options)


def test_bcc_is_the_7_bit_sum():
    # The break SOH B0 ETX: 0x42 + 0x30 + 0x03 = 0x75 ('u'); the standard XOR would give 0x71 ('q').
    assert bcc(b"B0\x03") == 0x75
    assert command("B0") == b"\x01B0\x03u"
    body = b"P1\x02(777777)\x03"
    assert bcc(body) == sum(body) % 128
    assert command("P1", "(777777)") == b"\x01" + body + bytes([sum(body) % 128])


def test_parse_values():
    assert parse_values("ET0PE", "ET0PE(12.34)\r\n(10.00)\r\n(2.34)\r\n") == {
        "total": Decimal("12.34"), "T1": Decimal("10.00"), "T2": Decimal("2.34")}
    with pytest.raises(UnexpectedAnswer):
        parse_values("ET0PE", "(ERR12)")


def test_read_returns_the_meter_counters(simulator):
    reading = client(simulator).read(clock=True)
    expected = VirtualMeter(SERIAL).counters_at(AT)
    assert reading.serial == SERIAL
    assert reading.energy_kwh == expected
    assert all(v.as_tuple().exponent == -2 for v in reading.energy_kwh.values())
    assert reading.energy_kwh["T1"] + reading.energy_kwh["T2"] == reading.energy_kwh["total"]
    assert reading.meter_clock == VirtualMeter(SERIAL).clock_at(AT)
    assert reading.read_at.utcoffset().total_seconds() == 0


def test_other_value_names(simulator):
    reading = client(simulator).read(values=("ET0PE", "ECMPE", "ET0PI"))
    month_start = VirtualMeter(SERIAL).counters_at(datetime(2025, 2, 28, 21, tzinfo=timezone.utc))
    assert reading.extra["ECMPE"] == month_start
    assert reading.extra["ECMPE"]["total"] < reading.energy_kwh["total"]
    assert reading.extra["ET0PI"]["total"] == 0
    with pytest.raises(UnexpectedAnswer, match="refused"):
        client(simulator).read(values=("NOSUCH",))


@pytest.mark.parametrize("address", ["99", "42"])
def test_silence_is_retried_then_reported(simulator, address):
    simulator.silent.add("42")
    started = time.monotonic()
    with pytest.raises(MeterSilent):
        client(simulator, address, timeout=0.2, retries=1).read()
    assert 0.35 < time.monotonic() - started < 0.4 + 0.3


def test_wrong_password(simulator):
    with pytest.raises(AccessDenied, match="password"):
        client(simulator, password="123456").read()


def test_bad_bcc(simulator):
    simulator.bad_crc.add("42")
    with pytest.raises(BadChecksum):
        client(simulator).read()


def test_garbage(simulator):
    simulator.garbage.add("42")
    with pytest.raises(UnexpectedAnswer):
        client(simulator).read()


def test_dropped_connection(simulator):
    simulator.drop_after(len(b"/EKT5CE102Mv01\r\n") + 5)  # inside the P0 block
    with pytest.raises(MeterError, match="closed"):
        client(simulator).read()


def test_empty_address_with_one_meter():
    with Iec61107Simulator({"7": VirtualMeter("12345")}, clock=lambda: AT) as server:
        assert Iec61107Client("127.0.0.1", server.port, timeout=0.3).read().serial == "12345"
