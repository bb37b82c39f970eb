"""DLMS/COSEM meters (MATRIX, СПОДЭС) behind one TCP port, speaking the IEC 62056-47 wrapper.

`DlmsSimulator` serves `VirtualMeter`s by physical address (the wPort the client sends to is the
logical device 1 and the physical address, see `askue.protocols.dlms`). Each meter answers:
- AARQ from the reading client (SAP 32) with the LLS password, or from the public client (SAP 16) with
  none; a wrong or missing password gets an AARE rejected with "authentication failed/required";
- GET of the serial number 0.0.96.1.0.255, the clock 0.0.1.0.0.255, the A+ registers 1.0.1.8.0..4.255
  (in units of 10 Wh, scaler 1: the 0.01 kWh of `VirtualMeter.counters_at`), the A+ of the last interval
  1.0.1.29.0.255 (Wh, scaler 0) and the 30-minute load profile 1.0.99.1.0.255 (clock, AMR status, A+),
  whose buffer is read whole (the last `profile_days`) or by a range of the clock column. The public
  client may read the serial number and the clock only;
- answers longer than `max_pdu_size` in blocks (GET-next), RLRQ with RLRE.

A profile interval's energy is the difference of a Wh counter that restarts at each local midnight, so
the intervals of a day add up to that day's growth of `counters_at` within its 10 Wh resolution, and an
interval's value does not depend on the range asked for.

Test controls: `silent` and `garbage` (sets of addresses: never answer / answer random bytes as long as
the answer), `outages` ({address: [(from, to), ...]}: intervals wholly inside have no profile row, the
ones overlapping carry the power-down status; the virtual consumption and the counters do not stop),
`drop_after(n)`; `clock` gives the moment the meters are read at (default: now). An address with no
meter is silent, as on a real line.

    python -m askue.simulators.dlms --port 8804 --meters 20
"""
import argparse
import math
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from functools import lru_cache

from dlms_cosem import dlms_data, time as cosem_time
from dlms_cosem import enumerations as enums
from dlms_cosem.cosem import Obis
from dlms_cosem.cosem.selective_access import RangeDescriptor
from dlms_cosem.protocol import acse, xdlms
from dlms_cosem.protocol.wrappers import WrapperHeader

from askue.protocols import dlms
from askue.simulators.meters import EPOCH, MOSCOW, VirtualMeter, _MeterSimulator
from askue.simulators.tcp import TcpHandler, run_until_stopped

CAPTURE_MINUTES = 30
POWER_DOWN = 0x80  # the AMR profile status bit
SERVER_CONFORMANCE = xdlms.Conformance(get=True, selective_access=True, block_transfer_with_get_or_read=True)
# Every object a meter has: logical name -> interface class.
OBJECTS = {dlms.SERIAL: dlms.DATA, dlms.CLOCK: dlms.CLOCK_CLASS, dlms.LOAD_PROFILE: dlms.PROFILE_GENERIC,
           dlms.A_PLUS_INTERVAL: dlms.REGISTER, **{name: dlms.REGISTER for name in dlms.ENERGY.values()}}
PUBLIC_OBJECTS = {dlms.SERIAL, dlms.CLOCK}
PROFILE_STATUS = "0.0.96.10.1.255"
CAPTURE_OBJECTS = ((dlms.CLOCK_CLASS, dlms.CLOCK), (dlms.DATA, PROFILE_STATUS), (dlms.REGISTER, dlms.A_PLUS_INTERVAL))


def demo_serial(address: int) -> str:
    return f"{80_000_000 + address}"


@lru_cache(maxsize=1024)
def _hourly_wh(meter: VirtualMeter, day: date) -> tuple[float, ...]:
    """Wh consumed in each local hour of `day` (the power is constant within an hour)."""
    midnight = datetime.combine(day, datetime.min.time(), MOSCOW)
    return tuple(meter.power_kw(midnight + timedelta(hours=hour)) * 1000 for hour in range(24))


