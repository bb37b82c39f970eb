"""What the meter protocol clients share: the errors they raise and the reading they return.

The clients talk to meters through GSM/Ethernet converters that expose a meter's serial line as a TCP
socket, so a client gets a host and a port, not a serial port. Errors are told apart by what the caller
should do next:
- `MeterSilent`: no answer within the timeout after every retry (meter switched off, wrong address, no
  GSM coverage); poll again later;
- `BadChecksum`: an answer came but its CRC/BCC is wrong (line noise); poll again;
- `UnexpectedAnswer`: an answer that is not what the protocol says (another device on the line, a
  converter misconfigured, a meter refusing a request); a person has to look;
- `AccessDenied`: the meter refused the password; polling again with the same one is pointless;
- `MeterError`: the base of them all, raised itself when the connection cannot be made or breaks.
"""
import socket
import time
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal


class MeterError(Exception):
    """Any failure of a meter exchange; the subclasses say what went wrong."""


class MeterSilent(MeterError):
    """The meter did not answer within the timeout, retries included."""


class BadChecksum(MeterError):
    """An answer arrived but its checksum (CRC16 or BCC) does not match."""


class UnexpectedAnswer(MeterError):
    """An answer arrived that the protocol does not allow at this point."""


class AccessDenied(MeterError):
    """The meter refused the password."""


@dataclass(frozen=True)
class MeterReading:
    """One poll of a meter.

    `energy_kwh` holds cumulative active energy counters in kWh at the meter's resolution (0.01 kWh):
    "total" and the tariff zones "T1".."T4" the meter reported. `read_at` is when the answer arrived
    (aware, UTC); `meter_clock` is the meter's own clock (aware, in the meter's time zone) when it was
    read, or None when it was not.
    """

    serial: str
    energy_kwh: dict[str, Decimal]
    read_at: datetime
    meter_clock: datetime | None = None
    extra: dict[str, dict[str, Decimal]] = field(default_factory=dict)


class Link:
    """A TCP connection to a converter with reads bounded by a deadline.

    `read(n, deadline)` returns exactly n bytes or raises: `MeterSilent` when nothing at all arrived
    before the deadline (the caller may retry), `UnexpectedAnswer` when an answer stopped half-way,
    `MeterError` when the connection closed or broke.
    """

    def __init__(self, host: str, port: int, timeout: float):
        try:
            self._sock = socket.create_connection((host, port), timeout=timeout)
        except OSError as exc:
            raise MeterError(f"cannot connect to {host}:{port}: {exc}") from exc
        self.peer = f"{host}:{port}"
        self.received = 0  # bytes of the answer being read, to tell silence from a cut-short answer

    def send(self, data: bytes) -> None:
        try:
            self._sock.sendall(data)
        except OSError as exc:
            raise MeterError(f"the connection to {self.peer} broke while sending: {exc}") from exc

    def read(self, n: int, deadline: float) -> bytes:
        chunks = []
        while n:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._timed_out()
            self._sock.settimeout(remaining)
            try:
                chunk = self._sock.recv(n)
            except TimeoutError:
                self._timed_out()
            except OSError as exc:
                raise MeterError(f"the connection to {self.peer} broke: {exc}") from exc
            if not chunk:
                raise MeterError(f"the connection to {self.peer} closed after {self.received} bytes of an answer")
            chunks.append(chunk)
            n -= len(chunk)
            self.received += len(chunk)
        return b"".join(chunks)

    def _timed_out(self):
        if self.received:
            raise UnexpectedAnswer(f"the answer from {self.peer} stopped after {self.received} bytes")
        raise MeterSilent(f"no answer from {self.peer}")

    def close(self) -> None:
        self._sock.close()

    def __enter__(self) -> "Link":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
