"""A stand-in of the YooKassa API v3 on loopback, for tests and the demo setup.

It answers the part of the API the portal uses, as the documentation describes it:

- `POST /v3/payments`: basic auth `shopId:secretKey` (else 401 `invalid_credentials`), an
  `Idempotence-Key` header (else 400); the same key with the same body answers what the first request
  was answered, the same key with another body is refused (400 `invalid_request`). The body is checked:
  amount > 0 in RUB with at most two decimals, `capture: true`, description ≤ 128 characters, metadata
  (≤ 16 keys), a `redirect` (with `return_url`) or `qr` confirmation, `payment_method_data.type`
  `bank_card` or `sbp`, or a `payment_method_id` of a saved method (charged at once, no confirmation),
  and the receipt (customer email or phone; items with description, quantity, price, vat_code; the
  items' quantity × price adding up to the amount). With `require_receipt=True` a payment without a
  receipt is refused, as in a shop that sends 54-ФЗ receipts through YooKassa.
- `GET /v3/payments/{id}`, `GET /v3/refunds/{id}`.
- `GET /v3/receipts?payment_id=...` (or `?refund_id=...`): `{"type": "list", "items": [...]}`, the
  54-ФЗ receipts of the payment and of its refunds, `pending` until the cash register has registered
  them, then `succeeded` with `fiscal_document_number`, `fiscal_storage_number`, `fiscal_attribute`,
  `registered_at` (UTC) and `fiscal_provider_id`. A payment that carried a `receipt` gets a payment
  receipt when it succeeds; a refund gets a refund receipt when it or its payment carried one.
  `fiscal_delay` (seconds) or `fiscalise=False` (until `fiscalise_now()`) hold the registration.
- `POST /v3/refunds`: the same auth and idempotence rules; a refund of a succeeded payment up to the
  amount not yet refunded (more → 400 `invalid_request`). Refunds succeed at once.
- Errors are YooKassa's error object `{"type": "error", "id", "code", "description", "parameter"}`.

A card payment's `confirmation_url` is this stand-in's page `GET /pay/{id}`: a "Pay" button (and a
"Cancel" one) that marks the payment paid, sends the notification to `webhook_url` and redirects to the
payment's `return_url`, so a browser test can pay through it. An SBP payment gets a `qr` confirmation
with a made-up https://qr.nspk.ru/... link; the same page pays it.

What the customer or YooKassa would do is done by Python methods: `pay`, `cancel`, `notify`,
`fail_next`; `delay` holds every API request. Only the standard library: it runs wherever the portal runs.

    python -m integrations.payments.simulators.yookassa --port 8791 \
        --webhook-url http://127.0.0.1:5000/payments/notify/yookassa
"""
import argparse
import base64
import binascii
import copy
import hmac
import html
import json
import re
import secrets
import threading
import urllib.error
import urllib.request
import uuid
from datetime import datetime, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from urllib.parse import parse_qs, urlsplit

from integrations.standin import FiscalRegister, LoopbackHandler, LoopbackServer, send_copies

API_PREFIX = "/v3"
PAGE_PREFIX = "/pay/"
CURRENCY = "RUB"
MAX_REQUEST_BYTES = 1024 * 1024
IDEMPOTENCE_KEY_LIMIT = 64
DESCRIPTION_LIMIT = 128
METADATA_KEYS, METADATA_KEY_LIMIT, METADATA_VALUE_LIMIT = 16, 32, 512
METHOD_TYPES = ("bank_card", "sbp")
VAT_CODES = range(1, 13)  # 1..10 and, from 2026, 11 (22 %) and 12 (22/122)
EVENTS = ("payment.succeeded", "payment.canceled", "payment.waiting_for_capture", "refund.succeeded")
AMOUNT_RE = re.compile(r"^\d{1,10}(\.\d{1,2})?$")
KOPECK = Decimal("0.01")
ERROR_CODES = {400: "invalid_request", 401: "invalid_credentials", 403: "forbidden", 404: "not_found",
               429: "too_many_requests", 500: "internal_server_error"}
JSON_TYPE = "application/json;charset=UTF-8"


