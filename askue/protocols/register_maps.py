"""Modbus register maps kept as data.

Register layouts differ per meter model, so each model is described by a JSON file
(``askue/maps/*.json``) instead of code::

    {
      "model": "Mercury 234 via Modbus TCP gateway",
      "function": "holding",            # or "input" (function 0x03 / 0x04)
      "max_block": 125,                 # largest number of registers in one request
      "max_gap": 0,                     # unused registers a request may span to join two values
      "values": {
        "serial": {"address": 0,  "count": 4, "type": "ascii"},
        "total":  {"address": 16, "count": 2, "type": "uint32", "word_order": "big",
                   "scale": "0.01", "unit": "kWh"},
        "T1": {...}, "T2": {...}, "T3": {...}, "T4": {...},
        "clock":  {"address": 32, "count": 2, "type": "unix_time"}
      }
    }

An energy value is ``raw * scale`` in ``unit`` (Wh, kWh or MWh) and is converted to kWh.
``load_register_map`` refuses unknown keys, wrong types or sizes and overlapping registers
with a :class:`RegisterMapError` naming the file and the key.
"""

from __future__ import annotations

import json
import math
import struct
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Mapping

MAPS_DIR = Path(__file__).resolve().parent.parent / "maps"

ENERGY_NAMES = ("total", "T1", "T2", "T3", "T4")
VALUE_NAMES = ("serial", *ENERGY_NAMES, "clock")

#: type -> allowed register counts (None: any count from 1 to 16)
TYPE_COUNTS: dict[str, tuple[int, ...] | None] = {
    "uint16": (1,),
    "uint32": (2,),
    "uint64": (4,),
    "float32": (2,),
    "bcd": None,
    "ascii": None,
    "unix_time": (2,),
}
SERIAL_TYPES = ("ascii", "bcd", "uint16", "uint32", "uint64")
ENERGY_TYPES = ("uint16", "uint32", "uint64", "float32", "bcd")
CLOCK_TYPES = ("unix_time",)
UNIT_TO_KWH = {"Wh": Decimal("0.001"), "kWh": Decimal(1), "MWh": Decimal(1000)}
FUNCTIONS = {"holding": 0x03, "input": 0x04}

_TOP_KEYS = {"model", "function", "max_block", "max_gap", "values", "description"}
_VALUE_KEYS = {"address", "count", "type", "word_order", "scale", "unit", "description"}


class RegisterMapError(ValueError):
    """A register map file is not valid."""


@dataclass(frozen=True)
class RegisterValue:
    name: str
    address: int
    count: int
    type: str
    word_order: str = "big"  # "big": high word first; "little": low word first
    scale: Decimal = Decimal(1)
    unit: str = "kWh"

    @property
    def end(self) -> int:
        return self.address + self.count

    # -- decoding -------------------------------------------------------------------------
    def _words(self, registers: list[int]) -> list[int]:
        return list(reversed(registers)) if self.word_order == "little" else list(registers)

    def _raw_bytes(self, registers: list[int]) -> bytes:
        return b"".join(r.to_bytes(2, "big") for r in self._words(registers))

    def decode_raw(self, registers: list[int]) -> int | float | str:
        if len(registers) != self.count:
            raise ValueError(f"{self.name}: expected {self.count} registers, got {len(registers)}")
        if self.type == "ascii":
            return bytes(b for r in registers for b in r.to_bytes(2, "big")).rstrip(b"\x00 ").decode("ascii", "replace")
        if self.type == "bcd":
            digits = self._raw_bytes(registers).hex()
            if not digits.isdigit():
                raise ValueError(f"{self.name}: not packed BCD: {digits}")
            return int(digits)
        data = self._raw_bytes(registers)
        if self.type == "float32":
            return struct.unpack(">f", data)[0]
        return int.from_bytes(data, "big")

    def decode_kwh(self, registers: list[int]) -> Decimal:
        raw = self.decode_raw(registers)
        if isinstance(raw, float):
            if not math.isfinite(raw):
                raise ValueError(f"{self.name}: not a finite number: {raw}")
            value = Decimal(format(raw, ".7g"))  # float32 carries about 7 significant digits
        else:
            value = Decimal(raw)
        return value * self.scale * UNIT_TO_KWH[self.unit]

    def decode_serial(self, registers: list[int]) -> str:
        raw = self.decode_raw(registers)
        if self.type == "bcd":
            return str(raw).zfill(self.count * 4)
        return str(raw)

    def decode_clock(self, registers: list[int]) -> datetime:
        return datetime.fromtimestamp(int(self.decode_raw(registers)), tz=timezone.utc)

    # -- encoding (used by the simulator) --------------------------------------------------
    def _to_registers(self, data: bytes) -> list[int]:
        regs = [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]
        return list(reversed(regs)) if self.word_order == "little" else regs

    def encode_kwh(self, kwh: Decimal) -> list[int]:
        native = Decimal(kwh) / UNIT_TO_KWH[self.unit] / self.scale
        if self.type == "float32":
            return self._to_registers(struct.pack(">f", float(native)))
        raw = int(native.to_integral_value(rounding="ROUND_FLOOR"))
        return self._encode_int(raw)

    def encode_serial(self, serial: str) -> list[int]:
        if self.type == "ascii":
            data = serial.encode("ascii")[: self.count * 2].ljust(self.count * 2, b"\x00")
            return [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]
        return self._encode_int(int(serial))

    def encode_clock(self, when: datetime) -> list[int]:
        return self._encode_int(int(when.timestamp()))

    def _encode_int(self, raw: int) -> list[int]:
        if self.type == "bcd":
            digits = str(raw).zfill(self.count * 4)[-self.count * 4 :]
            return self._to_registers(bytes.fromhex(digits))
        width = self.count * 2
        return self._to_registers((raw % (1 << (8 * width))).to_bytes(width, "big"))