def interval_wh(meter: VirtualMeter, end: datetime, minutes: int = CAPTURE_MINUTES) -> int:
    """A+ in Wh of the interval ending at `end`: the difference of a Wh counter restarting at local midnight."""
    start = end.astimezone(MOSCOW) - timedelta(minutes=minutes)
    hours = _hourly_wh(meter, start.date())

    def counter(minute_of_day: int) -> int:
        hour, minute = divmod(minute_of_day, 60)
        return math.floor(sum(hours[:hour]) + (hours[hour] * minute / 60 if minute else 0))

    first = start.hour * 60 + start.minute
    return counter(first + minutes) - counter(first)


class _DlmsHandler(TcpHandler):
    def handle(self) -> None:
        self.association: tuple[int, int, bool, int] | None = None  # client SAP, address, reading, max PDU
        self.blocks: list[bytes] = []  # the rest of a long answer, for GET-next
        self.block_number = 0
        buffer = b""
        while True:
            if len(buffer) >= 8:
                header = WrapperHeader.from_bytes(buffer[:8])
                if header.version != dlms.WRAPPER_VERSION:
                    return  # not wrapper frames: there is no telling where the next one starts
                if len(buffer) >= 8 + header.length:
                    apdu, buffer = buffer[8:8 + header.length], buffer[8 + header.length:]
                    answer = self.simulator.answer(self, header, apdu)
                    if answer is not None and not self.send(answer):
                        return
                    continue
            chunk = self.recv()
            if not chunk:
                return
            buffer += chunk