class ApiError(Exception):
    """An answer with YooKassa's error object."""

    def __init__(self, status: int, description: str, parameter: str | None = None, code: str | None = None):
        super().__init__(description)
        self.status, self.description, self.parameter = status, description, parameter
        self.code = code or ERROR_CODES.get(status, "invalid_request")

    def answer(self) -> tuple[int, str, bytes]:
        return _error(self.status, self.code, self.description, self.parameter)


class _Handler(LoopbackHandler):
    simulator: "YooKassaSimulator"
    server_version = "YooKassaStandIn/1"

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path.startswith(API_PREFIX + "/"):
            self._api("GET", self.path, b"")
        elif path.startswith(PAGE_PREFIX):
            self._send(*self.simulator.page(path[len(PAGE_PREFIX):]))
        else:
            self._send(404, "text/plain; charset=utf-8",
                       f"YooKassa stand-in: the API is at {API_PREFIX}, payment pages at {PAGE_PREFIX}<id>\n".encode())

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        raw = self._body()
        if raw is None:
            return
        if path.startswith(API_PREFIX + "/"):
            self._api("POST", path, raw)
        elif path.startswith(PAGE_PREFIX):
            status, content_type, body, headers = self.simulator.submit_page(path[len(PAGE_PREFIX):], raw)
            self._send(status, content_type, body, headers)
        else:
            self._send(*_error(404, "not_found", f"No such method: POST {path}"))

    def _api(self, method: str, path: str, raw: bytes) -> None:
        simulator = self.simulator
        if simulator.wait_delay():
            return  # stopped while holding the request: close without an answer
        self._send(*simulator.api(method, path, self.headers, raw))

    def _body(self) -> bytes | None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            self._send(*_error(400, "invalid_request", "Content-Length is not a number"))
            return None
        if length < 0 or length > MAX_REQUEST_BYTES:
            self._send(*_error(400, "invalid_request", "The request is too large"))
            return None
        return self.rfile.read(length) if length else b""


