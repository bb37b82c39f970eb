"""Writing to the audit log. Called by services and views; never raises for the caller."""
from flask import has_request_context, request
from flask_login import current_user

from app.extensions import db
from app.models import AuditEvent


def client_ip() -> str | None:
    # Behind nginx the app is wrapped with ProxyFix, so remote_addr is the client's address.
    return request.remote_addr if has_request_context() else None


def record(action: str, *, actor=None, actor_label: str | None = None, outcome: str = "ok",
           obj=None, object_type: str | None = None, object_id=None, details: dict | None = None,
           commit: bool = False) -> AuditEvent:
    """Append an event. `obj` may be a model instance; its table and id are taken from it.

    Events about refused actions are committed at once (commit=True) after rolling back the refused
    work, so nothing half-done is saved with them; events about successful work join the caller's
    transaction and commit with it.
    """
    if actor is None and has_request_context() and current_user and current_user.is_authenticated:
        actor = current_user._get_current_object()
    if obj is not None:
        object_type = object_type or obj.__tablename__
        object_id = obj.id
    details = dict(details or {})
    if has_request_context():
        details.setdefault("path", request.path)
    event = AuditEvent(
        actor_id=getattr(actor, "id", None),
        actor_label=actor_label or getattr(actor, "email", None),
        action=action,
        outcome=outcome,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        ip=client_ip(),
        details=details,
    )
    if commit:
        # A refusal: whatever the caller had pending is dropped, the event alone is kept.
        db.session.rollback()
        db.session.add(event)
        db.session.commit()
    else:
        db.session.add(event)
    return event
