"""DLMS/COSEM client against the simulator on loopback, and `flask askue read-meter --protocol dlms`."""
import json
import random
import threading
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from dlms_cosem import time as cosem_time

from app import create_app
from askue.protocols import AccessDenied, MeterError, MeterSilent, UnexpectedAnswer
from askue.protocols.dlms import (DlmsClient, cosem_datetime, decode_data, floor_to, interval_status, server_sap,
                                  wrap)
from askue.series import Status
from askue.simulators.dlms import DlmsSimulator
from askue.simulators.meters import MOSCOW, VirtualMeter

ADDRESS = 17
SERIAL = "011520000017"
PASSWORD = "12345678"
AT = datetime(2025, 11, 20, 9, 30, tzinfo=timezone.utc)
DAY = datetime(2025, 11, 19, tzinfo=MOSCOW)  # a whole day before AT


@pytest.fixture
def simulator():
    meters = {ADDRESS: VirtualMeter(SERIAL), 18: VirtualMeter("011520000018")}
    with DlmsSimulator(meters=meters, password=PASSWORD, clock=lambda: AT) as server:
        yield server
    assert not [t for t in threading.enumerate() if t.name.startswith("dlms-simulator")]


def client(server, address=ADDRESS, password=PASSWORD, **options):
    options.setdefault("timeout", 0.3)
    return DlmsClient("127.0.0.1", server.port, address, password, **options)


# ---- encodings -----------------------------------------------------------------------------------------

def test_server_address_and_wrapper():
    assert server_sap(ADDRESS) == 0x4000 | ADDRESS  # logical device 1, physical address 17
    assert server_sap(0) == 1  # a meter on its own modem: the logical device alone
    # version 1, from the reading client 32 to the meter, 2 bytes: an RLRQ
    assert wrap(32, server_sap(ADDRESS), b"\x62\x00") == bytes.fromhex("0001 0020 4011 0002 6200")


def test_cosem_datetime():
    moscow = bytes.fromhex("07e90b14ff 0c1e0000 ff4c 00")  # 2025-11-20 12:30 local, deviation -180
    assert cosem_datetime(moscow, MOSCOW) == datetime(2025, 11, 20, 9, 30, tzinfo=timezone.utc)
    assert cosem_datetime(moscow, MOSCOW).tzinfo == MOSCOW
    unspecified = moscow[:9] + b"\x80\x00" + moscow[11:]  # no deviation: the meter's own zone
    assert cosem_datetime(unspecified, MOSCOW) == datetime(2025, 11, 20, 9, 30, tzinfo=timezone.utc)
    utc = moscow[:9] + b"\x00\x00" + moscow[11:]  # deviation 0: UTC, not the meter's zone
    assert cosem_datetime(utc, MOSCOW) == datetime(2025, 11, 20, 12, 30, tzinfo=timezone.utc)
    assert cosem_datetime(cosem_time.datetime_to_bytes(DAY), MOSCOW) == DAY
    with pytest.raises(UnexpectedAnswer):
        cosem_datetime(b"\x07\xe9\x0d" + moscow[3:], MOSCOW)  # month 13
    with pytest.raises(UnexpectedAnswer):
        cosem_datetime(moscow[:11], MOSCOW)


def test_amr_status_bits():
    assert interval_status(0) == 0
    assert interval_status(0x80) == Status.POWER_OFF
    assert interval_status(0x80 | 0x20 | 0x01) == Status.POWER_OFF | Status.CLOCK_SET  # critical error: no flag
    assert interval_status(0x04) == Status.NOT_COMMERCIAL


def test_decode_data():
    assert decode_data(bytes.fromhex("0600000539")) == 1337
    assert decode_data(bytes.fromhex("0202 0f01 161e")) == [1, 30]  # scaler_unit {1, Wh}
    assert decode_data(bytes.fromhex("0903 313233")) == b"123"
    for malformed in ("060000", "0f01 0f02", "63", "", "0202 0f01"):  # short, two values, unknown tag, ...
        with pytest.raises(UnexpectedAnswer):
            decode_data(bytes.fromhex(malformed))
    rng = random.Random(7)
    for _ in range(500):  # whatever the bytes, the answer is a value or UnexpectedAnswer, never another error
        try:
            decode_data(rng.randbytes(rng.randrange(1, 24)))
        except UnexpectedAnswer:
            pass


