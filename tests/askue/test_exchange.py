"""80020 and CSV exchange files: reading the samples, round trips, and every refusal naming its place.
No database, no Flask."""
import codecs
import pickle
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from askue.exchange import ExchangeError, parse_exchange_file
from askue.exchange.csv_format import parse_csv, write_csv
from askue.exchange.xml80020 import file_name_80020, parse_80020, write_80020
from askue.series import Series, Status

DATA = Path(__file__).parent / "data"
SAMPLE = "80020_7701234567_20261101_1.xml"
TZ = ZoneInfo("Europe/Moscow")
DAY = date(2026, 11, 1)
MIDNIGHT = datetime(2026, 10, 31, 21, tzinfo=timezone.utc)  # 2026-11-01 00:00 in Moscow
NC = Status.NOT_COMMERCIAL.value
A1 = "measuringpoint[code=770100001]/measuringchannel[code=01]"


def sample_text() -> str:
    return (DATA / SAMPLE).read_bytes().decode("cp1251")


def line_of(text: str, needle: str) -> int:
    assert needle in text, needle
    return text[:text.index(needle)].count("\n") + 1


def changed(old: str, new: str, text: str | None = None, encoding="cp1251") -> tuple[bytes, int]:
    """The sample with the first `old` replaced by `new`, and the line `old` was on."""
    text = sample_text() if text is None else text
    return text.replace(old, new, 1).encode(encoding), line_of(text, old)


def refusal(data: bytes, parse=parse_80020, name=SAMPLE, tz=TZ) -> ExchangeError:
    with pytest.raises(ExchangeError) as info:
        parse(data, name, tz)
    assert info.value.file == name
    return info.value


def write(series, **options):
    options = {"number": 7, "sender_inn": "7701234567", "sender_name": "ООО «Энергосбыт»", "day": DAY, "tz": TZ,
               "area_inn": "7702345678", "area_name": "Сети", "timestamp": datetime(2026, 11, 2, 9, 0, tzinfo=TZ),
               **options}
    return write_80020(series, **options)


# --- reading the samples ---

def test_reads_the_windows_1251_sample_with_two_areas():
    parsed = parse_80020((DATA / SAMPLE).read_bytes(), SAMPLE, TZ)
    assert (parsed.kind, parsed.number, parsed.day, parsed.sender_inn) == ("80020", 1, DAY, "7701234567")
    assert parsed.sender_name == "ООО «Энергосбыт Северный»"
    assert parsed.areas == {"7702345678": "ПС 110 кВ «Северная»", "7703456789": "ТП-15 Заречная"}
    assert parsed.points == {
        "770100001": {"name": "Ввод 10 кВ Т-1", "serial": "01234567", "area_inn": "7702345678"},
        "770200001": {"name": "Фидер 6 кВ №3", "serial": None, "area_inn": "7703456789"},
    }
    active, reactive, feeder = parsed.series
    assert [(s.meter, s.channel, s.minutes, len(s)) for s in parsed.series] == [
        ("770100001", "A+", 60, 24), ("770100001", "R+", 60, 24), ("770200001", "A+", 30, 48)]
    assert all(s.start == MIDNIGHT and s.end == MIDNIGHT + timedelta(days=1) for s in parsed.series)
    assert active.values == [1200 + 10 * i for i in range(24)] and active.statuses is None
    assert reactive.values[12] is None and reactive.values[23] == 323  # the gap, and the midnight period
    assert feeder.statuses == [NC if i == 3 else 0 for i in range(48)]
    assert feeder.values[47] == 600 + 5 * 47


def test_reads_the_csv_sample():
    parsed = parse_csv((DATA / "readings.csv").read_bytes(), "readings.csv", TZ)
    assert (parsed.kind, parsed.number, parsed.day, parsed.points) == ("csv", None, None, {})
    assert parsed.series == [
        # 1240,5 is rounded; the third row's Cyrillic "А+" and the Excel-style date join the same series
        Series("1001", "A+", MIDNIGHT, 30, [1250, 1241, None, 1230], [0, 0, 0, NC]),
        Series("1001", "R+", MIDNIGHT, 60, [410, 405]),
        Series("2002", "A-", MIDNIGHT, 15, [80, 82]),
    ]


