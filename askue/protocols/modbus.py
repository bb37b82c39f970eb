"""Modbus TCP meters and gateways.

Two ways to poll:

- :class:`ModbusMeterClient` reads one meter with pymodbus's ``ModbusTcpClient`` (the connection is
  kept open between ``read()`` calls until ``close()``);
- :func:`read_many` polls many meters, grouped by gateway: one TCP connection per gateway, requests
  pipelined on it (many transactions in flight, answers matched by transaction id). pymodbus's client
  runs one transaction at a time and drops the connection after a few unanswered requests, which
  does not suit a gateway with thousands of meters and some of them silent, so the batch path speaks
  Modbus TCP (MBAP framing, functions 0x03/0x04) itself.

Both read the registers named by a :class:`~askue.protocols.register_maps.RegisterMap` in as few
requests as the map allows and raise/return the same errors:

- :class:`MeterSilent` — no answer within ``timeout`` after ``retries`` repeats, or the gateway
  answered exception 0x0A/0x0B (path unavailable / target device failed to respond);
- :class:`UnexpectedAnswer` — any other Modbus exception response, a short or malformed answer;
- :class:`MeterError` — the gateway cannot be reached or the connection broke.
"""

from __future__ import annotations

import asyncio
import inspect
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from pymodbus.client import ModbusTcpClient
from pymodbus.exceptions import ConnectionException, ModbusException, ModbusIOException

from askue.protocols import MeterError, MeterReading, MeterSilent, UnexpectedAnswer
from askue.protocols.register_maps import RegisterMap, load_register_map

GATEWAY_SILENT_CODES = {0x0A, 0x0B}

# pymodbus 3.10 renamed the unit keyword from ``slave`` to ``device_id``.
_UNIT_KEYWORD = (
    "device_id"
    if "device_id" in inspect.signature(ModbusTcpClient.read_holding_registers).parameters
    else "slave"
)

_map_cache: dict[str, RegisterMap] = {}


def resolve_map(register_map: RegisterMap | str | Path) -> RegisterMap:
    """A RegisterMap as is, or a bundled map name / file path loaded once."""
    if isinstance(register_map, RegisterMap):
        return register_map
    key = str(register_map)
    if key not in _map_cache:
        _map_cache[key] = load_register_map(register_map)
    return _map_cache[key]


def _build_reading(rmap: RegisterMap, unit: int, answers: list[list[int]]) -> MeterReading:
    try:
        serial, energy, clock = rmap.decode(answers)
    except ValueError as exc:
        raise UnexpectedAnswer(f"unit {unit}: cannot decode with map {rmap.name}: {exc}") from exc
    return MeterReading(
        serial=serial or str(unit),
        energy_kwh=energy,
        read_at=datetime.now(timezone.utc),
        meter_clock=clock,
    )


def _exception_error(unit: int, code: int) -> MeterError:
    if code in GATEWAY_SILENT_CODES:
        return MeterSilent(f"unit {unit}: gateway reports no answer from the device (exception {code:#04x})")
    return UnexpectedAnswer(f"unit {unit}: Modbus exception {code:#04x}")


def _check_unit(unit: int) -> None:
    if not isinstance(unit, int) or not 0 <= unit <= 255:
        raise ValueError(f"a Modbus unit id is 0..255, got {unit!r}")


