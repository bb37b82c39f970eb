"""Online payments: one row per attempt to pay, created before the provider is called, and its
status history.

`public_id` is ours: the provider's idempotency key / order number, so asking again after a timeout
never makes a second payment. The ledger is credited from a verified provider status only, once per
provider payment (the ledger's unique (source, external_id) makes a second credit impossible).
"""
from sqlalchemy import JSON, Date, ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.accounts import Account
from app.models.types import UTCDateTime, utcnow

MONEY = Numeric(14, 2)


class Payment(db.Model):
    __tablename__ = "payment"
    __table_args__ = (UniqueConstraint("provider", "provider_id"), Index("ix_payment_status", "status", "created_at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(36), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"), index=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id", ondelete="SET NULL"), index=True)
    purpose: Mapped[str] = mapped_column(String(20))  # bill | penalties | tp_invoice
    provider: Mapped[str] = mapped_column(String(20))  # yookassa | sber | tbank
    method: Mapped[str] = mapped_column(String(10), default="card")  # card | sbp
    amount: Mapped[object] = mapped_column(MONEY)
    # created (the provider not reached yet) | pending | succeeded | canceled | refunded | failed
    status: Mapped[str] = mapped_column(String(12), default="created")
    provider_id: Mapped[str | None] = mapped_column(String(64))
    confirmation_url: Mapped[str | None] = mapped_column(Text)
    qr_payload: Mapped[str | None] = mapped_column(Text)
    refunded_amount: Mapped[object] = mapped_column(MONEY, default=0)
    ledger_entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entry.id", ondelete="SET NULL"))
    last_error: Mapped[str | None] = mapped_column(String(500))
    save_method: Mapped[bool] = mapped_column(default=False)  # the customer asked to keep the card
    auto_payment_id: Mapped[int | None] = mapped_column(ForeignKey("auto_payment.id", ondelete="SET NULL"))
    created_at: Mapped[object] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[object] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    paid_at: Mapped[object | None] = mapped_column(UTCDateTime())

    account: Mapped[Account | None] = relationship()


class AutoPayment(db.Model):
    """An account paid from a saved card without the customer: on a day of each month, or when the debt
    goes above a threshold. Charged at most once per billing month; a failed charge is tried again
    later, and after `MAX_FAILURES` the rule stops and the customer is told."""

    __tablename__ = "auto_payment"
    __table_args__ = (UniqueConstraint("account_id", "user_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"), index=True)
    provider: Mapped[str] = mapped_column(String(20))
    method_id: Mapped[str | None] = mapped_column(String(100))  # the provider's token of the saved card
    card_title: Mapped[str | None] = mapped_column(String(100))
    mode: Mapped[str] = mapped_column(String(10), default="monthly")  # monthly | threshold
    day: Mapped[int] = mapped_column(default=20)  # monthly: the day of the month (1–28)
    threshold: Mapped[object | None] = mapped_column(MONEY)  # threshold: charge when the debt exceeds it
    max_amount: Mapped[object] = mapped_column(MONEY)  # never charge more than this at once
    active: Mapped[bool] = mapped_column(default=True)
    failures: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[object | None] = mapped_column(UTCDateTime())
    last_period: Mapped[object | None] = mapped_column(Date)  # the billing month last charged
    stopped_reason: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[object] = mapped_column(UTCDateTime(), default=utcnow)

    account: Mapped[Account] = relationship()


class PaymentEvent(db.Model):
    """What happened to a payment and who said so: our call, the provider's notification, the return
    page, the reconciliation job, a refund."""

    __tablename__ = "payment_event"
    __table_args__ = (Index("ix_payment_event_payment", "payment_id", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payment.id", ondelete="CASCADE"))
    at: Mapped[object] = mapped_column(UTCDateTime(), default=utcnow)
    source: Mapped[str] = mapped_column(String(20))  # create | notification | return | reconcile | refund
    from_status: Mapped[str | None] = mapped_column(String(12))
    to_status: Mapped[str | None] = mapped_column(String(12))
    details: Mapped[dict] = mapped_column(JSON, default=dict)


class PaymentReceipt(db.Model):
    """A fiscal receipt (54-ФЗ) the provider's cash register issued for a payment or its refund: the
    details the printed receipt and its FNS QR code carry."""

    __tablename__ = "payment_receipt"
    __table_args__ = (UniqueConstraint("fn", "fd"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payment.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # payment | refund
    registered_at: Mapped[object] = mapped_column(UTCDateTime())
    fn: Mapped[str] = mapped_column(String(20))  # fiscal storage number
    fd: Mapped[str] = mapped_column(String(20))  # fiscal document number
    fpd: Mapped[str] = mapped_column(String(20))  # fiscal sign
    ecr_registration: Mapped[str | None] = mapped_column(String(20))  # РН ККТ
    shift_number: Mapped[str | None] = mapped_column(String(10))
    number_in_shift: Mapped[str | None] = mapped_column(String(10))
    amount: Mapped[object] = mapped_column(MONEY)
    qr_text: Mapped[str] = mapped_column(String(120))
    raw: Mapped[dict] = mapped_column(JSON, default=dict)