def test_parse_exchange_file_tells_the_formats_apart():
    xml = (DATA / SAMPLE).read_bytes()
    table = (DATA / "readings.csv").read_bytes()
    assert parse_exchange_file(xml, "upload.bin", TZ).kind == "80020"
    assert parse_exchange_file(b"\xef\xbb\xbf\r\n" + xml.decode("cp1251").split("\n", 1)[1].encode(),
                               "upload", TZ).kind == "80020"
    assert parse_exchange_file(table, "upload.txt", TZ).kind == "csv"
    error = refusal(table, parse_exchange_file, name="readings.xml")  # named .xml: reported as not XML
    assert (error.line, error.message) == (1, "not XML: the file does not start with '<'")


# --- 80020 round trips ---

@pytest.mark.parametrize("encoding", ["windows-1251", "utf-8"])
def test_sample_round_trips_through_the_writer(encoding):
    parsed = parse_80020((DATA / SAMPLE).read_bytes(), SAMPLE, TZ)
    data = write(parsed.series, number=parsed.number, sender_inn=parsed.sender_inn, sender_name=parsed.sender_name,
                 area_inn=None, areas=parsed.areas, points=parsed.points, encoding=encoding)
    declared = "windows-1251" if encoding == "windows-1251" else "UTF-8"
    assert data.startswith(f'<?xml version="1.0" encoding="{declared}"?>'.encode())
    assert "Фидер 6 кВ №3".encode("cp1251" if encoding == "windows-1251" else "utf-8") in data
    again = parse_80020(data, file_name_80020(parsed.sender_inn, DAY, 1), TZ)
    assert again.series == parsed.series
    assert (again.points, again.areas, again.sender_name) == (parsed.points, parsed.areas, parsed.sender_name)
    assert (again.number, again.day, again.sender_inn) == (1, DAY, "7701234567")


def test_writer_ends_the_day_with_the_midnight_period_and_keeps_statuses():
    series = [
        # status code 5 (neither 0 nor 1) is not commercial, and kept as the sender gave it
        Series("1", "A+", MIDNIGHT, 30, [None] + list(range(47)), [NC, NC] + [0] * 45 + [NC], {"80020_status": {1: 5}}),
        Series("1", "A-", MIDNIGHT, 60, list(range(24))),
        Series("2", "R-", MIDNIGHT, 15, [7] * 96),
    ]
    text = write(series).decode("cp1251")
    assert '<period start="0000" end="0030"><value status="1"></value></period>' in text
    assert '<period start="0030" end="0100"><value status="5">0</value></period>' in text
    assert '<period start="2330" end="0000"><value status="1">46</value></period>' in text
    assert '<period start="2300" end="0000"><value status="0">23</value></period>' in text
    assert '<period start="2345" end="0000"><value status="0">7</value></period>' in text
    assert parse_80020(text.encode("cp1251"), "f.xml", TZ).series == series


def test_writer_drops_status_bits_80020_cannot_carry():
    statuses = [Status.POWER_OFF | Status.NOT_COMMERCIAL] + [Status.OVERFLOW] * 23
    series = Series("1", "A+", MIDNIGHT, 60, [1] * 24, statuses)
    (again,) = parse_80020(write([series]), "f.xml", TZ).series
    assert again.statuses == [NC] + [0] * 23


def test_file_name():
    assert file_name_80020("7701234567", DAY, 12) == "80020_7701234567_20261101_12.xml"


names = st.text(st.sampled_from("АбвЁё «»№-&<>\"' abcXYZ019"), max_size=12).map(str.strip)


