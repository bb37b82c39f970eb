"""XML 80020: the market operator's file of half-hour (or hour, or quarter-hour) energy values of
one day, per measuring point and channel.

    <message class="80020" version="2" number="1">
      <datetime><timestamp>20261102093000</timestamp><daylightsavingtime>0</daylightsavingtime>
                <day>20261101</day></datetime>
      <sender><inn>7701234567</inn><name>...</name></sender>
      <area><inn>7702345678</inn><name>...</name>
        <measuringpoint code="1001" name="..." serial="...">
          <measuringchannel code="01" desc="...">
            <period start="0000" end="0030"><value status="0">1250</value></period>
            ...
            <period start="2330" end="0000"><value status="0">1180</value></period>

Period times are hhmm of the company's local time (`tz`); "0000" as an end is the next midnight.
Values are whole Wh. Status 0 is commercial data; any other code is not, and becomes
Status.NOT_COMMERCIAL (codes other than 0 and 1 are also kept in `Series.extra["80020_status"]`,
interval index -> code, and written back as they were).
"""
import codecs
import re
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from lxml import etree

from askue.exchange import ExchangeError, ParsedFile, check_not_binary, is_whole, line_of, parse_wh
from askue.series import Series, SeriesError, Status

CHANNEL_CODES = {"01": "A+", "02": "A-", "03": "R+", "04": "R-"}
CHANNEL_OF_NAME = {name: code for code, name in CHANNEL_CODES.items()}
CHANNEL_DESC = {
    "01": "Активная энергия, прием", "02": "Активная энергия, отдача",
    "03": "Реактивная энергия, прием", "04": "Реактивная энергия, отдача",
}
# Canonical codec names; all of them keep ASCII as is, which the prolog sniffing below relies on.
ENCODINGS = {"utf-8", "cp1251", "koi8-r", "cp866", "ascii"}
RAW_STATUS = "80020_status"
DAY_MINUTES = 24 * 60
_MINUTES_OF = {f"{m // 60:02d}{m % 60:02d}": m for m in range(DAY_MINUTES)}  # "hhmm" -> minutes of the day
_NOT_COMMERCIAL = Status.NOT_COMMERCIAL.value

_PROLOG = re.compile(rb"\s*<\?xml\b[^>]*?\?>")
_DECLARED = re.compile(rb"""\bencoding\s*=\s*["']([^"']*)["']""")
_LXML_WHERE = re.compile(r", line \d+, column \d+$")
# libxml2 is told not to fetch or expand anything a file refers to: uploads are not trusted.
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, remove_comments=True,
                          remove_pis=True)


def file_name_80020(inn: str, day: date, number: int) -> str:
    return f"80020_{inn}_{day:%Y%m%d}_{number}.xml"


def parse_80020(data: bytes, name: str, tz: ZoneInfo) -> ParsedFile:
    return _Reader(name, tz).read(data)


