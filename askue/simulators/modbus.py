"""Modbus TCP gateways with N virtual energy meters behind them.

A Modbus unit id is one byte, so meters are spread over gateways of ``units_per_gateway`` (247)
each, every gateway on its own port: meter k sits behind gateway (k-1) // 247 as unit
(k-1) % 247 + 1. With N <= 247 there is one gateway (``port``) and meter k is unit k.

Each meter's registers follow a register map (``askue/maps``); its counters grow with a
deterministic daily load profile (hourly shape, UTC hours): T1 = peak (07-10, 17-21),
T2 = night (23-07), T3 = semi-peak (the rest), T4 stays at its start value; total = T1+T2+T3+T4.

Controls (plain attributes, may be changed while running):
``silent`` — unit ids that never answer; ``exception_for`` — {unit: exception code} (or a set of
units, answered with 0x04); ``short_for`` — unit ids whose answers carry one register less than
asked; all keyed by meter number. Unit ids with no meter get exception 0x0B (gateway target device
failed to respond). ``targets(map)`` lists ``(host, port, unit, map)`` for every meter.

    with ModbusGatewaySimulator(meters=100, register_map="mercury234_modbus") as sim:
        read_many([(sim.host, sim.port, u, "mercury234_modbus") for u in range(1, 101)])

    python -m askue.simulators.modbus --port 8803 --meters 100
"""

from __future__ import annotations

import argparse
import asyncio
import struct
import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

from askue.protocols.register_maps import RegisterMap, load_register_map

ORIGIN = datetime(2024, 1, 1, tzinfo=timezone.utc)
# Relative hourly load, 24 values (UTC hour of day).
DAILY_SHAPE = (0.45, 0.4, 0.38, 0.38, 0.4, 0.5, 0.75, 1.1, 1.3, 1.2, 1.05, 1.0,
               1.0, 0.95, 0.95, 1.0, 1.15, 1.45, 1.6, 1.55, 1.35, 1.1, 0.85, 0.6)
PEAK_HOURS = {7, 8, 9, 17, 18, 19, 20}
NIGHT_HOURS = {23, 0, 1, 2, 3, 4, 5, 6}


def tariff_of_hour(hour: int) -> str:
    if hour in PEAK_HOURS:
        return "T1"
    if hour in NIGHT_HOURS:
        return "T2"
    return "T3"


class VirtualMeter:
    def __init__(self, unit: int, register_map: RegisterMap):
        self.unit = unit
        self.register_map = register_map
        self.serial = f"{30_000_000 + unit:08d}"
        self.power_kw = 0.5 + (unit % 10) * 0.3  # mean load
        self.start_kwh = {t: Decimal(1000 + 37 * unit + 11 * i) for i, t in enumerate(("T1", "T2", "T3", "T4"))}
        self.daily_kwh = {t: 0.0 for t in ("T1", "T2", "T3", "T4")}
        for hour, weight in enumerate(DAILY_SHAPE):
            self.daily_kwh[tariff_of_hour(hour)] += self.power_kw * weight
        self._cache: tuple[int, dict[int, int]] | None = None

    def energy_kwh(self, at: datetime) -> dict[str, Decimal]:
        """Exact counters (0.001 kWh) at ``at``: T1..T4 and total."""
        seconds = max(0.0, (at - ORIGIN).total_seconds())
        days, rest = divmod(seconds, 86400)
        grown = {t: self.daily_kwh[t] * days for t in self.daily_kwh}
        full_hours, part = divmod(rest, 3600)
        for hour in range(int(full_hours)):
            grown[tariff_of_hour(hour)] += self.power_kw * DAILY_SHAPE[hour]
        hour = int(full_hours)
        grown[tariff_of_hour(hour)] += self.power_kw * DAILY_SHAPE[hour] * part / 3600
        result = {
            t: (self.start_kwh[t] + Decimal(repr(grown[t]))).quantize(Decimal("0.001"), rounding="ROUND_FLOOR")
            for t in ("T1", "T2", "T3", "T4")
        }
        result["total"] = sum(result.values(), Decimal(0))
        return result

    def registers(self, at: datetime) -> dict[int, int]:
        second = int(at.timestamp())
        if self._cache is not None and self._cache[0] == second:
            return self._cache[1]
        energy = self.energy_kwh(at)
        image: dict[int, int] = {}
        for value in self.register_map.values.values():
            if value.name == "serial":
                words = value.encode_serial(self.serial)
            elif value.name == "clock":
                words = value.encode_clock(at)
            else:
                words = value.encode_kwh(energy[value.name])
            for offset, word in enumerate(words):
                image[value.address + offset] = word
        self._cache = (second, image)
        return image


class _GatewayProtocol(asyncio.Protocol):
    def __init__(self, sim: "ModbusGatewaySimulator", gateway: int):
        self.sim = sim
        self.gateway = gateway
        self.buffer = bytearray()
        self.transport = None

    def connection_made(self, transport) -> None:
        self.transport = transport
        self.sim._transports.add(transport)

    def connection_lost(self, exc) -> None:
        self.sim._transports.discard(self.transport)

    def data_received(self, data: bytes) -> None:
        buf = self.buffer
        buf += data
        out = []
        while len(buf) >= 8:
            tid, proto, length = struct.unpack_from(">HHH", buf)
            if len(buf) < 6 + length:
                break
            pdu = bytes(buf[6 : 6 + length])
            del buf[: 6 + length]
            answer = self.sim._answer(self.gateway, pdu)
            if answer is not None:
                out.append(struct.pack(">HHH", tid, proto, len(answer)) + answer)
        if out:
            self.transport.write(b"".join(out))


