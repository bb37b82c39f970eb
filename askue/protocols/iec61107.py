"""A client of Energomera CE102/CE301/CE303 meters: ГОСТ IEC 61107-2011, mode C, over a TCP converter.

One `read()` is one session:
    -> /?<address>!\\r\\n                       sign-on (an empty address: whichever meter is on the line)
    <- /EKT5CE102Mv01\\r\\n                      identification: manufacturer, baud character, model
    -> ACK 0 <baud> 1 \\r\\n                     option select: programming mode
    <- SOH P0 STX (serial) ETX BCC              the meter offers its serial number as the password operand
    -> SOH P1 STX (password) ETX BCC            password
    <- ACK                                      (NAK or an error group: the password is wrong)
    -> SOH R1 STX ET0PE() ETX BCC               read a named value, once per name
    <- STX ET0PE(total)\\r\\n(T1)\\r\\n(T2)... ETX BCC
    -> SOH B0 ETX BCC                           break: the meter leaves the session, no answer

Energomera's BCC is the 7-bit sum of the bytes after SOH/STX up to and including ETX (not the XOR of the
standard). The meters talk 7E1 at 9600 baud; the parity bit and the baud-rate switch of mode C belong to
the converter that turns the serial line into this TCP socket, so this client only sees 7-bit bytes.

Value names: ET0PE is the active energy counter (total and tariff zones); ECMPE the same counters at the
start of the current month; ET0PI active energy of the opposite direction. The first name asked for
fills `MeterReading.energy_kwh`, the others `MeterReading.extra[name]`.
"""
import re
import time
from collections.abc import Iterable
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from askue.protocols import (AccessDenied, BadChecksum, Link, MeterError, MeterReading, MeterSilent,
                             UnexpectedAnswer)

SOH, STX, ETX, ACK, NAK = b"\x01", b"\x02", b"\x03", b"\x06", b"\x15"
KNOWN_VALUES = ("ET0PE", "ECMPE", "ET0PI")
MAX_BLOCK = 4096  # no answer of these meters is longer; more is noise, not a block
IDENT = re.compile(rb"/([A-Za-z]{3})([0-9A-I])(.{1,16})\r\n")
NAME = re.compile(r"[A-Z0-9_]{1,16}")
MOSCOW = ZoneInfo("Europe/Moscow")


def bcc(data: bytes) -> int:
    """Energomera's block check character: the sum of `data` modulo 128.

    `data` is what follows SOH (or the first STX) up to and including ETX.
    """
    return sum(data) & 0x7F


def block(head: bytes, body: bytes) -> bytes:
    """A block `head body` (head SOH or STX) followed by its BCC; `body` ends with ETX."""
    return head + body + bytes([bcc(body)])


def command(code: str, data: str | None = None) -> bytes:
    """A command block: SOH code [STX data] ETX BCC (e.g. command("R1", "ET0PE()"))."""
    body = code.encode("ascii") + (STX + data.encode("ascii") if data is not None else b"") + ETX
    return block(SOH, body)


def groups(text: str) -> list[str]:
    """The contents of the `(value)` groups of a data block, in order."""
    return re.findall(r"\(([^()]*)\)", text)


def parse_values(name: str, text: str) -> dict[str, Decimal]:
    """`NAME(total)\\r\\n(T1)\\r\\n(T2)...` as {"total": .., "T1": .., ...}.

    UnexpectedAnswer when the block names another value, the meter answers with an error group, or a
    group is not a number.
    """
    answered = text.split("(", 1)[0].strip()
    if answered and answered != name:
        raise UnexpectedAnswer(f"asked for {name}, the meter answered {answered}")
    found = groups(text)
    if not found:
        raise UnexpectedAnswer(f"the answer to {name} carries no value: {text!r}")
    if found[0].upper().startswith("ERR"):
        raise UnexpectedAnswer(f"the meter refused {name}: {found[0]}")
    try:
        numbers = [Decimal(value.strip()) for value in found]
    except InvalidOperation as exc:
        raise UnexpectedAnswer(f"the answer to {name} is not a list of numbers: {text!r}") from exc
    return {"total": numbers[0], **{f"T{i}": value for i, value in enumerate(numbers[1:], start=1)}}


