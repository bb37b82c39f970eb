"""Users: self-registration of customers, confirmation, login, password changes and staff accounts.

Plain values in, model objects out; the caller (a view, the API, a CLI command) commits or the
function does when it owns the whole step. Every outcome, good or refused, is an audit event.
"""
from datetime import timedelta

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app import policy
from app.extensions import db
from app.models import StaffGroup, User
from app.models.types import utcnow
from app.models.users import new_auth_stamp
from app.services import audit, mailer, passwords, signed_links, throttle
from app.services.errors import AuthenticationFailed, Conflict, InvalidInput, NotFound, TooManyAttempts


def normalize_email(email: str) -> str:
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        raise InvalidInput(_l("Enter a valid e-mail address, such as name@example.ru."), field="email") from None


def by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email.strip().lower()))


def _check_new_password(password: str, email: str, field: str = "password") -> None:
    problem = passwords.weakness(password, email)
    if problem:
        raise InvalidInput(problem, field=field)


def register_customer(email: str, password: str, full_name: str, phone: str | None = None,
                      locale: str | None = None) -> User:
    email = normalize_email(email)
    full_name = full_name.strip()
    if not full_name:
        raise InvalidInput(_l("Enter your full name."), field="full_name")
    _check_new_password(password, email)
    if by_email(email):
        audit.record("auth.register", actor_label=email, outcome="refused",
                     details={"reason": "duplicate"}, commit=True)
        raise Conflict(_l("An account with this e-mail already exists. Log in or reset your password."),
                       field="email")
    user = User(email=email, full_name=full_name, phone=(phone or "").strip() or None,
                password_hash=passwords.hash_password(password), locale=locale)
    user.set_roles([policy.CUSTOMER])
    db.session.add(user)
    db.session.flush()
    audit.record("auth.register", actor=user, obj=user)
    db.session.commit()
    mailer.send_confirmation(user)
    return user


def confirm_email(token: str) -> User:
    hours = current_app.config["EMAIL_TOKEN_HOURS"]
    try:
        data, _issued = signed_links.read(signed_links.CONFIRM, token, hours * 3600)
    except InvalidInput as exc:
        audit.record("auth.confirm", outcome="refused", details={"reason": exc.details.get("reason")},
                     commit=True)
        raise
    user = db.session.get(User, data["uid"])
    if user is None or user.email != data["email"]:
        audit.record("auth.confirm", outcome="refused", details={"reason": "unknown-user"}, commit=True)
        raise InvalidInput(_l("This link is not valid. Check that it was copied whole."))
    if user.email_confirmed_at is not None:
        audit.record("auth.confirm", actor=user, obj=user, outcome="refused",
                     details={"reason": "reused"}, commit=True)
        raise Conflict(_l("This link was already used: your e-mail is confirmed. You can log in."))
    user.email_confirmed_at = utcnow()
    audit.record("auth.confirm", actor=user, obj=user)
    db.session.commit()
    return user


def resend_confirmation(email: str) -> None:
    user = by_email(email)
    if user is not None and user.email_confirmed_at is None:
        mailer.send_confirmation(user)
    audit.record("auth.confirm.resend", actor_label=email, details={"known": user is not None})
    db.session.commit()