class ModbusGatewaySimulator:
    def __init__(
        self,
        meters: int = 10,
        register_map: RegisterMap | str | Path | Mapping[int, RegisterMap | str | Path] = "mercury234_modbus",
        host: str = "127.0.0.1",
        port: int = 0,
        silent: Iterable[int] = (),
        exception_for: Mapping[int, int] | Iterable[int] = (),
        short_for: Iterable[int] = (),
        clock: Callable[[], datetime] | None = None,
        units_per_gateway: int = 247,
    ):
        def load(m):
            return m if isinstance(m, RegisterMap) else load_register_map(m)

        if isinstance(register_map, Mapping):
            maps = {u: load(m) for u, m in register_map.items()}
            default = None
        else:
            maps, default = {}, load(register_map)
        self.meters = {u: VirtualMeter(u, maps.get(u) or default) for u in range(1, meters + 1)}
        self.host = host
        self.port = port
        self.units_per_gateway = units_per_gateway
        self.gateways = max(1, -(-meters // units_per_gateway))
        self.ports: list[int] = []
        self.silent = set(silent)
        self.exception_for = (
            dict(exception_for) if isinstance(exception_for, Mapping) else {u: 0x04 for u in exception_for}
        )
        self.short_for = set(short_for)
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self.requests = 0
        self._transports: set = set()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    # -- what the meters hold ---------------------------------------------------------------
    def energy_kwh(self, unit: int, at: datetime | None = None) -> dict[str, Decimal]:
        return self.meters[unit].energy_kwh(at or self.clock())

    def serial(self, unit: int) -> str:
        return self.meters[unit].serial

    def address_of(self, meter: int) -> tuple[str, int, int]:
        """(host, port, unit) of meter number ``meter`` (1-based); needs a started simulator."""
        gateway, index = divmod(meter - 1, self.units_per_gateway)
        return self.host, self.ports[gateway], index + 1

    def targets(self, register_map=None) -> list[tuple]:
        """``(host, port, unit, map)`` for every meter, ready for ``read_many``."""
        return [
            (*self.address_of(k), register_map or self.meters[k].register_map) for k in sorted(self.meters)
        ]

    def _answer(self, gateway: int, pdu: bytes) -> bytes | None:
        self.requests += 1
        unit, function = pdu[0], pdu[1]
        number = gateway * self.units_per_gateway + unit
        if not 1 <= unit <= self.units_per_gateway or number not in self.meters:
            return bytes((unit, function | 0x80, 0x0B))
        if number in self.silent:
            return None
        meter = self.meters[number]
        if number in self.exception_for:
            return bytes((unit, function | 0x80, self.exception_for[number]))
        if function != meter.register_map.function_code or len(pdu) != 6:
            return bytes((unit, function | 0x80, 0x01))
        address, count = struct.unpack_from(">HH", pdu, 2)
        if not 1 <= count <= 125 or address + count > 65536:
            return bytes((unit, function | 0x80, 0x02))
        image = meter.registers(self.clock())
        words = [image.get(a, 0) for a in range(address, address + count)]
        if number in self.short_for:
            words = words[:-1]
        return bytes((unit, function, 2 * len(words))) + struct.pack(f">{len(words)}H", *words)

    # -- running ------------------------------------------------------------------------------
    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        servers = []
        try:
            for gateway in range(self.gateways):
                port = self.port + gateway if self.port else 0
                server = await self._loop.create_server(
                    lambda g=gateway: _GatewayProtocol(self, g), self.host, port
                )
                servers.append(server)
                self.ports.append(server.sockets[0].getsockname()[1])
            self.port = self.ports[0]
            self._ready.set()
            await self._stop.wait()
        finally:
            for server in servers:
                server.close()
            for transport in list(self._transports):
                transport.close()
            for server in servers:
                await server.wait_closed()

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # reported to start()
            self._error = exc
            self._ready.set()

    def start(self) -> "ModbusGatewaySimulator":
        self._thread = threading.Thread(target=self._run, name="modbus-gateway-sim", daemon=True)
        self._thread.start()
        self._ready.wait(5)
        if self._error is not None:
            raise self._error
        return self

    def stop(self) -> None:
        if self._thread is None:
            return
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(5)
        self._thread = None

    def __enter__(self) -> "ModbusGatewaySimulator":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8803)
    parser.add_argument("--meters", type=int, default=100)
    parser.add_argument("--map", default="mercury234_modbus", help="bundled map name or JSON file")
    parser.add_argument("--silent", default="", help="comma-separated unit ids that never answer")
    parser.add_argument("--exception", default="", help="comma-separated unit ids answering exception 0x04")
    args = parser.parse_args(argv)

    def ids(text: str) -> list[int]:
        return [int(x) for x in text.split(",") if x.strip()]

    sim = ModbusGatewaySimulator(
        meters=args.meters, register_map=args.map, host=args.host, port=args.port,
        silent=ids(args.silent), exception_for=ids(args.exception),
    )
    sim.start()
    last = sim.ports[-1]
    print(f"{args.meters} meters (map {args.map}) behind Modbus TCP gateways on {args.host}:"
          f"{sim.port}..{last}, {sim.units_per_gateway} units each", flush=True)
    try:
        sim._thread.join()
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()


if __name__ == "__main__":
    main()
