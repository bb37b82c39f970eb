"""The YooKassa API v3 client (https://api.yookassa.ru/v3), behind the common `Provider` interface.

What it speaks:
- every request carries basic auth `shopId:secretKey`; every POST an `Idempotence-Key` (the caller's
  idempotency key: the same key with the same body gives back the same payment or refund);
- amounts go as strings with two decimals ("123.45") in RUB and come back as `Decimal`; a float is refused;
- `create` makes a one-stage payment (`capture: true`): a card payment answers with a redirect to
  YooKassa's page, an SBP payment with a `qr` confirmation whose `confirmation_data` is the
  https://qr.nspk.ru/... link to show as a QR code;
- `save_method` asks YooKassa to save the method (`save_payment_method`); once the customer has paid and
  agreed, the payment's `payment_method.saved` is true and its id is what `charge_saved` charges later;
- notifications carry no signature: `parse_notification` believes nothing from a sender outside
  YooKassa's published networks, and even then the caller re-asks `status()` before acting.

Errors, as `base` defines them: HTTP 5xx, 429, a time-out, no connection or an answer that cannot be read
→ `ProviderUnavailable` (ask again later with the same key); any other 4xx → `ProviderRejected` with
YooKassa's error `code` and `description` (`invalid_request`, `invalid_credentials`, `forbidden`,
`not_found`, ...).

No Flask, no database: settings in, plain values out.
"""
import ipaddress
import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from urllib.parse import quote, urlencode, urlsplit

import requests

from integrations.payments.base import (
    FiscalReceipt,
    ForgedNotification,
    Notification,
    PaymentRequest,
    ProviderPayment,
    ProviderRefund,
    ProviderRejected,
    ProviderUnavailable,
    Receipt,
)

API_URL = "https://api.yookassa.ru/v3"
CURRENCY = "RUB"
# The networks YooKassa sends notifications from (its published list).
YOOKASSA_NETWORKS = (
    "185.71.76.0/27",
    "185.71.77.0/27",
    "77.75.153.0/25",
    "77.75.154.128/25",
    "77.75.156.11/32",
    "77.75.156.35/32",
    "2a02:5180::/32",
)
DESCRIPTION_LIMIT = 128  # payment description and receipt item description
IDEMPOTENCE_KEY_LIMIT = 64
KOPECK = Decimal("0.01")

# YooKassa payment status -> ours.
PAYMENT_STATUSES = {
    "pending": "pending",
    "waiting_for_capture": "pending",
    "succeeded": "succeeded",
    "canceled": "canceled",
}
REFUND_STATUSES = ("pending", "succeeded", "canceled")
# Notification event -> the status it claims.
EVENTS = {
    "payment.succeeded": "succeeded",
    "payment.canceled": "canceled",
    "payment.waiting_for_capture": "pending",
    "refund.succeeded": "refunded",
}
METHOD_TYPES = {"card": "bank_card", "sbp": "sbp"}
# YooKassa writes registered_at in UTC; the receipt shows the cash register's local time. Its `timezone`
# (54-ФЗ tag 1011: 1 = UTC+2 ... 11 = UTC+12) says which when given; else Moscow time.
MOSCOW = timezone(timedelta(hours=3), "MSK")


