"""People who log in: customers and staff, their roles, groups and API tokens."""
import secrets

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import UTCDateTime, utcnow


def new_auth_stamp() -> str:
    return secrets.token_hex(8)


class StaffGroup(db.Model):
    """A team of specialists (connection, metering, billing, legal); cases are routed to groups."""

    __tablename__ = "staff_group"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_ru: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" else self.name_ru


user_group = db.Table(
    "user_group",
    db.Column("user_id", ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
    db.Column("group_id", ForeignKey("staff_group.id", ondelete="CASCADE"), primary_key=True),
)


class UserRole(db.Model):
    __tablename__ = "user_role"
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(20), primary_key=True)


class User(UserMixin, db.Model):
    __tablename__ = "user"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(20))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    email_confirmed_at: Mapped[object | None] = mapped_column(UTCDateTime())
    is_blocked: Mapped[bool] = mapped_column(default=False)
    # Rotated on every password change: sessions carry it, so a change logs out everywhere.
    auth_stamp: Mapped[str] = mapped_column(String(16), default=new_auth_stamp)
    locale: Mapped[str | None] = mapped_column(String(5))
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[object | None] = mapped_column(UTCDateTime())
    last_login_at: Mapped[object | None] = mapped_column(UTCDateTime())
    created_at: Mapped[object] = mapped_column(UTCDateTime(), default=utcnow)

    # Roles are read on every request (permission checks), so they are loaded with the user.
    role_rows: Mapped[list[UserRole]] = relationship(cascade="all, delete-orphan", lazy="selectin")
    groups: Mapped[list[StaffGroup]] = relationship(secondary=user_group)

    @property
    def roles(self) -> frozenset[str]:
        return frozenset(r.role for r in self.role_rows)

    def set_roles(self, roles) -> None:
        wanted = set(roles)
        self.role_rows = [r for r in self.role_rows if r.role in wanted] + [
            UserRole(role=code) for code in sorted(wanted - self.roles)
        ]

    @property
    def is_active(self) -> bool:  # Flask-Login refuses sessions of inactive users
        return not self.is_blocked

    def get_id(self) -> str:
        return f"{self.id}:{self.auth_stamp}"

    def __repr__(self) -> str:
        return f"<User {self.email}>"


class PersonalAccessToken(db.Model):
    """A bearer token for the API. Only its SHA-256 is kept; the token is shown once."""

    __tablename__ = "personal_access_token"
    __table_args__ = (UniqueConstraint("token_hash"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64))
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[object] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[object | None] = mapped_column(UTCDateTime())
    last_used_at: Mapped[object | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[object | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()
