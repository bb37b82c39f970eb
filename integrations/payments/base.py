"""The interface every payment provider client implements, and the values they exchange.

Amounts are `Decimal` roubles here, whatever the provider's wire format (kopecks for Sber and T-Bank,
"123.45" strings for YooKassa). Statuses are normalised to `STATUSES`; the provider's own status and
its whole answer stay in `raw` for the record.

Errors:
- `ProviderUnavailable`: the provider could not be asked or did not answer in time (network, 5xx,
  timeout). The outcome is unknown: the caller keeps the payment pending and asks again later with the
  same idempotency key / order number, never with a new one.
- `ProviderRejected`: the provider answered no (bad amount, unknown payment, declined). Permanent.
- `ForgedNotification`: a notification that must not be believed (bad token or checksum, a sender
  outside the provider's networks, unparsable). Nothing is changed because of it.
"""
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Protocol

def kopecks(amount) -> int:
    """Decimal roubles -> integer kopecks, as Sber and T-Bank take amounts; more than two decimals or a
    float is refused."""
    if isinstance(amount, float):
        raise TypeError("amounts are Decimal roubles, not float")
    value = Decimal(amount) * 100
    if not value.is_finite() or value != value.to_integral_value():
        raise ValueError(f"{amount} roubles is not a whole number of kopecks")
    return int(value)


def roubles(value) -> Decimal:
    """Integer kopecks from the wire -> Decimal roubles."""
    return (Decimal(int(value)) / 100).quantize(Decimal("0.01"))


def json_number(value: Decimal) -> int | float:
    """A quantity for a JSON body: a whole number as int, else a float (these wires take no strings)."""
    value = Decimal(value)
    return int(value) if value == value.to_integral_value() else float(value)


# pending: created, the customer has not paid yet (or the provider is still deciding);
# succeeded: money taken; canceled: will never be paid; refunded: returned in full.
STATUSES = ("pending", "succeeded", "canceled", "refunded")
METHODS = ("card", "sbp")


class ProviderError(Exception):
    pass


class ProviderUnavailable(ProviderError):
    pass


class ProviderRejected(ProviderError):
    def __init__(self, code: str, message: str):
        self.code, self.message = code, message
        super().__init__(f"{code}: {message}")


class ForgedNotification(ProviderError):
    pass


@dataclass(frozen=True)
class ReceiptItem:
    """One line of a 54-ФЗ receipt."""

    name: str
    quantity: Decimal
    price: Decimal  # per unit, roubles
    vat_code: int  # the provider's VAT code, from the settings (YooKassa: 11 = 22 %)
    payment_subject: str = "service"
    payment_mode: str = "full_payment"
    measure: str | None = None

    @property
    def amount(self) -> Decimal:
        return (self.price * self.quantity).quantize(Decimal("0.01"))


@dataclass(frozen=True)
class Receipt:
    items: tuple[ReceiptItem, ...]
    email: str | None = None
    phone: str | None = None
    full_name: str | None = None
    tax_system_code: int | None = None


@dataclass(frozen=True)
class PaymentRequest:
    order_id: str  # ours, unique per payment attempt; Sber/T-Bank use it as the order number
    amount: Decimal
    description: str
    return_url: str
    method: str = "card"  # card | sbp
    receipt: Receipt | None = None
    save_method: bool = False  # the first payment of an auto-payment
    customer_key: str | None = None  # ours for the customer (T-Bank CustomerKey, recurrent payments)
    metadata: dict = field(default_factory=dict)


@dataclass(frozen=True)
class ProviderPayment:
    provider: str
    provider_id: str
    status: str  # one of STATUSES
    amount: Decimal
    confirmation_url: str | None = None  # where to send the customer (card payment page, SBP link)
    qr_payload: str | None = None  # SBP: the https://qr.nspk.ru/... link to show as a QR code
    method_id: str | None = None  # a saved method (card) for auto-payment, when the provider gave one
    paid_amount: Decimal | None = None
    refunded_amount: Decimal = Decimal(0)
    raw: dict = field(default_factory=dict)


