"""The poller reading an ASKUE server (REST and SOAP stand-ins on loopback) page by page from its
cursor: all values stored once, a poller killed mid-run and started again loses and repeats nothing."""
import os
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AskuePoint, AskueSource, MeterEventLog, interval_table
from app.services import askue_polling
from askue.series import CHANNEL_NAMES
from askue.simulators.askue_server import AskueServerSimulator

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)
SECRET = "askue-secret"


def _setup(users, billing, server, protocol, page_size):
    url = server.rest_url if protocol == "rest" else server.soap_url
    source = AskueSource(code=f"askue-{protocol}", name="ASKUE server", protocol=protocol, url=url, every_minutes=15,
                         settings={"client_id": "gridcase", "username": "gridcase", "page_size": page_size,
                                   "secret_env": "TEST_ASKUE_SECRET"})
    db.session.add(source)
    db.session.commit()
    for code in server.points:
        meter = billing.meter(users.account(), zones=2, askue=True, installed_on=datetime(2026, 1, 1).date())
        billing.askue_point(meter, code=code, source=source)
    return source


def _stored():
    codes = dict(db.session.execute(select(AskuePoint.meter_id, AskuePoint.code)).all())
    rows = db.session.execute(select(interval_table.c.meter_id, interval_table.c.channel, interval_table.c.start,
                                     interval_table.c.wh))
    return {(codes[m], CHANNEL_NAMES[c], s.astimezone(timezone.utc)): wh for m, c, s, wh in rows}


def _expected(server):
    return {key: wh for key, wh in server.expected_values().items() if wh is not None}


@pytest.mark.parametrize("protocol", ["rest", "soap"])
def test_a_server_is_read_from_its_cursor_and_again_only_for_what_is_new(users, billing, monkeypatch, protocol):
    monkeypatch.setenv("TEST_ASKUE_SECRET", SECRET)
    clock = [NOW]
    with AskueServerSimulator(points=3, clock=lambda: clock[0], history=timedelta(hours=12)) as server:
        source = _setup(users, billing, server, protocol, page_size=7)
        first = askue_polling.poll_source(source.id)
        clock[0] = NOW + timedelta(hours=2)
        second = askue_polling.poll_source(source.id)
        expected = _expected(server)

    assert first.pages >= 2 and first.values_repeated == 0
    assert second.values_new > 0 and second.values_repeated == 0
    assert _stored() == expected
    assert db.session.get(AskueSource, source.id).cursor
    assert db.session.scalar(select(AskuePoint.last_seen_at).limit(1)) is not None
    kinds = set(db.session.scalars(select(MeterEventLog.kind)))
    assert kinds == {kind for _, _, kind in server.expected_events()}


def test_a_failing_server_is_an_error_on_the_source_and_nothing_is_half_written(users, billing, monkeypatch):
    monkeypatch.setenv("TEST_ASKUE_SECRET", SECRET)
    with AskueServerSimulator(points=2, clock=lambda: NOW) as server:
        source = _setup(users, billing, server, "rest", page_size=5)
        server.fail_next(100)
        with pytest.raises(Exception):
            askue_polling.poll_source(source.id)
    source = db.session.get(AskueSource, source.id)
    assert "SourceError" in source.last_error and source.cursor is None
    assert _stored() == {}


def test_a_poller_killed_mid_run_and_started_again_loses_and_repeats_nothing(users, billing, database_url,
                                                                              monkeypatch):
    monkeypatch.setenv("TEST_ASKUE_SECRET", SECRET)
    with AskueServerSimulator(points=4, clock=lambda: NOW, history=timedelta(days=1)) as server:
        source = _setup(users, billing, server, "rest", page_size=3)
        server.page_delay = 0.15
        env = {**os.environ, "DATABASE_URL": database_url, "TEST_ASKUE_SECRET": SECRET}
        command = [sys.executable, "-m", "flask", "--app", "app", "askue", "poll", "--source", source.code]
        poller = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            db.session.expire_all()
            if len(_stored()) >= 10:
                break
            time.sleep(0.05)
        poller.kill()
        poller.wait()
        db.session.expire_all()
        cut_short = _stored()
        expected = _expected(server)
        assert 0 < len(cut_short) < len(expected), "the poller was not caught mid-run"

        server.page_delay = 0
        again = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert again.returncode == 0, again.stdout + again.stderr

    db.session.expire_all()
    assert _stored() == expected  # nothing lost; the primary key rules out anything stored twice