@st.composite
def days_of_series(draw):
    tz = ZoneInfo(draw(st.sampled_from(["Europe/Moscow", "Asia/Yekaterinburg", "UTC"])))
    day = draw(st.dates(date(2015, 1, 1), date(2035, 12, 31)))
    start = datetime(day.year, day.month, day.day, tzinfo=tz)
    meters, channels = st.sampled_from(["1001", "1002", "ТП-3"]), st.sampled_from(["A+", "A-", "R+", "R-"])
    keys = draw(st.lists(st.tuples(meters, channels), min_size=1, max_size=4, unique=True))
    series = []
    for meter, channel in keys:
        minutes = draw(st.sampled_from([15, 30, 60]))
        n = 24 * 60 // minutes
        values = draw(st.lists(st.none() | st.integers(0, 10**9), min_size=n, max_size=n))
        statuses = draw(st.none() | st.lists(st.sampled_from([0, NC]), min_size=n, max_size=n).filter(any))
        series.append(Series(meter, channel, start, minutes, values, statuses))
    areas = draw(st.lists(st.sampled_from(["7702345678", "770234567890"]), min_size=len(keys), max_size=len(keys)))
    points = {s.meter: {"name": draw(names), "serial": draw(st.none() | st.just("0042")), "area_inn": inn}
              for s, inn in zip(series, areas)}
    return tz, day, series, points


@settings(max_examples=40, deadline=None)
@given(days_of_series(), st.sampled_from(["windows-1251", "utf-8"]), names)
def test_80020_round_trip_property(case, encoding, sender_name):
    tz, day, series, points = case
    data = write(series, day=day, tz=tz, points=points, encoding=encoding, sender_name=sender_name,
                 areas={"7702345678": sender_name})
    parsed = parse_80020(data, "f.xml", tz)
    assert parsed.sender_name == sender_name
    assert sorted(parsed.series, key=repr) == sorted(series, key=repr)
    assert parsed.points == points


# --- 80020 refusals ---

def test_error_text_names_file_line_and_element():
    data, line = changed('<value status="0">1210</value>', '<value status="0">12a</value>')
    error = refusal(data)
    assert (error.line, error.element) == (line, f"{A1}/period[start=0100]")
    assert str(error) == (f"{SAMPLE}, line {line}, {A1}/period[start=0100]: value \"12a\" is not a number")
    copy = pickle.loads(pickle.dumps(error))  # crosses process boundaries (Celery) intact
    assert (str(copy), copy.line, copy.element) == (str(error), error.line, error.element)


def test_a_decimal_point_is_accepted():
    data, _ = changed(">1210<", ">1210.6<")
    assert parse_80020(data, SAMPLE, TZ).series[0].values[1] == 1211


@pytest.mark.parametrize("old, new, message", [
    (">1210<", ">-5<", "value -5 is negative"),
    (">1210<", ">1 210<", 'value "1 210" is not a number'),
    (">1210<", ">1,5<", 'value "1,5" is not a number'),
    ('status="0">1210', 'status="x">1210', 'status "x" is not a whole number'),
    (">1210<", ">&#1633;&#1634;<", 'value "١٢" is not a number'),  # Arabic-Indic digits
    ('status="0">1210', 'status="&#178;">1210', 'status "²" is not a whole number'),
    ('<value status="0">1210</value>', "", "expected one <value>, found 0"),
    ('<value status="0">1210</value>', '<value>1</value><value>2</value>', "expected one <value>, found 2"),
])
def test_bad_values(old, new, message):
    data, line = changed(old, new)
    error = refusal(data)
    assert (error.line, error.element, error.message) == (line, f"{A1}/period[start=0100]", message)


def period(start: str) -> str:
    return f'<period start="{start}" '


@pytest.mark.parametrize("old, new, at, message", [
    # the previous period ends at 0100; this one starts inside it
    ('start="0100" end="0200"', 'start="0030" end="0130"', "0030",
     "the period overlaps the previous one, which ends at 0100"),
    ('start="0100" end="0200"', 'start="0200" end="0300"', "0200",
     "a gap before the period: the previous one ends at 0100"),
    ('start="0000" end="0100"', 'start="0000" end="0045"', "0000", "the period lasts 45 min: expected 15, 30 or 60"),
    ('start="0100" end="0200"', 'start="0100" end="0130"', "0100",
     "the period lasts 30 min while the earlier ones last 60 min"),
    ('start="0100" end="0200"', 'start="0100" end="0100"', "0100", "the period lasts 0 min: expected 15, 30 or 60"),
    ('start="0100" end="0200"', 'start="2500" end="0200"', "2500", 'start="2500" is not a time hhmm'),
    ('start="0100" end="0200"', 'start="0100"', "0100", 'attribute "end" is missing'),
])
def test_periods_that_do_not_tile_the_day(old, new, at, message):
    data, line = changed(old, new)
    error = refusal(data)
    assert (error.line, error.element, error.message) == (line, f"{A1}/period[start={at}]", message)


