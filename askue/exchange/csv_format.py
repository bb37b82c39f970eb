"""A plain CSV of interval values for operators, one interval per row, as Russian Excel opens and saves it:

    meter;channel;start;minutes;value_wh;status
    1001;A+;2026-11-01T00:00;30;1250;0
    1001;A+;2026-11-01T00:30;30;;0          <- empty value: no value for the interval (a gap)

- columns are separated by ';'; the header names them and may put them in any order; `status` may be
  left out (then 0);
- `meter` is the point's code; `channel` A+, A-, R+ or R- (a Cyrillic А or Р is taken too);
- `start` is the interval's start: local ISO time `2026-11-01T00:30` (in the company's zone `tz`), ISO
  with an offset `2026-11-01T00:30+03:00`, or as Excel rewrites it, `01.11.2026 0:30`;
- `minutes` 15, 30 or 60; `value_wh` whole Wh, a decimal point or comma is allowed (rounded half up);
- `status` the sum of askue.series.Status bits (32 = not commercial);
- text is UTF-8, with or without a BOM, or windows-1251.

Consecutive rows of one meter, channel and interval length, each starting where the previous ended,
make one Series; the same meter and channel twice at a start, or overlapping intervals, are errors.
"""
import codecs
import csv
import io
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from askue.exchange import ExchangeError, ParsedFile, check_not_binary, is_whole, line_of, parse_wh
from askue.series import CHANNELS, INTERVAL_MINUTES, Series, Status

COLUMNS = ("meter", "channel", "start", "minutes", "value_wh", "status")
REQUIRED = COLUMNS[:-1]
ALL_STATUS_BITS = sum(flag.value for flag in Status)
_BITS = ", ".join(str(flag.value) for flag in Status)
# Operators type the channel on a Russian keyboard as often as not.
_CYRILLIC = str.maketrans({"А": "A", "Р": "R", "а": "A", "р": "R"})
_EXCEL_FORMATS = ("%d.%m.%Y %H:%M", "%d.%m.%Y %H:%M:%S")


class _Run:
    """Rows being gathered into one series."""

    def __init__(self, meter, channel, minutes, start, line):
        self.meter, self.channel, self.minutes, self.start = meter, channel, minutes, start
        self.values, self.statuses = [], []
        self.first_line = self.last_line = line

    @property
    def end(self) -> datetime:
        return self.start + timedelta(minutes=self.minutes * len(self.values))

    def continues(self, meter, channel, minutes, start) -> bool:
        return (meter, channel, minutes) == (self.meter, self.channel, self.minutes) and start == self.end

    def series(self) -> Series:
        return Series(meter=self.meter, channel=self.channel, start=self.start, minutes=self.minutes,
                      values=self.values, statuses=self.statuses if any(self.statuses) else None)


def parse_csv(data: bytes, name: str, tz: ZoneInfo) -> ParsedFile:
    rows = csv.reader(io.StringIO(_decode(data, name), newline=""), delimiter=";")
    header = None
    runs: list[_Run] = []
    seen = {}  # (meter, channel, start) -> line
    for row in rows:
        line = rows.line_num
        if not any(cell.strip() for cell in row):
            continue
        if header is None:
            header = _header(row, name, line)
            continue
        if len(row) != len(header):
            raise ExchangeError(f"expected {len(header)} columns, found {len(row)}", file=name, line=line)
        cells = dict(zip(header, (cell.strip() for cell in row)))
        meter, channel, start, minutes, value, status = _row(cells, tz, name, line)
        key = (meter, channel, start)
        if key in seen:
            raise ExchangeError(f"meter {meter} {channel} at {cells['start']} is given twice (first on line "
                                f"{seen[key]})", file=name, line=line, element="column start")
        seen[key] = line
        if not (runs and runs[-1].continues(meter, channel, minutes, start)):
            runs.append(_Run(meter, channel, minutes, start, line))
        runs[-1].values.append(value)
        runs[-1].statuses.append(status)
        runs[-1].last_line = line
    if header is None:
        raise ExchangeError("the file is empty", file=name)
    if not runs:
        raise ExchangeError("the file has a header but no rows", file=name)
    _refuse_overlaps(runs, name)
    return ParsedFile(name=name, kind="csv", number=None, day=None, sender_inn=None,
                      series=[run.series() for run in runs])


def _decode(data: bytes, name: str) -> str:
    check_not_binary(data, name)
    if data.startswith(codecs.BOM_UTF8):
        body, codecs_to_try = data[len(codecs.BOM_UTF8):], ("utf-8",)
    else:
        # A CSV declares no encoding; windows-1251 reads almost any bytes, so UTF-8 goes first.
        body, codecs_to_try = data, ("utf-8", "cp1251")
    for codec in codecs_to_try:
        try:
            return body.decode(codec)
        except UnicodeDecodeError as exc:
            failure = exc
    raise ExchangeError(f"byte 0x{body[failure.start]:02X} cannot be read as "
                        f"{' or '.join('UTF-8' if c == 'utf-8' else 'windows-1251' for c in codecs_to_try)}",
                        file=name, line=line_of(body, failure.start))


