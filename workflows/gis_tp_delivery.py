"""Delivering TP stage submissions to the state system (integrations/gis_tp) from the outbox.

The application stage is acknowledged with the state system's id for the application; every later
stage carries that id, so a later stage waits (is retried) until the application stage's answer is
in. A refusal of the state system is an incident at once; a failure of the line is retried.
"""
from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.models import OutboxMessage
from integrations.gis_tp import GisTpClient, Rejected, Unavailable
from workflows import outbox


def external_id(registration_number: str) -> str | None:
    """The id the state system gave the application, from its acknowledged first submission."""
    rows = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "gis_tp.submit",
                                                          OutboxMessage.status == "sent")
                              .order_by(OutboxMessage.id))
    for row in rows:
        if row.payload["submission"]["registration_number"] == registration_number and row.result:
            return row.result.get("external_id")
    return None


@outbox.deliverer("gis_tp.submit")
def deliver(payload: dict) -> dict:
    submission = dict(payload["submission"])
    url = current_app.config.get("GIS_TP_URL")
    if not url:
        raise Unavailable("GIS_TP_URL is not set: the submission waits until it is")
    if submission["stage"] != "application" and not submission.get("external_id"):
        known = external_id(submission["registration_number"])
        if known is None:
            raise Unavailable("the application stage is not acknowledged yet")
        submission["external_id"] = known
    with GisTpClient(url, timeout=current_app.config.get("GIS_TP_TIMEOUT", 20)) as client:
        try:
            answer = client.submit(submission)
        except Rejected as refused:
            raise outbox.Rejected(f"{refused.code}: {refused.reason}") from None
    return {"system": "gis_tp", **answer}
