"""A client of DLMS/COSEM meters (MATRIX, СПОДЭС: ГОСТ Р 58940-2020) over TCP with the IEC 62056-47 wrapper.

One session (`with DlmsClient(...) as client:`, or one `read()` on its own):
    -> AARQ  client SAP 32 + LLS password (16, no password: the public client)    association
    <- AARE  accepted, or rejected with a diagnostic (authentication failed: AccessDenied)
    -> GET 0.0.96.1.0.255 /2                  serial number (class 1 Data)
    -> GET 1.0.1.8.e.255 /2 and /3            A+ total (e=0) and tariffs T1..T4 (e=1..4): value, scaler_unit
    -> GET 0.0.1.0.0.255 /2                   clock (class 8)
    -> RLRQ  <- RLRE                          release

Every APDU travels in a wrapper frame: version 1, source wPort, destination wPort, length (uint16 each,
big-endian). The client's wPort is its SAP. The meter's is its logical device (1, the management logical
device) combined with its physical address as HDLC's four-byte server address combines them:
logical << 14 | physical, so that a converter with several meters on its RS-485 line can tell them
apart; physical address 0 leaves the logical device alone (a meter on its own modem).

Registers hold Wh as an integer and a scaler (value × 10^scaler Wh); `read()` turns them into kWh at the
meter's resolution. A long answer (a load profile) comes in blocks that the client asks for one by one.

`read_profile(since, until)` reads the load profile 1.0.99.1.0.255 (class 7 Profile generic): capture
objects (/3), capture period (/4), then the buffer (/2) selected by a range of the clock column. A row is
(clock, [AMR status,] A+ of the interval 1.0.1.29.0.255, ...) and its clock stamps the end of the
interval, as meters capture a row when the interval closes.

dlms-cosem gives the APDUs and the A-XDR data coding. Its own client reads sockets without deadlines and
raises its own errors, so this module drives the exchange over `Link`, which tells silence from a broken
connection the way the other clients do.
"""
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Self
from zoneinfo import ZoneInfo

from dlms_cosem import cosem, dlms_data
from dlms_cosem import enumerations as enums
from dlms_cosem.cosem.capture_object import CaptureObject
from dlms_cosem.cosem.selective_access import RangeDescriptor
from dlms_cosem.protocol import acse, xdlms
from dlms_cosem.protocol.wrappers import WrapperHeader

from askue.protocols import AccessDenied, Link, MeterError, MeterReading, MeterSilent, UnexpectedAnswer
from askue.series import INTERVAL_MINUTES, Series, Status

SERIAL = "0.0.96.1.0.255"
CLOCK = "0.0.1.0.0.255"
ENERGY = {"total": "1.0.1.8.0.255", "T1": "1.0.1.8.1.255", "T2": "1.0.1.8.2.255",
          "T3": "1.0.1.8.3.255", "T4": "1.0.1.8.4.255"}
LOAD_PROFILE = "1.0.99.1.0.255"
A_PLUS_INTERVAL = "1.0.1.29.0.255"  # A+ of one capture period: the energy column of the load profile
DATA, REGISTER, EXTENDED_REGISTER, PROFILE_GENERIC, CLOCK_CLASS = 1, 3, 4, 7, 8
WH = 30  # the unit code of Wh in scaler_unit
PUBLIC_CLIENT, READING_CLIENT = 16, 32
MANAGEMENT_LOGICAL_DEVICE = 1
WRAPPER_VERSION = 1
MAX_PDU = 0xFFFF  # what the client can take in one APDU: the most a wrapper frame's length can say
MOSCOW = ZoneInfo("Europe/Moscow")