class ModbusMeterClient:
    """One meter behind a Modbus TCP gateway (or a meter with its own Modbus TCP port)."""

    def __init__(
        self,
        host: str,
        port: int,
        unit: int,
        register_map: RegisterMap | str | Path,
        timeout: float = 3.0,
        retries: int = 2,
    ):
        _check_unit(unit)
        self.host, self.port, self.unit = host, port, unit
        self.register_map = resolve_map(register_map)
        self.timeout, self.retries = timeout, retries
        self._client: ModbusTcpClient | None = None

    def _connected(self) -> ModbusTcpClient:
        if self._client is None:
            self._client = ModbusTcpClient(
                self.host, port=self.port, timeout=self.timeout, retries=self.retries
            )
        if not self._client.connected and not self._client.connect():
            raise MeterError(f"cannot connect to {self.host}:{self.port}")
        return self._client

    def _read_block(self, client: ModbusTcpClient, address: int, count: int) -> list[int]:
        reader = (
            client.read_holding_registers
            if self.register_map.function == "holding"
            else client.read_input_registers
        )
        try:
            answer = reader(address, count=count, **{_UNIT_KEYWORD: self.unit})
        except ConnectionException as exc:
            self.close()
            raise MeterError(f"{self.host}:{self.port}: {exc}") from exc
        except ModbusIOException as exc:
            raise MeterSilent(
                f"unit {self.unit} at {self.host}:{self.port}: no answer "
                f"within {self.timeout}s x {self.retries + 1}"
            ) from exc
        except ModbusException as exc:
            raise UnexpectedAnswer(f"unit {self.unit}: {exc}") from exc
        if answer.isError():
            raise _exception_error(self.unit, getattr(answer, "exception_code", 0))
        registers = list(getattr(answer, "registers", None) or [])
        if len(registers) != count:
            raise UnexpectedAnswer(
                f"unit {self.unit}: asked for {count} registers at {address}, got {len(registers)}"
            )
        return registers

    def read(self) -> MeterReading:
        client = self._connected()
        answers = [self._read_block(client, b.address, b.count) for b in self.register_map.blocks()]
        return _build_reading(self.register_map, self.unit, answers)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def __enter__(self) -> "ModbusMeterClient":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


# -- batch polling ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ModbusTarget:
    host: str
    port: int
    unit: int
    register_map: RegisterMap | str | Path


class _PipelinedConnection(asyncio.Protocol):
    """One TCP connection to a gateway with many Modbus TCP transactions in flight."""

    def __init__(self, peer: str):
        self.peer = peer
        self.loop = asyncio.get_running_loop()
        self.transport: asyncio.Transport | None = None
        self.pending: dict[int, asyncio.Future] = {}
        self.buffer = bytearray()
        self.next_tid = 0
        self.lost: Exception | None = None

    # asyncio.Protocol
    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        buf = self.buffer
        buf += data
        while len(buf) >= 7:
            tid, _proto, length = struct.unpack_from(">HHH", buf)
            if len(buf) < 6 + length:
                break
            frame = bytes(buf[6 : 6 + length])
            del buf[: 6 + length]
            future = self.pending.pop(tid, None)
            if future is not None and not future.done():
                future.set_result(frame)

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = MeterError(f"the connection to {self.peer} closed" + (f": {exc}" if exc else ""))
        for future in self.pending.values():
            if not future.done():
                future.set_exception(self.lost)
        self.pending.clear()

    # requests
    def _tid(self) -> int:
        for _ in range(65536):
            self.next_tid = (self.next_tid + 1) & 0xFFFF
            if self.next_tid not in self.pending:
                return self.next_tid
        raise MeterError(f"{self.peer}: 65536 transactions in flight")

    def _expire(self, tid: int) -> None:
        future = self.pending.pop(tid, None)
        if future is not None and not future.done():
            future.set_exception(TimeoutError())

    async def read_registers(
        self, unit: int, function: int, address: int, count: int, timeout: float, retries: int
    ) -> list[int]:
        for _attempt in range(retries + 1):
            if self.lost is not None:
                raise self.lost
            tid = self._tid()
            future = self.loop.create_future()
            self.pending[tid] = future
            self.transport.write(struct.pack(">HHHBBHH", tid, 0, 6, unit, function, address, count))
            timer = self.loop.call_later(timeout, self._expire, tid)
            try:
                frame = await future
            except TimeoutError:
                continue
            finally:
                timer.cancel()
            return self._parse(frame, unit, function, address, count)
        raise MeterSilent(f"unit {unit} at {self.peer}: no answer within {timeout}s x {retries + 1}")

    @staticmethod
    def _parse(frame: bytes, unit: int, function: int, address: int, count: int) -> list[int]:
        if len(frame) < 3 or frame[0] != unit:
            raise UnexpectedAnswer(f"unit {unit}: malformed answer {frame.hex()}")
        if frame[1] == function | 0x80:
            raise _exception_error(unit, frame[2])
        if frame[1] != function:
            raise UnexpectedAnswer(f"unit {unit}: answer to function {frame[1]:#04x}, asked {function:#04x}")
        if frame[2] != 2 * count or len(frame) != 3 + 2 * count:
            raise UnexpectedAnswer(
                f"unit {unit}: asked for {count} registers at {address}, got {(len(frame) - 3) // 2}"
            )
        return list(struct.unpack_from(f">{count}H", frame, 3))

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


