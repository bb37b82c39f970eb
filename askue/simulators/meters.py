"""Virtual meters and the TCP simulators that answer for them.

`VirtualMeter(serial)` is a household meter whose consumption follows a daily shape (low at night,
peaks in the morning and the evening), a seasonal factor by month and a day-to-day variation, all
derived from the serial number: the same serial always gives the same counters at the same moment, so a
test can compute what a reading must return (`counters_at(when)`). The counters grow from 1 Jan 2024
(Moscow time) by tariff zone: T1 day 07:00–23:00, T2 night 23:00–07:00, both in Moscow time.

`Mercury206Simulator` and `Iec61107Simulator` serve such meters over TCP like a GSM/Ethernet converter
with meters on its serial line. Test controls (sets of serials/addresses, empty by default): `silent`
(never answer), `garbage` (answer random bytes of the right length), `bad_crc` (answers carry a wrong
CRC/BCC); `drop_after(n)` closes a connection after n bytes of answers. `clock` gives the moment the
meters are read at (default: now).

    python -m askue.simulators.meters --mercury-port 8801 --iec-port 8802 --meters 20
"""
import argparse
import hashlib
import random
import re
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_DOWN, Decimal
from zoneinfo import ZoneInfo

from askue.protocols import iec61107, mercury206
from askue.simulators.tcp import TcpHandler, TcpSimulator, run_until_stopped

MOSCOW = ZoneInfo("Europe/Moscow")
EPOCH = date(2024, 1, 1)  # local midnight from which the counters grow
# Relative power by local hour (mean 1): night low, a morning peak, an evening peak.
_SHAPE = (0.45, 0.40, 0.38, 0.37, 0.38, 0.45, 0.70, 1.10, 1.30, 1.05, 0.90, 0.85,
          0.85, 0.85, 0.85, 0.90, 1.00, 1.20, 1.55, 1.75, 1.70, 1.45, 1.10, 0.70)
DAY_SHAPE = tuple(value * 24 / sum(_SHAPE) for value in _SHAPE)
SEASON = {1: 1.35, 2: 1.30, 3: 1.15, 4: 1.00, 5: 0.85, 6: 0.75,
          7: 0.72, 8: 0.75, 9: 0.88, 10: 1.05, 11: 1.22, 12: 1.38}
DAY_HOURS = range(7, 23)  # T1; the other hours are T2
WRAP_KWH = Decimal(1_000_000)  # an 8-digit counter in 0.01 kWh rolls over here
CENT = Decimal("0.01")


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class VirtualMeter:
    """A meter whose counters are a pure function of its serial number and the moment asked about."""

    def __init__(self, serial: int | str):
        self.serial = str(serial)
        rng = random.Random(f"virtual-meter:{self.serial}")
        self.mean_kw = round(rng.uniform(0.2, 2.0), 3)  # average power over a year
        self.start_kwh = {"T1": Decimal(rng.randrange(50_000, 2_000_000)) / 100,
                          "T2": Decimal(rng.randrange(20_000, 800_000)) / 100}
        self.clock_drift = timedelta(seconds=rng.randint(-120, 120))

    def day_factor(self, day: date) -> float:
        """Day-to-day variation, 0.8–1.2, fixed for a serial and a day."""
        digest = hashlib.blake2b(f"{self.serial}:{day.isoformat()}".encode(), digest_size=4).digest()
        return 0.8 + 0.4 * int.from_bytes(digest, "big") / 0xFFFFFFFF

    def power_kw(self, when: datetime) -> float:
        """The average power in the local hour of `when`."""
        local = when.astimezone(MOSCOW)
        return self.mean_kw * SEASON[local.month] * self.day_factor(local.date()) * DAY_SHAPE[local.hour]

    def counters_at(self, when: datetime) -> dict[str, Decimal]:
        """Counters in kWh at `when` (aware), cut to 0.01 kWh: "total", "T1".."T4" (T3, T4 unused)."""
        local = when.astimezone(MOSCOW).replace(tzinfo=None)
        energy = {"T1": 0.0, "T2": 0.0}
        day = EPOCH
        while day < local.date():
            scale = self.mean_kw * SEASON[day.month] * self.day_factor(day)
            for hour, share in enumerate(DAY_SHAPE):
                energy["T1" if hour in DAY_HOURS else "T2"] += scale * share
            day += timedelta(days=1)
        if local.date() >= EPOCH:
            scale = self.mean_kw * SEASON[day.month] * self.day_factor(day)
            elapsed = local.hour + (local.minute * 60 + local.second + local.microsecond / 1e6) / 3600
            for hour, share in enumerate(DAY_SHAPE[:local.hour + 1]):
                fraction = min(elapsed - hour, 1.0)
                energy["T1" if hour in DAY_HOURS else "T2"] += scale * share * fraction
        counters = {zone: ((self.start_kwh[zone] + Decimal(repr(kwh))) % WRAP_KWH).quantize(CENT, ROUND_DOWN)
                    for zone, kwh in energy.items()}
        counters.update(T3=Decimal("0.00"), T4=Decimal("0.00"))
        return {"total": sum(counters.values(), Decimal("0.00")) % WRAP_KWH, **counters}

    def clock_at(self, when: datetime) -> datetime:
        """The meter's own clock at `when`: Moscow time, off by the meter's drift, to the second."""
        return (when.astimezone(MOSCOW) + self.clock_drift).replace(microsecond=0)