CONFORMANCE = xdlms.Conformance(get=True, selective_access=True, block_transfer_with_get_or_read=True)
AARE, GET_RESPONSE, EXCEPTION_RESPONSE = 0x61, 0xC4, 0xD8
# Rejections of the association that mean "wrong or missing password", not "something else is wrong".
REFUSED_AUTHENTICATION = {
    enums.AcseServiceUserDiagnostics.AUTHENTICATION_MECHANISM_NAME_NOT_RECOGNIZED,
    enums.AcseServiceUserDiagnostics.AUTHENTICATION_MECHANISM_NAME_REQUIRED,
    enums.AcseServiceUserDiagnostics.AUTHENTICATION_FAILED,
    enums.AcseServiceUserDiagnostics.AUTHENTICATION_REQUIRED,
}
DENIED = {enums.DataAccessResult.READ_WRITE_DENIED, enums.DataAccessResult.SCOPE_OF_ACCESS_VIOLATED}
MISSING = {enums.DataAccessResult.OBJECT_UNDEFINED, enums.DataAccessResult.OBJECT_UNAVAILABLE}
# The AMR profile status byte of IDIS-style load profiles: bit 7 power down, bit 5 clock adjusted,
# bit 2 data not valid. The other bits (critical error, clock invalid, daylight saving) say nothing
# about the interval's energy that the storage could use.
AMR_STATUS = {0x80: Status.POWER_OFF, 0x20: Status.CLOCK_SET, 0x04: Status.NOT_COMMERCIAL}


class ObjectMissing(UnexpectedAnswer):
    """The meter has no such object or attribute (a single-tariff meter asked for T3, say)."""


def server_sap(address: int, logical_device: int = MANAGEMENT_LOGICAL_DEVICE) -> int:
    """The meter's wPort: the logical device and the physical address as in HDLC's four-byte address."""
    return logical_device << 14 | address if address else logical_device


def wrap(source: int, destination: int, apdu: bytes) -> bytes:
    """A wrapper frame carrying `apdu`."""
    return WrapperHeader(source, destination, len(apdu), WRAPPER_VERSION).to_bytes() + apdu


class _BoundedParser(dlms_data.DlmsDataParser):
    """The library's parser reads past the end of its buffer as if it went on with zeros, so an array
    whose count was garbled into billions would be "decoded" for ever: this one stops at the end."""

    def get_bytes(self, length: int) -> bytearray:
        if self.pointer + length > len(self.buffer):
            raise UnexpectedAnswer(f"the data ends after {len(self.buffer)} bytes, in the middle of a value")
        return super().get_bytes(length)


def decode_data(raw: bytes) -> Any:
    """One A-XDR Data as Python values (lists for arrays and structures, bytes for octet strings)."""
    parser = _BoundedParser()
    try:
        items = parser.parse(raw, limit=1)
        value = items[0].to_python() if items else None
    except UnexpectedAnswer:
        raise
    except Exception as exc:  # noqa: BLE001 - the decoders raise KeyError, ValueError... on bad bytes
        raise UnexpectedAnswer(f"malformed data {raw[:32].hex()}: {exc!r}") from exc
    if len(items) != 1 or not parser.buffer_empty:
        raise UnexpectedAnswer(f"{raw[:32].hex()} is not exactly one Data ({len(raw)} bytes)")
    return _plain(value)


def _plain(value: Any) -> Any:
    # The parser hands octet strings over as slices of its bytearray buffer.
    if isinstance(value, bytearray):
        return bytes(value)
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def cosem_datetime(value: Any, tz: ZoneInfo) -> datetime:
    """A COSEM date-time as an aware datetime in `tz`.

    The 12 bytes carry the local time and its deviation: minutes from local time to UTC (Moscow: -180),
    0x8000 when not given, and then the time is taken as `tz`'s. Decoded here because the library's
    decoder loses a deviation of 0 (UTC) and returns a naive time.
    """
    if not isinstance(value, bytes) or len(value) != 12:
        raise UnexpectedAnswer(f"{value!r} is not a COSEM date-time (12 bytes)")
    year, month, day = int.from_bytes(value[0:2], "big"), value[2], value[3]
    hour, minute, second = value[5], value[6], value[7]
    deviation = int.from_bytes(value[9:11], "big", signed=True)
    try:
        local = datetime(year, month, day, hour, minute, second)
    except ValueError as exc:
        raise UnexpectedAnswer(f"the date-time {value.hex()} is not a moment: {exc}") from exc
    if deviation == -0x8000:
        return local.replace(tzinfo=tz)
    return local.replace(tzinfo=timezone(timedelta(minutes=-deviation))).astimezone(tz)


def interval_status(amr_status: int) -> int:
    """`Status` bits of an interval from the AMR profile status byte of its row."""
    status = 0
    for bit, flag in AMR_STATUS.items():
        if amr_status & bit:
            status |= flag
    return status