def lines_without(text: str, *needles: str) -> str:
    return "\n".join(line for line in text.split("\n") if not any(n in line for n in needles))


def test_periods_out_of_order():
    text = sample_text()
    start = text.index(period("0100"))
    row = text[start:text.index("\n", start) + 1]
    error = refusal(text.replace(row, row + "\t\t\t\t" + row, 1).encode("cp1251"))  # 0100 again after 0100
    assert (error.line, error.element) == (line_of(text, row) + 1, f"{A1}/period[start=0100]")
    assert error.message == "the period is out of order: it comes after the one starting at 0100"


def test_first_period_not_at_midnight_and_day_not_complete():
    text = sample_text()
    error = refusal(lines_without(text, period("0000") + 'end="0100"><value status="0">1200').encode("cp1251"))
    assert error.element == f"{A1}/period[start=0100]"
    assert error.message == "the first period starts at 0100, not at 0000"
    error = refusal(lines_without(text, period("2300") + 'end="0000"><value status="0">1430').encode("cp1251"))
    assert (error.line, error.element) == (line_of(text, '<measuringchannel code="01"'), A1)
    assert error.message == "the periods end at 2300, not at 0000: the day is not complete"
    begin, end = text.index('<measuringchannel code="01"'), text.index("</measuringchannel>")
    empty = text[:begin] + '<measuringchannel code="01"/>' + text[end + len("</measuringchannel>"):]
    error = refusal(empty.encode("cp1251"))
    assert (error.element, error.message) == (A1, "the channel has no periods")


def test_duplicate_point_and_channel():
    data, line = changed('<measuringchannel code="03"', '<measuringchannel code="01"')
    error = refusal(data)
    assert (error.line, error.element) == (line, A1)
    first = line_of(sample_text(), '<measuringchannel code="01"')
    assert error.message == f"measuring point 770100001 channel 01 is given twice (first on line {first})"
    # the same point in the second area, with a channel the first area already gave
    data, line = changed('code="770200001"', 'code="770100001"')
    error = refusal(data)
    assert (error.line, error.element) == (line + 1, A1)


@pytest.mark.parametrize("old, new, element, message", [
    ("<day>20261101</day>", "", "datetime", "<day> is missing"),
    ("<day>20261101</day>", "<day>20261301</day>", "datetime/day", '"20261301" is not a date YYYYMMDD'),
    ("<timestamp>20261102083015</timestamp>", "", "datetime", "<timestamp> is missing"),
    ("<timestamp>20261102083015</timestamp>", "<timestamp>2026-11-02</timestamp>", "datetime/timestamp",
     '"2026-11-02" is not a date YYYYMMDDhhmmss'),
    ("<daylightsavingtime>0<", "<daylightsavingtime>2<", "datetime/daylightsavingtime",
     "daylightsavingtime must be 0 or 1"),
    ("<sender><inn>7701234567</inn>", "<sender>", "sender", "<inn> is missing"),
    ("<inn>7701234567</inn>", "<inn>77012345</inn>", "sender/inn", 'INN "77012345" must be 10 or 12 digits'),
    ("<inn>7702345678</inn>", "<inn></inn>", "area/inn", 'INN "" must be 10 or 12 digits'),
    ('code="770100001" ', "", "area[inn=7702345678]/measuringpoint", 'attribute "code" is missing'),
    ('<measuringchannel code="01"', '<measuringchannel code="05"', A1.replace("=01]", "=05]"),
     'channel code "05" is unknown: expected 01 (A+), 02 (A-), 03 (R+) or 04 (R-)'),
    ('<measuringchannel code="01"', '<measuringchannel code="1"', A1.replace("=01]", "=1]"),
     'channel code "1" is unknown: expected 01 (A+), 02 (A-), 03 (R+) or 04 (R-)'),
    ('<message class="80020" version="2" number="1">', '<message class="80020" version="2">', "message",
     'attribute "number" is missing'),
    ('number="1"', 'number="1a"', "message", 'number="1a" is not a whole number'),
    ("<inn>7702345678</inn>", "<inn>7702345678</inn><peretok/>", "area[inn=7702345678]",
     "unexpected element <peretok> in <area>"),
])
def test_missing_or_bad_header_and_structure(old, new, element, message):
    data, line = changed(old, new)
    error = refusal(data)
    assert (error.element, error.message) == (element, message)
    assert error.line == line


