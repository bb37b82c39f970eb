"""Personal access tokens for the API: created by the user, shown once, kept only as a hash."""
import hashlib
import secrets
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.models import PersonalAccessToken, User
from app.models.types import utcnow
from app.services import audit
from app.services.errors import InvalidInput, NotFound

PREFIX = "gc_"
MAX_PER_USER = 20


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create(user: User, name: str, days: int | None = 365) -> tuple[PersonalAccessToken, str]:
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise InvalidInput(_l("Name the token (up to 100 characters), e.g. where it is used."), field="name")
    if days is not None and not 1 <= days <= 3650:
        raise InvalidInput(_l("A token lives from 1 to 3650 days."), field="days")
    if len(active(user)) >= MAX_PER_USER:
        raise InvalidInput(_l("You have too many tokens; revoke the ones you no longer use."), field="name")
    token = PREFIX + secrets.token_urlsafe(32)
    row = PersonalAccessToken(user_id=user.id, name=name, token_hash=_digest(token), prefix=token[:10],
                              expires_at=utcnow() + timedelta(days=days) if days else None)
    db.session.add(row)
    db.session.flush()
    audit.record("token.create", actor=user, obj=row)
    db.session.commit()
    return row, token


def active(user: User) -> list[PersonalAccessToken]:
    now = utcnow()
    rows = db.session.scalars(
        select(PersonalAccessToken).where(PersonalAccessToken.user_id == user.id,
                                          PersonalAccessToken.revoked_at.is_(None))
        .order_by(PersonalAccessToken.created_at.desc())
    )
    return [r for r in rows if r.expires_at is None or r.expires_at > now]


def revoke(user: User, token_id: int) -> None:
    row = db.session.get(PersonalAccessToken, token_id)
    if row is None or row.user_id != user.id or row.revoked_at is not None:
        raise NotFound(_l("No such token."))
    row.revoked_at = utcnow()
    audit.record("token.revoke", actor=user, obj=row)
    db.session.commit()


def user_for(token: str) -> User | None:
    """The user behind a bearer token, or None for an unknown, expired or revoked one."""
    if not token.startswith(PREFIX):
        return None
    row = db.session.scalar(select(PersonalAccessToken).where(PersonalAccessToken.token_hash == _digest(token)))
    now = utcnow()
    if row is None or row.revoked_at is not None or (row.expires_at and row.expires_at <= now):
        return None
    if row.user.is_blocked:
        return None
    # Written at most once a minute, so a busy API client does not turn every read into a write.
    if row.last_used_at is None or now - row.last_used_at > timedelta(minutes=1):
        row.last_used_at = now
        db.session.commit()
    return row.user