def scaler_unit(value: Any, name: str) -> int:
    """The scaler of a Wh register from its scaler_unit structure; UnexpectedAnswer for another unit."""
    if not (isinstance(value, list) and len(value) == 2 and all(isinstance(part, int) for part in value)):
        raise UnexpectedAnswer(f"the scaler_unit of {name} is {value!r}, not {{scaler, unit}}")
    scaler, unit = value
    if unit != WH:
        raise UnexpectedAnswer(f"{name} counts in unit {unit}, not Wh ({WH})")
    return scaler


def profile_columns(capture_objects: Any) -> dict[str, int]:
    """Where the clock, the A+ of the interval and the status (if any) are in a profile row."""
    if not isinstance(capture_objects, list):
        raise UnexpectedAnswer(f"the capture objects are {capture_objects!r}, not a list")
    found: dict[str, int] = {}
    for index, item in enumerate(capture_objects):
        try:
            class_id, logical_name, attribute, _data_index = item
            name = cosem.Obis.from_bytes(logical_name).to_string(".")
        except (TypeError, ValueError) as exc:
            raise UnexpectedAnswer(f"capture object {item!r} is not {{class, logical name, attribute, index}}") from exc
        if class_id == CLOCK_CLASS and attribute == 2:
            found.setdefault("clock", index)
        elif class_id in (REGISTER, EXTENDED_REGISTER) and name == A_PLUS_INTERVAL and attribute == 2:
            found.setdefault("energy", index)
        elif class_id == DATA and name.startswith("0.0.96.10.") and attribute == 2:
            found.setdefault("status", index)
    if "clock" not in found or "energy" not in found:
        raise UnexpectedAnswer(f"the load profile has no clock or no A+ column ({A_PLUS_INTERVAL}): "
                               f"{capture_objects!r}")
    return found


