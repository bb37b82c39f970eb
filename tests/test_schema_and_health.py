"""The migrations build exactly the schema the models describe; /healthz tells what is reachable."""
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from app.extensions import db
from app.models.types import include_in_migrations


def test_migrations_match_the_models(app):
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "include_name": include_in_migrations})
        diff = compare_metadata(context, db.metadata)
    assert diff == []


def test_healthz_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "broker": "ok"}


def test_healthz_reports_an_unreachable_broker(app, client):
    app.config["CELERY_BROKER_URL"] = "amqp://guest:guest@127.0.0.1:1//"
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body == {"status": "error", "database": "ok", "broker": "error"}


def test_security_headers(client):
    headers = client.get("/auth/login").headers
    assert headers["X-Frame-Options"] == "DENY" and "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
