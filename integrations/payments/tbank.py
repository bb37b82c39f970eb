"""T-Bank internet acquiring (API v2, `https://securepay.tinkoff.ru/v2`) behind `base.Provider`.

Every request is a JSON POST to `<base_url>/<Method>` carrying `TerminalKey` and a `Token`; amounts
are integer kopecks on the wire and `Decimal` roubles here. The Token (and the Token of every
notification) is `token()`:

1. take the root-level scalar fields of the body (`Receipt`, `DATA` and any other object or array
   are left out, and so is `Token` itself; a null is left out too);
2. add `Password` (the terminal's password);
3. sort the pairs by key;
4. concatenate the values alone (booleans as `true` / `false`, numbers as their decimal digits);
5. SHA-256 of the UTF-8 string, lower-case hex.

Methods used: `Init` (register the payment; `Recurrent=Y` + `CustomerKey` for the first payment of an
auto-payment), `GetQr` (SBP: the `https://qr.nspk.ru/...` payload of a payment made by `Init`),
`GetState`, `Cancel` (a refund of a paid payment, a cancellation of an unpaid one) and `Charge` (an
auto-payment by `RebillId` on a payment made by `Init`).

The order id is the idempotency key: T-Bank has no idempotency header, so `create` and
`charge_saved` send `request.order_id` as `OrderId` and the terminal must check order ids for
uniqueness (a setting of the terminal). Refunds send the caller's key as `ExternalRequestId`, which
T-Bank uses to refuse a second refund under the same id (not for SBP payments).

Errors: `Success: false` or an `ErrorCode` other than "0" is `ProviderRejected(ErrorCode, Message;
Details)`; HTTP 5xx or 429, a time-out, a refused connection or an answer that is not JSON is
`ProviderUnavailable`.

No Flask, no database.
"""
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import requests

from integrations.payments.base import (FiscalReceipt, ForgedNotification, Notification, PaymentRequest, ProviderPayment,
                                        ProviderRefund, ProviderRejected, ProviderUnavailable, Receipt, json_number, kopecks,
                                        roubles)

DEFAULT_URL = "https://securepay.tinkoff.ru/v2"

# GetState / notification status -> normalised status. Anything not listed is "pending": the payment is
# still on its way (NEW, FORM_SHOWED, AUTHORIZING, 3DS_CHECKING, 3DS_CHECKED, AUTHORIZED, CONFIRMING,
# AUTH_FAIL: the customer may try again on the same form until REJECTED or DEADLINE_EXPIRED, ...).
STATUS_MAP = {
    "CONFIRMED": "succeeded",
    "PARTIAL_REFUNDED": "succeeded",  # money taken, part of it returned
    "REFUNDED": "refunded",
    "CANCELED": "canceled",
    "REJECTED": "canceled",
    "DEADLINE_EXPIRED": "canceled",
    "REVERSED": "canceled",  # a hold released (two-stage terminals)
}
# Cancel's answer -> status of the refund.
REFUND_DONE = {"REFUNDED", "PARTIAL_REFUNDED", "REVERSED", "PARTIAL_REVERSED", "CANCELED"}
QR_STATES = {"NEW", "FORM_SHOWED"}  # a QR is asked for a payment not yet paid
# GetReceipt's Receipts[].Type (the Type of T-Bank's fiscalisation notification) -> FiscalReceipt.kind.
RECEIPT_KINDS = {"Income": "payment", "IncomeReturn": "refund"}
MOSCOW = timezone(timedelta(hours=3), "MSK")  # a ReceiptDatetime without an offset is Moscow time

# ReceiptItem.vat_code as an int is read in YooKassa's numbering (the one the portal's settings use);
# a string is taken as T-Bank's own value (e.g. "vat22").
VAT_TAX = {1: "none", 2: "vat0", 3: "vat10", 4: "vat20", 5: "vat110", 6: "vat120", 7: "vat5", 8: "vat7",
           9: "vat105", 10: "vat107", 11: "vat22", 12: "vat122"}
TAX_VALUES = frozenset(VAT_TAX.values())
# Receipt.tax_system_code (1 = ОСН ... 6 = патент, as YooKassa numbers them) -> Receipt.Taxation.
TAXATION = {1: "osn", 2: "usn_income", 3: "usn_income_outcome", 4: "envd", 5: "esn", 6: "patent"}
NAME_MAX = 128  # Items[].Name


@dataclass(frozen=True)
class TBankNotification(Notification):
    """A notification with the saved card's `RebillId`, when the payment saved one."""

    method_id: str | None = None


