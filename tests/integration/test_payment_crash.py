"""A worker killed between the provider's confirmation and our posting loses nothing: the payment stays
pending, and the reconciliation job credits it exactly once.

The worker is a real process handling the provider's notification; the stand-in is told to answer the
worker's status request slowly, and the process is killed while it waits for that answer."""
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from app.extensions import db
from app.models import LedgerEntry, Payment
from app.services import payments
from integrations.payments.simulators.yookassa import YooKassaSimulator

WORKER = textwrap.dedent("""
    import sys
    from app import create_app
    from app.services import payments
    url, yookassa_url, body = sys.argv[1], sys.argv[2], sys.argv[3].encode()
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url, PAYMENT_PROVIDERS=("yookassa",),
                     YOOKASSA_SHOP_ID="100500", YOOKASSA_SECRET_KEY="test_secret", YOOKASSA_URL=yookassa_url,
                     YOOKASSA_NETWORKS=["127.0.0.0/8"], PUBLIC_URL="http://127.0.0.1:5000")
    with app.app_context():
        print("handling", flush=True)
        payments.notification("yookassa", {}, body, "127.0.0.1")
        print("done", flush=True)
""")


def test_a_killed_worker_is_made_good_by_reconciliation_once(app, users, database_url):
    customer = users.customer()
    account = users.account(owner=customer)
    with YooKassaSimulator() as stand_in:
        app.config.update(PAYMENT_PROVIDERS=("yookassa",), YOOKASSA_SHOP_ID=stand_in.shop_id,
                          YOOKASSA_SECRET_KEY=stand_in.secret_key, YOOKASSA_URL=stand_in.url,
                          YOOKASSA_NETWORKS=["127.0.0.0/8"])
        payment = payments.start(customer, "yookassa", "321.00", account=account)
        stand_in.pay(payment.provider_id)  # the provider has the money
        body = json.dumps({"type": "notification", "event": "payment.succeeded",
                           "object": {"id": payment.provider_id, "status": "succeeded"}})
        stand_in.delay = 30  # the worker's question to the provider hangs
        worker = subprocess.Popen([sys.executable, "-c", WORKER, database_url, stand_in.url, body],
                                  stdout=subprocess.PIPE, text=True, env={**os.environ, "GRIDCASE_ENV": "testing"})
        try:
            assert worker.stdout.readline().strip() == "handling"
            time.sleep(1.0)  # inside the provider call
            worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=10)
        finally:
            if worker.poll() is None:
                worker.kill()
        stand_in.delay = 0
        db.session.expire_all()
        assert db.session.get(Payment, payment.id).status == "pending"
        assert db.session.scalar(select(LedgerEntry).where(LedgerEntry.account_id == account.id)) is None

        for _ in range(2):
            payments.reconcile(older_than=timedelta(0))
        db.session.expire_all()
        assert db.session.get(Payment, payment.id).status == "succeeded"
        credited = db.session.scalars(select(LedgerEntry).where(LedgerEntry.account_id == account.id)).all()
        assert [e.amount for e in credited] == [Decimal("-321.00")]