class DlmsSimulator(_MeterSimulator):
    """DLMS/COSEM meters behind one converter; `meters` maps physical addresses to meters, or is a count
    (addresses 1..count, serials 80000001...)."""

    handler = _DlmsHandler
    name = "dlms"
    max_pdu_size = 512  # the longest APDU a meter sends; longer answers go in blocks
    profile_days = 120  # how far back the load profile goes

    def __init__(self, host: str = "127.0.0.1", port: int = 0, meters: Mapping[int, VirtualMeter] | int = 1,
                 password: str = "12345678", clock: Callable[[], datetime] | None = None):
        super().__init__(host, port, clock)
        if isinstance(meters, int):
            meters = {address: VirtualMeter(demo_serial(address)) for address in range(1, meters + 1)}
        self.meters = {int(address): meter for address, meter in meters.items()}
        self.password = password.encode("ascii")
        self.outages: dict[int, list[tuple[datetime, datetime]]] = {}

    def address_of(self, wport: int) -> int | None:
        """The physical address a wPort names, or None when no meter here answers to it."""
        logical, address = wport >> 14, wport & 0x3FFF
        if wport == dlms.MANAGEMENT_LOGICAL_DEVICE and len(self.meters) == 1:
            return next(iter(self.meters))  # a meter alone on its modem
        if logical != dlms.MANAGEMENT_LOGICAL_DEVICE or address not in self.meters:
            return None
        return address

    def answer(self, connection: _DlmsHandler, header: WrapperHeader, apdu: bytes) -> bytes | None:
        """The wrapper frame answering one from the client, or None where the meter stays silent."""
        address = self.address_of(header.destination_wport)
        if address is None or address in self.silent or not apdu:
            return None
        reply = self.reply(connection, header.source_wport, address, apdu)
        if reply is None:
            return None
        frame = dlms.wrap(header.destination_wport, header.source_wport, reply)
        return self.random_bytes(address, len(frame)) if address in self.garbage else frame

    def reply(self, connection: _DlmsHandler, client: int, address: int, apdu: bytes) -> bytes | None:
        if apdu[0] == acse.ApplicationAssociationRequest.TAG:
            return self._associate(connection, client, address, apdu)
        if apdu[0] == acse.ReleaseRequest.TAG:
            connection.association = None
            return acse.ReleaseResponse(reason=enums.ReleaseResponseReason.NORMAL).to_bytes()
        if apdu[0] == xdlms.GetRequestNormal.TAG:
            association = connection.association
            if association is None or association[:2] != (client, address):
                return _exception(enums.StateException.SERVICE_NOT_ALLOWED,
                                  enums.ServiceException.OPERATION_NOT_POSSIBLE)
            return self._get(connection, address, apdu)
        return _exception(enums.StateException.SERVICE_UNKNOWN, enums.ServiceException.SERVICE_NOT_SUPPORTED)

    # ---- association -------------------------------------------------------------------------------

    def _associate(self, connection: _DlmsHandler, client: int, address: int, apdu: bytes) -> bytes:
        try:
            aarq = acse.ApplicationAssociationRequest.from_bytes(apdu)
        except Exception:  # noqa: BLE001 - any AARQ the library cannot read is refused the same way
            return _rejected(enums.AcseServiceUserDiagnostics.NO_REASON_GIVEN)
        lls = aarq.authentication == enums.AuthenticationMechanism.LLS
        if client == dlms.READING_CLIENT:
            if aarq.authentication not in (None, enums.AuthenticationMechanism.NONE, enums.AuthenticationMechanism.LLS):
                return _rejected(enums.AcseServiceUserDiagnostics.AUTHENTICATION_MECHANISM_NAME_NOT_RECOGNIZED)
            if not lls:
                return _rejected(enums.AcseServiceUserDiagnostics.AUTHENTICATION_REQUIRED)
            if bytes(aarq.authentication_value or b"") != self.password:
                return _rejected(enums.AcseServiceUserDiagnostics.AUTHENTICATION_FAILED)
        elif client != dlms.PUBLIC_CLIENT:
            return _rejected(enums.AcseServiceUserDiagnostics.NO_REASON_GIVEN)
        proposed = aarq.user_information.content
        if not isinstance(proposed, xdlms.InitiateRequest):  # a ciphered context: these meters have none
            return _rejected(enums.AcseServiceUserDiagnostics.APPLICATION_CONTEXT_NAME_NOT_SUPPORTED)
        negotiated = xdlms.Conformance(**{
            flag: getattr(proposed.proposed_conformance, flag) and getattr(SERVER_CONFORMANCE, flag)
            for flag in xdlms.Conformance.conformance_bit_position})
        max_pdu = min(self.max_pdu_size, proposed.client_max_receive_pdu_size)
        connection.association = (client, address, client == dlms.READING_CLIENT, max_pdu)
        connection.blocks = []
        initiate = xdlms.InitiateResponse(negotiated_conformance=negotiated,
                                          server_max_receive_pdu_size=self.max_pdu_size)
        return acse.ApplicationAssociationResponse(
            result=enums.AssociationResult.ACCEPTED, result_source_diagnostics=enums.AcseServiceUserDiagnostics.NULL,
            authentication=aarq.authentication if lls else None,
            user_information=acse.UserInformation(content=initiate)).to_bytes()

    # ---- GET -----------------------------------------------------------------------------------------

    def _get(self, connection: _DlmsHandler, address: int, apdu: bytes) -> bytes:
        try:
            request = xdlms.GetRequestFactory.from_bytes(apdu)
        except Exception:  # noqa: BLE001 - an unreadable request (or an unsupported selector) is not served
            return _exception(enums.StateException.SERVICE_NOT_ALLOWED, enums.ServiceException.SERVICE_NOT_SUPPORTED)
        invoke = request.invoke_id_and_priority
        if isinstance(request, xdlms.GetRequestNext):
            if not connection.blocks or request.block_number != connection.block_number:
                return xdlms.GetResponseLastBlockWithError(enums.DataAccessResult.NO_LONG_GET_IN_PROGRESS,
                                                           request.block_number, invoke).to_bytes()
            return self._next_block(connection, invoke)
        if not isinstance(request, xdlms.GetRequestNormal):
            return _exception(enums.StateException.SERVICE_NOT_ALLOWED, enums.ServiceException.SERVICE_NOT_SUPPORTED)
        _client, _address, reading, max_pdu = connection.association
        target = request.cosem_attribute
        result = self.attribute(self.meters[address], address, target.interface, target.instance.to_string("."),
                                target.attribute, request.access_selection, reading)
        if isinstance(result, enums.DataAccessResult):
            return xdlms.GetResponseNormalWithError(result, invoke).to_bytes()
        if len(result) + 4 <= max_pdu:
            # Built here: the library's GetResponseNormal.to_bytes fails (it appends bytes to a bytearray).
            head = bytes([xdlms.GetResponseNormal.TAG, enums.GetResponseType.NORMAL]) + invoke.to_bytes()
            return head + b"\0" + result  # 0: data follows
        size = max_pdu - 12  # what a block's header takes: tag, type, invoke id, last, number, choice, length
        connection.blocks = [result[i:i + size] for i in range(0, len(result), size)]
        connection.block_number = 0
        return self._next_block(connection, invoke)

    def _next_block(self, connection: _DlmsHandler, invoke: xdlms.InvokeIdAndPriority) -> bytes:
        connection.block_number += 1
        data = connection.blocks.pop(0)
        if connection.blocks:
            return xdlms.GetResponseWithBlock(data, connection.block_number, invoke).to_bytes()
        return xdlms.GetResponseLastBlock(data, connection.block_number, invoke).to_bytes()

    def attribute(self, meter: VirtualMeter, address: int, interface: int, name: str, attribute: int,
                  selection: RangeDescriptor | None, reading: bool = True) -> bytes | enums.DataAccessResult:
        """The A-XDR encoded value of an attribute, or why it cannot be read."""
        if name not in OBJECTS:
            return enums.DataAccessResult.OBJECT_UNDEFINED
        if OBJECTS[name] != interface:
            return enums.DataAccessResult.OBJECT_CLASS_INCONSISTENT
        if not reading and name not in PUBLIC_OBJECTS:
            return enums.DataAccessResult.READ_WRITE_DENIED
        if selection is not None and (name, attribute) != (dlms.LOAD_PROFILE, 2):
            return enums.DataAccessResult.OTHER_REASON
        now = self.clock()
        if attribute == 1:
            value = dlms_data.OctetStringData(Obis.from_string(name).to_bytes())
        elif (name, attribute) == (dlms.SERIAL, 2):
            value = dlms_data.OctetStringData(meter.serial.encode("ascii"))
        elif (name, attribute) == (dlms.CLOCK, 2):
            value = dlms_data.OctetStringData(cosem_time.datetime_to_bytes(meter.clock_at(now)))
        elif name in dlms.ENERGY.values() and attribute in (2, 3):
            zone = next(zone for zone, obis in dlms.ENERGY.items() if obis == name)
            value = (dlms_data.DoubleLongUnsignedData(int(_counters(meter, now)[zone] * 100)) if attribute == 2
                     else _scaler_unit(1))
        elif name == dlms.A_PLUS_INTERVAL and attribute in (2, 3):
            value = (dlms_data.DoubleLongUnsignedData(interval_wh(meter, dlms.floor_to(now, CAPTURE_MINUTES)))
                     if attribute == 2 else _scaler_unit(0))
        elif (name, attribute) == (dlms.LOAD_PROFILE, 2):
            return self.profile_buffer(meter, address, now, selection)
        elif (name, attribute) == (dlms.LOAD_PROFILE, 3):
            value = dlms_data.DataArray([dlms_data.DataStructure([
                dlms_data.UnsignedLongData(class_id), dlms_data.OctetStringData(Obis.from_string(obis).to_bytes()),
                dlms_data.IntegerData(2), dlms_data.UnsignedLongData(0)]) for class_id, obis in CAPTURE_OBJECTS])
        elif (name, attribute) == (dlms.LOAD_PROFILE, 4):
            value = dlms_data.DoubleLongUnsignedData(CAPTURE_MINUTES * 60)
        else:
            return enums.DataAccessResult.OBJECT_UNAVAILABLE
        return value.to_bytes()

    # ---- the load profile ----------------------------------------------------------------------------

    def profile_rows(self, meter: VirtualMeter, address: int, now: datetime, since: datetime | None = None,
                     until: datetime | None = None) -> list[tuple[datetime, int, int]]:
        """(interval end, AMR status, Wh) of the rows stamped within [since, until] (both ends kept, as the
        range selector says), among the intervals that have closed by `now` and are still in the profile."""
        step = timedelta(minutes=CAPTURE_MINUTES)
        oldest = max(now - timedelta(days=self.profile_days), datetime.combine(EPOCH, datetime.min.time(), MOSCOW))
        first = dlms.floor_to(oldest, CAPTURE_MINUTES) + step  # the first interval wholly after `oldest`
        if since is not None:
            first = max(first, dlms.ceil_to(since, CAPTURE_MINUTES))
        last = dlms.floor_to(min(now, until) if until else now, CAPTURE_MINUTES)
        outages = self.outages.get(address, [])
        rows = []
        end = first
        while end <= last:
            start = end - step
            if not any(off <= start and end <= on for off, on in outages):
                status = POWER_DOWN if any(off < end and start < on for off, on in outages) else 0
                rows.append((end.astimezone(MOSCOW), status, interval_wh(meter, end)))
            end += step
        return rows

    def profile_buffer(self, meter: VirtualMeter, address: int, now: datetime,
                       selection: RangeDescriptor | None) -> bytes | enums.DataAccessResult:
        since = until = None
        if selection is not None:
            column = selection.restricting_object.cosem_attribute
            if (column.interface, column.instance.to_string("."), column.attribute) != \
                    (dlms.CLOCK_CLASS, dlms.CLOCK, 2):
                return enums.DataAccessResult.OTHER_REASON
            # A date-time without a deviation is in the meter's own zone.
            since, until = (moment if moment.tzinfo else moment.replace(tzinfo=MOSCOW)
                            for moment in (selection.from_value, selection.to_value))
        rows = self.profile_rows(meter, address, now, since, until)
        return dlms_data.DataArray([dlms_data.DataStructure([
            dlms_data.OctetStringData(cosem_time.datetime_to_bytes(end)), dlms_data.UnsignedIntegerData(status),
            dlms_data.DoubleLongUnsignedData(wh)]) for end, status, wh in rows]).to_bytes()


