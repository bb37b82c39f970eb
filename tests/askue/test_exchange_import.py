"""`flask askue import/export`: 80020 and CSV files applied whole or refused whole, with the place of
the problem; a file applied twice changes nothing; an exported day reads back the same."""
from datetime import date
from pathlib import Path

from sqlalchemy import func, select

from app.extensions import db
from app.models import ExchangeFile, IntervalDay, interval_table
from zoneinfo import ZoneInfo

from askue.exchange import parse_exchange_file

DATA = Path(__file__).parent / "data"
SAMPLE = DATA / "80020_7701234567_20261101_1.xml"
CODES = ("770100001", "770200001")


def _points(users, billing, codes=CODES):
    return {code: billing.askue_point(billing.meter(users.account(), zones=2, askue=True), code=code) for code in codes}


def _cli(app, *args):
    return app.test_cli_runner().invoke(args=["askue", *args])


def _count():
    return db.session.scalar(select(func.count()).select_from(interval_table))


def test_an_80020_file_is_applied_once_and_summed(app, users, billing, tmp_path):
    points = _points(users, billing)
    parsed = parse_exchange_file(SAMPLE.read_bytes(), SAMPLE.name, ZoneInfo("Europe/Moscow"))
    values = sum(1 for s in parsed.series for v in s.values if v is not None)

    first = _cli(app, "import", str(SAMPLE))
    again = _cli(app, "import", str(SAMPLE))

    assert first.exit_code == 0, first.output
    assert f"{values} new value(s)" in first.output
    assert again.exit_code == 0 and "applied before" in again.output
    assert _count() == values
    point = points["770100001"]
    day = db.session.scalar(select(IntervalDay).where(IntervalDay.meter_id == point.meter_id, IntervalDay.channel == 1))
    wanted = sum(v for s in parsed.series if s.meter == "770100001" and s.channel == "A+" for v in s.values if v)
    assert (day.day, day.wh) == (date(2026, 11, 1), wanted)


def test_a_broken_file_applies_nothing_and_says_where(app, users, billing, tmp_path):
    _points(users, billing)
    broken = tmp_path / SAMPLE.name
    text = SAMPLE.read_bytes().replace(b'<value status="0">1300</value>', b'<value status="0">13x0</value>', 1)
    broken.write_bytes(text)
    truncated = tmp_path / "80020_7701234567_20261101_2.xml"
    truncated.write_bytes(SAMPLE.read_bytes()[:3000])

    result = _cli(app, "import", str(broken), str(truncated))

    assert result.exit_code == 2
    assert f"{SAMPLE.name}, line 20" in result.output and "13x0" in result.output
    assert "80020_7701234567_20261101_2.xml" in result.output
    assert _count() == 0
    assert db.session.scalars(select(ExchangeFile.status)).all() == ["refused", "refused"]


def test_unknown_measuring_points_refuse_the_file(app, users, billing):
    _points(users, billing, CODES[:1])
    result = _cli(app, "import", str(SAMPLE))
    assert result.exit_code == 2 and "unknown measuring point codes: 770200001" in result.output
    assert _count() == 0


def test_an_exported_day_reads_back_the_same(app, users, billing, tmp_path):
    _points(users, billing)
    assert _cli(app, "import", str(SAMPLE)).exit_code == 0
    tz = ZoneInfo("Europe/Moscow")
    original = parse_exchange_file(SAMPLE.read_bytes(), SAMPLE.name, tz)

    for kind in ("80020", "csv"):
        result = _cli(app, "export", "--day", "2026-11-01", "--format", kind, "--out", str(tmp_path))
        assert result.exit_code == 0, result.output
        path = Path(result.output.strip())
        exported = parse_exchange_file(path.read_bytes(), path.name, tz)

        def values(parsed):
            return {(s.meter, s.channel, s.start, s.minutes): s.values for s in parsed.series}

        assert values(exported) == values(original), kind
