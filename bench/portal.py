"""A logged-in customer's dashboard served by gunicorn (2 workers) on PostgreSQL, under 20 concurrent
clients for 20 seconds. The customer has three accounts with meters, a year of readings, bills and
payments, as a real dashboard shows.

    python -m bench.portal [--clients 20] [--seconds 20] [--workers 2] [--threads 1] [--python-client]

The load comes from wrk where it is installed (apt-get install wrk), else from Python threads, which
take a good part of this two-core machine themselves.
"""
import argparse
import http.client
import logging
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
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
                _history(account, zones=n + 1)
            db.session.commit()
        db.engine.dispose()


def _history(account, zones: int) -> None:
    """A year of readings, bills and payments, so the dashboard shows what a real one does."""
    from datetime import date
    from decimal import Decimal

    from app.extensions import db
    from app.models import AccountPeriod, LedgerEntry, Meter, MeterReading, Premises

    premises = Premises(account=account, address=account.address, residents=2)
    meter = Meter(premises=premises, resource="electricity", model="Bench", serial=f"P{account.number}",
                  zones=zones, digits=6, installed_on=date(2025, 10, 1))
    db.session.add_all([premises, meter])
    for month in range(1, 13):
        period = date(2025 + (month > 2), (month + 9) % 12 + 1, 1)
        values = {f"t{z + 1}": Decimal(100 * month * (z + 1)) for z in range(zones)}
        db.session.add(MeterReading(meter=meter, period=period, taken_on=period.replace(day=20), source="customer",
                                    status="billed", **values))
        db.session.add(LedgerEntry(account_id=account.id, kind="charge", amount=Decimal("1500.00"), period=period,
                                   due_date=period.replace(day=28), booked_on=period.replace(day=28)))
        db.session.add(LedgerEntry(account_id=account.id, kind="payment", amount=Decimal("-1500.00"),
                                   booked_on=period.replace(day=28)))
        db.session.add(AccountPeriod(account_id=account.id, period=period, charged=Decimal("1500.00"),
                                     due_date=period.replace(day=28)))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(url: str, port: int, workers: int, threads: int) -> subprocess.Popen:
    env = {**os.environ, "GRIDCASE_ENV": "production", "SECRET_KEY": secrets.token_urlsafe(48),
           "DATABASE_URL": url, "SESSION_COOKIE_SECURE": "0", "CELERY_BROKER_URL": "memory://",
           "CELERY_RESULT_BACKEND": "cache+memory://"}
    # Threads let a worker run one request while another waits for PostgreSQL; the worker count
    # still bounds the CPU the portal takes.
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", str(workers), "--threads", str(threads),
                             "-b", f"127.0.0.1:{port}", "--log-level", "warning", "app:create_app()"],
                            cwd=ROOT, env=env)
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


WRK_REPORT = """
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
                 + summary.errors.status + summary.errors.timeout
  io.write(string.format("WRK requests=%d seconds=%.3f p50_ms=%.2f p95_ms=%.2f errors=%d\\n",
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(95) / 1000, errors))
end
"""


def load_with_wrk(port: int, cookie: str, clients: int, seconds: float) -> dict:
    """wrk, written in C, takes far less of the machine's two cores than a Python client would."""
    script = Path(tempfile.mkdtemp()) / "report.lua"
    script.write_text(WRK_REPORT)
    out = subprocess.run(["wrk", "-t", "2", "-c", str(clients), "-d", f"{int(seconds)}s", "--timeout", "10s",
                          "-s", str(script), "-H", f"Cookie: {cookie}", f"http://127.0.0.1:{port}/cabinet/"],
                         capture_output=True, text=True, check=True).stdout
    line = next(l for l in out.splitlines() if l.startswith("WRK "))
    figures = dict(pair.split("=") for pair in line.split()[1:])
    return {"rps": int(figures["requests"]) / float(figures["seconds"]), "p50_ms": float(figures["p50_ms"]),
            "p95_ms": float(figures["p95_ms"]), "errors": int(figures["errors"])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--python-client", action="store_true",
                        help="load from Python threads even where wrk is installed (apt-get install wrk)")
    args = parser.parse_args()
    logging.disable(logging.INFO)

    url = database_url()
    prepare(url)
    port = free_port()
    server = start_gunicorn(url, port, args.workers, args.threads)
    client = "wrk" if shutil.which("wrk") and not args.python_client else "python"
    try:
        cookie = session_cookie(f"http://127.0.0.1:{port}")
        load(port, cookie, args.clients, 2)  # warm-up: workers' first requests compile templates
        if client == "wrk":
            figures = load_with_wrk(port, cookie, args.clients, args.seconds)
        else:
            samples, errors = load(port, cookie, args.clients, args.seconds)
            figures = {"rps": len(samples) / args.seconds, "p50_ms": percentile(samples, 0.50),
                       "p95_ms": percentile(samples, 0.95), "errors": errors}
    finally:
        server.terminate()
        server.wait(timeout=10)
    print(f"load from {client}: {args.clients} clients for {args.seconds:.0f} s against {args.workers} workers "
          f"× {args.threads} threads")
    report("portal", **figures)


if __name__ == "__main__":
    main()
