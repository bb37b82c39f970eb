"""The operator's ASKUE pages: sources with a "poll now" button, silent meters, the event log and
80020/CSV uploads applied whole or refused with the place of the problem."""
import io
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app import policy
from app.extensions import db
from app.models import AskuePoint, AskueSource, AuditEvent, ExchangeFile, MeterEventLog, interval_table
from app.models.types import utcnow
from tests.factories import PASSWORD
from tests.helpers import Browser

SAMPLE = Path(__file__).resolve().parents[1] / "askue" / "data" / "80020_7701234567_20261101_1.xml"
CODES = ("770100001", "770200001")


@pytest.fixture
def operator(client, users):
    client.login(users.staff(policy.OPERATOR).email, PASSWORD)
    return client


def _source(code="conc-1", enabled=True, polled_at=None):
    source = AskueSource(code=code, name=f"Концентратор {code}", protocol="modbus", host="127.0.0.1", port=1,
                         every_minutes=15, enabled=enabled, polled_at=polled_at)
    db.session.add(source)
    db.session.commit()
    return source


def _row(html: str, text: str) -> str:
    """The table row that holds `text`."""
    return next(row for row in re.findall(r"<tr>.*?</tr>", html, re.S) if text in row)


def _interval_count() -> int:
    return db.session.scalar(select(func.count()).select_from(interval_table))


def test_the_operator_sees_sources_and_silent_meters(operator, users, billing):
    source = _source(polled_at=utcnow() - timedelta(hours=1))
    source.last_error = "ConnectionRefusedError: line down"
    now = utcnow()
    heard = billing.askue_point(billing.meter(users.account()), code="P-HEARD", source=source)
    old = billing.askue_point(billing.meter(users.account(number="7700000042"), serial="SER-OLD"), code="P-OLD",
                              source=source)
    never = billing.askue_point(billing.meter(users.account()), code="P-NEVER", source=source)
    heard.last_seen_at, old.last_seen_at = now - timedelta(hours=2), now - timedelta(hours=72)
    old.failures, old.last_error, old.retry_at = 3, "MeterSilent: no answer", now + timedelta(hours=1)
    db.session.commit()
    assert never.last_seen_at is None

    page = operator.get("/staff/askue")
    html = page.get_data(as_text=True)

    assert page.status_code == 200 and '<html lang="ru">' in html
    assert "АСКУЭ" in html  # the navigation entry
    sources_row = _row(html, "conc-1")
    assert "Концентратор conc-1" in sources_row and "modbus" in sources_row and "line down" in sources_row
    assert re.findall(r'<td class="text-end">(\d+)</td>', sources_row) == ["15", "3", "2"]
    assert 'name="csrf_token"' in sources_row
    assert "P-NEVER" in html and "P-OLD" in html and "P-HEARD" not in html
    old_row = _row(html, "P-OLD")
    assert "SER-OLD" in old_row and "7700000042" in old_row and "MeterSilent: no answer" in old_row
    assert html.index("P-NEVER") < html.index("P-OLD")  # never heard from comes first
    assert 'scope="col"' in html and "table-responsive" in html and "<caption>" in html

    fewer = operator.get("/staff/askue?hours=100").get_data(as_text=True)
    assert "P-NEVER" in fewer and "P-OLD" not in fewer
    assert re.findall(r'<td class="text-end">(\d+)</td>', _row(fewer, "conc-1")) == ["15", "3", "1"]


@pytest.mark.parametrize("typed", ["abc", "0", "721", "2.5"])
def test_a_wrong_number_of_hours_is_explained_and_kept(operator, typed):
    html = operator.get(f"/staff/askue?hours={typed}").get_data(as_text=True)
    field = re.search(r'<input[^>]*id="hours"[^>]*>', html).group(0)
    assert f'value="{typed}"' in field and 'aria-invalid="true"' in field
    assert 'id="hours-error"' in html


def test_the_hours_error_speaks_the_users_language(operator):
    operator.submit("/staff/askue", {"lang": "en", "next": "/staff/askue"}, action="/language")
    html = operator.get("/staff/askue?hours=1000").get_data(as_text=True)
    assert "Enter a whole number of hours from 1 to 720." in html


