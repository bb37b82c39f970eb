"""Sber internet acquiring (the REST gateway at `https://securepayments.sberbank.ru/payment/rest`) behind
`base.Provider`.

Every request is a form-encoded POST to `<base_url>/<method>.do` with the merchant's API login and
password (`userName`, `password`); answers are JSON. Amounts are integer kopecks on the wire and
`Decimal` roubles here. Methods used: `register.do` (register the order: `orderNumber` is our order
id, the answer's `orderId` is the provider id and `formUrl` the payment page), `getOrderStatusExtended.do`,
`refund.do` and, for auto-payments, `register.do` + `paymentOrderBinding.do` with the saved card's
`bindingId`.

Callbacks (the gateway's notifications) carry a checksum. With a symmetric callback key, `checksum()`:

1. take every callback parameter except `checksum` itself;
2. sort them by name;
3. write each as `name;value;` and join them, e.g.
   `amount;123456;mdOrder;3ff6962a-...;operation;deposited;orderNumber;10747;status;1;`;
4. HMAC-SHA256 of that UTF-8 string with the callback key (the key's text as UTF-8), upper-case hex.

A callback is believed only when its checksum matches; without SBER_CALLBACK_KEY none is.

Orders are made idempotent by `orderNumber`: the gateway refuses a second order with the same number
(errorCode 1), and the client then looks the first one up by number and returns it if it is for the
same amount (its `formUrl` is not known then: `confirmation_url` is None). `refund.do` has no
idempotency of its own: after `ProviderUnavailable` ask `status()` (`refunded_amount`) before refunding
again.

Sber's SBP is not offered through this client: `method="sbp"` is `ProviderRejected("UNSUPPORTED")`.

Errors: an `errorCode` other than 0 is `ProviderRejected(errorCode, errorMessage)`; HTTP 5xx or 429,
a time-out, a refused connection or an answer that is not JSON is `ProviderUnavailable`.

No Flask, no database.
"""
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from urllib.parse import parse_qsl

import requests

from integrations.payments.base import (FiscalReceipt, ForgedNotification, Notification, PaymentRequest, ProviderPayment,
                                        ProviderRefund, ProviderRejected, ProviderUnavailable, Receipt, json_number, kopecks,
                                        roubles)

DEFAULT_URL = "https://securepayments.sberbank.ru/payment/rest"
CURRENCY_RUB = "643"

# getOrderStatusExtended.do orderStatus -> normalised status (4 is decided by the refunded sum).
ORDER_STATUS = {
    0: "pending",  # registered, not paid
    1: "pending",  # pre-authorised (two-stage): money held, not taken
    2: "succeeded",  # deposited
    3: "canceled",  # authorisation reversed
    4: "refunded",
    5: "pending",  # 3-D Secure with the issuer under way
    6: "canceled",  # declined
}
ALREADY_REGISTERED = "1"  # register.do: an order with this number exists
# getReceiptStatus.do receiptStatus of a registered receipt -> FiscalReceipt.kind (0 / 3: sent to the
# cash register, not yet registered; 2 / 5: failed).
RECEIPT_REGISTERED = {1: "payment", 4: "refund"}
MOSCOW = timezone(timedelta(hours=3), "MSK")  # the gateway writes times without an offset, in Moscow time

# orderBundle.cartItems.items[].itemAttributes: ФФД codes of the payment method and subject.
PAYMENT_METHOD = {"full_prepayment": 1, "partial_prepayment": 2, "advance": 3, "full_payment": 4,
                  "partial_payment": 5, "credit": 6, "credit_payment": 7}
PAYMENT_OBJECT = {"commodity": 1, "excise": 2, "job": 3, "service": 4, "gambling_bet": 5, "gambling_prize": 6,
                  "lottery": 7, "lottery_prize": 8, "intellectual_activity": 9, "payment": 10,
                  "agent_commission": 11, "composite": 12, "another": 13}
NAME_MAX = 100  # cartItems.items[].name
DEFAULT_MEASURE = "шт"


@dataclass(frozen=True)
class SberNotification(Notification):
    """A callback with the saved card's `bindingId`, when the callback names one."""

    method_id: str | None = None


def checksum(params: dict, key: str) -> str:
    """The callback checksum (see the module's docstring)."""
    text = "".join(f"{name};{params[name]};" for name in sorted(params) if name != "checksum")
    return hmac.new(key.encode("utf-8"), text.encode("utf-8"), hashlib.sha256).hexdigest().upper()