def test_a_message_without_areas():
    text = sample_text()
    head = text[:text.index("\t<area>")]
    error = refusal((head + "</message>\r\n").encode("cp1251"))
    assert (error.line, error.element, error.message) == (2, "message", "the message has no <area>")


@pytest.mark.parametrize("data, line, message", [
    (b"meter;channel;start\r\n1001;A+;2026-11-01", 1, "not XML: the file does not start with '<'"),
    (b'<?xml version="1.0"?>\n<message class="80040" version="2" number="1"/>', 2,
     'class="80040": not an 80020 file'),
    (b'<?xml version="1.0"?>\n<catalog>\n<book/>\n</catalog>\n', 2,
     "the root element is <catalog>, not <message>: not an 80020 file"),
    (b'<?xml version="1.0"?>\n<!DOCTYPE message [<!ENTITY v "5">]>\n<message class="80020">&v;</message>', 2,
     "a DOCTYPE is not allowed in an 80020 file"),
    (b'<message class="80020">\n<area></arae>\n</message>', 2,
     "not well-formed XML: Opening and ending tag mismatch: area line 2 and arae"),
    (b"<message>\x01</message>", 1, "not well-formed XML: PCDATA invalid Char value 1"),
    (b"<message>\x00</message>", 1, "the file contains NUL bytes: it is binary or UTF-16, expected UTF-8 or "
     "windows-1251 text"),
    (b"  \r\n", None, "the file is empty"),
])
def test_not_an_80020_file(data, line, message):
    error = refusal(data)
    assert (error.line, error.message) == (line, message)