class YooKassaSimulator(LoopbackServer):
    """The API on http://host:port/v3 in a daemon thread.

    Inspection: `payments` (id → the payment object as the API shows it), `refunds` (id → refund object),
    `requests` (every API request: method, path, idempotence_key, body as parsed JSON or None),
    `notifications` (every notification sent: event, object_id, status = the HTTP answer or None).
    `url` is the API's base URL, for `YooKassaClient(base_url=...)` and YOOKASSA_URL.
    """

    handler = _Handler
    name = "yookassa"
    path = API_PREFIX

    def __init__(self, host: str = "127.0.0.1", port: int = 0, shop_id: str = "100500",
                 secret_key: str = "test_secret", webhook_url: str | None = None, require_receipt: bool = False,
                 delay: float = 0, webhook_timeout: float = 5, verbose: bool = False, fiscal_delay: float = 0,
                 fiscalise: bool = True):
        super().__init__(host, port)
        self.shop_id, self.secret_key = str(shop_id), secret_key
        self.webhook_url = webhook_url
        self.require_receipt = require_receipt
        self.delay = delay  # seconds every API request is held
        self.webhook_timeout = webhook_timeout
        self.verbose = verbose
        self.payments: dict[str, dict] = {}
        self.refunds: dict[str, dict] = {}
        self.requests: list[dict] = []
        self.notifications: list[dict] = []
        self._save_asked: dict[str, bool] = {}  # payment id → save_payment_method was asked
        self._saved_methods: dict[str, dict] = {}  # payment method id → the saved method
        self._answers: dict[tuple[str, str], tuple[str, int, bytes]] = {}  # (path, key) → (body, status, answer)
        self._failures = 0
        self._failure_status = 500
        self._lock = threading.RLock()
        # The cash register: receipts `fiscal_delay` s after the payment, or on fiscalise_now() only.
        self.fiscal = FiscalRegister(delay=fiscal_delay, enabled=fiscalise)
        self.fiscal_provider_id = str(uuid.uuid4())
        self._receipt_data: dict[str, dict] = {}  # payment or refund id → the receipt it carried

    # ---- test controls -------------------------------------------------------------------------------------

    def pay(self, payment_id: str, save_method: bool = False) -> dict:
        """The customer pays: the payment succeeds. The method is saved only when `save_method` is true and
        the payment asked for it (`save_payment_method`), as YooKassa saves only with the customer's
        consent. Paying a succeeded payment again changes nothing; a canceled one cannot be paid."""
        with self._lock:
            payment = self._get_payment(payment_id)
            if payment["status"] == "succeeded":
                return copy.deepcopy(payment)
            if payment["status"] != "pending":
                raise ValueError(f"payment {payment_id} is {payment['status']}, it cannot be paid")
            method = payment.get("payment_method") or {"type": "bank_card", "id": _new_id("0022")}
            saved = bool(save_method) and self._save_asked.get(payment_id, False)
            method.update(saved=saved, status="active" if saved else "inactive")
            if method["type"] == "bank_card":
                method.setdefault("title", "Bank card *4444")
                method.setdefault("card", {"first6": "555555", "last4": "4444", "expiry_year": "2030",
                                           "expiry_month": "12", "card_type": "MasterCard"})
            else:
                method.setdefault("title", "SBP")
            payment["payment_method"] = method
            self._succeed(payment)
            if saved:
                self._saved_methods[method["id"]] = copy.deepcopy(method)
            return copy.deepcopy(payment)

    def cancel(self, payment_id: str, reason: str = "expired_on_confirmation", party: str = "yoo_money") -> dict:
        """The payment is canceled (the customer gave up, the card was declined, ...)."""
        with self._lock:
            payment = self._get_payment(payment_id)
            if payment["status"] == "canceled":
                return copy.deepcopy(payment)
            if payment["status"] != "pending":
                raise ValueError(f"payment {payment_id} is {payment['status']}, it cannot be canceled")
            payment.update(status="canceled", paid=False, refundable=False,
                           cancellation_details={"party": party, "reason": reason})
            if "receipt_registration" in payment:
                payment["receipt_registration"] = "canceled"
            return copy.deepcopy(payment)

    def notify(self, payment_id: str, event: str = "payment.succeeded", times: int = 1,
               concurrent: bool = False) -> list[int | None]:
        """POST the notification of `event` about the payment to `webhook_url`, `times` copies (all at
        once with `concurrent`, as YooKassa's retries may overlap). For `refund.succeeded` the object is
        the payment's latest refund (or the refund whose id is given). Returns the HTTP status of each
        answer, None where there was none. The object is sent as it is now, whatever the event says."""
        if not self.webhook_url:
            raise RuntimeError("the stand-in has no webhook_url to notify")
        if event not in EVENTS:
            raise ValueError(f"unknown event {event!r}; expected one of {', '.join(EVENTS)}")
        with self._lock:
            if event.startswith("refund."):
                obj = self.refunds.get(payment_id) or self._latest_refund(payment_id)
            else:
                obj = self._get_payment(payment_id)
            body = json.dumps({"type": "notification", "event": event, "object": obj},
                              ensure_ascii=False).encode("utf-8")
            object_id = obj["id"]
        results = send_copies(lambda: self._post_webhook(body), times, concurrent, self.webhook_timeout,
                              "yookassa-notify")
        with self._lock:
            self.notifications.extend({"event": event, "object_id": object_id, "status": status}
                                      for status in results)
        return results

    def fiscalise_now(self) -> None:
        """The cash register registers every receipt still pending, now."""
        self.fiscal.fiscalise_now()

    def fail_next(self, n: int, status: int = 500) -> None:
        """The next `n` API requests answer HTTP `status` (with YooKassa's error object where it has one)
        and change nothing."""
        with self._lock:
            self._failures, self._failure_status = n, status

    # ---- answering the API ---------------------------------------------------------------------------------

    def api(self, method: str, path: str, headers, raw: bytes) -> tuple[int, str, bytes]:
        """(HTTP status, content type, body) of one API request."""
        key = headers.get("Idempotence-Key")
        parts = urlsplit(path)
        path, query = parts.path, parse_qs(parts.query)
        body = None
        if raw:
            try:
                body = json.loads(raw, parse_float=Decimal)
            except ValueError:
                body = None
        with self._lock:
            self.requests.append({"method": method, "path": path, "idempotence_key": key,
                                  "body": copy.deepcopy(body)})
            if self._failures > 0:
                self._failures -= 1
                status = self._failure_status
                if status in ERROR_CODES:
                    return _error(status, ERROR_CODES[status], "Simulated failure of the stand-in")
                return status, "text/plain; charset=utf-8", b"simulated failure\n"
        try:
            if not self._authorized(headers.get("Authorization")):
                raise ApiError(401, "Login or password is invalid; use shopId and the secret key "
                                    "with HTTP basic authentication", code="invalid_credentials")
            route = path[len(API_PREFIX):]
            if method == "GET":
                return self._get(route, query)
            if route not in ("/payments", "/refunds"):
                raise ApiError(404, f"No such method: POST {path}")
            if not key:
                raise ApiError(400, "Idempotence-Key header is required for POST requests", "Idempotence-Key")
            if len(key) > IDEMPOTENCE_KEY_LIMIT:
                raise ApiError(400, f"Idempotence-Key must not be longer than {IDEMPOTENCE_KEY_LIMIT} characters",
                               "Idempotence-Key")
            if not isinstance(body, dict):
                raise ApiError(400, "The request body must be a JSON object")
            fingerprint = json.dumps(body, sort_keys=True, ensure_ascii=False, default=str)
            with self._lock:
                earlier = self._answers.get((route, key))
                if earlier is not None:
                    if earlier[0] != fingerprint:
                        raise ApiError(400, "Idempotence-Key was already used with other request parameters",
                                       "Idempotence-Key")
                    return earlier[1], JSON_TYPE, earlier[2]
                obj = self._create_payment(body) if route == "/payments" else self._create_refund(body)
                answer = _json(obj)
                self._answers[(route, key)] = (fingerprint, 200, answer)
                return 200, JSON_TYPE, answer
        except ApiError as exc:
            return exc.answer()

    def _authorized(self, header: str | None) -> bool:
        scheme, _, encoded = (header or "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _, password = base64.b64decode(encoded.strip(), validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return hmac.compare_digest(user.encode(), self.shop_id.encode()) and \
            hmac.compare_digest(password.encode(), self.secret_key.encode())

    def _get(self, route: str, query: dict | None = None) -> tuple[int, str, bytes]:
        parts = route.strip("/").split("/")
        with self._lock:
            if parts == ["receipts"]:
                return 200, JSON_TYPE, _json(self._receipts(query or {}))
            if len(parts) == 2 and parts[0] == "payments":
                obj = self.payments.get(parts[1])
            elif len(parts) == 2 and parts[0] == "refunds":
                obj = self.refunds.get(parts[1])
            else:
                raise ApiError(404, f"No such method: GET {API_PREFIX}{route}")
            if obj is None:
                raise ApiError(404, f"{parts[0][:-1].capitalize()} {parts[1]} not found")
            return 200, JSON_TYPE, _json(obj)

    def _create_payment(self, body: dict) -> dict:
        amount = _amount(body.get("amount"), "amount")
        if amount <= 0:
            raise ApiError(400, "The amount must be greater than zero", "amount.value")
        if body.get("capture") is not True:
            raise ApiError(400, "The stand-in takes one-stage payments only (capture: true)", "capture")
        description = body.get("description")
        if description is not None and (not isinstance(description, str) or len(description) > DESCRIPTION_LIMIT):
            raise ApiError(400, f"The description must be a string of at most {DESCRIPTION_LIMIT} characters",
                           "description")
        metadata = _metadata(body.get("metadata"))
        receipt = body.get("receipt")
        if receipt is not None:
            _check_receipt(receipt, amount)
        elif self.require_receipt:
            raise ApiError(400, "Receipt is missing: the shop sends 54-FZ receipts through YooKassa", "receipt")
        save = body.get("save_payment_method", False)
        if not isinstance(save, bool):
            raise ApiError(400, "save_payment_method must be true or false", "save_payment_method")
        payment_id = _new_id("000f")
        payment = {
            "id": payment_id,
            "status": "pending",
            "paid": False,
            "amount": {"value": _text(amount), "currency": CURRENCY},
            "created_at": _now(),
            "metadata": metadata,
            "recipient": {"account_id": self.shop_id, "gateway_id": "100700"},
            "refundable": False,
            "test": True,
        }
        if description is not None:
            payment["description"] = description
        if body.get("merchant_customer_id") is not None:
            payment["merchant_customer_id"] = str(body["merchant_customer_id"])
        if receipt is not None:
            payment["receipt_registration"] = "pending"
            self._receipt_data[payment_id] = copy.deepcopy(receipt)

        if body.get("payment_method_id") is not None:
            # An auto-payment: the saved method is charged at once, nobody confirms anything.
            if body.get("payment_method_data") is not None:
                raise ApiError(400, "Pass either payment_method_id or payment_method_data", "payment_method_data")
            method = self._saved_methods.get(str(body["payment_method_id"]))
            if method is None:
                raise ApiError(400, "The payment method is not saved or does not exist", "payment_method_id")
            payment["payment_method"] = copy.deepcopy(method)
            self._save_asked[payment_id] = False
            self.payments[payment_id] = payment
            self._succeed(payment)
            return payment

        method_data = body.get("payment_method_data")
        method_type = None
        if method_data is not None:
            method_type = method_data.get("type") if isinstance(method_data, dict) else None
            if method_type not in METHOD_TYPES:
                raise ApiError(400, f"The stand-in takes payment methods {', '.join(METHOD_TYPES)}, "
                                    f"not {method_type!r}", "payment_method_data.type")
        confirmation = body.get("confirmation")
        if not isinstance(confirmation, dict):
            raise ApiError(400, "A confirmation is required unless a saved payment_method_id is charged",
                           "confirmation")
        if confirmation.get("type") == "redirect":
            return_url = confirmation.get("return_url")
            if not isinstance(return_url, str) or urlsplit(return_url).scheme not in ("http", "https"):
                raise ApiError(400, "A redirect confirmation needs an http(s) return_url", "confirmation.return_url")
            payment["confirmation"] = {"type": "redirect", "return_url": return_url,
                                       "confirmation_url": f"{self.root}{PAGE_PREFIX}{payment_id}"}
        elif confirmation.get("type") == "qr":
            if method_type != "sbp":
                raise ApiError(400, "A qr confirmation is for payment_method_data.type sbp", "confirmation.type")
            payment["confirmation"] = {"type": "qr", "confirmation_data": _nspk_link(amount)}
        else:
            raise ApiError(400, f"The stand-in takes confirmations redirect and qr, not {confirmation.get('type')!r}",
                           "confirmation.type")
        if method_type is not None:
            payment["payment_method"] = {"type": method_type, "id": _new_id("0022"), "saved": False,
                                         "status": "inactive"}
        self._save_asked[payment_id] = save
        self.payments[payment_id] = payment
        return payment

    def _create_refund(self, body: dict) -> dict:
        payment_id = body.get("payment_id")
        payment = self.payments.get(payment_id) if isinstance(payment_id, str) else None
        if payment is None:
            raise ApiError(400, f"Payment {payment_id!r} not found", "payment_id")
        amount = _amount(body.get("amount"), "amount")
        if amount <= 0:
            raise ApiError(400, "The amount must be greater than zero", "amount.value")
        if payment["status"] != "succeeded":
            raise ApiError(400, f"Payment {payment_id} is {payment['status']}; only a succeeded payment is refunded",
                           "payment_id")
        refunded = Decimal(payment.get("refunded_amount", {}).get("value", "0"))
        available = Decimal(payment["amount"]["value"]) - refunded
        if amount > available:
            raise ApiError(400, f"The refund amount {_text(amount)} is more than the {_text(available)} "
                                "left to refund", "amount.value")
        receipt = body.get("receipt")
        if receipt is not None:
            _check_receipt(receipt, amount)
        elif self.require_receipt:
            raise ApiError(400, "Receipt is missing: the shop sends 54-FZ receipts through YooKassa", "receipt")
        refund = {
            "id": _new_id("0015"),
            "payment_id": payment_id,
            "status": "succeeded",
            "amount": {"value": _text(amount), "currency": CURRENCY},
            "created_at": _now(),
        }
        if isinstance(body.get("description"), str):
            refund["description"] = body["description"]
        if receipt is not None:
            refund["receipt_registration"] = "succeeded"
            self._receipt_data[refund["id"]] = copy.deepcopy(receipt)
        if receipt is not None or payment_id in self._receipt_data:
            self.fiscal.register(payment_id, "refund", amount, reference=refund["id"])
        self.refunds[refund["id"]] = refund
        refunded += amount
        payment["refunded_amount"] = {"value": _text(refunded), "currency": CURRENCY}
        payment["refundable"] = refunded < Decimal(payment["amount"]["value"])
        return refund

    # ---- the confirmation page ---------------------------------------------------------------------------

    def page(self, payment_id: str) -> tuple[int, str, bytes]:
        with self._lock:
            payment = self.payments.get(payment_id)
            if payment is None:
                return 404, "text/html; charset=utf-8", _html("Платёж не найден", "<p>Нет такого платежа.</p>")
            amount, status = payment["amount"]["value"], payment["status"]
            description = payment.get("description", "")
            qr = (payment.get("confirmation") or {}).get("confirmation_data")
        rows = [f"<p>Сумма: <strong>{html.escape(amount)} ₽</strong></p>",
                f"<p>{html.escape(description)}</p>"]
        if qr:
            rows.append(f'<p>Ссылка СБП: <code>{html.escape(qr)}</code></p>')
        if status == "pending":
            rows.append(f'<form method="post" action="{PAGE_PREFIX}{html.escape(payment_id)}">'
                        '<button type="submit" name="action" value="pay">Pay</button> '
                        '<button type="submit" name="action" value="cancel">Cancel</button></form>')
        else:
            rows.append(f'<p>Статус платежа: <strong id="status">{html.escape(status)}</strong></p>')
        return 200, "text/html; charset=utf-8", _html("YooKassa (stand-in)", "\n".join(rows))

    def submit_page(self, payment_id: str, form: bytes) -> tuple[int, str, bytes, dict]:
        """POST /pay/{id}: pay (or cancel), notify, and send the customer back to the return_url."""
        action = (parse_qs(form.decode("utf-8", errors="replace")).get("action") or ["pay"])[0]
        with self._lock:
            if payment_id not in self.payments:
                return 404, "text/html; charset=utf-8", _html("Платёж не найден", "<p>Нет такого платежа.</p>"), {}
            status = self.payments[payment_id]["status"]
            if status == "pending":
                if action == "cancel":
                    self.cancel(payment_id)
                else:
                    self.pay(payment_id, save_method=True)
            payment = self.payments[payment_id]
            return_url = (payment.get("confirmation") or {}).get("return_url")
            event = "payment.succeeded" if payment["status"] == "succeeded" else "payment.canceled"
            changed = status == "pending"
        if changed and self.webhook_url:
            self.notify(payment_id, event)
        if return_url:
            return 303, "text/plain; charset=utf-8", b"", {"Location": return_url}
        return (*self.page(payment_id), {})

    # ---- inside ------------------------------------------------------------------------------------------------

    def _get_payment(self, payment_id: str) -> dict:
        payment = self.payments.get(payment_id)
        if payment is None:
            raise KeyError(f"no payment {payment_id!r}")
        return payment

    def _latest_refund(self, payment_id: str) -> dict:
        refunds = [refund for refund in self.refunds.values() if refund["payment_id"] == payment_id]
        if not refunds:
            raise KeyError(f"no refund of payment {payment_id!r}")
        return refunds[-1]

    def _succeed(self, payment: dict) -> None:
        payment.update(status="succeeded", paid=True, refundable=True, captured_at=_now(),
                       income_amount=dict(payment["amount"]))
        if "receipt_registration" in payment:
            payment["receipt_registration"] = "succeeded"
            self.fiscal.register(payment["id"], "payment", Decimal(payment["amount"]["value"]))

    def _receipts(self, query: dict) -> dict:
        """GET /receipts: by payment_id (the payment's receipts and its refunds'), or by refund_id."""
        payment_id = (query.get("payment_id") or [None])[0]
        refund_id = (query.get("refund_id") or [None])[0]
        if payment_id is None and refund_id is None:
            raise ApiError(400, "Pass payment_id or refund_id", "payment_id")
        if refund_id is not None:
            refund = self.refunds.get(refund_id)
            records = [r for r in self.fiscal.receipts(refund["payment_id"]) if r["reference"] == refund_id] \
                if refund else []
        else:
            records = self.fiscal.receipts(payment_id)
        return {"type": "list", "items": [self._receipt_object(record) for record in records]}

    def _receipt_object(self, record: dict) -> dict:
        payment_id, refund_id = record["key"], record["reference"]
        data = self._receipt_data.get(refund_id or "") or self._receipt_data.get(payment_id) or {}
        obj = {"id": "rt-" + record["id"], "type": record["kind"], "payment_id": payment_id,
               "status": "succeeded" if record["status"] == "registered" else "pending",
               "items": copy.deepcopy(data.get("items") or []),
               "settlements": [{"type": "cashless", "amount": {"value": _text(record["amount"]),
                                                               "currency": CURRENCY}}]}
        if refund_id:
            obj["refund_id"] = refund_id
        if data.get("tax_system_code") is not None:
            obj["tax_system_code"] = data["tax_system_code"]
        if record["status"] == "registered":
            registered = record["registered_at"].astimezone(timezone.utc)
            obj.update(fiscal_document_number=record["fd"], fiscal_storage_number=record["fn"],
                       fiscal_attribute=record["fpd"], fiscal_provider_id=self.fiscal_provider_id,
                       registered_at=registered.isoformat(timespec="milliseconds").replace("+00:00", "Z"))
        return obj

    def _post_webhook(self, body: bytes) -> int | None:
        request = urllib.request.Request(self.webhook_url, data=body, method="POST",
                                         headers={"Content-Type": "application/json; charset=utf-8",
                                                  "User-Agent": "YooKassa-stand-in"})
        try:
            with urllib.request.urlopen(request, timeout=self.webhook_timeout) as response:
                response.read()
                return response.status
        except urllib.error.HTTPError as exc:
            exc.close()
            return exc.code
        except (urllib.error.URLError, OSError):
            return None


# ---- checking requests -------------------------------------------------------------------------------------

def _amount(value, parameter: str) -> Decimal:
    """The Decimal of an {"value", "currency"} object; ApiError unless it is RUB with at most two decimals."""
    if not isinstance(value, dict):
        raise ApiError(400, f"{parameter} must be an object with value and currency", parameter)
    if value.get("currency") != CURRENCY:
        raise ApiError(400, f"The stand-in takes {CURRENCY} only, not {value.get('currency')!r}",
                       f"{parameter}.currency")
    number = value.get("value")
    if isinstance(number, bool) or not isinstance(number, (str, int, Decimal)) or \
            not AMOUNT_RE.match(str(number)):
        raise ApiError(400, f"{parameter}.value must be a number with at most two decimals, like \"123.45\"",
                       f"{parameter}.value")
    return Decimal(str(number))


def _metadata(value) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict) or len(value) > METADATA_KEYS:
        raise ApiError(400, f"metadata must be an object of at most {METADATA_KEYS} keys", "metadata")
    for key, item in value.items():
        if len(key) > METADATA_KEY_LIMIT or not isinstance(item, str) or len(item) > METADATA_VALUE_LIMIT:
            raise ApiError(400, f"metadata keys are at most {METADATA_KEY_LIMIT} characters, values strings of "
                                f"at most {METADATA_VALUE_LIMIT}", f"metadata.{key}")
    return dict(value)


