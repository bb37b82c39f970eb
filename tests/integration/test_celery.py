"""Celery end to end: a real worker consuming from RabbitMQ, and from the embedded SQLite broker that
`make run` uses. Tasks run inside the Flask app context and reach the database."""
import socket
import uuid

import pytest
from aiosmtpd.controller import Controller
from celery.contrib.testing.worker import start_worker
from kombu import Connection

from app import create_app
from app.tasks import enqueue
from app.tasks.notify import send_email
from app.tasks.system import ping
from tests.conftest import RABBITMQ_URL, unavailable


def celery_for(tmp_path, broker: str, backend: str, **settings):
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'app.sqlite'}",
                     CELERY_BROKER_URL=broker, CELERY_RESULT_BACKEND=backend, CELERY_TASK_ALWAYS_EAGER=False,
                     CELERY_DEFAULT_QUEUE=f"gridcase-test-{uuid.uuid4().hex[:8]}", **settings)
    celery = app.extensions["celery"]
    celery.conf.task_queues = None
    return app, celery


@pytest.fixture
def rabbitmq():
    try:
        with Connection(RABBITMQ_URL, connect_timeout=3) as conn:
            conn.ensure_connection(max_retries=1, timeout=3)
    except Exception as exc:
        unavailable("RabbitMQ", exc)
    return RABBITMQ_URL


@pytest.mark.integration
def test_task_round_trip_through_rabbitmq(tmp_path, rabbitmq):
    app, celery = celery_for(tmp_path, rabbitmq, "rpc://")
    with start_worker(celery, pool="threads", concurrency=1, perform_ping_check=False, shutdown_timeout=20):
        with app.app_context():
            result = enqueue(ping)
            assert result.get(timeout=30) == {"pong": True, "database": "ok"}


@pytest.mark.integration
def test_email_goes_through_rabbitmq_to_an_smtp_server(tmp_path, rabbitmq):
    received = []

    class Inbox:
        async def handle_DATA(self, server, session, envelope):
            received.append(envelope)
            return "250 OK"

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    smtp = Controller(Inbox(), hostname="127.0.0.1", port=port)
    smtp.start()
    try:
        app, celery = celery_for(tmp_path, rabbitmq, "rpc://", MAIL_URL=f"smtp://127.0.0.1:{port}")
        with start_worker(celery, pool="threads", concurrency=1, perform_ping_check=False, shutdown_timeout=20):
            with app.app_context():
                message_id = enqueue(send_email, "ivanova@example.com", "Тема", "Текст").get(timeout=30)
    finally:
        smtp.stop()
    assert len(received) == 1 and message_id.encode() in received[0].content


def test_embedded_broker_needs_no_server(tmp_path):
    app, celery = celery_for(tmp_path, f"sqla+sqlite:///{tmp_path / 'broker.sqlite'}",
                             f"db+sqlite:///{tmp_path / 'results.sqlite'}")
    with start_worker(celery, pool="threads", concurrency=1, perform_ping_check=False, shutdown_timeout=20):
        with app.app_context():
            assert enqueue(ping).get(timeout=30) == {"pong": True, "database": "ok"}



@pytest.mark.integration
def test_askue_polling_through_rabbitmq(tmp_path, rabbitmq):
    """Beat's `askue.poll_due` sends one task per due source; a worker polls the meters behind it."""
    import time
    from datetime import date

    import flask_migrate
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import Account, AskuePoint, AskueSource, Meter, Premises
    from app.tasks.askue import poll_due
    from askue.simulators.modbus import ModbusGatewaySimulator

    def heard() -> int:
        db.session.expire_all()
        return db.session.scalar(select(func.count()).where(AskuePoint.last_seen_at.is_not(None)))

    app, celery = celery_for(tmp_path, rabbitmq, "rpc://")
    with ModbusGatewaySimulator(meters=3, register_map="mercury234_modbus") as gateway, app.app_context():
        flask_migrate.upgrade()
        source = AskueSource(code="gw", name="Gateway", protocol="modbus", host="127.0.0.1", port=gateway.port,
                             every_minutes=60, settings={"register_map": "mercury234_modbus"})
        account = Account(number="9000000001", holder_name="Тест", address="ул. Тестовая", verification_code_hash="-")
        premises = Premises(account=account, address=account.address)
        for unit in (1, 2, 3):
            meter = Meter(premises=premises, resource="electricity", model="Меркурий 234",
                          serial=gateway.serial(unit), zones=2, installed_on=date(2026, 1, 1), askue=True)
            db.session.add(AskuePoint(meter=meter, source=source, code=f"MB{unit}", address=str(unit)))
        db.session.commit()
        with start_worker(celery, pool="threads", concurrency=1, perform_ping_check=False, shutdown_timeout=20):
            assert enqueue(poll_due).get(timeout=30) == 1
            deadline = time.monotonic() + 30
            while heard() < 3 and time.monotonic() < deadline:
                time.sleep(0.2)
            assert enqueue(poll_due).get(timeout=30) == 0  # taken for this interval already
        assert heard() == 3