class YooKassaClient:
    """One shop's YooKassa account. `trusted_networks` are the senders whose notifications are read."""

    name = "yookassa"

    def __init__(self, shop_id: str, secret_key: str, base_url: str = API_URL, timeout: float = 10,
                 session: requests.Session | None = None, trusted_networks=YOOKASSA_NETWORKS):
        if not shop_id or not secret_key:
            raise ValueError("YOOKASSA_SHOP_ID and YOOKASSA_SECRET_KEY must both be set")
        parts = urlsplit(base_url or "")
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise ValueError(f"YOOKASSA_URL must be an http:// or https:// URL, not {base_url!r}")
        self.shop_id, self._secret_key = str(shop_id), secret_key
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.trusted_networks = tuple(ipaddress.ip_network(net, strict=False) for net in trusted_networks)
        self._own_session = session is None
        self._session = session or requests.Session()

    def __repr__(self) -> str:  # never the secret key
        return f"YooKassaClient(shop_id={self.shop_id!r}, base_url={self.base_url!r})"

    # ---- the Provider interface ----------------------------------------------------------------------

    def create(self, request: PaymentRequest, idempotency_key: str) -> ProviderPayment:
        method_type = METHOD_TYPES.get(request.method)
        if method_type is None:
            raise ValueError(f"unknown payment method {request.method!r}; expected one of {sorted(METHOD_TYPES)}")
        body = self._payment_body(request)
        body["payment_method_data"] = {"type": method_type}
        if request.method == "sbp":
            body["confirmation"] = {"type": "qr"}
        else:
            body["confirmation"] = {"type": "redirect", "return_url": request.return_url}
        if request.save_method:
            body["save_payment_method"] = True
        return self._payment(self._call("POST", "/payments", body, idempotency_key))

    def status(self, provider_id: str) -> ProviderPayment:
        return self._payment(self._call("GET", f"/payments/{_segment(provider_id)}"))

    def refund(self, provider_id: str, amount: Decimal, idempotency_key: str,
               receipt: Receipt | None = None) -> ProviderRefund:
        body = {"payment_id": provider_id, "amount": money(amount)}
        if receipt is not None:
            body["receipt"] = receipt_body(receipt)
        answer = self._call("POST", "/refunds", body, idempotency_key)
        try:
            status = answer["status"]
            if status not in REFUND_STATUSES:
                raise ValueError(f"unknown refund status {status!r}")
            return ProviderRefund(provider=self.name, refund_id=str(answer["id"]),
                                  payment_id=str(answer.get("payment_id") or provider_id), status=status,
                                  amount=read_money(answer["amount"]), raw=answer)
        except (KeyError, TypeError, ValueError) as exc:
            raise ProviderUnavailable(f"YooKassa sent a refund that cannot be read: {exc}") from exc

    def parse_notification(self, headers: dict, body: bytes, remote_addr: str | None) -> Notification:
        # YooKassa signs nothing: the sender's address is the only proof, and even a notification from
        # its networks is only a hint to re-ask `status()`.
        if not self.is_trusted_sender(remote_addr):
            raise ForgedNotification(f"a YooKassa notification from {remote_addr or 'an unknown address'}, "
                                     "outside YooKassa's networks")
        try:
            data = json.loads(body, parse_float=Decimal)
        except (ValueError, TypeError) as exc:
            raise ForgedNotification(f"the notification is not JSON: {exc}") from exc
        if not isinstance(data, dict) or data.get("type") != "notification":
            raise ForgedNotification("the notification is not a YooKassa notification object")
        event, obj = data.get("event"), data.get("object")
        if event not in EVENTS:
            raise ForgedNotification(f"unexpected notification event {event!r}")
        if not isinstance(obj, dict):
            raise ForgedNotification("the notification has no object")
        try:
            if event.startswith("refund."):
                provider_id, order_id = obj["payment_id"], None
            else:
                provider_id = obj["id"]
                metadata = obj.get("metadata") or {}
                order_id = metadata.get("order_id") if isinstance(metadata, dict) else None
            if not isinstance(provider_id, str) or not provider_id:
                raise ValueError("no object id")
            amount = read_money(obj["amount"]) if obj.get("amount") is not None else None
        except (KeyError, TypeError, ValueError) as exc:
            raise ForgedNotification(f"the notification's object cannot be read: {exc}") from exc
        return Notification(provider=self.name, provider_id=provider_id, status=EVENTS[event], amount=amount,
                            order_id=None if order_id is None else str(order_id), event=event, raw=data)

    def acknowledge(self, notification: Notification) -> tuple[int, dict, bytes]:
        # Any 200 will do; anything else makes YooKassa send the notification again for 24 hours.
        return 200, {}, b""

    def charge_saved(self, method_id: str, request: PaymentRequest, idempotency_key: str) -> ProviderPayment:
        if not method_id:
            raise ValueError("charge_saved needs the saved payment method's id")
        body = self._payment_body(request)
        body["payment_method_id"] = method_id
        return self._payment(self._call("POST", "/payments", body, idempotency_key))

    def fiscal_receipts(self, provider_id: str) -> list[FiscalReceipt]:
        """GET /receipts?payment_id=...: the payment's receipts registered so far (`status` succeeded),
        payment and refund ones, oldest first. `pending` and `canceled` receipts are left out. YooKassa
        names no РН ККТ, shift or number in shift: those are None."""
        if not provider_id:
            raise ValueError("a payment id is required")
        answer = self._call("GET", "/receipts?" + urlencode({"payment_id": provider_id}))
        try:
            items = answer["items"]
            if not isinstance(items, list):
                raise ValueError("items is not a list")
            receipts = [read_receipt(item) for item in items
                        if isinstance(item, dict) and item.get("status") == "succeeded"]
        except (KeyError, TypeError, ValueError, AttributeError, InvalidOperation) as exc:
            raise ProviderUnavailable(f"YooKassa sent receipts that cannot be read: {exc}") from exc
        return sorted(receipts, key=lambda receipt: receipt.registered_at)

    # ---- helpers ----------------------------------------------------------------------------------------

    def is_trusted_sender(self, remote_addr: str | None) -> bool:
        """Whether an address lies in `trusted_networks` (an IPv4-mapped IPv6 address counts as IPv4)."""
        if not remote_addr:
            return False
        try:
            address = ipaddress.ip_address(str(remote_addr).strip().split("%", 1)[0])
        except ValueError:
            return False
        if address.version == 6 and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return any(address.version == net.version and address in net for net in self.trusted_networks)

    def close(self) -> None:
        """Close the HTTP session if this client made it (a session passed in belongs to the caller)."""
        if self._own_session:
            self._session.close()

    def __enter__(self) -> "YooKassaClient":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def _payment_body(self, request: PaymentRequest) -> dict:
        metadata = {str(key): str(value) for key, value in request.metadata.items() if value is not None}
        metadata["order_id"] = str(request.order_id)
        body = {
            "amount": money(request.amount),
            "capture": True,
            "description": _cut(request.description),
            "metadata": metadata,
        }
        if request.customer_key:
            body["merchant_customer_id"] = str(request.customer_key)
        if request.receipt is not None:
            body["receipt"] = receipt_body(request.receipt)
        return body

    def _payment(self, answer: dict) -> ProviderPayment:
        try:
            yk_status = answer["status"]
            if yk_status not in PAYMENT_STATUSES:
                raise ValueError(f"unknown payment status {yk_status!r}")
            amount = read_money(answer["amount"])
            refunded = read_money(answer["refunded_amount"]) if answer.get("refunded_amount") else Decimal(0)
            status = PAYMENT_STATUSES[yk_status]
            if status == "succeeded" and refunded > 0 and refunded >= amount:
                status = "refunded"
            confirmation = answer.get("confirmation") or {}
            confirmation_url = qr_payload = None
            if confirmation.get("type") == "qr":
                qr_payload = confirmation_url = confirmation.get("confirmation_data")
            else:
                confirmation_url = confirmation.get("confirmation_url")
            method = answer.get("payment_method") or {}
            method_id = str(method["id"]) if method.get("saved") is True and method.get("id") else None
            return ProviderPayment(
                provider=self.name,
                provider_id=str(answer["id"]),
                status=status,
                amount=amount,
                confirmation_url=confirmation_url,
                qr_payload=qr_payload,
                method_id=method_id,
                paid_amount=amount if answer.get("paid") is True else None,
                refunded_amount=refunded,
                raw=answer,
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ProviderUnavailable(f"YooKassa sent a payment that cannot be read: {exc}") from exc

    def _call(self, method: str, path: str, body: dict | None = None, idempotency_key: str | None = None) -> dict:
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json; charset=utf-8"
            data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        if method == "POST":
            key = str(idempotency_key or "")
            if not key or len(key) > IDEMPOTENCE_KEY_LIMIT:
                raise ValueError(f"an idempotency key of 1..{IDEMPOTENCE_KEY_LIMIT} characters is required, "
                                 f"not {idempotency_key!r}")
            headers["Idempotence-Key"] = key
        try:
            response = self._session.request(method, self.base_url + path, data=data, headers=headers,
                                             auth=(self.shop_id, self._secret_key), timeout=self.timeout,
                                             allow_redirects=False)
        except requests.Timeout as exc:
            raise ProviderUnavailable(f"YooKassa did not answer in time: {exc}") from exc
        except requests.RequestException as exc:
            raise ProviderUnavailable(f"YooKassa cannot be reached: {exc}") from exc
        status = response.status_code
        if status == 200:
            try:
                answer = json.loads(response.content, parse_float=Decimal)
            except ValueError as exc:
                raise ProviderUnavailable(f"YooKassa answered with what is not JSON: {_short(response.text)}") from exc
            if not isinstance(answer, dict):
                raise ProviderUnavailable(f"YooKassa answered with what is not an object: {_short(response.text)}")
            return answer
        error = _error(response)
        if status >= 500 or status == 429 or status < 400:
            # 5xx: the outcome is unknown; 429: not handled now; 202 and the like: still being processed.
            detail = f"{error[0]}: {error[1]}" if error else _short(response.text)
            raise ProviderUnavailable(f"YooKassa answered HTTP {status}: {detail}")
        if error is None:
            raise ProviderRejected(f"http_{status}", _short(response.text) or f"HTTP {status}")
        raise ProviderRejected(*error)


# ---- the wire format ---------------------------------------------------------------------------------------

def amount_text(value) -> str:
    """A sum of money as YooKassa writes it: "123.45". Never through a float; no fractions of a kopeck."""
    if isinstance(value, (float, bool)) or not isinstance(value, (Decimal, int, str)):
        raise TypeError(f"an amount must be a Decimal, an int or a string, not {type(value).__name__}")
    try:
        number = Decimal(value)
    except InvalidOperation as exc:
        raise ValueError(f"{value!r} is not an amount") from exc
    if not number.is_finite() or number != number.quantize(KOPECK):
        raise ValueError(f"{value!r} is not a whole number of kopecks")
    return format(number.quantize(KOPECK), "f")


def money(value) -> dict:
    return {"value": amount_text(value), "currency": CURRENCY}


def read_money(amount: dict) -> Decimal:
    """`Decimal` of YooKassa's {"value": "123.45", "currency": "RUB"}."""
    if amount.get("currency") != CURRENCY:
        raise ValueError(f"an amount in {amount.get('currency')!r}, not {CURRENCY}")
    value = amount["value"]
    if isinstance(value, (float, bool)) or not isinstance(value, (str, int, Decimal)):
        raise ValueError(f"{value!r} is not an amount")
    try:
        number = Decimal(value)
    except InvalidOperation as exc:
        raise ValueError(f"{value!r} is not an amount") from exc
    if not number.is_finite():
        raise ValueError(f"{value!r} is not an amount")
    return number


def quantity_text(value) -> str:
    if isinstance(value, (float, bool)) or not isinstance(value, (Decimal, int, str)):
        raise TypeError(f"a quantity must be a Decimal, an int or a string, not {type(value).__name__}")
    try:
        number = Decimal(value)
    except InvalidOperation as exc:
        raise ValueError(f"{value!r} is not a quantity") from exc
    if not number.is_finite() or number <= 0:
        raise ValueError(f"{value!r} is not a quantity")
    return format(number, "f")


def receipt_body(receipt: Receipt) -> dict:
    """YooKassa's `receipt` object. An item's `amount` is its price per unit (54-ФЗ tag 1079)."""
    customer = {key: value for key, value in (("full_name", receipt.full_name), ("email", receipt.email),
                                              ("phone", receipt.phone)) if value}
    items = []
    for item in receipt.items:
        line = {
            "description": _cut(item.name),
            "quantity": quantity_text(item.quantity),
            "amount": money(item.price),
            "vat_code": int(item.vat_code),
            "payment_subject": item.payment_subject,
            "payment_mode": item.payment_mode,
        }
        if item.measure:
            line["measure"] = item.measure
        items.append(line)
    body = {"customer": customer, "items": items}
    if receipt.tax_system_code is not None:
        body["tax_system_code"] = int(receipt.tax_system_code)
    return body


def read_receipt(obj: dict) -> FiscalReceipt:
    """A registered YooKassa receipt object as a `FiscalReceipt`. The total is the sum of `settlements`,
    else of the items (quantity × price)."""
    kind = obj["type"]
    if kind not in ("payment", "refund"):
        raise ValueError(f"unknown receipt type {kind!r}")
    settlements = obj.get("settlements") or []
    if settlements:
        total = sum((read_money(settlement["amount"]) for settlement in settlements), Decimal(0))
    else:
        total = sum(((Decimal(str(item["quantity"])) * read_money(item["amount"])).quantize(KOPECK)
                     for item in obj.get("items") or []), Decimal(0))
    registered = datetime.fromisoformat(str(obj["registered_at"]).replace("Z", "+00:00"))
    code = str(obj.get("timezone") or "")
    local = timezone(timedelta(hours=int(code) + 1)) if code.isdigit() and 1 <= int(code) <= 11 else MOSCOW
    registered = registered.replace(tzinfo=local) if registered.tzinfo is None else registered.astimezone(local)
    numbers = {name: str(obj[name]) for name in ("fiscal_storage_number", "fiscal_document_number",
                                                 "fiscal_attribute")}
    if not all(numbers.values()):
        raise ValueError("a registered receipt without its fiscal numbers")
    return FiscalReceipt(kind=kind, registered_at=registered, fn=numbers["fiscal_storage_number"],
                         fd=numbers["fiscal_document_number"], fpd=numbers["fiscal_attribute"],
                         ecr_registration=None, shift_number=None, number_in_shift=None, amount=total, raw=obj)


def _error(response: requests.Response) -> tuple[str, str] | None:
    """(code, description) of YooKassa's error object, or None when the answer is not one."""
    try:
        data = json.loads(response.content)
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("type") != "error":
        return None
    code = str(data.get("code") or f"http_{response.status_code}")
    description = str(data.get("description") or "")
    if data.get("parameter"):
        description = f"{description} (parameter: {data['parameter']})".lstrip()
    return code, description


def _segment(value: str) -> str:
    if not value:
        raise ValueError("a payment id is required")
    return quote(str(value), safe="")


def _cut(text: str, limit: int = DESCRIPTION_LIMIT) -> str:
    text = " ".join(str(text or "").split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _short(text: str | None, limit: int = 300) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[:limit] + "…"
