"""Customer accounts (лицевые счета) and who may see them."""
from datetime import date

from sqlalchemy import Date, ForeignKey, String, UniqueConstraint
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

    def active_accesses(self, today: date | None = None) -> list["AccountAccess"]:
        """Who has the account now: not revoked, and not ended by a change of owner."""
        today = today or _today()
        return [a for a in self.accesses if a.is_current(today)]

    def owner_access(self, today: date | None = None) -> "AccountAccess | None":
        return next((a for a in self.active_accesses(today) if a.role == OWNER), None)

    def access_of(self, user_id: int) -> "AccountAccess | None":
        """The user's right to the account, current or ended (a former owner keeps their history);
        None when they have none or it was revoked."""
        return next((a for a in self.accesses if a.user_id == user_id and a.revoked_at is None), None)

    def former_accesses(self, today: date | None = None) -> list["AccountAccess"]:
        today = today or _today()
        return [a for a in self.accesses if a.revoked_at is None and a.has_ended(today)]


class AccountAccess(db.Model):
    """A user's right to an account: the owner, or a representative the owner added.

    An access is dated like the rule tables are: it covers the days from `valid_from` (inclusive) to
    `valid_until` (exclusive), either open when empty. When the premises change hands, the previous
    owner's access gets `valid_until` = the transfer date and the new owner's `valid_from` = the same
    date, so one ends exactly where the other begins. An ended access is read-only: its holder sees the
    account's history before `valid_until` and nothing after it. A revoked access (`revoked_at`, a
    removed representative) gives nothing at all.
    """

    __tablename__ = "account_access"
    __table_args__ = (UniqueConstraint("account_id", "user_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    granted_at: Mapped[object] = mapped_column(UTCDateTime(), default=utcnow)
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    revoked_at: Mapped[object | None] = mapped_column(UTCDateTime())
    valid_from: Mapped[object | None] = mapped_column(Date)  # the first day covered; empty: from the start
    valid_until: Mapped[object | None] = mapped_column(Date)  # the day it ended, not covered; empty: open

    account: Mapped[Account] = relationship(back_populates="accesses")
    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined")

    def covers(self, day: date) -> bool:
        return (self.valid_from is None or day >= self.valid_from) and (self.valid_until is None or day < self.valid_until)

    def is_current(self, today: date) -> bool:
        return self.revoked_at is None and self.covers(today)

    def has_ended(self, today: date) -> bool:
        return self.valid_until is not None and self.valid_until <= today


def _today() -> date:
    from app.services.periods import local_today

    return local_today()