@dataclass(frozen=True)
class ProviderRefund:
    provider: str
    refund_id: str
    payment_id: str
    status: str  # pending | succeeded | canceled
    amount: Decimal
    raw: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Notification:
    """What a notification claims. The caller re-asks the provider (`status`) before believing the
    status where the protocol has no signature (YooKassa), and always checks the amount against ours."""

    provider: str
    provider_id: str
    status: str  # the claimed status, normalised
    amount: Decimal | None
    order_id: str | None = None
    event: str | None = None  # the provider's event name, e.g. payment.succeeded
    raw: dict = field(default_factory=dict)


RECEIPT_KINDS = ("payment", "refund")  # 54-ФЗ settlement type: приход (1), возврат прихода (2)


@dataclass(frozen=True)
class FiscalReceipt:
    """A receipt the provider's online cash register has registered (54-ФЗ): what the PDF receipt needs
    beyond our own data (seller, items, address). `registered_at` is aware and in the cash register's
    local time, as the receipt shows it; `amount` is the receipt's total in roubles; `fn`, `fd`, `fpd` are
    the fiscal storage number (ФН), the fiscal document number (ФД) and the fiscal sign (ФПД).
    `ecr_registration` (РН ККТ), `shift_number` and `number_in_shift` are None where the provider does not
    tell them. `raw` is the provider's receipt object as it came."""

    kind: str  # payment | refund
    registered_at: datetime
    fn: str
    fd: str
    fpd: str
    ecr_registration: str | None
    shift_number: str | None
    number_in_shift: str | None
    amount: Decimal
    raw: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.kind not in RECEIPT_KINDS:
            raise ValueError(f"a receipt is a payment or a refund, not {self.kind!r}")
        if self.registered_at.tzinfo is None or self.registered_at.utcoffset() is None:
            raise ValueError("registered_at must be an aware datetime")

    @property
    def settlement_type(self) -> int:
        """54-ФЗ tag 1054: 1 приход, 2 возврат прихода."""
        return 1 if self.kind == "payment" else 2

    @property
    def qr_text(self) -> str:
        """The text of the receipt's QR code: `t=YYYYMMDDTHHMM&s=SUM&fn=FN&i=FD&fp=FPD&n=1` (n=2 for a
        refund), the time as registered, the sum with two decimals."""
        total = format(Decimal(self.amount).quantize(Decimal("0.01")), "f")
        return (f"t={self.registered_at:%Y%m%dT%H%M}&s={total}&fn={self.fn}&i={self.fd}&fp={self.fpd}"
                f"&n={self.settlement_type}")


class Provider(Protocol):
    name: str

    def create(self, request: PaymentRequest, idempotency_key: str) -> ProviderPayment:
        """Register the payment with the provider. Safe to repeat with the same key/order id."""

    def status(self, provider_id: str) -> ProviderPayment:
        """The provider's present view of the payment."""

    def refund(self, provider_id: str, amount: Decimal, idempotency_key: str,
               receipt: Receipt | None = None) -> ProviderRefund:
        ...

    def parse_notification(self, headers: dict, body: bytes, remote_addr: str | None) -> Notification:
        """Verify and read a notification; ForgedNotification if it must not be believed."""

    def acknowledge(self, notification: Notification) -> tuple[int, dict, bytes]:
        """The HTTP answer the provider expects for a processed notification (status, headers, body)."""

    def charge_saved(self, method_id: str, request: PaymentRequest, idempotency_key: str) -> ProviderPayment:
        """Charge a saved method without the customer (auto-payment)."""

    def fiscal_receipts(self, provider_id: str) -> list[FiscalReceipt]:
        """The receipts the provider's cash register has registered for the payment (and its refunds),
        oldest first; an empty list while none is registered yet. Receipts still pending or failed are
        left out."""