def token(params: Mapping, password: str) -> str:
    """The Token of a request or notification body (see the module's docstring)."""
    pairs = {key: value for key, value in params.items()
             if key != "Token" and value is not None and not isinstance(value, (dict, list, tuple))}
    pairs["Password"] = password
    return hashlib.sha256("".join(_text(pairs[key]) for key in sorted(pairs)).encode("utf-8")).hexdigest()


def _text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def normalise(status: str | None) -> str:
    return STATUS_MAP.get(status or "", "pending")


def tax_of(vat_code) -> str:
    if isinstance(vat_code, str):
        if vat_code not in TAX_VALUES:
            raise ValueError(f"unknown T-Bank tax {vat_code!r}; one of {sorted(TAX_VALUES)}")
        return vat_code
    try:
        return VAT_TAX[vat_code]
    except KeyError:
        raise ValueError(f"vat_code {vat_code!r} has no T-Bank tax; known: {sorted(VAT_TAX)}") from None


def receipt_body(receipt: Receipt) -> dict:
    """The `Receipt` object of Init / Cancel (ФФД 1.05 items)."""
    if not receipt.email and not receipt.phone:
        raise ValueError("a T-Bank receipt needs the customer's email or phone")
    if receipt.tax_system_code not in TAXATION:
        raise ValueError(f"a T-Bank receipt needs tax_system_code 1..6, not {receipt.tax_system_code!r}")
    items = []
    for item in receipt.items:
        line = {
            "Name": item.name[:NAME_MAX],
            "Price": kopecks(item.price),
            "Quantity": json_number(item.quantity),
            "Amount": kopecks(item.amount),
            "Tax": tax_of(item.vat_code),
            "PaymentMethod": item.payment_mode,
            "PaymentObject": item.payment_subject,
        }
        if item.measure:
            line["MeasurementUnit"] = item.measure
        items.append(line)
    body = {"Items": items, "Taxation": TAXATION[receipt.tax_system_code]}
    if receipt.email:
        body["Email"] = receipt.email
    if receipt.phone:
        body["Phone"] = receipt.phone
    return body