def _header(row: list[str], name: str, line: int) -> list[str]:
    header = [cell.strip().lower() for cell in row]
    if len(header) == 1 and "," in header[0]:
        raise ExchangeError("the columns must be separated by ';', not ','", file=name, line=line)
    unknown = [column for column in header if column not in COLUMNS]
    if unknown:
        raise ExchangeError(f"unknown column {unknown[0]!r}: expected {';'.join(COLUMNS)}", file=name, line=line)
    missing = [column for column in REQUIRED if column not in header]
    if missing:
        raise ExchangeError(f"no column {missing[0]!r}: expected {';'.join(COLUMNS)}", file=name, line=line)
    repeated = next((column for column in header if header.count(column) > 1), None)
    if repeated:
        raise ExchangeError(f"column {repeated!r} is given twice", file=name, line=line)
    return header


def _row(cells: dict[str, str], tz: ZoneInfo, name: str, line: int):
    def error(column, message):
        return ExchangeError(message, file=name, line=line, element=f"column {column}")

    meter = cells["meter"]
    if not meter:
        raise error("meter", "the meter is empty")
    channel = cells["channel"].translate(_CYRILLIC).upper()
    if channel not in CHANNELS:
        raise error("channel", f'channel "{cells["channel"]}" is unknown: expected A+, A-, R+ or R-')
    minutes = cells["minutes"]
    if minutes not in {str(m) for m in INTERVAL_MINUTES}:
        raise error("minutes", f'"{minutes}" minutes: expected 15, 30 or 60')
    minutes = int(minutes)
    try:
        start = _start(cells["start"], tz)
    except ValueError as exc:
        raise error("start", str(exc)) from None
    if start.minute % minutes or start.second or start.microsecond:
        raise error("start", f"{cells['start']} is not the start of a {minutes}-minute interval")
    try:
        value = parse_wh(cells["value_wh"].replace(",", "."))
    except ValueError as exc:
        raise error("value_wh", str(exc)) from None
    status = cells.get("status") or "0"
    if not is_whole(status) or int(status) & ~ALL_STATUS_BITS:
        raise error("status", f'status "{status}" is not a sum of status bits ({_BITS})')
    return meter, channel, start, minutes, value, int(status)


def _start(text: str, tz: ZoneInfo) -> datetime:
    """An interval start as UTC; a time without an offset is local time in `tz`."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        for pattern in _EXCEL_FORMATS:
            try:
                moment = datetime.strptime(text, pattern)
                break
            except ValueError:
                pass
        else:
            raise ValueError(f'"{text}" is not a time: expected 2026-11-01T00:30 or 01.11.2026 0:30') from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
        # Around a clock change a wall time may occur twice or never; only an offset can say which.
        if moment.utcoffset() != moment.replace(fold=1).utcoffset():
            raise ValueError(f"{text} is ambiguous in {tz.key} (clock change): give the offset, "
                             "e.g. 2026-03-29T02:30+01:00")
    return moment.astimezone(timezone.utc)


def _refuse_overlaps(runs: list[_Run], name: str) -> None:
    # Equal starts were refused row by row; this catches intervals of different lengths that overlap.
    by_channel = sorted(runs, key=lambda run: (run.meter, run.channel, run.start))
    for before, after in zip(by_channel, by_channel[1:]):
        if (before.meter, before.channel) == (after.meter, after.channel) and after.start < before.end:
            first, second = sorted((before, after), key=lambda run: run.first_line)
            raise ExchangeError(f"meter {after.meter} {after.channel}: the rows of lines {second.first_line}–"
                                f"{second.last_line} overlap those of lines {first.first_line}–{first.last_line}",
                                file=name, line=second.first_line)


def write_csv(series: list[Series], tz: ZoneInfo) -> bytes:
    """The series as CSV in UTF-8 with a BOM (so that Excel reads it as UTF-8), starts in local time
    with their offset. Reading it back joins series of one meter and channel that follow each other."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for one in series:
        statuses = one.statuses or [0] * len(one.values)
        for start, value, status in zip(one.starts(), one.values, statuses):
            writer.writerow((one.meter, one.channel, start.astimezone(tz).isoformat(timespec="minutes"),
                             one.minutes, "" if value is None else value, int(status)))
    return codecs.BOM_UTF8 + out.getvalue().encode("utf-8")
