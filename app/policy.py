"""Who may do what: the one place where roles turn into permissions.

Views and API endpoints ask `require("permission")`; object checks (may this user see this account?)
live here too, so no view decides access with an ad-hoc `if`.
"""
from functools import wraps

from flask import abort, g
from flask_babel import lazy_gettext as _l
from flask_login import current_user

CUSTOMER = "customer"
SPECIALIST = "specialist"
TEAM_LEAD = "team_lead"
ANALYST = "analyst"
OPERATOR = "operator"
ADMIN = "admin"

ROLE_LABELS = {
    CUSTOMER: _l("Customer"),
    SPECIALIST: _l("Specialist"),
    TEAM_LEAD: _l("Team lead"),
    ANALYST: _l("Process analyst"),
    OPERATOR: _l("Operator"),
    ADMIN: _l("Administrator"),
}
ROLES = tuple(ROLE_LABELS)
STAFF_ROLES = frozenset(ROLES) - {CUSTOMER}

# A permission is granted to roles, and may also be granted to the specialists of a group
# ("group:billing"): the billing group closes periods and imports files, other specialists do not.
PERMISSIONS: dict[str, frozenset[str]] = {
    "cabinet.use": frozenset({CUSTOMER}),
    "staff.home": STAFF_ROLES,
    "accounts.read_any": frozenset({SPECIALIST, TEAM_LEAD, OPERATOR, ADMIN}),
    "users.manage": frozenset({ADMIN}),
    "audit.read": frozenset({ADMIN}),
    "tasks.work": frozenset({SPECIALIST, TEAM_LEAD}),
    "tasks.reassign": frozenset({TEAM_LEAD, ADMIN}),
    "processes.edit": frozenset({ANALYST, ADMIN}),
    "rates.manage": frozenset({ANALYST, ADMIN}),
    "askue.operate": frozenset({OPERATOR, ADMIN}),
    "billing.manage": frozenset({ADMIN, "group:billing"}),
}


def has_permission(user, permission: str) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    granted = PERMISSIONS[permission]
    if granted & user.roles:
        return True
    groups = {g[len("group:"):] for g in granted if g.startswith("group:")}
    return bool(groups) and SPECIALIST in user.roles and any(g.code in groups for g in user.groups)


def is_staff(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and STAFF_ROLES & user.roles)


def require(permission: str):
    """Decorator: 401 for anonymous users, 403 (audited) for those without the permission."""
    if permission not in PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                abort(401)
            if not has_permission(current_user, permission):
                from app.services import audit

                audit.record("access.denied", outcome="denied", details={"permission": permission}, commit=True)
                abort(403)
            g.permission = permission
            return view(*args, **kwargs)

        return wrapped

    return decorator


def can_view_account(user, account) -> bool:
    if has_permission(user, "accounts.read_any"):
        return True
    return any(a.user_id == user.id for a in account.active_accesses())


def can_manage_account(user, account) -> bool:
    """Only the owner adds and removes representatives."""
    owner = account.owner_access()
    return owner is not None and owner.user_id == user.id
