"""Customer accounts (лицевые счета) and who may see them."""
from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import UTCDateTime, utcnow
from app.models.users import User

OWNER = "owner"
REPRESENTATIVE = "representative"


class Account(db.Model):
    __tablename__ = "account"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    holder_name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(300))
    # The code printed on the paper bill; kept as a keyed hash like a password.
    verification_code_hash: Mapped[str] = mapped_column(String(64))
    is_closed: Mapped[bool] = mapped_column(default=False)
    # What the tariffs and the penalty rules are looked up by.
    region: Mapped[str] = mapped_column(String(10), default="77", server_default="77")
    category: Mapped[str] = mapped_column(String(40), default="population_urban", server_default="population_urban")
    penalty_scheme: Mapped[str] = mapped_column(String(20), default="household", server_default="household")
    created_at: Mapped[object] = mapped_column(UTCDateTime(), default=utcnow)

    accesses: Mapped[list["AccountAccess"]] = relationship(back_populates="account")

    def active_accesses(self) -> list["AccountAccess"]:
        return [a for a in self.accesses if a.revoked_at is None]

    def owner_access(self) -> "AccountAccess | None":
        return next((a for a in self.active_accesses() if a.role == OWNER), None)


class AccountAccess(db.Model):
    """A user's right to an account: the owner, or a representative the owner added."""

    __tablename__ = "account_access"
    __table_args__ = (UniqueConstraint("account_id", "user_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    granted_at: Mapped[object] = mapped_column(UTCDateTime(), default=utcnow)
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    revoked_at: Mapped[object | None] = mapped_column(UTCDateTime())

    account: Mapped[Account] = relationship(back_populates="accesses")
    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined")
