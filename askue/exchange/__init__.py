"""Exchange files with interval data: XML 80020 (the market operator's format) and a plain CSV for
operators. Both are read all-or-nothing: a file either gives all its series or raises one
`ExchangeError` that says where the first problem is, so a half-applied file never has to be untangled.

See README.md next to this file for the formats and what is checked.
"""
import codecs
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from askue.series import Series


class ExchangeError(ValueError):
    """A file that cannot be taken in (or series that cannot be written), with where it went wrong.

    `file` is the file's name, `line` the 1-based line, `element` the place inside the line's structure
    (an XML path such as `measuringpoint[code=1001]/measuringchannel[code=01]/period[start=0130]`, or
    `column value_wh` in a CSV); any of them may be None when it does not apply.
    """

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None,
                 element: str | None = None):
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line
        self.element = element

    def __str__(self) -> str:
        where = [part for part in (self.file, self.line and f"line {self.line}", self.element) if part]
        return f"{', '.join(where)}: {self.message}" if where else self.message


@dataclass
class ParsedFile:
    """What a file holds. `number`, `day`, `sender_inn`, `sender_name` and `areas` (inn -> name) come
    from an 80020 header and stay empty for a CSV; `points` maps a measuring point's code to
    {"name", "serial", "area_inn"} (also 80020 only)."""

    name: str
    kind: str  # "80020" | "csv"
    number: int | None
    day: date | None
    sender_inn: str | None
    series: list[Series]
    points: dict[str, dict] = field(default_factory=dict)
    sender_name: str | None = None
    areas: dict[str, str] = field(default_factory=dict)


def parse_exchange_file(data: bytes, name: str, tz: ZoneInfo) -> ParsedFile:
    """Read an 80020 or a CSV file, told apart by content: XML starts with '<' (a name ending in .xml
    is also taken as XML, so that a broken one is reported as not being XML rather than a bad CSV)."""
    from askue.exchange.csv_format import parse_csv
    from askue.exchange.xml80020 import parse_80020

    if data.removeprefix(codecs.BOM_UTF8).lstrip().startswith(b"<") or name.lower().endswith(".xml"):
        return parse_80020(data, name, tz)
    return parse_csv(data, name, tz)


_NUMBER = re.compile(r"-?([0-9]+(\.[0-9]*)?|\.[0-9]+)")


def parse_wh(text: str) -> int | None:
    """An energy value in Wh as both formats write it: digits with an optional decimal point; empty
    means no value (a gap). Fractions of a Wh are rounded half up, since storage keeps whole Wh.
    Raises ValueError with a message fit for an ExchangeError."""
    text = text.strip()
    if not text:
        return None
    if not _NUMBER.fullmatch(text):
        return _fail(f'value "{text}" is not a number')
    number = Decimal(text)
    if number < 0:
        return _fail(f"value {text} is negative")
    return int(number.to_integral_value(ROUND_HALF_UP))


def is_whole(text: str) -> bool:
    """Digits 0-9 only: str.isdigit alone lets through digits int() refuses, such as '²'."""
    return text.isascii() and text.isdigit()


def _fail(message: str):
    raise ValueError(message)


def line_of(data: bytes, offset: int) -> int:
    """The 1-based line of a byte offset, for errors found before any parser counts lines."""
    return data.count(b"\n", 0, offset) + 1


def check_not_binary(data: bytes, name: str) -> None:
    """UTF-16 and binary files pass no decoding check on their own (NUL is valid UTF-8), so they are
    caught by their NUL bytes."""
    if not data.strip():
        raise ExchangeError("the file is empty", file=name)
    nul = data.find(b"\x00")
    if nul >= 0:
        raise ExchangeError("the file contains NUL bytes: it is binary or UTF-16, expected UTF-8 or "
                            "windows-1251 text", file=name, line=line_of(data, nul))