class _MeterSimulator(TcpSimulator):
    def __init__(self, host: str, port: int, clock: Callable[[], datetime] | None):
        super().__init__(host, port)
        self.silent: set = set()
        self.garbage: set = set()
        self.bad_crc: set = set()
        self.clock = clock or utc_now
        self._garbage_count = 0

    def random_bytes(self, key, length: int) -> bytes:
        """Noise of `length` bytes, reproducible from run to run."""
        self._garbage_count += 1
        return random.Random(f"garbage:{key}:{self._garbage_count}").randbytes(length)


# ---- Mercury 206 -----------------------------------------------------------------------------------------

class _MercuryHandler(TcpHandler):
    frame_gap = 0.02  # a pause this long ends a request, as on the meter's serial line

    def handle(self) -> None:
        while True:
            request = self.recv()
            if not request:
                return
            while (more := self.recv(timeout=self.frame_gap)):
                request += more
            answer = self.simulator.answer(request)
            if answer is not None and not self.send(answer):
                return


class Mercury206Simulator(_MeterSimulator):
    """Mercury 200/203/206 meters behind one converter; `meters` maps serial numbers to meters."""

    handler = _MercuryHandler
    name = "mercury206"

    def __init__(self, meters: Mapping[int, VirtualMeter], host: str = "127.0.0.1", port: int = 0,
                 clock: Callable[[], datetime] | None = None):
        super().__init__(host, port, clock)
        self.meters = {int(serial) % 100_000_000: (int(serial), meter) for serial, meter in meters.items()}

    def answer(self, request: bytes) -> bytes | None:
        """The answer frame to a request, or None where a meter stays silent."""
        if len(request) < 7 or mercury206.crc16_modbus(request[:-2]) != request[-2:]:
            return None
        found = self.meters.get(int.from_bytes(request[:4], "big"))
        command = request[4]
        if found is None or found[0] in self.silent or command not in mercury206.ANSWER_LENGTH:
            return None
        serial, meter = found
        if serial in self.garbage:
            return self.random_bytes(serial, 7 + mercury206.ANSWER_LENGTH[command])
        now = self.clock()
        if command == mercury206.READ_SERIAL:
            data = serial.to_bytes(4, "big")
        elif command == mercury206.READ_ENERGY:
            counters = meter.counters_at(now)
            data = b"".join(mercury206.int_to_bcd(int(counters[t] * 100), 4) for t in mercury206.TARIFFS)
        else:
            clock = meter.clock_at(now)
            fields = (clock.isoweekday() % 7, clock.hour, clock.minute, clock.second,
                      clock.day, clock.month, clock.year % 100)
            data = b"".join(mercury206.int_to_bcd(value, 1) for value in fields)
        answer = mercury206.frame(serial, command, data)
        if serial in self.bad_crc:
            answer = answer[:-2] + bytes([answer[-2] ^ 0xFF, answer[-1]])
        return answer


# ---- IEC 61107 (Energomera) -----------------------------------------------------------------------------

class _IecHandler(TcpHandler):
    def handle(self) -> None:
        self.meter_address: str | None = None  # the signed-on meter
        self.logged_in = False
        buffer = b""
        while True:
            message, buffer = _next_message(buffer)
            if message is None:
                chunk = self.recv()
                if not chunk:
                    return
                buffer += chunk
                continue
            answer = self.simulator.answer(self, message)
            if answer and not self.send(answer):
                return


def _next_message(buffer: bytes) -> tuple[bytes | None, bytes]:
    """Split one client message off the stream: a line (sign-on, option select) or an SOH block."""
    buffer = buffer.lstrip(b"\x00")
    if buffer[:1] in (b"/", iec61107.ACK):
        end = buffer.find(b"\r\n")
        return (buffer[:end + 2], buffer[end + 2:]) if end >= 0 else (None, buffer)
    if buffer[:1] == iec61107.SOH:
        end = buffer.find(iec61107.ETX)
        return (buffer[:end + 2], buffer[end + 2:]) if 0 <= end < len(buffer) - 1 else (None, buffer)
    if buffer:  # noise between messages: skip a byte
        return _next_message(buffer[1:])
    return None, buffer


