"""Limits on guessing: failed logins per address and wrong account codes per user.

Counted from the audit log, so the limits hold across every web worker and node without a cache.
"""
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent
from app.models.types import utcnow


def recent_failures(action: str, *, ip: str | None = None, actor_id: int | None = None,
                    minutes: int) -> int:
    since = utcnow() - timedelta(minutes=minutes)
    query = select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == action, AuditEvent.outcome != "ok", AuditEvent.at >= since
    )
    if ip is not None:
        query = query.where(AuditEvent.ip == ip)
    if actor_id is not None:
        query = query.where(AuditEvent.actor_id == actor_id)
    return db.session.scalar(query)


def ip_login_blocked(ip: str | None) -> bool:
    if ip is None:
        return False
    cfg = current_app.config
    return recent_failures("auth.login", ip=ip, minutes=cfg["LOGIN_LOCK_MINUTES"]) >= cfg["LOGIN_IP_MAX_FAILURES"]


def account_link_blocked(user_id: int) -> bool:
    limit = current_app.config["ACCOUNT_LINK_MAX_FAILURES"]
    return recent_failures("account.link", actor_id=user_id, minutes=60) >= limit
