"""Who may do what: the one place where roles turn into permissions.

Views and API endpoints ask `require("permission")`; object checks (may this user see this account?)
live here too, so no view decides access with an ad-hoc `if`.
"""
from dataclasses import dataclass
from datetime import date
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
    # The disclosure workplace (what is due, what was published); publishing itself is per category.
    "disclosure.publish": STAFF_ROLES,
    "disclosure.manage": frozenset({ADMIN}),
    "disclosure.capacity": frozenset({OPERATOR, ADMIN}),
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


@dataclass(frozen=True)
class Window:
    """The days of an account's history someone sees: from `start` (inclusive) to `end` (exclusive),
    either open when None. Staff and everyone whose access is undated see it all; a new owner sees it
    from the transfer date, a previous owner up to it."""

    start: date | None = None
    end: date | None = None

    def covers(self, day: date) -> bool:
        return (self.start is None or day >= self.start) and (self.end is None or day < self.end)

    @property
    def first_period(self) -> date | None:
        """The first billing month whose charge falls in the window (a month's charge is dated on its
        last day, so the month of the start counts)."""
        return self.start.replace(day=1) if self.start else None

    @property
    def end_period(self) -> date | None:
        """The first billing month past the window: a month counts only if it ended before `end`."""
        return self.end.replace(day=1) if self.end else None

    def covers_period(self, period: date) -> bool:
        return (self.first_period is None or period >= self.first_period) and (
            self.end_period is None or period < self.end_period)


EVERYTHING = Window()


def account_window(user, account) -> Window | None:
    """What of the account the user sees; None when nothing (someone else's account)."""
    if has_permission(user, "accounts.read_any"):
        return EVERYTHING
    access = account.access_of(user.id)
    if access is None:
        return None
    return Window(access.valid_from, access.valid_until)


def can_view_account(user, account) -> bool:
    """The account's pages: its owner and representatives, a previous owner (their history only), staff."""
    return account_window(user, account) is not None


def can_act_on_account(user, account) -> bool:
    """Sending readings, paying, filing applications on the account: only who has it now (and staff)."""
    if has_permission(user, "accounts.read_any"):
        return True
    return any(a.user_id == user.id for a in account.active_accesses())


def can_manage_account(user, account) -> bool:
    """Only the owner adds and removes representatives."""
    owner = account.owner_access()
    return owner is not None and owner.user_id == user.id


def can_publish_in(user, category) -> bool:
    """A disclosure category is published in by administrators and by the staff of its publisher
    group; a category with no group only by administrators."""
    if not is_staff(user):
        return False
    if ADMIN in user.roles:
        return True
    group_id = category.publisher_group_id
    return group_id is not None and any(g.id == group_id for g in user.groups)