async def _read_one(conn: _PipelinedConnection, unit: int, rmap: RegisterMap, timeout: float, retries: int):
    try:
        answers = await asyncio.gather(
            *(
                conn.read_registers(unit, rmap.function_code, b.address, b.count, timeout, retries)
                for b in rmap.blocks()
            ),
            return_exceptions=True,
        )
        for answer in answers:
            if isinstance(answer, BaseException):
                raise answer
        return _build_reading(rmap, unit, list(answers))
    except MeterError as exc:
        return exc


async def _poll_gateway(host: str, port: int, jobs: list[tuple[int, int, RegisterMap]], results: list,
                        concurrency: int, timeout: float, retries: int) -> None:
    peer = f"{host}:{port}"
    loop = asyncio.get_running_loop()
    try:
        _transport, conn = await asyncio.wait_for(
            loop.create_connection(lambda: _PipelinedConnection(peer), host, port), timeout
        )
    except (OSError, asyncio.TimeoutError) as exc:
        error = MeterError(f"cannot connect to {peer}: {exc or 'timed out'}")
        for index, _unit, _rmap in jobs:
            results[index] = error
        return
    semaphore = asyncio.Semaphore(concurrency)

    async def job(index: int, unit: int, rmap: RegisterMap) -> None:
        async with semaphore:
            results[index] = await _read_one(conn, unit, rmap, timeout, retries)

    try:
        await asyncio.gather(*(job(*j) for j in jobs))
    finally:
        conn.close()


async def aread_many(
    targets: Iterable[ModbusTarget | tuple],
    concurrency: int = 64,
    timeout: float = 3.0,
    retries: int = 2,
) -> list[MeterReading | MeterError]:
    """Async form of :func:`read_many`."""
    targets = [t if isinstance(t, ModbusTarget) else ModbusTarget(*t) for t in targets]
    for target in targets:
        _check_unit(target.unit)
    results: list[MeterReading | MeterError | None] = [None] * len(targets)
    gateways: dict[tuple[str, int], list[tuple[int, int, RegisterMap]]] = {}
    for index, target in enumerate(targets):
        gateways.setdefault((target.host, target.port), []).append(
            (index, target.unit, resolve_map(target.register_map))
        )
    await asyncio.gather(
        *(
            _poll_gateway(host, port, jobs, results, concurrency, timeout, retries)
            for (host, port), jobs in gateways.items()
        )
    )
    return results  # type: ignore[return-value]


def read_many(
    targets: Iterable[ModbusTarget | tuple],
    concurrency: int = 64,
    timeout: float = 3.0,
    retries: int = 2,
) -> list[MeterReading | MeterError]:
    """Poll many meters; one result per target, in order: a MeterReading or the MeterError.

    ``targets`` are :class:`ModbusTarget` or ``(host, port, unit, register_map)`` tuples. Meters
    behind the same ``(host, port)`` share one connection; at most ``concurrency`` meters per
    gateway are in flight at once (their register blocks are all requested together). A silent
    meter costs ``timeout * (retries + 1)`` of its own slot, not of the whole batch.
    """
    return asyncio.run(aread_many(targets, concurrency=concurrency, timeout=timeout, retries=retries))