# ---- reading the registers -------------------------------------------------------------------------------

def test_read_returns_the_meter_counters(simulator):
    reading = client(simulator).read()
    meter = VirtualMeter(SERIAL)
    assert reading.serial == SERIAL
    # Registers in 10 Wh with scaler 1: exactly the 0.01 kWh counters of the virtual meter.
    assert reading.energy_kwh == meter.counters_at(AT)
    assert all(isinstance(v, Decimal) and v.as_tuple().exponent == -2 for v in reading.energy_kwh.values())
    assert reading.energy_kwh["T1"] + reading.energy_kwh["T2"] == reading.energy_kwh["total"]
    assert reading.read_at.tzinfo is not None and reading.read_at.utcoffset() == timedelta(0)
    assert reading.meter_clock == meter.clock_at(AT) and reading.meter_clock.tzinfo == MOSCOW


def test_long_answers_come_in_blocks(simulator):
    simulator.max_pdu_size = 16  # the 14-byte clock no longer fits one APDU
    reading = client(simulator).read()
    assert reading.meter_clock == VirtualMeter(SERIAL).clock_at(AT)
    assert reading.energy_kwh == VirtualMeter(SERIAL).counters_at(AT)


def test_one_association_for_several_reads(simulator):
    with client(simulator) as meter:
        reading = meter.read()
        series = meter.read_profile(DAY, DAY + timedelta(hours=2))
    assert reading.serial == series.meter == SERIAL and len(series) == 4


def test_a_meter_on_its_own_modem():
    with DlmsSimulator(meters={5: VirtualMeter(SERIAL)}, clock=lambda: AT) as server:
        assert client(server, address=0).read().serial == SERIAL


# ---- the load profile --------------------------------------------------------------------------------------

def test_profile_of_a_day(simulator):
    series = client(simulator).read_profile(DAY, DAY + timedelta(days=1))
    meter = VirtualMeter(SERIAL)
    assert (series.meter, series.channel, series.minutes, series.start) == (SERIAL, "A+", 30, DAY)
    assert len(series) == 48 and series.statuses is None
    assert all(isinstance(value, int) for value in series.values)
    for start, value in zip(series.starts(), series.values):
        assert abs(value - meter.power_kw(start) * 500) <= 1  # half an hour of the meter's power, in Wh
    counters = (meter.counters_at(DAY + timedelta(days=1))["total"] - meter.counters_at(DAY)["total"]) * 1000
    assert abs(sum(series.values) - counters) < 10 + 1  # counters cut to 10 Wh at both ends, the profile to 1 Wh


def test_profile_range_is_selected(simulator):
    day = client(simulator).read_profile(DAY, DAY + timedelta(days=1))
    since, until = DAY + timedelta(hours=10, minutes=10), DAY + timedelta(hours=13)
    window = client(simulator).read_profile(since, until)
    assert window.start == DAY + timedelta(hours=10, minutes=30)  # rounded up to a whole interval
    assert window.values == day.values[21:26]
    # The meter selects by the clock column, both ends included: rows stamped 10:30..13:00.
    rows = simulator.profile_rows(simulator.meters[ADDRESS], ADDRESS, AT, window.start, until)
    assert [end for end, _status, _wh in rows] == [window.start + timedelta(minutes=30) * i for i in range(6)]


def test_profile_stops_at_the_meter_clock(simulator):
    series = client(simulator).read_profile(DAY, AT + timedelta(days=1))
    assert series.end == floor_to(VirtualMeter(SERIAL).clock_at(AT), 30)
    assert None not in series.values


def test_outage_leaves_gaps_and_marks_power_off(simulator):
    off, on = DAY + timedelta(hours=10, minutes=10), DAY + timedelta(hours=11, minutes=40)
    simulator.outages[ADDRESS] = [(off, on)]
    series = client(simulator).read_profile(DAY + timedelta(hours=9), DAY + timedelta(hours=13))
    assert series.values[2] is not None and series.values[3:5] == [None, None] and series.values[5] is not None
    assert series.statuses == [0, 0, Status.POWER_OFF, 0, 0, Status.POWER_OFF, 0, 0]


