"""`flask askue read-meter` against each protocol's simulator on loopback: JSON on success, a non-zero
exit with the reason on failure."""
import json
from datetime import datetime, timezone
from decimal import Decimal

from app import create_app
from askue.simulators.meters import Iec61107Simulator, Mercury206Simulator, VirtualMeter
from askue.simulators.modbus import ModbusGatewaySimulator

AT = datetime(2026, 11, 20, 9, 30, tzinfo=timezone.utc)


def run(*args):
    app = create_app("testing", SQLALCHEMY_DATABASE_URI="sqlite://")
    return app.test_cli_runner().invoke(args=["askue", "read-meter", *args])


def test_mercury_206():
    meter = VirtualMeter(41238765)
    with Mercury206Simulator({41238765: meter}, clock=lambda: AT) as sim:
        result = run("--protocol", "mercury206", "--host", "127.0.0.1", "--port", str(sim.port), "--address", "41238765")
    assert result.exit_code == 0, result.stderr
    answer = json.loads(result.stdout)
    expected = meter.counters_at(AT)
    assert answer["serial"] == "41238765" and answer["energy_kwh"]["total"] == str(expected["total"])


def test_iec_61107():
    meter = VirtualMeter("009217735")
    with Iec61107Simulator({"009217735": meter}, clock=lambda: AT) as sim:
        result = run("--protocol", "iec61107", "--host", "127.0.0.1", "--port", str(sim.port),
                     "--address", "009217735", "--password", "777777")
    assert result.exit_code == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["energy_kwh"]["total"] == str(meter.counters_at(AT)["total"])


def test_modbus():
    with ModbusGatewaySimulator(meters=3, register_map="mercury234_modbus", clock=lambda: AT) as sim:
        host, port, unit = sim.address_of(2)
        result = run("--protocol", "modbus", "--host", host, "--port", str(port), "--address", str(unit),
                     "--map", "mercury234_modbus")
        expected = sim.energy_kwh(unit, AT)
        serial = sim.serial(unit)
    assert result.exit_code == 0, result.stderr
    answer = json.loads(result.stdout)
    # The map's registers hold 0.01 kWh: the reading is the simulator's counter to that resolution.
    assert answer["serial"] == serial and abs(Decimal(answer["energy_kwh"]["total"]) - expected["total"]) < Decimal("0.01")


def test_a_silent_meter_exits_with_the_reason():
    with Mercury206Simulator({41238765: VirtualMeter(41238765)}, clock=lambda: AT) as sim:
        result = run("--protocol", "mercury206", "--host", "127.0.0.1", "--port", str(sim.port),
                     "--address", "11111111", "--timeout", "0.2", "--retries", "0")
    assert result.exit_code == 2 and "MeterSilent" in result.stderr
