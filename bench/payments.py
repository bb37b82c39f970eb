"""Provider notifications on PostgreSQL: each one verified by asking the provider (the YooKassa stand-in
on loopback) and applied under the payment's lock, as the notification endpoint does.

    python -m bench.payments [--payments 2000] [--workers 4]

Payments are created and paid at the stand-in first (not timed); then --workers processes handle one
notification per payment side by side, and a second, duplicate notification for a tenth of them (a
provider repeats itself). Figures: notifications per second over all processes, and the 95th
percentile of one notification's handling time.
"""
import argparse
import json
import logging
import multiprocessing
import tempfile
import time

import flask_migrate

from bench.support import database_url, ensure_database, percentile, report


def _settings(stand_in_url: str, shop_id: str, secret: str) -> dict:
    return {"PAYMENT_PROVIDERS": ("yookassa",), "YOOKASSA_SHOP_ID": shop_id, "YOOKASSA_SECRET_KEY": secret,
            "YOOKASSA_URL": stand_in_url, "YOOKASSA_NETWORKS": ["127.0.0.0/8"], "PUBLIC_URL": "http://127.0.0.1:5000"}


def _worker(args) -> tuple[int, list[float], float, float]:
    url, settings, bodies, start_at = args
    logging.disable(logging.WARNING)
    from app import create_app
    from app.services import payments

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url, FILE_STORE=tempfile.mkdtemp(), **settings)
    timings = []
    with app.app_context():
        time.sleep(max(0.0, start_at - time.time()))
        began = time.time()
        for body in bodies:
            started = time.perf_counter()
            code, _headers, _body = payments.notification("yookassa", {}, body, "127.0.0.1")
            timings.append(time.perf_counter() - started)
            assert code == 200, code
        return len(bodies), timings, began, time.time()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--payments", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    logging.disable(logging.WARNING)

    from app import create_app
    from app.extensions import db
    from app.models import LedgerEntry, Payment
    from app.services import payments
    from integrations.payments.simulators.yookassa import YooKassaSimulator
    from tests.factories import UserFactory

    url = database_url()
    ensure_database(url)
    with YooKassaSimulator() as stand_in:
        settings = _settings(stand_in.url, stand_in.shop_id, stand_in.secret_key)
        app = create_app("testing", SQLALCHEMY_DATABASE_URI=url, FILE_STORE=tempfile.mkdtemp(), **settings)
        with app.app_context():
            flask_migrate.downgrade(revision="base")
            flask_migrate.upgrade()
            users = UserFactory(app)
            customer = users.customer(email="bench.payer@example.com")
            account = users.account(owner=customer)
            bodies = []
            for n in range(args.payments):
                # Different amounts: the same amount again within a minute would be taken for a double click.
                payment = payments.start(customer, "yookassa", f"{100 + n / 100:.2f}", account=account)
                stand_in.pay(payment.provider_id)
                bodies.append(json.dumps({"type": "notification", "event": "payment.succeeded",
                                          "object": {"id": payment.provider_id, "status": "succeeded"}}).encode())
            bodies += bodies[: args.payments // 10]  # the provider repeats some
            shares = [bodies[i::args.workers] for i in range(args.workers)]
            start_at = time.time() + 15
            with multiprocessing.get_context("spawn").Pool(args.workers) as pool:
                results = pool.map(_worker, [(url, settings, share, start_at) for share in shares])
            handled = sum(r[0] for r in results)
            seconds = max(r[3] for r in results) - min(r[2] for r in results)
            timings = sorted(t for r in results for t in r[1])
            db.session.rollback()
            credited = db.session.query(LedgerEntry).filter(LedgerEntry.account_id == account.id).count()
            succeeded = db.session.query(Payment).filter(Payment.status == "succeeded").count()
    assert credited == succeeded == args.payments, (credited, succeeded)
    print(f"{handled} notifications ({args.payments} payments, {handled - args.payments} repeated) in {seconds:.1f} s "
          f"by {args.workers} processes; every payment credited once")
    report("payments", notifications_per_s=handled / seconds, p95_ms=percentile(timings, 0.95) * 1000)


if __name__ == "__main__":
    main()