@dataclass(frozen=True)
class Block:
    """One read request: ``count`` registers from ``address``."""

    address: int
    count: int
    values: tuple[RegisterValue, ...]


@dataclass(frozen=True)
class RegisterMap:
    name: str
    model: str
    function: str
    values: Mapping[str, RegisterValue]
    max_block: int = 125
    max_gap: int = 0

    @property
    def function_code(self) -> int:
        return FUNCTIONS[self.function]

    @property
    def energy_values(self) -> list[RegisterValue]:
        return [self.values[n] for n in ENERGY_NAMES if n in self.values]

    def blocks(self) -> list[Block]:
        """Group the values into as few requests as ``max_block``/``max_gap`` allow."""
        ordered = sorted(self.values.values(), key=lambda v: v.address)
        blocks: list[list[RegisterValue]] = []
        for value in ordered:
            if blocks:
                current = blocks[-1]
                start, end = current[0].address, max(v.end for v in current)
                if value.address - end <= self.max_gap and value.end - start <= self.max_block:
                    current.append(value)
                    continue
            blocks.append([value])
        return [
            Block(vs[0].address, max(v.end for v in vs) - vs[0].address, tuple(vs)) for vs in blocks
        ]

    def decode(self, registers_by_block: list[list[int]]) -> tuple[str | None, dict[str, Decimal], datetime | None]:
        """Decode the answers to :meth:`blocks` (same order) into (serial, kWh per name, clock)."""
        serial: str | None = None
        clock: datetime | None = None
        energy: dict[str, Decimal] = {}
        for block, regs in zip(self.blocks(), registers_by_block, strict=True):
            for value in block.values:
                offset = value.address - block.address
                part = regs[offset : offset + value.count]
                if value.name == "serial":
                    serial = value.decode_serial(part)
                elif value.name == "clock":
                    clock = value.decode_clock(part)
                else:
                    energy[value.name] = value.decode_kwh(part)
        return serial, energy, clock


def _fail(source: str, key: str, message: str) -> RegisterMapError:
    return RegisterMapError(f"{source}: {key}: {message}")