def test_a_truncated_file():
    data = (DATA / SAMPLE).read_bytes()
    for cut in (len(data) // 2, len(data) - 5, 200):
        error = refusal(data[:cut])
        assert error.message.startswith("the file is cut short: it ends before </message> (")
        assert error.line == data[:cut].rstrip().count(b"\n") + 1


def test_encoding_problems():
    text = sample_text()
    sender_line = line_of(text, "<sender>")
    # UTF-8 bytes under a windows-1251 label would read as mojibake
    error = refusal(text.encode("utf-8"))
    assert error.line == sender_line
    assert error.message == 'the file declares encoding "windows-1251" but its text is UTF-8'
    # windows-1251 bytes labelled UTF-8
    data, _ = changed('encoding="windows-1251"', 'encoding="UTF-8"')
    error = refusal(data)
    assert (error.line, error.message) == (sender_line, "byte 0xCE cannot be read as UTF-8")
    # no declaration at all means UTF-8
    data = text.split("\n", 1)[1].encode("cp1251")
    error = refusal(data)
    assert error.line == sender_line - 1
    assert error.message == "byte 0xCE cannot be read as UTF-8 (with no encoding declared, the file must be UTF-8)"
    for label, message in [("klingon", 'unknown encoding "klingon"'),
                           ("utf-16", 'encoding "utf-16" is not supported: expected UTF-8 or windows-1251')]:
        data, _ = changed('encoding="windows-1251"', f'encoding="{label}"')
        error = refusal(data)
        assert (error.line, error.message) == (1, message)
    error = refusal(codecs.BOM_UTF8 + (DATA / SAMPLE).read_bytes())
    assert error.message == 'the file starts with a UTF-8 byte order mark but declares encoding "windows-1251"'
    error = refusal(text.encode("utf-16"))
    assert error.message.startswith("the file contains NUL bytes")


def test_utf8_with_bom_and_no_declaration_is_read():
    text = sample_text().split("\n", 1)[1]
    parsed = parse_80020(codecs.BOM_UTF8 + text.encode("utf-8"), SAMPLE, TZ)
    assert parsed.sender_name == "ООО «Энергосбыт Северный»" and len(parsed.series) == 3


def test_a_day_with_a_clock_change_is_refused():
    berlin = ZoneInfo("Europe/Berlin")
    data, line = changed("<day>20261101</day>", "<day>20261025</day>")
    error = refusal(data, tz=berlin)
    assert (error.line, error.element) == (line, "datetime/day")
    assert error.message == "2026-10-25 has a clock change in Europe/Berlin: an 80020 day cannot describe it"
    assert parse_80020(data, SAMPLE, ZoneInfo("Europe/Moscow")).day == date(2026, 10, 25)


# --- 80020 writer refusals ---

def test_writer_refuses_what_it_cannot_write():
    day_series = Series("1", "A+", MIDNIGHT, 60, [1] * 24)
    with pytest.raises(ExchangeError, match="the series covers 2026-10-31 21:00–2026-11-01 20:00 UTC, not the day"):
        write([Series("1", "A+", MIDNIGHT, 60, [1] * 23)])
    with pytest.raises(ExchangeError, match="given twice"):
        write([day_series, day_series])
    with pytest.raises(ExchangeError, match="no valid area INN"):
        write([day_series], area_inn=None)
    with pytest.raises(ExchangeError, match='encoding "utf-16" is not supported'):
        write([day_series], encoding="utf-16")
    with pytest.raises(ExchangeError, match="clock change"):
        write([day_series], day=date(2026, 10, 25), tz=ZoneInfo("Europe/Berlin"))
    with pytest.raises(ExchangeError, match='INN "123" must be 10 or 12 digits') as info:
        write([day_series], sender_inn="123")
    assert info.value.file == "80020_123_20261101_7.xml"


# --- CSV ---

def csv_bytes(*rows: str, encoding="utf-8") -> bytes:
    return "\r\n".join(("meter;channel;start;minutes;value_wh;status",) + rows).encode(encoding)


def test_csv_round_trip():
    later = MIDNIGHT + timedelta(days=3)
    series = [
        Series("1001", "A+", MIDNIGHT, 30, [1, None, 3] * 16, [0, 0, NC] * 16),
        Series("1001", "A+", MIDNIGHT + timedelta(days=1), 60, [5] * 24),  # adjacent, but another length
        Series("ТП-3/ввод 1", "R-", later, 15, [None] * 4, [Status.POWER_OFF | Status.CLOCK_SET] * 4),
        Series("1001", "A+", later, 30, [9, 10]),  # not adjacent to the first: stays apart
    ]
    data = write_csv(series, TZ)
    assert data.startswith(codecs.BOM_UTF8 + b"meter;channel;start;minutes;value_wh;status\r\n")
    assert b"\r\n1001;A+;2026-11-01T00:30+03:00;30;;0\r\n" in data
    assert parse_csv(data, "out.csv", TZ).series == series


@pytest.mark.parametrize("encoding", ["utf-8", "cp1251"])
def test_csv_without_bom_in_utf8_or_windows_1251(encoding):
    data = csv_bytes("Счётчик-1;Р+;2026-11-01T00:00;60;5;", "Счётчик-1;R+;2026-11-01T01:00;60;6;", encoding=encoding)
    assert parse_csv(data, "r.csv", TZ).series == [Series("Счётчик-1", "R+", MIDNIGHT, 60, [5, 6])]


def test_csv_columns_in_another_order_and_no_status():
    data = b"start;value_wh;meter;channel;minutes\n2026-11-01 00:00;5;7;A-;60\n"
    assert parse_csv(data, "r.csv", TZ).series == [Series("7", "A-", MIDNIGHT, 60, [5])]


@pytest.mark.parametrize("row, column, message", [
    ("1001;A+;2026-11-01T00:30;30;12a;0", "value_wh", 'value "12a" is not a number'),
    ("1001;A+;2026-11-01T00:30;30;-3;0", "value_wh", "value -3 is negative"),
    ("1001;A;2026-11-01T00:30;30;1;0", "channel", 'channel "A" is unknown: expected A+, A-, R+ or R-'),
    ("1001;A+;2026-11-01T00:30;20;1;0", "minutes", '"20" minutes: expected 15, 30 or 60'),
    ("1001;A+;1 Nov 2026;30;1;0", "start", '"1 Nov 2026" is not a time: expected 2026-11-01T00:30 or 01.11.2026 0:30'),
    ("1001;A+;2026-11-01T00:10;30;1;0", "start", "2026-11-01T00:10 is not the start of a 30-minute interval"),
    ("1001;A+;2026-11-01T00:30;30;1;1024", "status",
     f'status "1024" is not a sum of status bits ({", ".join(str(flag.value) for flag in Status)})'),
    ("1001;A+;2026-11-01T00:30;30;1;-1", "status",
     f'status "-1" is not a sum of status bits ({", ".join(str(flag.value) for flag in Status)})'),
    (";A+;2026-11-01T00:30;30;1;0", "meter", "the meter is empty"),
])
def test_csv_bad_cells(row, column, message):
    error = refusal(csv_bytes("1001;A+;2026-11-01T00:00;30;1;0", row), parse_csv, "r.csv")
    assert (error.line, error.element, error.message) == (3, f"column {column}", message)
    assert str(error) == f"r.csv, line 3, column {column}: {message}"


def test_csv_duplicates_and_overlaps():
    error = refusal(csv_bytes("1;A+;2026-11-01T00:00;30;1;0", "2;A+;2026-11-01T00:00;30;1;0",
                              "1;A+;2026-11-01T00:00+03:00;30;2;0"), parse_csv, "r.csv")
    assert (error.line, error.element) == (4, "column start")
    assert error.message == "meter 1 A+ at 2026-11-01T00:00+03:00 is given twice (first on line 2)"
    error = refusal(csv_bytes("1;A+;2026-11-01T00:00;60;1;0", "1;A+;2026-11-01T01:00;60;1;0",
                              "1;A+;2026-11-01T01:30;30;2;0"), parse_csv, "r.csv")
    assert error.line == 4
    assert error.message == "meter 1 A+: the rows of lines 4–4 overlap those of lines 2–3"


@pytest.mark.parametrize("data, line, message", [
    (b"", None, "the file is empty"),
    (b"meter;channel;start;minutes;value_wh;status\r\n\r\n", None, "the file has a header but no rows"),
    (b"meter,channel,start,minutes,value_wh,status\r\n", 1, "the columns must be separated by ';', not ','"),
    (b"meter;channel;begin;minutes;value_wh\r\n", 1,
     "unknown column 'begin': expected meter;channel;start;minutes;value_wh;status"),
    (b"meter;channel;start;value_wh\r\n", 1,
     "no column 'minutes': expected meter;channel;start;minutes;value_wh;status"),
    (b"meter;channel;start;minutes;value_wh;meter\r\n", 1, "column 'meter' is given twice"),
    (csv_bytes("1;A+;2026-11-01T00:00;30;1"), 2, "expected 6 columns, found 5"),
    (csv_bytes("1;A+;2026-11-01T00:00;30;\x98;0", encoding="latin-1"), 2,
     "byte 0x98 cannot be read as UTF-8 or windows-1251"),
    # a BOM promises UTF-8, so windows-1251 bytes after it are refused
    (codecs.BOM_UTF8 + csv_bytes("1;A+;2026-11-01T00:00;30;1;0") + "\r\nСчётчик;A+;".encode("cp1251"), 3,
     "byte 0xD1 cannot be read as UTF-8"),
])
def test_csv_bad_files(data, line, message):
    error = refusal(data, parse_csv, "r.csv")
    assert (error.line, error.message) == (line, message)


def test_csv_ambiguous_local_time_needs_an_offset():
    berlin = ZoneInfo("Europe/Berlin")
    error = refusal(csv_bytes("1;A+;2026-10-25T02:30;30;1;0"), parse_csv, "r.csv", tz=berlin)
    assert (error.line, error.element) == (2, "column start")
    assert error.message.startswith("2026-10-25T02:30 is ambiguous in Europe/Berlin")
    (series,) = parse_csv(csv_bytes("1;A+;2026-10-25T02:30+01:00;30;1;0"), "r.csv", berlin).series
    assert series.start == datetime(2026, 10, 25, 1, 30, tzinfo=timezone.utc)
