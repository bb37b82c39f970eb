"""Calls to the outside world from cases: written in the case's transaction, delivered later.

A service-task handler calls `enqueue(case, kind, payload, reply_message)`; the row commits with
the case step, so a crash can lose neither. `deliver_due()` (a Celery beat job, and right after the
step) hands each due row to its deliverer. Success marks it sent and, when the process waits for an
answer, correlates `reply_message` back into the case with the deliverer's result. Failure schedules
a retry with exponential backoff; after MAX_ATTEMPTS the row becomes an incident that an
administrator can send again. A deliverer raises `Rejected` when the other side refused the call for
good (the data are wrong, not the line): that is an incident at once, since retrying cannot help.
"""
from datetime import timedelta
from typing import Callable

import requests
from sqlalchemy import select

from app.extensions import db
from app.models import Case, CaseEvent, OutboxMessage
from app.models.types import utcnow
from app.services import audit

MAX_ATTEMPTS = 5
BACKOFF_SECONDS = 30  # 30 s, 1 min, 2 min, 4 min, ...
DELIVERERS: dict[str, Callable[[dict], dict]] = {}


class Rejected(Exception):
    """The outside system answered, and its answer is no: an incident without further attempts."""


def deliverer(kind: str):
    def register(func):
        DELIVERERS[kind] = func
        return func

    return register


def enqueue(case: Case | None, kind: str, payload: dict, reply_message: str | None = None) -> OutboxMessage:
    if kind not in DELIVERERS:
        raise ValueError(f"no deliverer {kind!r}")
    row = OutboxMessage(case_id=getattr(case, "id", None), kind=kind, payload=payload, reply_message=reply_message)
    db.session.add(row)
    db.session.flush()
    return row


def deliver(message_id: int) -> str:
    """Try one message once; returns its status afterwards."""
    row = db.session.scalar(select(OutboxMessage).where(OutboxMessage.id == message_id).with_for_update())
    if row is None or row.status != "pending":
        db.session.rollback()
        return getattr(row, "status", "missing")
    row.attempts += 1
    try:
        result = DELIVERERS[row.kind](dict(row.payload)) or {}
    except Exception as error:  # any failure of the outside call is retried, then an incident
        row.last_error = f"{type(error).__name__}: {error}"[:2000]
        if isinstance(error, Rejected) or row.attempts >= MAX_ATTEMPTS:
            row.status, row.next_attempt_at = "incident", None
            audit.record("outbox.incident", object_type="outbox_message", object_id=row.id,
                         outcome="failed", details={"kind": row.kind, "error": row.last_error[:300]})
        else:
            row.next_attempt_at = utcnow() + timedelta(seconds=BACKOFF_SECONDS * 2 ** (row.attempts - 1))
        db.session.commit()
        return row.status
    row.status, row.sent_at, row.result, row.last_error, row.next_attempt_at = "sent", utcnow(), result, None, None
    if row.case_id:  # the answer (a registration number, say) is on the case's timeline for staff
        db.session.add(CaseEvent(case_id=row.case_id, kind="delivered", details={"kind": row.kind, "result": result}))
    db.session.commit()
    if row.reply_message and row.case_id:
        from workflows import engine

        engine.correlate(row.case_id, row.reply_message, result)
    return "sent"


def deliver_due(now=None, limit: int = 200) -> int:
    now = now or utcnow()
    due = list(db.session.scalars(select(OutboxMessage.id).where(
        OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.next_attempt_at).limit(limit)))
    return sum(deliver(message_id) == "sent" for message_id in due)


def retry(message_id: int, actor) -> OutboxMessage:
    """An administrator sends an incident again (its attempts start over)."""
    row = db.session.get(OutboxMessage, message_id)
    if row is None or row.status != "incident":
        from flask_babel import lazy_gettext as _l

        from app.services.errors import NotFound

        raise NotFound(_l("No such incident."))
    row.status, row.attempts, row.next_attempt_at = "pending", 0, utcnow()
    audit.record("outbox.retry", actor=actor, object_type="outbox_message", object_id=row.id)
    db.session.commit()
    return row


@deliverer("http.post")
def http_post(payload: dict) -> dict:
    """POST JSON to a URL and return the JSON answer: webhooks and simple REST integrations."""
    response = requests.post(payload["url"], json=payload.get("body", {}), timeout=payload.get("timeout", 10))
    response.raise_for_status()
    return response.json() if response.content else {}
