"""A logged-in customer's dashboard served by gunicorn (2 workers) on PostgreSQL, under 20 concurrent
clients for 20 seconds.

    python -m bench.portal [--clients 20] [--seconds 20] [--workers 2]
"""
import argparse
import http.client
import logging
import os
import re
import secrets
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

from bench.support import database_url, migrated_app, percentile, report

EMAIL, PASSWORD = "bench.customer@example.com", "Bench-customer-2026"
ROOT = Path(__file__).resolve().parent.parent


def prepare(url: str) -> None:
    """A customer with three accounts, one shared with a representative, as on a real dashboard."""
    from app import policy
    from app.extensions import db
    from app.models import OWNER, REPRESENTATIVE, AccountAccess, User
    from app.models.types import utcnow
    from app.services import accounts, passwords, users

    app = migrated_app(url, ARGON2_TIME_COST=3, ARGON2_MEMORY_COST=65536)
    with app.app_context():
        if users.by_email(EMAIL) is None:
            customer = User(email=EMAIL, full_name="Нагрузочный Тест", email_confirmed_at=utcnow(),
                            password_hash=passwords.hash_password(PASSWORD))
            customer.set_roles([policy.CUSTOMER])
            helper = User(email="bench.helper@example.com", full_name="Представитель Теста",
                          email_confirmed_at=utcnow(), password_hash=passwords.hash_password(PASSWORD))
            helper.set_roles([policy.CUSTOMER])
            db.session.add_all([customer, helper])
            db.session.flush()
            for n in range(3):
                account = accounts.create(f"90000000{n:02d}", "Нагрузочный Тест",
                                          f"г. Москва, ул. Испытателей, д. {n + 1}", "1111")
                db.session.flush()
                db.session.add(AccountAccess(account=account, user_id=customer.id, role=OWNER))
                if n == 0:
                    db.session.add(AccountAccess(account=account, user_id=helper.id, role=REPRESENTATIVE))
            db.session.commit()
        db.engine.dispose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(url: str, port: int, workers: int) -> subprocess.Popen:
    env = {**os.environ, "GRIDCASE_ENV": "production", "SECRET_KEY": secrets.token_urlsafe(48),
           "DATABASE_URL": url, "SESSION_COOKIE_SECURE": "0", "CELERY_BROKER_URL": "memory://",
           "CELERY_RESULT_BACKEND": "cache+memory://"}
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}",
                             "--log-level", "warning", "app:create_app()"], cwd=ROOT, env=env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).ok:
                return proc
        except requests.ConnectionError:
            time.sleep(0.2)
    proc.terminate()
    raise SystemExit("gunicorn did not start")


def session_cookie(base: str) -> str:
    browser = requests.Session()
    form = browser.get(f"{base}/auth/login").text
    token = re.search(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"', form).group(1)
    answer = browser.post(f"{base}/auth/login", data={"csrf_token": token, "email": EMAIL, "password": PASSWORD},
                          allow_redirects=False)
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/cabinet/"), answer.text[:300]
    page = browser.get(f"{base}/cabinet/")
    assert page.ok and "9000000000" in page.text
    return "; ".join(f"{c.name}={c.value}" for c in browser.cookies)


def load(port: int, cookie: str, clients: int, seconds: float) -> tuple[list[float], int]:
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    stop_at = time.monotonic() + seconds

    def client(n: int) -> None:
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            try:
                conn.request("GET", "/cabinet/", headers={"Cookie": cookie})
                response = conn.getresponse()
                body = response.read()
                ok = response.status == 200 and b"9000000000" in body
            except OSError:
                ok = False
            finally:
                conn.close()
            if ok:
                latencies[n].append((time.perf_counter() - started) * 1000)
            else:
                errors[n] += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sorted(x for per_client in latencies for x in per_client), sum(errors)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    logging.disable(logging.INFO)

    url = database_url()
    prepare(url)
    port = free_port()
    server = start_gunicorn(url, port, args.workers)
    try:
        cookie = session_cookie(f"http://127.0.0.1:{port}")
        load(port, cookie, args.clients, 2)  # warm-up: workers' first requests compile templates
        samples, errors = load(port, cookie, args.clients, args.seconds)
    finally:
        server.terminate()
        server.wait(timeout=10)
    print(f"{len(samples)} dashboards in {args.seconds:.0f} s, {errors} errors, "
          f"{args.clients} clients, {args.workers} workers")
    report("portal", rps=len(samples) / args.seconds, p50_ms=percentile(samples, 0.50),
           p95_ms=percentile(samples, 0.95), errors=errors)


if __name__ == "__main__":
    main()