def test_customers_and_specialists_are_refused(app, users):
    source = _source()
    for user in (users.customer(), users.staff(policy.SPECIALIST)):
        browser = Browser(app.test_client())
        browser.login(user.email, PASSWORD)
        for path in ("/staff/askue", "/staff/askue/events", "/staff/askue/files"):
            assert browser.get(path).status_code == 403, (user.roles, path)
        token = browser.csrf("/profile/")
        assert browser.post(f"/staff/askue/sources/{source.id}/poll", data={"csrf_token": token}).status_code == 403
        assert "/staff/askue" not in browser.get("/profile/").get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(AskueSource, source.id).polled_at is None
    denied = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "access.denied")).all()
    assert {e.details["permission"] for e in denied} == {"askue.operate"}


def test_poll_now_queues_the_poll_and_refuses_a_second_one(operator):
    source = _source()
    done = operator.submit("/staff/askue", {}, action=f"/staff/askue/sources/{source.id}/poll", follow=True)
    html = done.get_data(as_text=True)
    assert done.status_code == 200 and "alert-success" in html and "conc-1" in html
    db.session.expire_all()
    polled = db.session.get(AskueSource, source.id)
    # Tests run tasks eagerly: the queued poll has run (this source has no meters to read).
    assert polled.polled_at is not None and polled.succeeded_at is not None
    first_poll = polled.polled_at

    again = operator.submit("/staff/askue", {}, action=f"/staff/askue/sources/{source.id}/poll", follow=True)
    assert "alert-warning" in again.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(AskueSource, source.id).polled_at == first_poll
    outcomes = db.session.scalars(select(AuditEvent.outcome).where(AuditEvent.action == "askue.poll_requested")
                                  .order_by(AuditEvent.id)).all()
    assert outcomes == ["ok", "refused"]


def test_poll_now_sends_the_task(operator, monkeypatch):
    from app.web.staff import askue as views

    sent = []
    monkeypatch.setattr(views, "enqueue", lambda task, *args: sent.append((task.name, args)))
    source = _source()
    off = _source("conc-off", enabled=False)
    operator.submit("/staff/askue", {}, action=f"/staff/askue/sources/{source.id}/poll")
    refused = operator.submit("/staff/askue", {}, action=f"/staff/askue/sources/{off.id}/poll", follow=True)
    assert sent == [("askue.poll_source", (source.id,))]
    assert "alert-warning" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(AskueSource, off.id).polled_at is None


def test_poll_now_gives_the_claim_back_when_the_queue_is_down(operator, monkeypatch):
    from kombu.exceptions import OperationalError

    from app.web.staff import askue as views

    def down(task, *args):
        raise OperationalError("broker unreachable")

    monkeypatch.setattr(views, "enqueue", down)
    earlier = utcnow() - timedelta(hours=1)
    source = _source(polled_at=earlier)
    page = operator.submit("/staff/askue", {}, action=f"/staff/askue/sources/{source.id}/poll", follow=True)
    assert "alert-danger" in page.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(AskueSource, source.id).polled_at == earlier


def test_poll_now_needs_the_forms_token(operator):
    source = _source()
    assert operator.post(f"/staff/askue/sources/{source.id}/poll").status_code == 400
    db.session.expire_all()
    assert db.session.get(AskueSource, source.id).polled_at is None


def _points(users, billing):
    return {code: billing.askue_point(billing.meter(users.account(), zones=2, askue=True), code=code) for code in CODES}


def _upload(browser, *files):
    token = browser.csrf("/staff/askue/files")
    return browser.post("/staff/askue/files", content_type="multipart/form-data", data={
        "csrf_token": token, "files": [(io.BytesIO(content), name) for name, content in files]})


def test_uploading_an_80020_file_applies_it_once(operator, users, billing):
    _points(users, billing)
    page = _upload(operator, (SAMPLE.name, SAMPLE.read_bytes()))
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "alert-success" in html
    stored = _interval_count()
    assert stored > 0
    [record] = db.session.scalars(select(ExchangeFile)).all()
    assert (record.status, record.values_new, record.values_repeated) == ("applied", stored, 0)
    assert record.uploaded_by_id is not None
    result_row = _row(html, 'scope="row" class="text-break">' + SAMPLE.name)
    assert "text-success" in result_row and str(stored) in result_row

    again = _upload(operator, (SAMPLE.name, SAMPLE.read_bytes())).get_data(as_text=True)
    assert "text-body-secondary" in _row(again, 'scope="row" class="text-break">' + SAMPLE.name)
    db.session.expire_all()
    assert _interval_count() == stored and db.session.scalar(select(func.count()).select_from(ExchangeFile)) == 1


