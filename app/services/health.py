"""Reachability of what the portal depends on, for /healthz and monitoring."""
from flask import current_app
from kombu import Connection
from sqlalchemy import text

from app.extensions import db


def database() -> str | None:
    """None when the database answers, else the reason."""
    try:
        db.session.execute(text("SELECT 1"))
        return None
    except Exception as exc:  # any driver error means "not reachable" here
        db.session.rollback()
        return f"{type(exc).__name__}: {exc}".splitlines()[0][:200]


def broker() -> str | None:
    url = current_app.config["CELERY_BROKER_URL"]
    try:
        with Connection(url, connect_timeout=2) as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return None
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
