"""Time-limited signed links sent by e-mail: confirming an address and resetting a password.

They carry no server-side state: a confirmation link is spent once the address is confirmed, and a
reset link carries the user's auth stamp, which the reset itself rotates, so each works only once.
"""
from datetime import datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from app.services.errors import InvalidInput

CONFIRM = "email-confirm"
RESET = "password-reset"


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=purpose)


def make(purpose: str, payload: dict) -> str:
    return _serializer(purpose).dumps(payload)


def expired() -> InvalidInput:
    return InvalidInput(_l("This link has expired. Ask for a new one."), reason="expired")


def read(purpose: str, token: str, max_age_s: int) -> tuple[dict, datetime]:
    """The payload and when the link was issued (UTC)."""
    try:
        return _serializer(purpose).loads(token, max_age=max_age_s, return_timestamp=True)
    except SignatureExpired:
        raise expired() from None
    except BadSignature:
        raise InvalidInput(_l("This link is not valid. Check that it was copied whole."),
                           reason="bad-signature") from None