def _check_receipt(receipt, total: Decimal) -> None:
    if not isinstance(receipt, dict):
        raise ApiError(400, "receipt must be an object", "receipt")
    customer = receipt.get("customer") or {}
    if not isinstance(customer, dict) or not (customer.get("email") or customer.get("phone")):
        raise ApiError(400, "The receipt needs the customer's email or phone", "receipt.customer")
    items = receipt.get("items")
    if not isinstance(items, list) or not items:
        raise ApiError(400, "The receipt needs at least one item", "receipt.items")
    sum_of_items = Decimal(0)
    for index, item in enumerate(items):
        where = f"receipt.items[{index}]"
        if not isinstance(item, dict):
            raise ApiError(400, f"{where} must be an object", where)
        description = item.get("description")
        if not isinstance(description, str) or not 1 <= len(description) <= DESCRIPTION_LIMIT:
            raise ApiError(400, f"The item description is 1..{DESCRIPTION_LIMIT} characters", f"{where}.description")
        quantity = item.get("quantity")
        try:
            if isinstance(quantity, bool) or not isinstance(quantity, (str, int, Decimal)):
                raise InvalidOperation
            quantity = Decimal(str(quantity))
            if not quantity.is_finite() or quantity <= 0:
                raise InvalidOperation
        except InvalidOperation:
            raise ApiError(400, "The item quantity must be a positive number", f"{where}.quantity") from None
        price = _amount(item.get("amount"), f"{where}.amount")
        vat_code = item.get("vat_code")
        if isinstance(vat_code, bool) or not isinstance(vat_code, int) or vat_code not in VAT_CODES:
            raise ApiError(400, f"vat_code must be an integer {VAT_CODES.start}..{VAT_CODES.stop - 1}",
                           f"{where}.vat_code")
        for name in ("payment_subject", "payment_mode", "measure"):
            if name in item and not isinstance(item[name], str):
                raise ApiError(400, f"{name} must be a string", f"{where}.{name}")
        sum_of_items += (price * quantity).quantize(KOPECK, rounding=ROUND_HALF_UP)
    if sum_of_items != total:
        raise ApiError(400, f"The receipt items add up to {_text(sum_of_items)}, not to the amount {_text(total)}",
                       "receipt.items")