def authenticate(email: str, password: str, ip: str | None) -> User:
    """Check a login. Locks the user for a while after repeated failures and throttles an address
    that guesses across many users."""
    cfg = current_app.config
    email = email.strip().lower()
    now = utcnow()
    if throttle.ip_login_blocked(ip):
        audit.record("auth.login", actor_label=email, outcome="throttled", commit=True)
        raise TooManyAttempts(_l("Too many failed attempts from your network. Try again in %(m)d minutes.",
                                 m=cfg["LOGIN_LOCK_MINUTES"]))
    user = by_email(email)
    if user is not None and user.locked_until is not None and user.locked_until > now:
        audit.record("auth.login", actor=user, outcome="locked", commit=True)
        minutes = max(1, int((user.locked_until - now).total_seconds() // 60) + 1)
        raise TooManyAttempts(_l("Too many failed attempts. Logging in to this account is paused for "
                                 "%(m)d more minutes, or reset your password.", m=minutes))
    if user is None or not passwords.verify_password(user.password_hash, password):
        if user is not None:
            user.failed_logins += 1
            if user.failed_logins >= cfg["LOGIN_MAX_FAILURES"]:
                user.locked_until = now + timedelta(minutes=cfg["LOGIN_LOCK_MINUTES"])
                user.failed_logins = 0
            db.session.commit()
        audit.record("auth.login", actor=user, actor_label=email, outcome="failed",
                     details={"reason": "unknown-email" if user is None else "wrong-password"}, commit=True)
        raise AuthenticationFailed(_l("Wrong e-mail or password."))
    if user.is_blocked:
        audit.record("auth.login", actor=user, outcome="refused", details={"reason": "blocked"}, commit=True)
        raise AuthenticationFailed(_l("This account is blocked. Contact the support service."))
    if user.email_confirmed_at is None:
        audit.record("auth.login", actor=user, outcome="refused", details={"reason": "unconfirmed"}, commit=True)
        raise AuthenticationFailed(_l("Confirm your e-mail first: follow the link in the letter we sent."),
                                   reason="unconfirmed")
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    audit.record("auth.login", actor=user, obj=user)
    db.session.commit()
    return user


def request_password_reset(email: str) -> None:
    """Send a reset link if the address is known. The answer to the caller is the same either way."""
    user = by_email(email)
    if user is not None and not user.is_blocked:
        mailer.send_password_reset(user)
    audit.record("auth.reset.request", actor=user, actor_label=email.strip().lower(),
                 details={"known": user is not None})
    db.session.commit()


def reset_password(token: str, new_password: str) -> User:
    cfg = current_app.config
    try:
        # Invitations to new staff live as long as confirmation links; ordinary resets much shorter.
        data, issued = signed_links.read(signed_links.RESET, token, cfg["EMAIL_TOKEN_HOURS"] * 3600)
        if not data.get("inv") and utcnow() - issued > timedelta(minutes=cfg["RESET_TOKEN_MINUTES"]):
            raise signed_links.expired()
    except InvalidInput as exc:
        audit.record("auth.reset", outcome="refused", details={"reason": exc.details.get("reason")}, commit=True)
        raise
    user = db.session.get(User, data["uid"])
    if user is None or user.auth_stamp != data["stamp"]:
        audit.record("auth.reset", actor=user, outcome="refused", details={"reason": "reused"}, commit=True)
        raise InvalidInput(_l("This link was already used or your password has changed since. "
                              "Ask for a new link."))
    _check_new_password(new_password, user.email)
    _set_password(user, new_password)
    # Following the link proves the address, so staff invited this way need no separate confirmation.
    user.email_confirmed_at = user.email_confirmed_at or utcnow()
    user.locked_until = None
    audit.record("auth.reset", actor=user, obj=user)
    db.session.commit()
    return user


def change_password(user: User, current_password: str, new_password: str) -> None:
    if not passwords.verify_password(user.password_hash, current_password):
        audit.record("auth.password.change", actor=user, outcome="refused", commit=True)
        raise InvalidInput(_l("The current password is wrong."), field="current_password")
    _check_new_password(new_password, user.email, field="new_password")
    _set_password(user, new_password)
    audit.record("auth.password.change", actor=user, obj=user)
    db.session.commit()


def _set_password(user: User, new_password: str) -> None:
    user.password_hash = passwords.hash_password(new_password)
    # A new stamp ends every other session of this user.
    user.auth_stamp = new_auth_stamp()
    user.failed_logins = 0


def update_profile(user: User, full_name: str, phone: str | None, locale: str | None) -> None:
    full_name = full_name.strip()
    if not full_name:
        raise InvalidInput(_l("Enter your full name."), field="full_name")
    if locale and locale not in current_app.config["LANGUAGES"]:
        raise InvalidInput(_l("Unknown language."), field="locale")
    user.full_name, user.phone, user.locale = full_name, (phone or "").strip() or None, locale or None
    audit.record("user.profile.update", actor=user, obj=user)
    db.session.commit()


# --- staff -----------------------------------------------------------------------------------------

def groups_by_code(codes) -> list[StaffGroup]:
    codes = set(codes)
    found = db.session.scalars(select(StaffGroup).where(StaffGroup.code.in_(codes))).all()
    missing = codes - {g.code for g in found}
    if missing:
        raise InvalidInput(_l("Unknown group: %(codes)s.", codes=", ".join(sorted(missing))), field="groups")
    return list(found)


def _check_roles(roles) -> list[str]:
    roles = list(dict.fromkeys(roles))
    unknown = [r for r in roles if r not in policy.ROLES]
    if unknown:
        raise InvalidInput(_l("Unknown role: %(codes)s.", codes=", ".join(unknown)), field="roles")
    if not roles:
        raise InvalidInput(_l("Choose at least one role."), field="roles")
    return roles


def create_staff(email: str, full_name: str, roles, groups=(), password: str | None = None,
                 actor: User | None = None, send_invitation: bool = True) -> User:
    """Create a staff member. Without a password they get a link to set one themselves."""
    email = normalize_email(email)
    roles = _check_roles(roles)
    if not full_name.strip():
        raise InvalidInput(_l("Enter the full name."), field="full_name")
    group_rows = groups_by_code(groups)
    if by_email(email):
        raise Conflict(_l("A user with this e-mail already exists."), field="email")
    if password is not None:
        _check_new_password(password, email)
    user = User(email=email, full_name=full_name.strip(), email_confirmed_at=utcnow(),
                password_hash=passwords.hash_password(password) if password else None)
    user.set_roles(roles)
    user.groups = group_rows
    db.session.add(user)
    db.session.flush()
    audit.record("user.create", actor=actor, obj=user, details={"roles": roles, "groups": sorted(groups)})
    db.session.commit()
    if password is None and send_invitation:
        mailer.send_password_reset(user, invitation=True)
    return user


def update_staff(user_id: int, roles, groups, blocked: bool, actor: User) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(_l("No such user."))
    roles = _check_roles(roles)
    if user.id == actor.id and (policy.ADMIN not in roles or blocked):
        raise InvalidInput(_l("You cannot remove your own administrator role or block yourself."), field="roles")
    before = {"roles": sorted(user.roles), "groups": sorted(g.code for g in user.groups),
              "blocked": user.is_blocked}
    user.set_roles(roles)
    user.groups = groups_by_code(groups)
    if blocked and not user.is_blocked:
        user.auth_stamp = new_auth_stamp()  # a blocked user is logged out everywhere at once
    user.is_blocked = blocked
    after = {"roles": sorted(roles), "groups": sorted(groups), "blocked": blocked}
    audit.record("user.update", actor=actor, obj=user, details={"from": before, "to": after})
    db.session.commit()
    return user