def order_bundle(receipt: Receipt) -> dict:
    """`orderBundle` of register.do / refund.do: the cart (ФФД 1.05) and the customer's contacts.

    `vat_code` is Sber's own `taxType` (0 = без НДС, 1 = 0 %, 2 = 10 %, 6 = 20 %, ... as the bank's table
    numbers them), taken as the settings give it."""
    items = []
    for position, item in enumerate(receipt.items, start=1):
        if item.payment_mode not in PAYMENT_METHOD or item.payment_subject not in PAYMENT_OBJECT:
            raise ValueError(f"unknown payment_mode {item.payment_mode!r} or payment_subject {item.payment_subject!r}")
        items.append({
            "positionId": position,
            "name": item.name[:NAME_MAX],
            "quantity": {"value": json_number(item.quantity), "measure": item.measure or DEFAULT_MEASURE},
            "itemAmount": kopecks(item.amount),
            "itemPrice": kopecks(item.price),
            "itemCode": str(position),
            "tax": {"taxType": int(item.vat_code)},
            "itemAttributes": {"attributes": [
                {"name": "paymentMethod", "value": str(PAYMENT_METHOD[item.payment_mode])},
                {"name": "paymentObject", "value": str(PAYMENT_OBJECT[item.payment_subject])},
            ]},
        })
    bundle = {"cartItems": {"items": items}}
    customer = {key: value for key, value in (("email", receipt.email), ("phone", receipt.phone),
                                              ("fullName", receipt.full_name)) if value}
    if customer:
        bundle["customerDetails"] = customer
    return bundle