def test_a_broken_file_is_refused_with_its_line_and_stores_nothing(operator, users, billing):
    _points(users, billing)
    broken = SAMPLE.read_bytes().replace(b'<value status="0">1300</value>', b'<value status="0">13x0</value>', 1)
    html = _upload(operator, (SAMPLE.name, broken)).get_data(as_text=True)
    refusal = _row(html, 'scope="row" class="text-break">' + SAMPLE.name)
    assert "text-danger" in refusal and f"{SAMPLE.name}, line 20" in refusal and "13x0" in refusal
    assert "alert-danger" in html
    db.session.expire_all()
    assert _interval_count() == 0
    assert db.session.scalars(select(ExchangeFile.status)).all() == ["refused"]

    # Several files at once: each stands on its own; the list below shows both.
    both = _upload(operator, ("80020_7701234567_20261101_2.xml", broken), (SAMPLE.name, SAMPLE.read_bytes()))
    html = both.get_data(as_text=True)
    assert "text-danger" in _row(html, 'scope="row" class="text-break">80020_7701234567_20261101_2.xml')
    assert "text-success" in _row(html, 'scope="row" class="text-break">' + SAMPLE.name)
    db.session.expire_all()
    assert _interval_count() > 0
    assert db.session.scalars(select(ExchangeFile.status).order_by(ExchangeFile.id)).all() == [
        "refused", "refused", "applied"]


def test_an_upload_needs_a_file_and_respects_the_size_limit(app, operator):
    empty = _upload(operator).get_data(as_text=True)
    assert 'id="files-error"' in empty
    app.config["MAX_CONTENT_LENGTH"] = 1024
    assert _upload(operator, (SAMPLE.name, SAMPLE.read_bytes())).status_code == 413
    assert db.session.scalar(select(func.count()).select_from(ExchangeFile)) == 0


def test_the_event_log_filters_by_category_and_meter(operator, users, billing):
    source = _source()
    first = billing.askue_point(billing.meter(users.account(), serial="SER-A"), code="PT-A", source=source)
    second = billing.askue_point(billing.meter(users.account(), serial="SER-B"), code="PT-B", source=source)
    at = datetime(2026, 11, 1, 9, 0, tzinfo=timezone.utc)
    db.session.add_all([
        MeterEventLog(meter_id=first.meter_id, at=at, kind="cover_opened", category="meter", details={}),
        MeterEventLog(meter_id=first.meter_id, at=at + timedelta(hours=1), kind="silent", category="line",
                      details={"error": "no answer"}, source_id=source.id),
        MeterEventLog(meter_id=second.meter_id, at=at + timedelta(hours=2), kind="above_pmax", category="validation",
                      details={"wh": 99999}),
    ])
    db.session.commit()

    everything = operator.get("/staff/askue/events").get_data(as_text=True)
    assert all(code in everything for code in ("SER-A", "SER-B", "PT-A", "PT-B"))
    assert everything.index("SER-B") < everything.index("SER-A")  # newest first

    line = operator.get("/staff/askue/events?category=line").get_data(as_text=True)
    assert "SER-A" in line and "SER-B" not in line and "no answer" in line and "conc-1" in _row(line, "SER-A")

    by_serial = operator.get("/staff/askue/events?meter=SER-B").get_data(as_text=True)
    assert "SER-B" in by_serial and "SER-A" not in by_serial
    by_code = operator.get("/staff/askue/events?meter=PT-A&category=meter").get_data(as_text=True)
    assert len(re.findall(r"<tr><td", by_code)) == 1 and "SER-A" in by_code

    nothing = operator.get("/staff/askue/events?meter=NOPE").get_data(as_text=True)
    assert "SER-A" not in nothing and "SER-B" not in nothing
    assert operator.get("/staff/askue/events?category=bogus").status_code == 200


def test_points_without_a_source_are_counted(operator, users, billing):
    billing.askue_point(billing.meter(users.account()), code="FILE-ONLY")
    html = operator.get("/staff/askue").get_data(as_text=True)
    assert "FILE-ONLY" in html
    assert db.session.scalar(select(func.count()).select_from(AskuePoint)) == 1