# ---- small things -------------------------------------------------------------------------------------------

def _error(status: int, code: str, description: str, parameter: str | None = None) -> tuple[int, str, bytes]:
    body = {"type": "error", "id": str(uuid.uuid4()), "code": code, "description": description}
    if parameter:
        body["parameter"] = parameter
    return status, JSON_TYPE, _json(body)


def _json(obj) -> bytes:
    return json.dumps(obj, ensure_ascii=False).encode("utf-8")


def _text(amount: Decimal) -> str:
    return format(amount.quantize(KOPECK), "f")


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _new_id(kind: str) -> str:
    """An id shaped like YooKassa's: 8-4-4-4-12 hex digits, the second group telling the kind of object."""
    return f"{secrets.token_hex(4)}-{kind}-5000-{secrets.choice('89ab')}000-{secrets.token_hex(6)}"


def _nspk_link(amount: Decimal) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    qrc_id = "AD" + "".join(secrets.choice(alphabet) for _ in range(30))
    kopecks = int(amount * 100)
    return f"https://qr.nspk.ru/{qrc_id}?type=02&bank=100000000111&sum={kopecks}&cur={CURRENCY}&crc={secrets.token_hex(2).upper()}"


def _html(title: str, body: str) -> bytes:
    return (f'<!doctype html><html lang="ru"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f'</head><body><h1>{html.escape(title)}</h1>\n{body}\n</body></html>\n').encode("utf-8")


# ---- running it by hand --------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Stand-in of the YooKassa API v3 on loopback.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8791)
    parser.add_argument("--shop-id", default="100500")
    parser.add_argument("--secret-key", default="test_secret")
    parser.add_argument("--webhook-url", default=None,
                        help="where to POST notifications, e.g. http://127.0.0.1:5000/payments/notify/yookassa")
    parser.add_argument("--require-receipt", action="store_true", help="refuse payments without a receipt")
    parser.add_argument("--delay", type=float, default=0, help="hold every API request this many seconds")
    parser.add_argument("--quiet", action="store_true", help="do not log requests")
    args = parser.parse_args(argv)
    simulator = YooKassaSimulator(args.host, args.port, shop_id=args.shop_id, secret_key=args.secret_key,
                                  webhook_url=args.webhook_url, require_receipt=args.require_receipt,
                                  delay=args.delay, verbose=not args.quiet)
    simulator.run(lambda: f"YooKassa stand-in at {simulator.url} (shop id {simulator.shop_id}, secret key "
                          f"{simulator.secret_key}); notifications to {simulator.webhook_url or 'nowhere'}; "
                          "Ctrl-C stops it",
                  "YooKassa stand-in stopped")


if __name__ == "__main__":
    main()