@lru_cache(maxsize=256)
def _counters(meter: VirtualMeter, when: datetime) -> dict:
    # counters_at sums every day since 2024: one poll asks for five registers at the same moment.
    return meter.counters_at(when)


def _scaler_unit(scaler: int) -> dlms_data.DataStructure:
    return dlms_data.DataStructure([dlms_data.IntegerData(scaler), dlms_data.EnumData(dlms.WH)])


def _rejected(diagnostic: enums.AcseServiceUserDiagnostics) -> bytes:
    return acse.ApplicationAssociationResponse(result=enums.AssociationResult.REJECTED_PERMANENT,
                                               result_source_diagnostics=diagnostic).to_bytes()


def _exception(state: enums.StateException, service: enums.ServiceException) -> bytes:
    return xdlms.ExceptionResponse(state, service).to_bytes()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="DLMS/COSEM meters (MATRIX, СПОДЭС) on TCP, IEC 62056-47 wrapper")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8804)
    parser.add_argument("--meters", type=int, default=20, help="meters behind the port, physical addresses 1..N")
    parser.add_argument("--password", default="12345678", help="the LLS password of the reading client (SAP 32)")
    args = parser.parse_args(argv)
    simulator = DlmsSimulator(args.host, args.port, args.meters, args.password)

    def greeting() -> str:
        return (f"DLMS/COSEM (wrapper): {args.host}:{simulator.port}, physical addresses 1..{args.meters} "
                f"(serials {demo_serial(1)}..{demo_serial(args.meters)}), reading client 32 password "
                f"{args.password}, public client 16\nCtrl-C to stop")

    run_until_stopped([simulator], greeting, "DLMS simulator stopped")


if __name__ == "__main__":
    main()