def _int(source: str, key: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _fail(source, key, f"must be an integer from {low} to {high}, got {value!r}")
    return value


def parse_register_map(data: Any, source: str = "<map>") -> RegisterMap:
    """Validate a decoded JSON map; ``source`` names it in errors."""
    if not isinstance(data, dict):
        raise _fail(source, "(top)", "a register map must be a JSON object")
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise _fail(source, unknown[0], f"unknown key (allowed: {', '.join(sorted(_TOP_KEYS))})")
    function = data.get("function", "holding")
    if function not in FUNCTIONS:
        raise _fail(source, "function", f"must be one of {sorted(FUNCTIONS)}, got {function!r}")
    max_block = _int(source, "max_block", data.get("max_block", 125), 1, 125)
    max_gap = _int(source, "max_gap", data.get("max_gap", 0), 0, 125)
    raw_values = data.get("values")
    if not isinstance(raw_values, dict) or not raw_values:
        raise _fail(source, "values", "must be a non-empty object")

    values: dict[str, RegisterValue] = {}
    for name, spec in raw_values.items():
        key = f"values.{name}"
        if name not in VALUE_NAMES:
            raise _fail(source, key, f"unknown value (allowed: {', '.join(VALUE_NAMES)})")
        if not isinstance(spec, dict):
            raise _fail(source, key, "must be an object")
        unknown = sorted(set(spec) - _VALUE_KEYS)
        if unknown:
            raise _fail(source, f"{key}.{unknown[0]}", "unknown key")
        for required in ("address", "count", "type"):
            if required not in spec:
                raise _fail(source, f"{key}.{required}", "missing")
        address = _int(source, f"{key}.address", spec["address"], 0, 65535)
        count = _int(source, f"{key}.count", spec["count"], 1, 16)
        vtype = spec["type"]
        allowed = SERIAL_TYPES if name == "serial" else CLOCK_TYPES if name == "clock" else ENERGY_TYPES
        if vtype not in allowed:
            raise _fail(source, f"{key}.type", f"must be one of {', '.join(allowed)}, got {vtype!r}")
        counts = TYPE_COUNTS[vtype]
        if counts is not None and count not in counts:
            raise _fail(source, f"{key}.count", f"type {vtype} takes {counts[0]} register(s), got {count}")
        if address + count > 65536:
            raise _fail(source, f"{key}.address", "runs past register 65535")
        word_order = spec.get("word_order", "big")
        if word_order not in ("big", "little"):
            raise _fail(source, f"{key}.word_order", f"must be 'big' or 'little', got {word_order!r}")
        scale = Decimal(1)
        unit = "kWh"
        if name in ENERGY_NAMES:
            try:
                scale = Decimal(str(spec.get("scale", "1")))
            except InvalidOperation:
                raise _fail(source, f"{key}.scale", f"not a number: {spec.get('scale')!r}") from None
            if not scale.is_finite() or scale <= 0:
                raise _fail(source, f"{key}.scale", f"must be a positive number, got {spec.get('scale')!r}")
            unit = spec.get("unit", "kWh")
            if unit not in UNIT_TO_KWH:
                raise _fail(source, f"{key}.unit", f"must be one of {', '.join(UNIT_TO_KWH)}, got {unit!r}")
        else:
            for energy_only in ("scale", "unit"):
                if energy_only in spec:
                    raise _fail(source, f"{key}.{energy_only}", f"only energy values take {energy_only}")
        values[name] = RegisterValue(name, address, count, vtype, word_order, scale, unit)

    if "serial" not in values:
        raise _fail(source, "values.serial", "missing")
    if "total" not in values:
        raise _fail(source, "values.total", "missing")
    ordered = sorted(values.values(), key=lambda v: v.address)
    for before, after in zip(ordered, ordered[1:]):
        if after.address < before.end:
            raise _fail(
                source,
                f"values.{after.name}",
                f"registers {after.address}..{after.end - 1} overlap values.{before.name} "
                f"({before.address}..{before.end - 1})",
            )
    return RegisterMap(
        name=Path(source).stem,
        model=str(data.get("model", Path(source).stem)),
        function=function,
        values=values,
        max_block=max_block,
        max_gap=max_gap,
    )


def load_register_map(name_or_path: str | Path) -> RegisterMap:
    """Load a map by file path or by name of a bundled map (``"mercury234_modbus"``)."""
    path = Path(name_or_path)
    if not path.suffix and not path.exists():
        path = MAPS_DIR / f"{path.name}.json"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RegisterMapError(f"{path}: cannot read: {exc}") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RegisterMapError(f"{path}: not valid JSON: {exc}") from exc
    return parse_register_map(data, str(path))


def bundled_maps() -> list[str]:
    return sorted(p.stem for p in MAPS_DIR.glob("*.json"))
