"""All models, imported here so that Alembic and the app see every table."""
from app.models.accounts import OWNER, REPRESENTATIVE, Account, AccountAccess
from app.models.audit import AuditEvent
from app.models.users import PersonalAccessToken, StaffGroup, User, UserRole, user_group

__all__ = [
    "OWNER",
    "REPRESENTATIVE",
    "Account",
    "AccountAccess",
    "AuditEvent",
    "PersonalAccessToken",
    "StaffGroup",
    "User",
    "UserRole",
    "user_group",
]
