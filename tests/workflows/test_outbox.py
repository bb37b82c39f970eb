"""The outbox against a real HTTP server on loopback: retried with backoff until it answers, the
answer correlated back into the case; a call that keeps failing becomes an incident an admin retries."""
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Case, OutboxMessage
from app.models.types import utcnow
from workflows import definitions, engine, outbox

DIAGRAM = Path(__file__).with_name("outbox.bpmn")


@pytest.fixture
def server():
    """Answers 500 `failures` times, then 200 with a registration number."""
    state = {"failures": 2, "calls": 0}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            state["calls"] += 1
            self.rfile.read(int(self.headers["Content-Length"]))
            if state["calls"] <= state["failures"]:
                self.send_response(500)
                self.end_headers()
                return
            body = json.dumps({"registration": "GIS-42"}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_port}/submit", state
    httpd.shutdown()


@pytest.fixture
def deployed(app):
    definitions.deploy(DIAGRAM.read_bytes(), source="test")


def pending(case_id):
    db.session.expire_all()
    return db.session.scalar(select(OutboxMessage).where(OutboxMessage.case_id == case_id))


def test_retried_until_answered_then_correlated(deployed, server, users):
    url, state = server
    case = engine.start_case("outbox_test", applicant=users.customer(), data={"webhook_url": url})
    assert case.status_label == "Ждём ответа"
    moment = utcnow()
    for attempt in range(3):
        moment += timedelta(minutes=10)
        outbox.deliver_due(now=moment)
    row = pending(case.id)
    assert (row.status, row.attempts, state["calls"]) == ("sent", 3, 3)
    assert row.result == {"registration": "GIS-42"}
    case = db.session.get(Case, case.id)
    assert (case.status, case.status_label) == ("closed", "Ответ получен")


def test_an_incident_after_the_last_attempt_and_the_admin_retry(deployed, server, users):
    url, state = server
    state["failures"] = 10 ** 6
    case = engine.start_case("outbox_test", applicant=users.customer(), data={"webhook_url": url})
    moment = utcnow()
    for _ in range(outbox.MAX_ATTEMPTS + 2):
        moment += timedelta(hours=1)
        outbox.deliver_due(now=moment)
    row = pending(case.id)
    assert (row.status, row.attempts) == ("incident", outbox.MAX_ATTEMPTS) and "500" in row.last_error
    state["failures"] = 0
    outbox.retry(row.id, users.staff("admin"))
    outbox.deliver_due(now=utcnow() + timedelta(seconds=1))
    assert pending(case.id).status == "sent"
    assert db.session.get(Case, case.id).status == "closed"


def test_not_before_its_time(deployed, server, users):
    url, state = server
    case = engine.start_case("outbox_test", applicant=users.customer(), data={"webhook_url": url})
    outbox.deliver_due(now=utcnow() + timedelta(minutes=1))
    assert pending(case.id).attempts == 1
    outbox.deliver_due(now=utcnow() + timedelta(seconds=61))  # the retry waits 30 s after the first failure
    outbox.deliver_due(now=utcnow() + timedelta(seconds=62))
    assert pending(case.id).attempts in (2, 3)


def test_a_refusal_is_an_incident_at_once(app):
    def refuse(payload):
        raise outbox.Rejected("UNKNOWN_APPLICATION: no such application")

    outbox.DELIVERERS["test.refuse"] = refuse
    try:
        row = outbox.enqueue(None, "test.refuse", {})
        db.session.commit()
        assert outbox.deliver(row.id) == "incident"
        row = db.session.get(OutboxMessage, row.id)
        assert row.attempts == 1 and "UNKNOWN_APPLICATION" in row.last_error
    finally:
        del outbox.DELIVERERS["test.refuse"]
