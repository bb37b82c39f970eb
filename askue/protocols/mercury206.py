"""A client of the Mercury 200/203/206 single-phase meters (Incotex) over a TCP converter.

A request is `ADDR | CMD | params | CRC`: ADDR is the serial number mod 10^8 as a big-endian uint32,
CRC is CRC16/Modbus (poly 0xA001 reflected, init 0xFFFF) sent low byte first. The answer echoes ADDR and
CMD, then carries the data and its own CRC. A meter that sees another address or a bad CRC stays silent,
so silence is retried and, after the retries, reported as `MeterSilent`.

`Mercury206Client(host, port, serial).read()` reads the serial number (0x2F), the energy counters of the
four tariff zones (0x27) and the clock (0x21) over one connection and returns a `MeterReading`.

The line settings of the meter (9600 8N1) are the converter's business: this client only sees bytes.
"""
import time
from datetime import datetime, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from askue.protocols import BadChecksum, Link, MeterReading, MeterSilent, UnexpectedAnswer

READ_SERIAL = 0x2F
READ_ENERGY = 0x27
READ_CLOCK = 0x21
# Data bytes of each answer, between the echoed ADDR|CMD and the CRC.
ANSWER_LENGTH = {READ_SERIAL: 4, READ_ENERGY: 16, READ_CLOCK: 7}
TARIFFS = ("T1", "T2", "T3", "T4")
MOSCOW = ZoneInfo("Europe/Moscow")


def crc16_modbus(data: bytes) -> bytes:
    """CRC16/Modbus of `data` as the two bytes sent on the wire, low byte first."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc.to_bytes(2, "little")


def address_of(serial: int) -> bytes:
    """The 4-byte network address of a meter: its serial number mod 10^8, big-endian."""
    return (int(serial) % 100_000_000).to_bytes(4, "big")


def frame(serial: int, command: int, params: bytes = b"") -> bytes:
    """A complete request (or answer) frame with its CRC."""
    body = address_of(serial) + bytes([command]) + params
    return body + crc16_modbus(body)


def bcd_to_int(data: bytes) -> int:
    """Packed BCD (most significant digit first) as an int; UnexpectedAnswer for a nibble above 9."""
    value = 0
    for byte in data:
        high, low = byte >> 4, byte & 0x0F
        if high > 9 or low > 9:
            raise UnexpectedAnswer(f"{data.hex()} is not packed BCD")
        value = value * 100 + high * 10 + low
    return value


def int_to_bcd(value: int, length: int) -> bytes:
    """`value` as `length` bytes of packed BCD (the simulators' side of `bcd_to_int`)."""
    digits = f"{value:0{length * 2}d}"
    if len(digits) > length * 2:
        raise ValueError(f"{value} does not fit in {length} BCD bytes")
    return bytes(int(digits[i]) << 4 | int(digits[i + 1]) for i in range(0, len(digits), 2))


def parse_energy(data: bytes) -> dict[str, Decimal]:
    """The 16 bytes of a 0x27 answer: T1..T4 as BCD[4] in 0.01 kWh, plus their sum as "total"."""
    energy = {tariff: Decimal(bcd_to_int(data[i * 4:i * 4 + 4])).scaleb(-2) for i, tariff in enumerate(TARIFFS)}
    return {"total": sum(energy.values(), Decimal("0.00")), **energy}


def parse_clock(data: bytes, tz: ZoneInfo) -> datetime:
    """The 7 BCD bytes of a 0x21 answer (weekday, hh, mm, ss, DD, MM, YY) as an aware datetime."""
    _weekday, hour, minute, second, day, month, year = (bcd_to_int(data[i:i + 1]) for i in range(7))
    try:
        return datetime(2000 + year, month, day, hour, minute, second, tzinfo=tz)
    except ValueError as exc:
        raise UnexpectedAnswer(f"the meter clock {data.hex()} is not a date and time: {exc}") from exc


class Mercury206Client:
    """Reads one Mercury 200/203/206 behind a TCP converter.

    `timeout` bounds each answer; a request that meets silence is sent again up to `retries` times, so a
    silent meter costs at most (retries + 1) × timeout per request. `meter_tz` is the zone the meter's
    clock is set to.
    """

    def __init__(self, host: str, port: int, serial: int, timeout: float = 3.0, retries: int = 2,
                 meter_tz: ZoneInfo = MOSCOW):
        if not 0 < int(serial) < 2 ** 32:
            raise ValueError(f"a Mercury serial number is a positive number, not {serial!r}")
        self.host, self.port, self.serial = host, port, int(serial)
        self.timeout, self.retries, self.meter_tz = timeout, retries, meter_tz

    def read(self) -> MeterReading:
        """Serial number, energy counters and clock over one connection."""
        with Link(self.host, self.port, self.timeout) as link:
            serial = int.from_bytes(self.request(link, READ_SERIAL), "big")
            if serial % 100_000_000 != self.serial % 100_000_000:
                raise UnexpectedAnswer(f"the meter at address {self.serial % 100_000_000} reports serial {serial}")
            energy = parse_energy(self.request(link, READ_ENERGY))
            read_at = datetime.now(timezone.utc)
            clock = parse_clock(self.request(link, READ_CLOCK), self.meter_tz)
        return MeterReading(serial=str(serial), energy_kwh=energy, read_at=read_at, meter_clock=clock)

    def request(self, link: Link, command: int, params: bytes = b"") -> bytes:
        """Send one request, retrying on silence; return the data of the answer, checked."""
        request = frame(self.serial, command, params)
        for _attempt in range(self.retries + 1):
            link.send(request)
            try:
                return self._answer(link, command)
            except MeterSilent:
                continue
        raise MeterSilent(f"Mercury {self.serial} at {link.peer} did not answer command 0x{command:02X} "
                          f"({self.retries + 1} requests, {self.timeout} s each)")

    def _answer(self, link: Link, command: int) -> bytes:
        deadline = time.monotonic() + self.timeout
        link.received = 0
        header = link.read(5, deadline)
        # The echo is checked before the CRC: bytes that do not even start as this meter's answer are
        # something else on the line, not a damaged answer.
        if header[:4] != address_of(self.serial) or header[4] != command:
            raise UnexpectedAnswer(f"expected the answer of {self.serial} to 0x{command:02X}, got {header.hex()}")
        rest = link.read(ANSWER_LENGTH[command] + 2, deadline)
        body, crc = header + rest[:-2], rest[-2:]
        if crc16_modbus(body) != crc:
            raise BadChecksum(f"CRC {crc.hex()} of the answer to 0x{command:02X} should be {crc16_modbus(body).hex()}")
        return body[5:]