# ---- failures ----------------------------------------------------------------------------------------------

def test_wrong_password(simulator):
    with pytest.raises(AccessDenied, match="authentication_failed"):
        client(simulator, password="87654321").read()


def test_reading_client_without_password(simulator):
    with pytest.raises(AccessDenied, match="authentication_required"):
        client(simulator, password=None, client_sap=32).read()


def test_public_client_reads_the_serial_only(simulator):
    with client(simulator, password=None) as meter:
        assert meter.client_sap == 16 and meter.serial() == SERIAL
        with pytest.raises(AccessDenied, match="read_write_denied"):
            meter.read()


@pytest.mark.parametrize("make_silent", ["unknown address", "silent"])
def test_silence_is_retried_then_reported(simulator, make_silent):
    address = 99 if make_silent == "unknown address" else ADDRESS
    simulator.silent.add(ADDRESS)
    started = time.monotonic()
    with pytest.raises(MeterSilent):
        client(simulator, address, timeout=0.2, retries=1).read()
    assert 0.35 < time.monotonic() - started < 0.4 + 0.3  # two AARQs of 0.2 s, no release after


def test_garbage(simulator):
    simulator.garbage.add(ADDRESS)
    with pytest.raises(UnexpectedAnswer):
        client(simulator).read()


class _GarbledGets(DlmsSimulator):
    """Associates properly, then answers every GET with a GET response of random bytes."""

    def reply(self, connection, client_sap, address, apdu):
        answer = super().reply(connection, client_sap, address, apdu)
        if apdu[0] != 0xC0:
            return answer
        return answer[:3] + self.random_bytes(address, 8)


def test_malformed_get_responses():
    with _GarbledGets(meters={ADDRESS: VirtualMeter(SERIAL)}, clock=lambda: AT) as server:
        for _ in range(5):
            with pytest.raises(UnexpectedAnswer):
                client(server).read()


def test_dropped_connection(simulator):
    simulator.drop_after(64 + 6)  # the AARE (64 bytes) and the start of the serial number's answer
    with pytest.raises(MeterError, match="closed"):
        client(simulator).read()


def test_nobody_listening():
    with DlmsSimulator() as server:
        port = server.port
    with pytest.raises(MeterError, match="cannot connect"):
        DlmsClient("127.0.0.1", port, ADDRESS, PASSWORD, timeout=0.3).read()


# ---- the CLI -----------------------------------------------------------------------------------------------

def run(*args):
    app = create_app("testing", SQLALCHEMY_DATABASE_URI="sqlite://")
    return app.test_cli_runner().invoke(args=["askue", "read-meter", "--protocol", "dlms", "--host", "127.0.0.1",
                                              *args])


def test_cli_prints_the_reading(simulator):
    result = run("--port", str(simulator.port), "--address", str(ADDRESS), "--password", PASSWORD)
    assert result.exit_code == 0, result.stderr
    answer = json.loads(result.stdout)
    expected = VirtualMeter(SERIAL).counters_at(AT)
    assert answer["serial"] == SERIAL
    assert answer["energy_kwh"] == {zone: str(value) for zone, value in expected.items()}
    assert answer["meter_clock"] == VirtualMeter(SERIAL).clock_at(AT).isoformat()


def test_cli_silent_meter_exits_with_the_reason(simulator):
    simulator.silent.add(ADDRESS)
    result = run("--port", str(simulator.port), "--address", str(ADDRESS), "--password", PASSWORD,
                 "--timeout", "0.2", "--retries", "0")
    assert result.exit_code == 2 and "MeterSilent" in result.stderr


def test_cli_wrong_password_exits_with_the_reason(simulator):
    result = run("--port", str(simulator.port), "--address", str(ADDRESS), "--password", "0000")
    assert result.exit_code == 2 and "AccessDenied" in result.stderr
