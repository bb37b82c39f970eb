"""What every benchmark needs: its database (created if missing, migrated) and the closing line."""
import os

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench"


def database_url() -> str:
    return os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)


def ensure_database(url: str) -> None:
    parsed = make_url(url)
    if not parsed.drivername.startswith("postgresql"):
        return
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": parsed.database})
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()


def migrated_app(url: str, **settings):
    """An app on the benchmark database with the schema brought up to date."""
    import flask_migrate

    from app import create_app

    ensure_database(url)
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url, **settings)
    with app.app_context():
        flask_migrate.upgrade()
    return app


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[index]


def report(name: str, **figures) -> None:
    parts = " ".join(f"{k}={v:.1f}" if isinstance(v, float) else f"{k}={v}" for k, v in figures.items())
    print(f"BENCH {name} {parts}", flush=True)


def copy_askue_meters(conn, count: int, *, number_base: int, street: str, serial_prefix: str, point_prefix: str,
                      installed_on: str, created_at: str) -> None:
    """`count` household accounts with one ASKUE meter each (zones 1..3 in turn) and its point on one
    ASKUE server source (id 1), loaded by COPY on a raw psycopg connection; the caller commits."""
    from app.services.accounts import code_hash
    from bench.billing import copy

    hashed = code_hash("1234")
    ids = range(1, count + 1)
    copy(conn, "account", ["id", "number", "holder_name", "address", "verification_code_hash", "is_closed",
                           "region", "category", "penalty_scheme", "created_at"],
         ((n, f"{number_base + n}", f"Абонент {n}", f"{street}, {n}", hashed, "f", "77", "population_urban",
           "household", created_at) for n in ids))
    copy(conn, "premises", ["id", "account_id", "address", "kind", "residents"],
         ((n, n, f"{street}, {n}", "residential", 2) for n in ids))
    copy(conn, "meter", ["id", "premises_id", "resource", "model", "serial", "zones", "digits", "installed_on", "askue"],
         ((n, n, "electricity", "СПОДЭС", f"{serial_prefix}{n:09d}", 1 + n % 3, 6, installed_on, "t") for n in ids))
    copy(conn, "askue_source", ["id", "code", "name", "protocol", "settings", "every_minutes", "enabled"],
         [(1, "bench", "ASKUE server", "rest", "{}", 15, "t")])
    copy(conn, "askue_point", ["id", "meter_id", "source_id", "code", "failures"],
         ((n, n, 1, f"{point_prefix}{n:09d}", 0) for n in ids))