class TBankClient:
    name = "tbank"

    def __init__(self, terminal_key: str, password: str, base_url: str = DEFAULT_URL, timeout: float = 10,
                 session: requests.Session | None = None, notification_url: str | None = None):
        if not terminal_key or not password:
            raise ValueError("TBANK_TERMINAL_KEY and TBANK_PASSWORD are both needed")
        if not (base_url or "").startswith(("http://", "https://")):
            raise ValueError(f"TBANK_URL must be an http:// or https:// URL, not {base_url!r}")
        self.terminal_key, self._password = terminal_key, password
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.notification_url = notification_url
        self._own_session = session is None
        self._session = session or requests.Session()

    # ---- Provider -----------------------------------------------------------------------------------

    def create(self, request: PaymentRequest, idempotency_key: str) -> ProviderPayment:
        """Init (and GetQr for SBP). Repeating it with the same order id finds the same payment, provided
        the terminal checks order ids for uniqueness; `idempotency_key` has no wire of its own."""
        if request.method not in ("card", "sbp"):
            raise ValueError(f"unknown payment method {request.method!r}")
        params = self._init_params(request)
        if request.save_method:
            if not request.customer_key:
                raise ValueError("saving the card (Recurrent=Y) needs the customer's customer_key")
            params["Recurrent"] = "Y"
        answer = self._call("Init", params)
        qr = None
        if request.method == "sbp" and answer.get("Status") in QR_STATES:
            qr = self._call("GetQr", {"PaymentId": answer["PaymentId"], "DataType": "PAYLOAD"})
        return self._payment(answer, confirmation_url=answer.get("PaymentURL"),
                             qr_payload=qr.get("Data") if qr else None,
                             raw={**answer, "GetQr": qr} if qr else answer)

    def status(self, provider_id: str) -> ProviderPayment:
        """GetState. It names no saved card (that comes with the notification: `RebillId`) and no refunded
        sum: a PARTIAL_REFUNDED payment is `succeeded` with `refunded_amount` 0, and the sum is the one of
        the refunds made (`ProviderRefund.amount`)."""
        return self._payment(self._call("GetState", {"PaymentId": provider_id}))

    def refund(self, provider_id: str, amount: Decimal, idempotency_key: str,
               receipt: Receipt | None = None) -> ProviderRefund:
        """Cancel with Amount: a refund of a CONFIRMED payment (REFUNDED / PARTIAL_REFUNDED), the
        cancellation of a NEW one (whatever the amount). T-Bank issues no refund id: `refund_id` is the
        key, sent as ExternalRequestId, so a repeated call does not refund twice."""
        value = kopecks(amount)
        if value <= 0:
            raise ValueError("a refund must be more than zero")
        params = {"PaymentId": provider_id, "Amount": value, "ExternalRequestId": idempotency_key}
        if receipt is not None:
            params["Receipt"] = receipt_body(receipt)
        answer = self._call("Cancel", params)
        before, after = answer.get("OriginalAmount"), answer.get("NewAmount")
        refunded = roubles(int(before) - int(after)) if before is not None and after is not None else roubles(value)
        return ProviderRefund(provider=self.name, refund_id=str(answer.get("ExternalRequestId") or idempotency_key),
                              payment_id=str(answer.get("PaymentId", provider_id)),
                              status="succeeded" if answer.get("Status") in REFUND_DONE else "pending",
                              amount=refunded, raw=answer)

    def parse_notification(self, headers: dict, body: bytes, remote_addr: str | None) -> TBankNotification:
        """A JSON notification; believed only with this terminal's key and a Token made with its password."""
        try:
            data = json.loads(body)
        except (TypeError, ValueError) as exc:
            raise ForgedNotification(f"the notification is not JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise ForgedNotification("the notification is not a JSON object")
        given = data.get("Token")
        if not isinstance(given, str) or not hmac.compare_digest(given.lower(), token(data, self._password)):
            raise ForgedNotification("the notification's Token does not match the terminal's password")
        if data.get("TerminalKey") != self.terminal_key:
            raise ForgedNotification(f"the notification is for terminal {data.get('TerminalKey')!r}")
        if data.get("PaymentId") in (None, ""):
            raise ForgedNotification("the notification names no PaymentId")
        try:
            amount = roubles(data["Amount"]) if data.get("Amount") is not None else None
        except (TypeError, ValueError):
            raise ForgedNotification(f"the notification's Amount {data['Amount']!r} is not kopecks") from None
        rebill = data.get("RebillId")
        return TBankNotification(provider=self.name, provider_id=_id(data["PaymentId"]),
                                 status=normalise(data.get("Status")), amount=amount, order_id=data.get("OrderId"),
                                 event=data.get("Status"), raw=data,
                                 method_id=_id(rebill) if rebill not in (None, "") else None)

    def acknowledge(self, notification: Notification) -> tuple[int, dict, bytes]:
        """T-Bank repeats a notification until it is answered HTTP 200 with the body `OK`."""
        return 200, {"Content-Type": "text/plain; charset=utf-8"}, b"OK"

    def charge_saved(self, method_id: str, request: PaymentRequest, idempotency_key: str) -> ProviderPayment:
        """Init, then Charge with the saved card's RebillId. A repeated call finds the payment of the same
        order id and charges it only if it is still NEW."""
        answer = self._call("Init", self._init_params(request))
        if answer.get("Status") != "NEW":
            return self._payment(self._call("GetState", {"PaymentId": answer["PaymentId"]}))
        charged = self._call("Charge", {"PaymentId": answer["PaymentId"], "RebillId": method_id})
        return self._payment({**answer, **charged}, method_id=method_id, raw={"Init": answer, "Charge": charged})

    def fiscal_receipts(self, provider_id: str) -> list[FiscalReceipt]:
        """`GetReceipt` by PaymentId: the registered receipts of the payment and its refunds, oldest first.

        T-Bank's acquiring API documents no such method: it reports a registered receipt in a
        fiscalisation notification. `GetReceipt` is the contract of our stand-in (and of any proxy that
        keeps those notifications): `Receipts[]` with the notification's fields (Type, Status, Amount,
        FiscalNumber, ShiftNumber, ReceiptDatetime, FnNumber, EcrRegNumber, FiscalDocumentNumber,
        FiscalDocumentAttribute). Receipts not `REGISTERED` are left out."""
        answer = self._call("GetReceipt", {"PaymentId": provider_id})
        try:
            items = answer.get("Receipts") or []
            if not isinstance(items, list):
                raise ValueError("Receipts is not a list")
            receipts = [read_receipt(item) for item in items
                        if isinstance(item, dict) and item.get("Status", "REGISTERED") == "REGISTERED"]
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ProviderUnavailable(f"T-Bank sent receipts that cannot be read: {exc}") from exc
        return sorted(receipts, key=lambda receipt: receipt.registered_at)

    # ---- the wire -----------------------------------------------------------------------------------

    def _init_params(self, request: PaymentRequest) -> dict:
        params = {"Amount": kopecks(request.amount), "OrderId": request.order_id, "Description": request.description,
                  "SuccessURL": request.return_url, "FailURL": request.return_url, "Language": "ru"}
        if self.notification_url:
            params["NotificationURL"] = self.notification_url
        if request.customer_key:
            params["CustomerKey"] = request.customer_key
        if request.receipt is not None:
            params["Receipt"] = receipt_body(request.receipt)
        if request.metadata:
            params["DATA"] = {str(key): str(value) for key, value in request.metadata.items()}
        return params

    def _payment(self, answer: dict, confirmation_url: str | None = None, qr_payload: str | None = None,
                 method_id: str | None = None, raw: dict | None = None) -> ProviderPayment:
        status = normalise(answer.get("Status"))
        try:
            amount = roubles(answer.get("Amount") or 0)
        except (TypeError, ValueError) as exc:
            raise ProviderUnavailable(f"T-Bank sent an Amount that cannot be read: {answer.get('Amount')!r}") from exc
        return ProviderPayment(provider=self.name, provider_id=_id(answer.get("PaymentId")), status=status,
                               amount=amount, confirmation_url=confirmation_url, qr_payload=qr_payload,
                               method_id=method_id, paid_amount=amount if status in ("succeeded", "refunded") else None,
                               refunded_amount=amount if status == "refunded" else Decimal(0),
                               raw=raw if raw is not None else answer)

    def _call(self, method: str, params: dict) -> dict:
        body = {"TerminalKey": self.terminal_key, **params}
        body["Token"] = token(body, self._password)
        try:
            response = self._session.post(f"{self.base_url}/{method}", timeout=self.timeout,
                                          data=json.dumps(body, ensure_ascii=False).encode("utf-8"),
                                          headers={"Content-Type": "application/json; charset=utf-8"})
        except requests.Timeout as exc:
            raise ProviderUnavailable(f"T-Bank {method} did not answer in time: {exc}") from exc
        except requests.RequestException as exc:
            raise ProviderUnavailable(f"T-Bank {method} cannot be reached: {exc}") from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise ProviderUnavailable(f"T-Bank {method} answered HTTP {response.status_code}")
        try:
            data = response.json()
        except ValueError:
            data = None
        if not isinstance(data, dict):
            if response.status_code >= 400:
                raise ProviderRejected(f"HTTP {response.status_code}", f"T-Bank {method}: {response.text[:200]}")
            raise ProviderUnavailable(f"T-Bank {method} sent an answer that is not a JSON object")
        code = str(data.get("ErrorCode", "0"))
        if data.get("Success") is not True or code != "0" or response.status_code >= 400:
            message = "; ".join(str(part) for part in (data.get("Message"), data.get("Details")) if part)
            raise ProviderRejected(code, message or f"T-Bank {method} refused (HTTP {response.status_code})")
        return data

    def close(self) -> None:
        """Close the HTTP session if this client made it (a session passed in belongs to the caller)."""
        if self._own_session:
            self._session.close()

    def __enter__(self) -> "TBankClient":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def read_receipt(item: dict) -> FiscalReceipt:
    """A registered receipt as T-Bank's fiscalisation notification (and GetReceipt) describes it."""
    kind = RECEIPT_KINDS.get(item.get("Type"))
    if kind is None:
        raise ValueError(f"unknown receipt Type {item.get('Type')!r}")
    registered = datetime.fromisoformat(str(item["ReceiptDatetime"]).replace("Z", "+00:00"))
    if registered.tzinfo is None:
        registered = registered.replace(tzinfo=MOSCOW)
    fn, fd, fpd = (_id(item.get(name)) for name in ("FnNumber", "FiscalDocumentNumber", "FiscalDocumentAttribute"))
    if not (fn and fd and fpd):
        raise ValueError("a registered receipt without its fiscal numbers")
    optional = {name: (_id(item[name]) if item.get(name) not in (None, "") else None)
                for name in ("EcrRegNumber", "ShiftNumber", "FiscalNumber")}
    return FiscalReceipt(kind=kind, registered_at=registered, fn=fn, fd=fd, fpd=fpd,
                         ecr_registration=optional["EcrRegNumber"], shift_number=optional["ShiftNumber"],
                         number_in_shift=optional["FiscalNumber"], amount=roubles(item["Amount"]), raw=item)


def _id(value) -> str:
    """PaymentId / RebillId: a string in answers, a number in notifications; one spelling here."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return "" if value is None else str(value)
