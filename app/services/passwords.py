"""Password hashing (Argon2id) and the strength rule for new passwords."""
import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import lazy_gettext as _l

MIN_LENGTH = 10
MAX_LENGTH = 128
# The most common choices that pass the length rule; refusing them stops the cheapest guessing.
COMMON = frozenset({
    "1234567890", "0123456789", "qwertyuiop", "password1", "password12", "password123",
    "qwerty1234", "1q2w3e4r5t", "йцукенгшщз", "abc1234567", "iloveyou12", "1qaz2wsx3edc",
    "qwerty12345", "1234qwerty", "parol12345", "пароль1234", "admin12345", "welcome123",
})


def _hasher() -> PasswordHasher:
    cfg = current_app.config
    return PasswordHasher(time_cost=cfg["ARGON2_TIME_COST"], memory_cost=cfg["ARGON2_MEMORY_COST"])


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    if not stored_hash:
        return False
    try:
        return _hasher().verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher().check_needs_rehash(stored_hash)


def weakness(password: str, email: str = "") -> str | None:
    """Why a new password is refused, in the user's language, or None if it is acceptable."""
    if len(password) < MIN_LENGTH:
        return str(_l("Use at least %(n)d characters.", n=MIN_LENGTH))
    if len(password) > MAX_LENGTH:
        return str(_l("Use at most %(n)d characters.", n=MAX_LENGTH))
    if not re.search(r"[^\W\d_]", password) or not re.search(r"\d", password):
        return str(_l("Use both letters and digits."))
    lowered = password.lower()
    if lowered in COMMON or len(set(lowered)) < 4:
        return str(_l("This password is too easy to guess."))
    local = email.split("@")[0].lower()
    if len(local) >= 4 and local in lowered:
        return str(_l("The password must not contain your e-mail address."))
    return None