class _Reader:
    def __init__(self, name: str, tz: ZoneInfo):
        self.name = name
        self.tz = tz

    def error(self, message: str, element=None, path: str | None = None, line: int | None = None):
        line = line or (element.sourceline if element is not None else None)
        return ExchangeError(message, file=self.name, line=line, element=path)

    def read(self, data: bytes) -> ParsedFile:
        root = self.xml(self.decode(data))
        if root.tag != "message":
            raise self.error(f"the root element is <{root.tag}>, not <message>: not an 80020 file", root)
        if root.get("class") != "80020":
            raise self.error(f'class="{root.get("class", "")}": not an 80020 file', root, "message")
        number = self.attribute(root, "number", "message")
        if not is_whole(number):
            raise self.error(f'number="{number}" is not a whole number', root, "message")
        self.children(root, "message", {"datetime", "sender", "area"})
        stamp = self.child(root, "datetime", "message")
        self.datetime_text(self.child(stamp, "timestamp", "datetime"), "datetime/timestamp")
        dst = stamp.find("daylightsavingtime")
        if dst is not None and (dst.text or "").strip() not in ("0", "1"):
            raise self.error("daylightsavingtime must be 0 or 1", dst, "datetime/daylightsavingtime")
        day_element = self.child(stamp, "day", "datetime")
        day = self.datetime_text(day_element, "datetime/day").date()
        start = self.day_start(day, day_element)
        sender = self.child(root, "sender", "message")

        parsed = ParsedFile(name=self.name, kind="80020", number=int(number), day=day,
                            sender_inn=self.inn(sender, "sender"), series=[],
                            sender_name=self.text(sender, "name"))
        seen = {}  # (point, channel code) -> line, to refuse a channel given twice
        for area in root.iterchildren("area"):
            area_inn = self.inn(area, "area")
            parsed.areas.setdefault(area_inn, self.text(area, "name"))
            for point in self.children(area, f"area[inn={area_inn}]", {"inn", "name", "measuringpoint"}):
                if point.tag == "measuringpoint":
                    self.point(point, area_inn, start, parsed, seen)
        if not parsed.areas:
            raise self.error("the message has no <area>", root, "message")
        return parsed

    def point(self, point, area_inn: str, start: datetime, parsed: ParsedFile, seen: dict) -> None:
        code = self.attribute(point, "code", f"area[inn={area_inn}]/measuringpoint")
        path = f"measuringpoint[code={code}]"
        parsed.points.setdefault(code, {"name": point.get("name", ""), "serial": point.get("serial"),
                                        "area_inn": area_inn})
        for channel in self.children(point, path, {"measuringchannel"}):
            number = self.attribute(channel, "code", f"{path}/measuringchannel")
            channel_path = f"{path}/measuringchannel[code={number}]"
            if number not in CHANNEL_CODES:
                raise self.error(f'channel code "{number}" is unknown: expected 01 (A+), 02 (A-), 03 (R+) '
                                 "or 04 (R-)", channel, channel_path)
            if (code, number) in seen:
                raise self.error(f"measuring point {code} channel {number} is given twice "
                                 f"(first on line {seen[code, number]})", channel, channel_path)
            seen[code, number] = channel.sourceline
            minutes, values, statuses, raw = self.periods(channel, channel_path)
            try:
                parsed.series.append(Series(
                    meter=code, channel=CHANNEL_CODES[number], start=start, minutes=minutes, values=values,
                    statuses=statuses if any(statuses) else None, extra={RAW_STATUS: raw} if raw else {}))
            except SeriesError as exc:
                raise self.error(str(exc), channel, channel_path) from None

    def periods(self, channel, path: str):
        """The channel's values, checking that its periods tile the day from 0000 to 0000 in equal steps.
        A period must be there for every interval; a gap is a period whose value is empty."""
        minutes, end, previous_start = None, 0, None
        values, statuses, raw = [], [], {}
        for period in self.children(channel, path, {"period"}):
            period_path = f"{path}/period[start={period.get('start', '')}]"
            begin = self.hhmm(period, "start", period_path)
            finish = self.hhmm(period, "end", period_path) or DAY_MINUTES
            if begin != end:
                if previous_start is None:
                    problem = f"the first period starts at {_hhmm(begin)}, not at 0000"
                elif begin <= previous_start:
                    problem = f"the period is out of order: it comes after the one starting at {_hhmm(previous_start)}"
                elif begin < end:
                    problem = f"the period overlaps the previous one, which ends at {_hhmm(end)}"
                else:
                    problem = f"a gap before the period: the previous one ends at {_hhmm(end)}"
                raise self.error(problem, period, period_path)
            length = finish - begin
            if length not in (15, 30, 60):
                raise self.error(f"the period lasts {length} min: expected 15, 30 or 60", period, period_path)
            if minutes is not None and length != minutes:
                raise self.error(f"the period lasts {length} min while the earlier ones last {minutes} min",
                                 period, period_path)
            minutes, end, previous_start = length, finish, begin
            value = self.only_child(period, "value", period_path)
            try:
                values.append(parse_wh(value.text or ""))
            except ValueError as exc:
                raise self.error(str(exc), value, period_path) from None
            code = value.get("status", "0").strip()
            if not is_whole(code):
                raise self.error(f'status "{code}" is not a whole number', value, period_path)
            statuses.append(_NOT_COMMERCIAL if int(code) else 0)
            if int(code) > 1:
                raw[len(values) - 1] = int(code)
        if minutes is None:
            raise self.error("the channel has no periods", channel, path)
        if end != DAY_MINUTES:
            raise self.error(f"the periods end at {_hhmm(end)}, not at 0000: the day is not complete",
                             channel, path)
        return minutes, values, statuses, raw

    # --- decoding and parsing the text ---

    def decode(self, data: bytes) -> str:
        """The file's text, decoded by Python rather than libxml2 so that a wrong or unknown encoding is
        reported with its line. The XML declaration is blanked out (its line breaks kept, so that
        lxml's line numbers stay right) since lxml refuses text that still declares an encoding."""
        check_not_binary(data, self.name)
        bom = data.startswith(codecs.BOM_UTF8)
        body = data[len(codecs.BOM_UTF8):] if bom else data
        prolog = _PROLOG.match(body)
        declared = _DECLARED.search(prolog.group()) if prolog else None
        label = declared.group(1).decode("ascii", "replace") if declared else "UTF-8"
        codec = _codec(label, self.error) if declared else "utf-8"
        if bom and codec != "utf-8":
            raise self.error(f'the file starts with a UTF-8 byte order mark but declares encoding "{label}"',
                             line=1)
        try:
            text = body.decode(codec)
        except UnicodeDecodeError as exc:
            hint = "" if declared else " (with no encoding declared, the file must be UTF-8)"
            raise self.error(f"byte 0x{body[exc.start]:02X} cannot be read as {label}{hint}",
                             line=line_of(body, exc.start)) from None
        if codec != "utf-8":
            self.refuse_utf8_labelled_otherwise(body, label)
        if prolog:
            text = "\n" * prolog.group().count(b"\n") + text[prolog.end():]
        return text

    def refuse_utf8_labelled_otherwise(self, body: bytes, label: str) -> None:
        # Single-byte encodings read any bytes, so UTF-8 text labelled windows-1251 would come in as
        # mojibake. Real Cyrillic in windows-1251 is practically never valid UTF-8, so valid UTF-8 with
        # non-ASCII bytes means the label is wrong.
        first = next((i for i, byte in enumerate(body) if byte >= 0x80), None)
        if first is None:
            return
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            return
        raise self.error(f'the file declares encoding "{label}" but its text is UTF-8', line=line_of(body, first))

    def xml(self, text: str):
        if not text.lstrip().startswith("<"):
            raise self.error("not XML: the file does not start with '<'", line=1)
        try:
            root = etree.fromstring(text, _PARSER)
        except etree.XMLSyntaxError as exc:
            message = _LXML_WHERE.sub("", exc.msg or "")
            if not text.rstrip().endswith("</message>"):
                last_line = text.rstrip().count("\n") + 1
                raise self.error(f"the file is cut short: it ends before </message> ({message})",
                                 line=last_line) from None
            raise self.error(f"not well-formed XML: {message}", line=exc.lineno) from None
        if root.getroottree().docinfo.doctype:
            # Entities a DOCTYPE declares would stay unexpanded and silently drop text from values.
            line = text.count("\n", 0, text.find("<!DOCTYPE")) + 1 if "<!DOCTYPE" in text else None
            raise self.error("a DOCTYPE is not allowed in an 80020 file", line=line)
        return root

    # --- small readers that raise with the place ---

    def children(self, element, path: str, allowed: set[str]) -> list:
        # Unknown elements are refused rather than skipped: skipping could silently drop data the
        # sender meant us to take.
        children = list(element)
        for child in children:
            if child.tag not in allowed:
                raise self.error(f"unexpected element <{child.tag}> in <{element.tag}>", child, path)
        return children

    def child(self, element, tag: str, path: str):
        found = element.find(tag)
        if found is None:
            raise self.error(f"<{tag}> is missing", element, path)
        return found

    def only_child(self, element, tag: str, path: str):
        found = element.findall(tag)
        if len(found) != 1:
            raise self.error(f"expected one <{tag}>, found {len(found)}", element, path)
        return found[0]

    def attribute(self, element, name: str, path: str) -> str:
        value = (element.get(name) or "").strip()
        if not value:
            raise self.error(f'attribute "{name}" is missing', element, path)
        return value

    def text(self, element, tag: str) -> str:
        found = element.find(tag)
        return (found.text or "").strip() if found is not None else ""

    def inn(self, element, path: str) -> str:
        found = self.child(element, "inn", path)
        inn = (found.text or "").strip()
        if not _is_inn(inn):
            raise self.error(f'INN "{inn}" must be 10 or 12 digits', found, f"{path}/inn")
        return inn

    def hhmm(self, period, name: str, path: str) -> int:
        text = self.attribute(period, name, path)
        if text not in _MINUTES_OF:
            raise self.error(f'{name}="{text}" is not a time hhmm', period, path)
        return _MINUTES_OF[text]

    def datetime_text(self, element, path: str) -> datetime:
        text = (element.text or "").strip()
        if element.tag == "timestamp":
            expected, pattern = "YYYYMMDDhhmmss", "%Y%m%d%H%M%S"
        else:
            expected, pattern = "YYYYMMDD", "%Y%m%d"
        try:
            if len(text) != len(expected) or not is_whole(text):
                raise ValueError(text)
            return datetime.strptime(text, pattern)
        except ValueError:
            raise self.error(f'"{text}" is not a date {expected}', element, path) from None

    def day_start(self, day: date, element) -> datetime:
        try:
            return day_start(day, self.tz)
        except ValueError as exc:
            raise self.error(str(exc), element, "datetime/day") from None