def build_series(serial: str, rows: Any, columns: dict[str, int], start: datetime, end: datetime, minutes: int,
                 scaler: int, tz: ZoneInfo) -> Series:
    """The A+ series of [start, end) from profile rows: None where the meter has no row for an interval.

    A row stamps the end of its interval. A row stamped off the grid (captured at a power-up or a clock
    set) belongs to the interval it falls in, and adds to that interval's energy. A row with no clock
    (a compressed profile) comes one capture period after the one before it.
    """
    step = timedelta(minutes=minutes)
    count = (end - start) // step
    values: list[int | None] = [None] * count
    statuses = [0] * count
    if not isinstance(rows, list):
        raise UnexpectedAnswer(f"the profile buffer is {rows!r}, not a list of rows")
    stamp = None
    for row in rows:
        if not isinstance(row, list) or len(row) <= max(columns.values()):
            raise UnexpectedAnswer(f"the profile row {row!r} does not match its capture objects")
        clock = row[columns["clock"]]
        if clock is not None:
            stamp = cosem_datetime(clock, tz)
        elif stamp is not None:
            stamp += step
        else:
            raise UnexpectedAnswer("the first profile row carries no clock")
        index = -((start - stamp) // step) - 1  # ceil((stamp - start) / step) - 1
        if not 0 <= index < count:
            continue  # meters may add the rows on the range's edges
        energy = row[columns["energy"]]
        if energy is not None:
            if not isinstance(energy, int):
                raise UnexpectedAnswer(f"the A+ of the interval is {energy!r}, not a number")
            values[index] = (values[index] or 0) + int(Decimal(energy).scaleb(scaler).to_integral_value())
        status = row[columns["status"]] if "status" in columns else None
        if isinstance(status, int):
            statuses[index] |= interval_status(status)
    return Series(meter=serial, channel="A+", start=start, minutes=minutes, values=values,
                  statuses=statuses if any(statuses) else None)


def floor_to(moment: datetime, minutes: int) -> datetime:
    """`moment` (aware) down to the start of its interval, in UTC."""
    moment = moment.astimezone(timezone.utc)
    return moment - timedelta(minutes=moment.minute % minutes, seconds=moment.second,
                              microseconds=moment.microsecond)


def ceil_to(moment: datetime, minutes: int) -> datetime:
    floor = floor_to(moment, minutes)
    return floor if floor == moment else floor + timedelta(minutes=minutes)


class DlmsClient:
    """Reads one DLMS/COSEM meter behind a TCP converter (or on its own modem, address 0).

    `address` is the meter's physical address (0..16383). With a `password` the client associates as
    the reading client (SAP 32) with low-level security; without one as the public client (SAP 16),
    which meters let read little more than the serial number and the clock. `timeout` bounds each
    answer; a request met with silence is sent again up to `retries` times. `meter_tz` is the zone of
    the meter's clock, used when it does not say its deviation.

    `with` keeps one association for several reads and releases it at the end; `read()` and
    `read_profile()` outside a `with` open and release their own.
    """

    def __init__(self, host: str, port: int, address: int, password: str | None = None,
                 client_sap: int | None = None, timeout: float = 3.0, retries: int = 2,
                 meter_tz: ZoneInfo = MOSCOW, logical_device: int = MANAGEMENT_LOGICAL_DEVICE):
        if not 0 <= int(address) < 2 ** 14:
            raise ValueError(f"a DLMS physical address is 0..16383, not {address!r}")
        if password and not (password.isascii() and len(password) <= 64):
            raise ValueError("an LLS password is up to 64 ASCII characters")
        self.host, self.port, self.address = host, port, int(address)
        self.password = password.encode("ascii") if password else None
        self.client_sap = client_sap if client_sap is not None else (READING_CLIENT if password else PUBLIC_CLIENT)
        self.server_sap = server_sap(self.address, logical_device)
        self.timeout, self.retries, self.meter_tz = timeout, retries, meter_tz
        self._link: Link | None = None
        self._associated = False
        self._broken = False  # the link failed: releasing the association would only wait for nothing
        self._invoke_id = 0

    # ---- the association ---------------------------------------------------------------------------

    def open(self) -> Self:
        """Connect and associate (nothing to do when already open)."""
        if self._link is not None:
            return self
        self._link = Link(self.host, self.port, self.timeout)
        self._associated = self._broken = False
        try:
            self._associate()
        except BaseException:
            self._link.close()
            self._link = None
            raise
        return self

    def close(self) -> None:
        """Release the association (RLRQ) and close the connection."""
        if self._link is None:
            return
        try:
            if self._associated and not self._broken:
                self._exchange(acse.ReleaseRequest(reason=enums.ReleaseRequestReason.NORMAL).to_bytes(), attempts=1)
        except MeterError:
            pass  # the meter drops the association with the connection anyway
        finally:
            self._link.close()
            self._link = None
            self._associated = False

    def __enter__(self) -> Self:
        return self.open()

    def __exit__(self, *exc_info) -> None:
        self.close()

    @contextmanager
    def _session(self) -> Iterator[None]:
        if self._link is not None:
            yield
            return
        self.open()
        try:
            yield
        finally:
            self.close()

    def _associate(self) -> None:
        initiate = xdlms.InitiateRequest(proposed_conformance=CONFORMANCE, client_max_receive_pdu_size=MAX_PDU)
        aarq = acse.ApplicationAssociationRequest(
            user_information=acse.UserInformation(content=initiate),
            authentication=enums.AuthenticationMechanism.LLS if self.password else None,
            authentication_value=self.password)
        answer = self._exchange(aarq.to_bytes())
        try:
            aare = acse.ApplicationAssociationResponse.from_bytes(answer)
        except Exception as exc:  # noqa: BLE001 - the library's parser fails in many ways on bad bytes
            raise UnexpectedAnswer(f"expected an AARE, got {answer[:32].hex()}: {exc!r}") from exc
        if aare.result != enums.AssociationResult.ACCEPTED:
            diagnostic = aare.result_source_diagnostics
            if diagnostic in REFUSED_AUTHENTICATION:
                raise AccessDenied(f"the meter {self.address} at {self._link.peer} refused client {self.client_sap}: "
                                   f"{diagnostic.name.lower()}")
            raise UnexpectedAnswer(f"the meter {self.address} refused the association: {aare.result.name.lower()}, "
                                   f"{getattr(diagnostic, 'name', diagnostic)}")
        content = aare.user_information.content if aare.user_information else None
        if not isinstance(content, xdlms.InitiateResponse):
            raise UnexpectedAnswer(f"the AARE carries {content!r}, not an InitiateResponse")
        self._associated = True

    # ---- reading -----------------------------------------------------------------------------------

    def read(self) -> MeterReading:
        """Serial number, A+ counters (total, T1..T4) and clock over one association."""
        with self._session():
            serial = self.serial()
            energy = {}
            for zone, name in ENERGY.items():
                try:
                    energy[zone] = self.energy_kwh(name)
                except ObjectMissing:
                    if zone == "total":
                        raise
            read_at = datetime.now(timezone.utc)
            clock = self.clock()
        return MeterReading(serial=serial, energy_kwh=energy, read_at=read_at, meter_clock=clock)

    def serial(self) -> str:
        value = self.get(DATA, SERIAL, 2)
        if isinstance(value, bytes):
            text = value.rstrip(b"\x00 ")
            return text.decode("ascii") if text.isascii() and text.decode("ascii").isprintable() else value.hex()
        if isinstance(value, (str, int)) and not isinstance(value, bool):
            return str(value)
        raise UnexpectedAnswer(f"the serial number is {value!r}")

    def clock(self) -> datetime:
        return cosem_datetime(self.get(CLOCK_CLASS, CLOCK, 2), self.meter_tz)

    def energy_kwh(self, name: str, interface: int = REGISTER) -> Decimal:
        """A Wh register in kWh, to the register's own resolution (10 Wh with scaler 1: 0.01 kWh)."""
        value = self.get(interface, name, 2)
        scaler = scaler_unit(self.get(interface, name, 3), name)
        if not isinstance(value, int) or isinstance(value, bool):
            raise UnexpectedAnswer(f"{name} holds {value!r}, not a number")
        return Decimal(value).scaleb(scaler - 3)

    def read_profile(self, since: datetime, until: datetime) -> Series:
        """A+ per interval in Wh for the intervals within [since, until) that have ended by the meter's clock.

        The series starts at `since` (rounded up to the capture period); intervals the meter has no row
        for are None.
        """
        if since.tzinfo is None or until.tzinfo is None:
            raise ValueError("since and until must carry their time zone")
        with self._session():
            serial = self.serial()
            capture_objects = self.get(PROFILE_GENERIC, LOAD_PROFILE, 3)
            columns = profile_columns(capture_objects)
            minutes = self._capture_minutes()
            energy_class = capture_objects[columns["energy"]][0]
            scaler = scaler_unit(self.get(energy_class, A_PLUS_INTERVAL, 3), A_PLUS_INTERVAL)
            start = ceil_to(since, minutes)
            end = min(floor_to(until, minutes), floor_to(self.clock(), minutes))
            if end <= start:
                return Series(meter=serial, channel="A+", start=start, minutes=minutes, values=[])
            clock_column = capture_objects[columns["clock"]]
            restricting = CaptureObject(cosem.CosemAttribute(enums.CosemInterface(clock_column[0]),
                                                             cosem.Obis.from_bytes(clock_column[1]), clock_column[2]),
                                        clock_column[3])
            # Rows are stamped with the end of their interval: the first wanted row closes `start`'s.
            selection = RangeDescriptor(restricting_object=restricting,
                                        from_value=(start + timedelta(minutes=minutes)).astimezone(self.meter_tz),
                                        to_value=end.astimezone(self.meter_tz))
            rows = self.get(PROFILE_GENERIC, LOAD_PROFILE, 2, selection)
        return build_series(serial, rows, columns, start, end, minutes, scaler, self.meter_tz)

    def _capture_minutes(self) -> int:
        seconds = self.get(PROFILE_GENERIC, LOAD_PROFILE, 4)
        if not isinstance(seconds, int) or seconds % 60 or seconds // 60 not in INTERVAL_MINUTES:
            raise UnexpectedAnswer(f"a capture period of {seconds!r} s: expected 15, 30 or 60 minutes")
        return seconds // 60

    # ---- GET ---------------------------------------------------------------------------------------

    def get(self, interface: int, logical_name: str, attribute: int,
            selection: RangeDescriptor | None = None) -> Any:
        """One attribute as Python values, asking for the next block until the last one came."""
        with self._session():
            self._invoke_id = (self._invoke_id + 1) % 16
            invoke = xdlms.InvokeIdAndPriority(invoke_id=self._invoke_id)
            target = cosem.CosemAttribute(enums.CosemInterface(interface), cosem.Obis.from_string(logical_name),
                                          attribute)
            request = xdlms.GetRequestNormal(target, invoke_id_and_priority=invoke, access_selection=selection)
            answer = self._get_response(request.to_bytes())
            data, block = bytearray(), 0
            while isinstance(answer, (xdlms.GetResponseWithBlock, xdlms.GetResponseLastBlock)):
                block += 1
                if answer.block_number != block:
                    raise UnexpectedAnswer(f"expected block {block} of {logical_name}/{attribute}, "
                                           f"got {answer.block_number}")
                data += answer.data
                if isinstance(answer, xdlms.GetResponseLastBlock):
                    return decode_data(bytes(data))
                answer = self._get_response(xdlms.GetRequestNext(block, invoke).to_bytes())
            if isinstance(answer, xdlms.GetResponseNormal):
                return decode_data(answer.data)
            if isinstance(answer, (xdlms.GetResponseNormalWithError, xdlms.GetResponseLastBlockWithError)):
                raise self._refusal(logical_name, attribute, answer.error)
            raise UnexpectedAnswer(f"expected the value of {logical_name}/{attribute}, got {answer!r}")

    def _get_response(self, request: bytes):
        answer = self._exchange(request, invoke_id=self._invoke_id)
        if answer[0] == EXCEPTION_RESPONSE:
            raise UnexpectedAnswer(f"the meter {self.address} answered with an exception: {answer.hex()}")
        try:
            return xdlms.GetResponseFactory.from_bytes(answer)
        except Exception as exc:  # noqa: BLE001 - the library's parser fails in many ways on bad bytes
            raise UnexpectedAnswer(f"expected a GET response, got {answer[:32].hex()}: {exc!r}") from exc

    def _refusal(self, name: str, attribute: int, error: enums.DataAccessResult) -> MeterError:
        if error in DENIED:
            return AccessDenied(f"the meter {self.address} does not let client {self.client_sap} read "
                                f"{name}/{attribute} ({error.name.lower()})")
        if error in MISSING:
            return ObjectMissing(f"the meter {self.address} has no {name}/{attribute} ({error.name.lower()})")
        return UnexpectedAnswer(f"the meter {self.address} could not read {name}/{attribute} ({error.name.lower()})")

    # ---- frames ------------------------------------------------------------------------------------

    def _exchange(self, apdu: bytes, invoke_id: int | None = None, attempts: int | None = None) -> bytes:
        """Send `apdu` in a wrapper frame, sending it again on silence; return the answering APDU."""
        frame = wrap(self.client_sap, self.server_sap, apdu)
        try:
            for _attempt in range(attempts or self.retries + 1):
                self._link.send(frame)
                try:
                    return self._receive(invoke_id)
                except MeterSilent:
                    continue
            raise MeterSilent(f"the meter {self.address} at {self._link.peer} did not answer "
                              f"({attempts or self.retries + 1} tries, {self.timeout} s each)")
        except MeterError:
            self._broken = True
            raise

    def _receive(self, invoke_id: int | None) -> bytes:
        deadline = time.monotonic() + self.timeout
        while True:
            self._link.received = 0
            raw = self._link.read(8, deadline)
            header = WrapperHeader.from_bytes(raw)
            if header.version != WRAPPER_VERSION or not header.length:
                raise UnexpectedAnswer(f"{raw.hex()} is not a DLMS wrapper header")
            if (header.source_wport, header.destination_wport) != (self.server_sap, self.client_sap):
                raise UnexpectedAnswer(f"expected a frame from wPort {self.server_sap} to {self.client_sap}, got one "
                                       f"from {header.source_wport} to {header.destination_wport}")
            apdu = self._link.read(header.length, deadline)
            if not self._late(apdu, invoke_id):
                return apdu

    @staticmethod
    def _late(apdu: bytes, invoke_id: int | None) -> bool:
        """An answer to an earlier request that was sent again: the meter answered both copies."""
        if invoke_id is None:
            return False
        if apdu[0] == AARE:
            return True
        return apdu[0] == GET_RESPONSE and len(apdu) > 2 and apdu[2] & 0x0F != invoke_id


__all__ = ["DlmsClient", "ObjectMissing", "build_series", "cosem_datetime", "decode_data", "interval_status",
           "server_sap"]