class Iec61107Simulator(_MeterSimulator):
    """Energomera meters behind one converter; `meters` maps device addresses to meters.

    An empty address on sign-on is answered only when a single meter is on the line. Answers values
    ET0PE (counters), ECMPE (counters at the start of the month), ET0PI (reverse energy: zero), DATE_
    and TIME_.
    """

    handler = _IecHandler
    name = "iec61107"
    ident = b"/EKT5CE102Mv01\r\n"

    def __init__(self, meters: Mapping[str, VirtualMeter], password: str = "777777", host: str = "127.0.0.1",
                 port: int = 0, clock: Callable[[], datetime] | None = None):
        super().__init__(host, port, clock)
        self.meters = {str(address): meter for address, meter in meters.items()}
        self.password = password

    def answer(self, connection: _IecHandler, message: bytes) -> bytes | None:
        if message.startswith(b"/?"):
            return self._sign_on(connection, message)
        address = connection.meter_address
        if address is None or address in self.silent:
            return None
        if address in self.garbage:
            return self.random_bytes(address, len(message))
        if message.startswith(iec61107.ACK):
            return self._block(address, iec61107.SOH, f"P0\x02({self.meters[address].serial})\x03")
        if iec61107.bcc(message[1:-1]) != message[-1]:
            return iec61107.NAK
        code, _, data = message[1:-2].partition(iec61107.STX)
        if code == b"B0":
            connection.meter_address, connection.logged_in = None, False
            return None
        if code == b"P1":
            connection.logged_in = data == f"({self.password})".encode()
            return iec61107.ACK if connection.logged_in else iec61107.NAK
        if code == b"R1" and connection.logged_in:
            return self._block(address, iec61107.STX, self._read(address, data.decode("ascii", "replace")) + "\x03")
        return self._block(address, iec61107.STX, "(ERR)\x03")

    def _sign_on(self, connection: _IecHandler, message: bytes) -> bytes | None:
        match = re.fullmatch(rb"/\?([0-9A-Za-z ]*)!\r\n", message)
        if not match:
            return None
        address = match.group(1).decode()
        if not address and len(self.meters) == 1:
            address = next(iter(self.meters))
        if address not in self.meters or address in self.silent:
            return None
        connection.meter_address, connection.logged_in = address, False
        if address in self.garbage:
            return self.random_bytes(address, len(self.ident))
        return self.ident

    def _read(self, address: str, request: str) -> str:
        meter, now = self.meters[address], self.clock()
        name = request.split("(", 1)[0]
        if name == "ET0PE":
            counters = meter.counters_at(now)
        elif name == "ECMPE":
            month_start = now.astimezone(MOSCOW).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
            counters = meter.counters_at(month_start)
        elif name == "ET0PI":
            counters = dict.fromkeys(("total", "T1", "T2", "T3", "T4"), Decimal("0.00"))
        elif name == "DATE_":
            clock = meter.clock_at(now)
            return f"DATE_({clock.isoweekday() % 7:02d}.{clock:%d.%m.%y})"
        elif name == "TIME_":
            return f"TIME_({meter.clock_at(now):%H:%M:%S})"
        else:
            return "(ERR12)"
        values = [counters[key] for key in ("total", "T1", "T2", "T3", "T4")]
        return name + "\r\n".join(f"({value:.2f})" for value in values) + "\r\n"

    def _block(self, address: str, head: bytes, body: str) -> bytes:
        answer = iec61107.block(head, body.encode("ascii"))
        if address in self.bad_crc:
            answer = answer[:-1] + bytes([(answer[-1] + 1) & 0x7F])
        return answer


# ---- the demo ------------------------------------------------------------------------------------------

def demo_meters(count: int) -> tuple[dict[int, VirtualMeter], dict[str, VirtualMeter]]:
    """`count` Mercury meters (serials 41000001...) and `count` Energomera ones (addresses 1..count)."""
    mercury = {41_000_001 + i: VirtualMeter(41_000_001 + i) for i in range(count)}
    energomera = {str(i + 1): VirtualMeter(f"0092170540{i + 1:05d}") for i in range(count)}
    return mercury, energomera


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Mercury 206 and Energomera (IEC 61107) meters on TCP")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--mercury-port", type=int, default=8801)
    parser.add_argument("--iec-port", type=int, default=8802)
    parser.add_argument("--meters", type=int, default=20, help="meters of each kind")
    parser.add_argument("--password", default="777777", help="the Energomera meters' password")
    args = parser.parse_args(argv)
    mercury_meters, iec_meters = demo_meters(args.meters)
    mercury = Mercury206Simulator(mercury_meters, args.host, args.mercury_port)
    iec = Iec61107Simulator(iec_meters, args.password, args.host, args.iec_port)

    def greeting() -> str:
        return (f"Mercury 206: {args.host}:{mercury.port}, serials {min(mercury_meters)}..{max(mercury_meters)}\n"
                f"Energomera CE102 (IEC 61107): {args.host}:{iec.port}, addresses 1..{args.meters}, "
                f"password {args.password}\nCtrl-C to stop")

    run_until_stopped([mercury, iec], greeting, "meter simulators stopped")


if __name__ == "__main__":
    main()