class SberClient:
    name = "sber"

    def __init__(self, username: str, password: str, base_url: str = DEFAULT_URL, timeout: float = 10,
                 session: requests.Session | None = None, callback_key: str | None = None):
        if not username or not password:
            raise ValueError("SBER_USERNAME and SBER_PASSWORD are both needed")
        if not (base_url or "").startswith(("http://", "https://")):
            raise ValueError(f"SBER_URL must be an http:// or https:// URL, not {base_url!r}")
        self.username, self._password = username, password
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._callback_key = callback_key or None
        self._own_session = session is None
        self._session = session or requests.Session()

    # ---- Provider -----------------------------------------------------------------------------------

    def create(self, request: PaymentRequest, idempotency_key: str) -> ProviderPayment:
        """register.do; `clientId` (our customer key) when the card is to be saved (`save_method`).
        `idempotency_key` has no wire of its own: the order number is the key."""
        if request.method == "sbp":
            raise ProviderRejected("UNSUPPORTED", "SBP is not offered through Sber acquiring here; pay by card")
        if request.method != "card":
            raise ValueError(f"unknown payment method {request.method!r}")
        if request.save_method and not request.customer_key:
            raise ValueError("saving the card (a binding) needs the customer's customer_key")
        answer = self._register(request, {"clientId": request.customer_key} if request.save_method else {})
        if answer.get("formUrl") is None:  # found by its number: already registered before
            return self._from_status(answer)
        return ProviderPayment(provider=self.name, provider_id=answer["orderId"], status="pending",
                               amount=request.amount, confirmation_url=answer["formUrl"], raw=answer)

    def status(self, provider_id: str) -> ProviderPayment:
        """getOrderStatusExtended.do by orderId."""
        return self._from_status(self._call("getOrderStatusExtended.do", {"orderId": provider_id}))

    def refund(self, provider_id: str, amount: Decimal, idempotency_key: str,
               receipt: Receipt | None = None) -> ProviderRefund:
        """refund.do. The gateway issues no refund id and keeps no idempotency key: `refund_id` is the
        caller's key, kept for our records only."""
        value = kopecks(amount)
        if value <= 0:  # amount=0 would be a refund of everything
            raise ValueError("a refund must be more than zero")
        params = {"orderId": provider_id, "amount": str(value)}
        if receipt is not None:
            params["orderBundle"] = json.dumps(order_bundle(receipt), ensure_ascii=False)
        answer = self._call("refund.do", params)
        return ProviderRefund(provider=self.name, refund_id=idempotency_key, payment_id=provider_id,
                              status="succeeded", amount=roubles(value), raw=answer)

    def parse_notification(self, headers: dict, body: bytes, remote_addr: str | None) -> SberNotification:
        """A callback's parameters: a POSTed form or JSON body, or, for a GET callback, the query string
        passed as the body. Believed only with a checksum made with the callback key."""
        if not self._callback_key:
            raise ForgedNotification("no callback key is configured (SBER_CALLBACK_KEY): callbacks cannot be verified")
        params = _callback_params(headers, body)
        given = params.get("checksum")
        if not isinstance(given, str) or not hmac.compare_digest(given.upper(), checksum(params, self._callback_key)):
            raise ForgedNotification("the callback's checksum does not match the callback key")
        if not params.get("mdOrder") or not params.get("operation"):
            raise ForgedNotification("the callback names no mdOrder or operation")
        amount = params.get("amount")
        try:
            amount = roubles(amount) if amount not in (None, "") else None
        except (ValueError, ArithmeticError):
            raise ForgedNotification(f"the callback's amount {amount!r} is not a number") from None
        operation, success = params["operation"], params.get("status") == "1"
        return SberNotification(provider=self.name, provider_id=params["mdOrder"],
                                status=_callback_status(operation, success), amount=amount,
                                order_id=params.get("orderNumber"), event=operation, raw=params,
                                method_id=params.get("bindingId") or None)

    def acknowledge(self, notification: Notification) -> tuple[int, dict, bytes]:
        """The gateway wants HTTP 200; the body is not read."""
        return 200, {}, b""

    def charge_saved(self, method_id: str, request: PaymentRequest, idempotency_key: str) -> ProviderPayment:
        """register.do (features=AUTO_PAYMENT, the customer's clientId), then paymentOrderBinding.do with the
        bindingId, then the order's status. A repeated call finds the order by its number and pays it only
        if it is still unpaid."""
        extra = {"features": "AUTO_PAYMENT"}
        if request.customer_key:
            extra["clientId"] = request.customer_key
        answer = self._register(request, extra)
        order_id = answer.get("orderId")
        if answer.get("formUrl") is None and int(answer.get("orderStatus", 0)) != 0:
            return self._from_status(answer)
        try:
            self._call("paymentOrderBinding.do", {"mdOrder": order_id, "bindingId": method_id})
        except ProviderRejected:
            seen = self.status(order_id)
            if seen.status == "pending":
                raise
            return seen  # paid (or closed) by an earlier call under the same order number
        return self.status(order_id)

    # ---- the wire -----------------------------------------------------------------------------------

    def fiscal_receipts(self, provider_id: str) -> list[FiscalReceipt]:
        """getReceiptStatus.do by orderId: the order's registered receipts (receiptStatus 1 for a payment,
        4 for a refund), oldest first; the others (sent, not yet registered, or failed) are left out."""
        answer = self._call("getReceiptStatus.do", {"orderId": provider_id})
        try:
            items = answer.get("receipt") or []
            if not isinstance(items, list):
                raise ValueError("receipt is not a list")
            receipts = [read_receipt(item) for item in items if isinstance(item, dict)
                        and _int(item.get("receiptStatus")) in RECEIPT_REGISTERED]
        except (KeyError, TypeError, ValueError, AttributeError, InvalidOperation) as exc:
            raise ProviderUnavailable(f"Sber sent receipts that cannot be read: {exc}") from exc
        return sorted(receipts, key=lambda receipt: receipt.registered_at)

    def _register(self, request: PaymentRequest, extra: dict) -> dict:
        """register.do; an order number already registered is looked up and returned (its status answer,
        without formUrl) if it is for the same amount."""
        amount = kopecks(request.amount)
        params = {"orderNumber": request.order_id, "amount": str(amount), "currency": CURRENCY_RUB,
                  "returnUrl": request.return_url, "failUrl": request.return_url,
                  "description": request.description, "language": "ru", **extra}
        if request.receipt is not None:
            params["orderBundle"] = json.dumps(order_bundle(request.receipt), ensure_ascii=False)
            if request.receipt.tax_system_code is not None:
                params["taxSystem"] = str(int(request.receipt.tax_system_code) - 1)  # 1 = ОСН -> 0
        if request.metadata:
            params["jsonParams"] = json.dumps({str(k): str(v) for k, v in request.metadata.items()}, ensure_ascii=False)
        try:
            return self._call("register.do", params)
        except ProviderRejected as error:
            if error.code != ALREADY_REGISTERED:
                raise
            try:
                found = self._call("getOrderStatusExtended.do", {"orderNumber": request.order_id})
            except ProviderRejected:
                raise error from None
            if int(found.get("amount", -1)) != amount:
                raise error from None
            return {**found, "orderId": _md_order(found)}

    def _from_status(self, answer: dict) -> ProviderPayment:
        try:
            return self._read_status(answer)
        except (TypeError, ValueError, AttributeError) as exc:
            raise ProviderUnavailable(f"Sber sent an order status that cannot be read: {exc}") from exc

    def _read_status(self, answer: dict) -> ProviderPayment:
        order_status = int(answer.get("orderStatus", 0))
        status = ORDER_STATUS.get(order_status, "pending")
        info = answer.get("paymentAmountInfo") or {}
        amount = roubles(answer.get("amount", 0))
        deposited = info.get("depositedAmount")
        refunded = roubles(info.get("refundedAmount") or 0)
        paid = roubles(deposited) if deposited not in (None, 0, "0") else None
        if order_status == 4 and refunded < (paid if paid is not None else amount):
            status = "succeeded"  # a partial refund: paid, some of it returned
        binding = (answer.get("bindingInfo") or {}).get("bindingId")
        return ProviderPayment(provider=self.name, provider_id=_md_order(answer), status=status, amount=amount,
                               method_id=binding or None,
                               paid_amount=paid if status in ("succeeded", "refunded") else None,
                               refunded_amount=refunded, raw=answer)

    def _call(self, method: str, params: dict) -> dict:
        form = {"userName": self.username, "password": self._password, **params}
        try:
            response = self._session.post(f"{self.base_url}/{method}", data=form, timeout=self.timeout)
        except requests.Timeout as exc:
            raise ProviderUnavailable(f"Sber {method} did not answer in time: {exc}") from exc
        except requests.RequestException as exc:
            raise ProviderUnavailable(f"Sber {method} cannot be reached: {exc}") from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise ProviderUnavailable(f"Sber {method} answered HTTP {response.status_code}")
        try:
            data = response.json()
        except ValueError:
            data = None
        if not isinstance(data, dict):
            if response.status_code >= 400:
                raise ProviderRejected(f"HTTP {response.status_code}", f"Sber {method}: {response.text[:200]}")
            raise ProviderUnavailable(f"Sber {method} sent an answer that is not a JSON object")
        code = str(data.get("errorCode", "0") or "0")
        if code != "0" or response.status_code >= 400:
            raise ProviderRejected(code, str(data.get("errorMessage") or f"Sber {method} refused"))
        return data

    def close(self) -> None:
        """Close the HTTP session if this client made it (a session passed in belongs to the caller)."""
        if self._own_session:
            self._session.close()

    def __enter__(self) -> "SberClient":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def read_receipt(item: dict) -> FiscalReceipt:
    """One registered receipt of getReceiptStatus.do's `receipt[]`; `amount_total` is in roubles."""
    kind = RECEIPT_REGISTERED[_int(item["receiptStatus"])]
    text = str(item["receipt_date_time"]).strip()
    try:
        registered = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        registered = datetime.strptime(text, "%d.%m.%Y %H:%M:%S")
    if registered.tzinfo is None:
        registered = registered.replace(tzinfo=MOSCOW)
    fn, fd, fpd = (str(item.get(name) or "") for name in ("fn_number", "fiscal_document_number",
                                                           "fiscal_document_attribute"))
    if not (fn and fd and fpd):
        raise ValueError("a registered receipt without its fiscal numbers")
    optional = {name: (str(item[name]) if item.get(name) not in (None, "") else None)
                for name in ("ecr_registration_number", "shift_number", "fiscal_receipt_number")}
    return FiscalReceipt(kind=kind, registered_at=registered, fn=fn, fd=fd, fpd=fpd,
                         ecr_registration=optional["ecr_registration_number"],
                         shift_number=optional["shift_number"], number_in_shift=optional["fiscal_receipt_number"],
                         amount=Decimal(str(item["amount_total"])).quantize(Decimal("0.01")), raw=item)


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _md_order(answer: dict) -> str:
    """The order id of a status answer: `orderId` if given, else the `mdOrder` attribute."""
    if answer.get("orderId"):
        return str(answer["orderId"])
    for attribute in answer.get("attributes") or ():
        if attribute.get("name") == "mdOrder":
            return str(attribute.get("value"))
    return ""


def _callback_params(headers: dict, body: bytes) -> dict:
    text = body.decode("utf-8") if isinstance(body, bytes) else str(body or "")
    content_type = next((str(v) for k, v in (headers or {}).items() if k.lower() == "content-type"), "")
    if "json" in content_type or text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ForgedNotification(f"the callback is not JSON: {exc}") from exc
        if not isinstance(data, dict) or any(isinstance(v, (dict, list)) for v in data.values()):
            raise ForgedNotification("the callback is not a flat JSON object")
        return {str(k): str(v) for k, v in data.items()}
    pairs = parse_qsl(text.lstrip("?"), keep_blank_values=True, strict_parsing=False)
    params = dict(pairs)
    if len(params) != len(pairs):
        raise ForgedNotification("the callback repeats a parameter")
    return params


def _callback_status(operation: str, success: bool) -> str:
    if operation == "declinedByTimeout":
        return "canceled"
    if not success:
        return "pending"  # an operation that failed leaves the order as it was; status() tells
    return {"deposited": "succeeded", "approved": "pending", "reversed": "canceled",
            "refunded": "refunded"}.get(operation, "pending")