class Iec61107Client:
    """Reads one Energomera meter behind a TCP converter.

    `address` is the meter's device address (empty when one meter is alone on the line). `timeout`
    bounds each answer; a message met with silence is sent again up to `retries` times.
    """

    def __init__(self, host: str, port: int, address: str = "", password: str = "777777",
                 timeout: float = 3.0, retries: int = 1, meter_tz: ZoneInfo = MOSCOW):
        if not re.fullmatch(r"[0-9A-Za-z ]{0,32}", address):
            raise ValueError(f"an IEC 61107 address is up to 32 letters and digits, not {address!r}")
        self.host, self.port, self.address, self.password = host, port, address, password
        self.timeout, self.retries, self.meter_tz = timeout, retries, meter_tz

    def read(self, values: Iterable[str] = ("ET0PE",), clock: bool = False) -> MeterReading:
        """One session: sign on, log in, read each named value (and the clock if asked), break."""
        names = list(values)
        if not names:
            raise ValueError("name at least one value to read")
        for name in names:
            if not NAME.fullmatch(name):
                raise ValueError(f"{name!r} is not a value name")
        with Link(self.host, self.port, self.timeout) as link:
            ident = self._exchange(link, f"/?{self.address}!\r\n".encode("ascii"), self._read_ident)
            baud = ident[4:5]
            offer = self._exchange(link, ACK + b"0" + baud + b"1\r\n", self._read_block)
            serial = self._serial(offer)
            self._log_in(link)
            read = {name: self._read_value(link, name) for name in names}
            read_at = datetime.now(timezone.utc)
            meter_clock = self._read_clock(link) if clock else None
            link.send(command("B0"))
        first, *others = names
        return MeterReading(serial=serial, energy_kwh=read[first], read_at=read_at, meter_clock=meter_clock,
                            extra={name: read[name] for name in others})

    # ---- the steps of a session ----------------------------------------------------------------------

    def _exchange(self, link: Link, message: bytes, reader) -> bytes:
        """Send `message` and return what `reader` reads, sending it again on silence."""
        for _attempt in range(self.retries + 1):
            link.send(message)
            link.received = 0
            try:
                return reader(link, time.monotonic() + self.timeout)
            except MeterSilent:
                continue
        raise MeterSilent(f"the meter {self.address or '(any)'} at {link.peer} did not answer "
                          f"{message[:12]!r} ({self.retries + 1} tries, {self.timeout} s each)")

    def _serial(self, offer: bytes) -> str:
        match = re.fullmatch(rb"\x01P0\x02\(([^()]*)\)\x03.", offer, re.S)
        if not match:
            raise UnexpectedAnswer(f"expected the password offer SOH P0 STX (serial) ETX, got {offer!r}")
        return match.group(1).decode("ascii")

    def _log_in(self, link: Link) -> None:
        answer = self._exchange(link, command("P1", f"({self.password})"), self._read_block)
        if answer == ACK:
            return
        if answer == NAK or answer.startswith(STX) and "ERR" in answer.decode("ascii", "replace"):
            raise AccessDenied(f"the meter {self.address or '(any)'} at {link.peer} refused the password")
        raise UnexpectedAnswer(f"expected ACK to the password, got {answer!r}")

    def _read_value(self, link: Link, name: str) -> dict[str, Decimal]:
        return parse_values(name, self._data(link, name))

    def _read_clock(self, link: Link) -> datetime:
        date, time_ = groups(self._data(link, "DATE_")), groups(self._data(link, "TIME_"))
        try:
            _weekday, day, month, year = (int(part) for part in date[0].split("."))
            hour, minute, second = (int(part) for part in time_[0].split(":"))
            return datetime(2000 + year, month, day, hour, minute, second, tzinfo=self.meter_tz)
        except (IndexError, ValueError) as exc:
            raise UnexpectedAnswer(f"the meter clock {date} {time_} is not a date and time") from exc

    def _data(self, link: Link, name: str) -> str:
        """The text of the data block answering `R1 name()`."""
        answer = self._exchange(link, command("R1", f"{name}()"), self._read_block)
        if answer == NAK:
            raise UnexpectedAnswer(f"the meter refused to read {name} (NAK)")
        if not answer.startswith(STX):
            raise UnexpectedAnswer(f"expected a data block for {name}, got {answer!r}")
        return answer[1:-2].decode("ascii", "replace")

    # ---- reading what the meter sends ----------------------------------------------------------------

    def _read_ident(self, link: Link, deadline: float) -> bytes:
        first = link.read(1, deadline)
        if first != b"/":
            raise UnexpectedAnswer(f"expected an identification starting with '/', got {first!r}")
        line = first
        while not line.endswith(b"\n"):
            if len(line) > 40:
                raise UnexpectedAnswer(f"the identification does not end: {line!r}")
            line += link.read(1, deadline)
        if not IDENT.fullmatch(line):
            raise UnexpectedAnswer(f"{line!r} is not an identification /XXXZ<ident>")
        return line

    def _read_block(self, link: Link, deadline: float) -> bytes:
        """ACK, NAK, or a whole SOH/STX block up to ETX and its BCC, checked."""
        first = link.read(1, deadline)
        if first in (ACK, NAK):
            return first
        if first not in (SOH, STX):
            raise UnexpectedAnswer(f"expected ACK, NAK, SOH or STX, got {first!r}")
        data = b""
        while not data.endswith(ETX):
            if len(data) > MAX_BLOCK:
                raise UnexpectedAnswer(f"a block longer than {MAX_BLOCK} bytes without ETX")
            data += link.read(1, deadline)
        check = link.read(1, deadline)[0]
        if check != bcc(data):
            raise BadChecksum(f"BCC 0x{check:02X} of {first + data!r} should be 0x{bcc(data):02X}")
        return first + data + bytes([check])


__all__ = ["Iec61107Client", "bcc", "command", "parse_values", "MeterError"]