def day_start(day: date, tz: ZoneInfo) -> datetime:
    """The UTC start of a local day, refusing a day with a clock change: 80020 labels periods by wall
    time from 0000 to 0000, which cannot describe a 23- or 25-hour day."""
    start = datetime.combine(day, time(0), tz).astimezone(timezone.utc)
    end = datetime.combine(day + timedelta(days=1), time(0), tz).astimezone(timezone.utc)
    if end - start != timedelta(days=1):
        raise ValueError(f"{day:%Y-%m-%d} has a clock change in {tz.key}: an 80020 day cannot describe it")
    return start


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60 % 24:02d}{minutes % 60:02d}"


def _is_inn(inn: str) -> bool:
    return is_whole(inn) and len(inn) in (10, 12)


def _codec(label: str, error) -> str:
    try:
        codec = codecs.lookup(label).name
    except LookupError:
        raise error(f'unknown encoding "{label}"', line=1) from None
    if codec not in ENCODINGS:
        raise error(f'encoding "{label}" is not supported: expected UTF-8 or windows-1251', line=1)
    return codec


# --- writing ---

def write_80020(series: list[Series], *, number: int, sender_inn: str, sender_name: str, day: date,
                tz: ZoneInfo, area_inn: str | None = None, area_name: str = "",
                areas: dict[str, str] | None = None, points: dict[str, dict] | None = None,
                encoding: str = "windows-1251", timestamp: datetime | None = None) -> bytes:
    """An 80020 file of one day that parse_80020 reads back into the same series.

    Each series must cover the whole local day. A point goes to the area `points[code]["area_inn"]`
    when given, else to `area_inn`; `areas` names areas by INN (`area_name` names `area_inn`), so a
    ParsedFile's `points` and `areas` can be passed back as they are. Status bits other than
    NOT_COMMERCIAL have no place in 80020 and are not written. `timestamp` (default now) is when the
    file was made.
    """
    name = file_name_80020(sender_inn, day, number)

    def error(message, line=None, path=None):
        return ExchangeError(message, file=name, line=line, element=path)

    codec = _codec(encoding, error)
    for inn in (sender_inn, area_inn) if area_inn is not None else (sender_inn,):
        if not _is_inn(inn):
            raise error(f'INN "{inn}" must be 10 or 12 digits')
    if not (isinstance(number, int) and number >= 0):
        raise error(f"the file number {number!r} must be a whole number")
    try:
        start = day_start(day, tz)
    except ValueError as exc:
        raise error(str(exc)) from None
    points = points or {}
    area_names = {**({area_inn: area_name} if area_inn else {}), **(areas or {})}

    grouped: dict[str, dict[str, list[Series]]] = {}  # area inn -> point code -> series, in given order
    seen = set()
    for one in series:
        path = f"measuringpoint[code={one.meter}]/measuringchannel[code={CHANNEL_OF_NAME[one.channel]}]"
        if (one.meter, one.channel) in seen:
            raise error("the same point and channel is given twice", path=path)
        seen.add((one.meter, one.channel))
        if one.start != start or one.end != start + timedelta(days=1):
            raise error(f"the series covers {one.start:%Y-%m-%d %H:%M}–{one.end:%Y-%m-%d %H:%M} UTC, "
                        f"not the day {day:%Y-%m-%d} in {tz.key}", path=path)
        inn = points.get(one.meter, {}).get("area_inn") or area_inn
        if not inn or not _is_inn(inn):
            raise error(f'no valid area INN for the point (got "{inn or ""}")', path=path)
        grouped.setdefault(inn, {}).setdefault(one.meter, []).append(one)

    local = (timestamp or datetime.now(tz)).astimezone(tz)
    message = etree.Element("message", {"class": "80020", "version": "2", "number": str(number)})
    stamp = etree.SubElement(message, "datetime")
    _leaf(stamp, "timestamp", f"{local:%Y%m%d%H%M%S}")
    _leaf(stamp, "daylightsavingtime", "1" if local.dst() else "0")
    _leaf(stamp, "day", f"{day:%Y%m%d}")
    sender = etree.SubElement(message, "sender")
    _leaf(sender, "inn", sender_inn)
    _leaf(sender, "name", sender_name)
    for inn, by_point in grouped.items():
        area = etree.SubElement(message, "area")
        _leaf(area, "inn", inn)
        _leaf(area, "name", area_names.get(inn, ""))
        for code, channels in by_point.items():
            info = points.get(code, {})
            attributes = {"code": code, "name": info.get("name") or ""}
            if info.get("serial"):
                attributes["serial"] = str(info["serial"])
            point = etree.SubElement(area, "measuringpoint", attributes)
            for one in sorted(channels, key=lambda s: CHANNEL_OF_NAME[s.channel]):
                _write_channel(point, one)
    etree.indent(message)
    for period in message.iter("period"):  # one line a period, as senders usually write them
        period.text = period[0].tail = None
    text = etree.tostring(message, encoding="unicode") + "\n"
    # Characters the encoding lacks become character references, which read back as the same text.
    label = {"cp1251": "windows-1251", "utf-8": "UTF-8"}.get(codec, encoding)
    return f'<?xml version="1.0" encoding="{label}"?>\n{text}'.encode(codec, errors="xmlcharrefreplace")


def _write_channel(point, one: Series) -> None:
    code = CHANNEL_OF_NAME[one.channel]
    channel = etree.SubElement(point, "measuringchannel", {"code": code, "desc": CHANNEL_DESC[code]})
    raw = one.extra.get(RAW_STATUS, {})
    statuses = one.statuses or [0] * len(one.values)
    for index, (value, status) in enumerate(zip(one.values, statuses)):
        begin = index * one.minutes
        period = etree.SubElement(channel, "period", {"start": _hhmm(begin), "end": _hhmm(begin + one.minutes)})
        code = raw.get(index) or (1 if status & _NOT_COMMERCIAL else 0)
        _leaf(period, "value", "" if value is None else str(value), status=str(code))


def _leaf(parent, tag: str, text: str, **attributes):
    element = etree.SubElement(parent, tag, attributes)
    element.text = text
    return element
