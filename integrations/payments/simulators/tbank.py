"""A stand-in of T-Bank internet acquiring (API v2) on loopback, for tests and the demo setup.

It answers the methods the portal uses, as the documentation describes them: JSON POSTs to
`/v2/<Method>`, each with `TerminalKey` and a `Token` (SHA-256 of the root-level scalar values and the
terminal's password, sorted by key; see `integrations.payments.tbank.token`), answered HTTP 200 with
`Success` and `ErrorCode`:

- `Init`: Amount (kopecks) > 0, OrderId, Description; `Recurrent=Y` needs `CustomerKey`; a `Receipt`
  is checked (Email or Phone, Taxation, Items with Name, Price, Quantity, Amount = Price × Quantity, Tax,
  adding up to Amount). The same OrderId again returns the payment made for it if the Amount is the
  same, and an error if it differs. `PaymentURL` is this stand-in's page `/pay/{PaymentId}`.
- `GetQr` (SBP): the https://qr.nspk.ru/... payload of a payment not yet paid.
- `GetState`: `Status` and `Amount` (the amount the payment was made for).
- `Cancel`: a NEW payment becomes CANCELED; a CONFIRMED one is refunded by `Amount` (by default what is
  left), at most what is left: PARTIAL_REFUNDED, then REFUNDED. `OriginalAmount` / `NewAmount` are what
  was left before and after. An `ExternalRequestId` seen before answers what it was answered then.
- `Charge`: a NEW payment paid with the `RebillId` of a card saved by an earlier payment.
- `GetReceipt` (this stand-in's contract, not a documented T-Bank method: T-Bank tells the fiscal data
  of a receipt in its fiscalisation notification): `PaymentId` → `Receipts[]`, one per receipt of the
  payment and its refunds, with the fields of that notification: `Type` (`Income` / `IncomeReturn`),
  `Status` (`PENDING` until the cash register has registered it, then `REGISTERED`), `Amount`
  (kopecks) and, once registered, `FiscalNumber` (number in shift), `ShiftNumber`, `ReceiptDatetime`
  (ISO 8601 with the register's offset, Moscow), `FnNumber`, `EcrRegNumber`, `FiscalDocumentNumber`,
  `FiscalDocumentAttribute`. A payment made with a `Receipt` gets a receipt when it is CONFIRMED; a
  refund when it or its payment carried one. `fiscal_delay` / `fiscalise=False` hold the registration.

Error codes (`ErrorCode`, with `Message` and `Details`) of this stand-in: 204 the token does not match
(or the terminal is unknown), 9 a missing or invalid parameter, 7 no such payment, 8 not allowed in the
payment's status, 10 a refund above what is left, 103 no such RebillId (or one of another customer),
308 the receipt does not add up, 335 the OrderId is taken by a payment of another amount.

What the customer or T-Bank would do is done by Python methods: `pay`, `cancel`, `notify`,
`notify_forged`, `fail_next`; `delay` holds every API request. The page `GET /pay/{PaymentId}` has a
"Pay" and a "Cancel" button; `POST /pay/{PaymentId}` pays (or cancels), sends the notification and
redirects to the payment's SuccessURL (FailURL), so a browser test can pay through it.

Only the standard library: it runs wherever the portal runs.

    python -m integrations.payments.simulators.tbank --port 8792 \
        --notification-url http://127.0.0.1:5000/payments/notify/tbank
"""
import argparse
import copy
import hashlib
import hmac
import html
import json
import threading
import urllib.error
import urllib.request
from urllib.parse import parse_qs, urlsplit

from decimal import Decimal

from integrations.standin import FiscalRegister, LoopbackHandler, LoopbackServer, send_copies

API_PREFIX = "/v2"
PAGE_PREFIX = "/pay/"
MAX_REQUEST_BYTES = 1024 * 1024
METHODS = ("Init", "GetQr", "GetState", "Cancel", "Charge", "GetReceipt")
RECEIPT_TYPES = {"payment": "Income", "refund": "IncomeReturn"}
TAXES = frozenset({"none", "vat0", "vat5", "vat7", "vat10", "vat20", "vat22", "vat105", "vat107", "vat110",
                   "vat120", "vat122"})
TAXATIONS = frozenset({"osn", "usn_income", "usn_income_outcome", "envd", "esn", "patent"})
UNPAID = ("NEW", "FORM_SHOWED")
REFUNDABLE = ("CONFIRMED", "PARTIAL_REFUNDED")
FIRST_PAYMENT_ID = 4_000_000_001
CARD = {"Pan": "430000******0777", "ExpDate": "1230"}
JSON_TYPE = "application/json; charset=utf-8"

ERRORS = {
    "7": "Платёж не найден",
    "8": "Операция недоступна в текущем статусе платежа",
    "9": "Неверные параметры",
    "10": "Сумма возврата больше суммы платежа",
    "103": "Автоплатёж не найден",
    "204": "Неверный токен. Проверьте пару TerminalKey/Password.",
    "308": "Сумма позиций чека не совпадает с суммой платежа",
    "335": "Заказ с таким OrderId уже зарегистрирован на другую сумму",
}


class ApiError(Exception):
    def __init__(self, code: str, details: str = ""):
        super().__init__(f"{code}: {details}")
        self.code, self.details = code, details


def token(params: dict, password: str) -> str:
    """The request/notification Token, written out again here so that the stand-in checks the client
    rather than itself."""
    values = {k: v for k, v in params.items() if k != "Token" and v is not None and not isinstance(v, (dict, list))}
    values["Password"] = password
    text = "".join(("true" if values[k] else "false") if isinstance(values[k], bool) else str(values[k])
                   for k in sorted(values))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class _Handler(LoopbackHandler):
    simulator: "TBankSimulator"
    server_version = "TBankStandIn/1"

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path.startswith(PAGE_PREFIX):
            self._send(*self.simulator.page(path[len(PAGE_PREFIX):]))
        else:
            self._send(404, "text/plain; charset=utf-8",
                       f"T-Bank stand-in: POST the API to {API_PREFIX}/<Method>, payment pages at {PAGE_PREFIX}<id>\n"
                       .encode())

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        raw = self._body()
        if raw is None:
            return
        method = path[len(API_PREFIX) + 1:] if path.startswith(API_PREFIX + "/") else None
        if method in METHODS:
            simulator = self.simulator
            if simulator.wait_delay():
                return  # stopped while holding the request: close without an answer
            self._send(*simulator.api(method, raw))
        elif path.startswith(PAGE_PREFIX):
            self._send(*self.simulator.submit_page(path[len(PAGE_PREFIX):], raw))
        else:
            self._send(404, "text/plain; charset=utf-8", f"no such method: POST {path}\n".encode())

    def _body(self) -> bytes | None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            self._send(411, "text/plain; charset=utf-8", b"Content-Length required\n")
            return None
        if length < 0 or length > MAX_REQUEST_BYTES:
            self._send(413, "text/plain; charset=utf-8", b"request too large\n")
            return None
        return self.rfile.read(length) if length else b""


class TBankSimulator(LoopbackServer):
    """The API on http://host:port/v2 in a daemon thread.

    Inspection: `payments` (PaymentId → the payment as the stand-in keeps it: PaymentId, OrderId,
    Amount, Left, Status, CustomerKey, Recurrent, NotificationURL, SuccessURL, FailURL, Receipt, DATA,
    RebillId, Qr, Description), `requests` (every API request: method, body as parsed JSON or None),
    `notifications` (every notification sent: payment_id, status = the HTTP answer or None, body).
    `url` is the API's base URL, for `TBankClient(base_url=...)` and TBANK_URL.
    """

    handler = _Handler
    name = "tbank"
    path = API_PREFIX

    def __init__(self, host: str = "127.0.0.1", port: int = 0, terminal_key: str = "TestTerminal",
                 password: str = "TestPassword", notification_url: str | None = None, delay: float = 0,
                 notification_timeout: float = 5, verbose: bool = False, fiscal_delay: float = 0,
                 fiscalise: bool = True):
        super().__init__(host, port)
        self.terminal_key, self.password = terminal_key, password
        self.notification_url = notification_url  # the terminal's setting; Init's NotificationURL wins
        self.delay = delay  # seconds every API request is held
        self.notification_timeout = notification_timeout
        self.verbose = verbose
        self.payments: dict[str, dict] = {}
        self.requests: list[dict] = []
        self.notifications: list[dict] = []
        self._orders: dict[str, str] = {}  # OrderId -> PaymentId
        self._rebills: dict[str, dict] = {}  # RebillId -> {"CustomerKey", "CardId"}
        self._cancels: dict[tuple[str, str], dict] = {}  # (PaymentId, ExternalRequestId) -> the answer
        self._next_id = FIRST_PAYMENT_ID
        self._failures = 0
        self._failure_status = 500
        self._lock = threading.RLock()
        # The cash register: receipts `fiscal_delay` s after the payment, or on fiscalise_now() only.
        self.fiscal = FiscalRegister(delay=fiscal_delay, enabled=fiscalise)

    # ---- test controls -------------------------------------------------------------------------------------

    def pay(self, payment_id: str, save_method: bool = False) -> dict:
        """The customer pays: CONFIRMED. The card is saved (a RebillId) when the payment was made with
        Recurrent=Y or `save_method` is true. Paying a CONFIRMED payment again changes nothing."""
        with self._lock:
            payment = self._payment(str(payment_id))
            if payment["Status"] != "CONFIRMED":
                if payment["Status"] not in UNPAID:
                    raise ValueError(f"payment {payment_id} is {payment['Status']}, it cannot be paid")
                payment.update(Status="CONFIRMED", CardId=self._new_id(), **CARD)
                self._fiscalise(payment)
                if save_method or payment["Recurrent"]:
                    rebill = str(self._new_id())
                    payment["RebillId"] = rebill
                    self._rebills[rebill] = {"CustomerKey": payment.get("CustomerKey"), "CardId": payment["CardId"]}
            return copy.deepcopy(payment)

    def cancel(self, payment_id: str, status: str = "REJECTED") -> dict:
        """A payment not yet paid ends: REJECTED (the bank declined), or DEADLINE_EXPIRED, or CANCELED."""
        if status not in ("REJECTED", "DEADLINE_EXPIRED", "CANCELED"):
            raise ValueError(f"a payment cannot be canceled into {status!r}")
        with self._lock:
            payment = self._payment(str(payment_id))
            if payment["Status"] not in UNPAID:
                raise ValueError(f"payment {payment_id} is {payment['Status']}, it cannot be canceled")
            payment["Status"] = status
            return copy.deepcopy(payment)

    def notification_body(self, payment_id: str, forged: bool = False) -> bytes:
        """The notification of the payment as it is now (JSON with its Token); with `forged`, the Token is
        made with another password."""
        with self._lock:
            payment = self._payment(str(payment_id))
            failed = payment["Status"] in ("REJECTED", "DEADLINE_EXPIRED")
            body = {"TerminalKey": self.terminal_key, "OrderId": payment["OrderId"], "Success": not failed,
                    "Status": payment["Status"], "PaymentId": int(payment["PaymentId"]),
                    "ErrorCode": "1051" if failed else "0", "Amount": payment["Amount"]}
            if "CardId" in payment:
                body.update(CardId=payment["CardId"], Pan=payment["Pan"], ExpDate=payment["ExpDate"])
            if payment.get("RebillId"):
                body["RebillId"] = int(payment["RebillId"])
            if payment.get("DATA"):
                body["DATA"] = dict(payment["DATA"])
            body["Token"] = token(body, self.password + ("-forged" if forged else ""))
            return json.dumps(body, ensure_ascii=False).encode("utf-8")

    def notify(self, payment_id: str, times: int = 1, concurrently: bool = False) -> list[int | None]:
        """POST the payment's notification (as it is now, correctly signed) to its NotificationURL (else
        the terminal's `notification_url`), `times` copies (all at once with `concurrently`, as T-Bank's
        repeats may overlap). Returns the HTTP status of each answer, None where there was none. T-Bank
        counts a notification delivered when the answer is 200 with the body OK; this records the body."""
        return self._notify(str(payment_id), self.notification_body(payment_id), times, concurrently)

    def notify_forged(self, payment_id: str) -> int | None:
        """POST the payment's notification with a Token made with a wrong password."""
        return self._notify(str(payment_id), self.notification_body(payment_id, forged=True), 1, False)[0]

    def fiscalise_now(self) -> None:
        """The cash register registers every receipt still pending, now."""
        self.fiscal.fiscalise_now()

    def fail_next(self, n: int, status: int = 500) -> None:
        """The next `n` API requests answer HTTP `status` and change nothing."""
        with self._lock:
            self._failures, self._failure_status = n, status

    # ---- answering the API ---------------------------------------------------------------------------------

    def api(self, method: str, raw: bytes) -> tuple[int, str, bytes]:
        """(HTTP status, content type, body) of one API request."""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        with self._lock:
            self.requests.append({"method": method, "body": copy.deepcopy(body)})
            if self._failures > 0:
                self._failures -= 1
                return self._failure_status, "text/html; charset=utf-8", b"<html><body>Service Unavailable</body></html>"
            try:
                if not isinstance(body, dict):
                    raise ApiError("9", "the body must be a JSON object")
                self._check_token(body)
                answer = getattr(self, f"_{method.lower()}")(body)
            except (KeyError, TypeError, ValueError, AttributeError) as exc:  # a body of the wrong shape
                answer = {"Success": False, "ErrorCode": "9", "Message": ERRORS["9"], "Details": str(exc)}
            except ApiError as error:
                answer = {"Success": False, "ErrorCode": error.code, "Message": ERRORS.get(error.code, "Ошибка"),
                          "Details": error.details}
                if isinstance(body, dict) and isinstance(body.get("TerminalKey"), str):
                    answer["TerminalKey"] = body["TerminalKey"]
            return 200, JSON_TYPE, _json(answer)

    def _check_token(self, body: dict) -> None:
        given = body.get("Token")
        if body.get("TerminalKey") != self.terminal_key or not isinstance(given, str) or \
                not hmac.compare_digest(given, token(body, self.password)):
            raise ApiError("204", "the Token does not match the TerminalKey and its password")

    def _init(self, body: dict) -> dict:
        amount = _kopecks(body.get("Amount"), "Amount")
        order_id = body.get("OrderId")
        if not isinstance(order_id, str) or not 1 <= len(order_id) <= 36:
            raise ApiError("9", "OrderId must be a string of 1..36 characters")
        recurrent = body.get("Recurrent") == "Y"
        customer_key = body.get("CustomerKey")
        if recurrent and not customer_key:
            raise ApiError("9", "Recurrent=Y needs CustomerKey")
        receipt = body.get("Receipt")
        if receipt is not None:
            _check_receipt(receipt, amount)
        data = body.get("DATA")
        if data is not None and (not isinstance(data, dict) or len(data) > 20):
            raise ApiError("9", "DATA must be an object of at most 20 keys")
        known = self._orders.get(order_id)
        if known is not None:
            payment = self.payments[known]
            if payment["Amount"] != amount:
                raise ApiError("335", f"OrderId {order_id} was registered for {payment['Amount']} kopecks")
        else:
            payment_id = str(self._new_id())
            payment = {"PaymentId": payment_id, "OrderId": order_id, "Amount": amount, "Left": amount,
                       "Status": "NEW", "Description": body.get("Description") or "",
                       "CustomerKey": customer_key, "Recurrent": recurrent,
                       "NotificationURL": body.get("NotificationURL"), "SuccessURL": body.get("SuccessURL"),
                       "FailURL": body.get("FailURL"), "Receipt": copy.deepcopy(receipt),
                       "DATA": copy.deepcopy(data), "RebillId": None, "Qr": None}
            self.payments[payment_id] = payment
            self._orders[order_id] = payment_id
        return {"Success": True, "ErrorCode": "0", "TerminalKey": self.terminal_key, "Status": payment["Status"],
                "PaymentId": payment["PaymentId"], "OrderId": payment["OrderId"], "Amount": payment["Amount"],
                "PaymentURL": f"{self.root}{PAGE_PREFIX}{payment['PaymentId']}"}

    def _getqr(self, body: dict) -> dict:
        payment = self._known(body.get("PaymentId"))
        if body.get("DataType", "PAYLOAD") != "PAYLOAD":
            raise ApiError("9", "the stand-in gives DataType PAYLOAD only")
        if payment["Status"] not in UNPAID:
            raise ApiError("8", f"the payment is {payment['Status']}")
        if payment["Qr"] is None:
            digest = hashlib.sha256(payment["PaymentId"].encode()).hexdigest().upper()
            payment["Qr"] = (f"https://qr.nspk.ru/AD{digest[:30]}?type=02&bank=100000000004"
                             f"&sum={payment['Amount']}&cur=RUB&crc={digest[30:34]}")
        return {"Success": True, "ErrorCode": "0", "TerminalKey": self.terminal_key, "OrderId": payment["OrderId"],
                "PaymentId": int(payment["PaymentId"]), "Data": payment["Qr"]}

    def _getstate(self, body: dict) -> dict:
        payment = self._known(body.get("PaymentId"))
        return {"Success": True, "ErrorCode": "0", "Message": "OK", "TerminalKey": self.terminal_key,
                "Status": payment["Status"], "PaymentId": payment["PaymentId"], "OrderId": payment["OrderId"],
                "Amount": payment["Amount"]}

    def _cancel(self, body: dict) -> dict:
        payment = self._known(body.get("PaymentId"))
        request_id = body.get("ExternalRequestId") or None
        if request_id is not None and (payment["PaymentId"], str(request_id)) in self._cancels:
            return copy.deepcopy(self._cancels[(payment["PaymentId"], str(request_id))])
        before = payment["Left"]
        if payment["Status"] in UNPAID:  # Amount is ignored: the whole payment is canceled
            payment.update(Status="CANCELED", Left=0)
        elif payment["Status"] in REFUNDABLE:
            amount = _kopecks(body["Amount"], "Amount") if body.get("Amount") is not None else before
            if amount > before:
                raise ApiError("10", f"{amount} kopecks asked, {before} left to refund")
            if body.get("Receipt") is not None:
                _check_receipt(body["Receipt"], amount)
            payment["Left"] = before - amount
            if body.get("Receipt") is not None or payment.get("Receipt") is not None:
                self.fiscal.register(payment["PaymentId"], "refund", Decimal(amount) / 100,
                                     reference=str(request_id) if request_id is not None else None)
            payment["Status"] = "REFUNDED" if payment["Left"] == 0 else "PARTIAL_REFUNDED"
        else:
            raise ApiError("8", f"the payment is {payment['Status']}")
        answer = {"Success": True, "ErrorCode": "0", "TerminalKey": self.terminal_key, "OrderId": payment["OrderId"],
                  "PaymentId": payment["PaymentId"], "Status": payment["Status"], "OriginalAmount": before,
                  "NewAmount": payment["Left"]}
        if request_id is not None:
            answer["ExternalRequestId"] = str(request_id)
            self._cancels[(payment["PaymentId"], str(request_id))] = copy.deepcopy(answer)
        return answer

    def _charge(self, body: dict) -> dict:
        payment = self._known(body.get("PaymentId"))
        rebill = self._rebills.get(str(body.get("RebillId")))
        if rebill is None or (payment.get("CustomerKey") and rebill["CustomerKey"]
                              and payment["CustomerKey"] != rebill["CustomerKey"]):
            raise ApiError("103", f"RebillId {body.get('RebillId')} is not a card saved for this customer")
        if payment["Status"] != "NEW":
            raise ApiError("8", f"the payment is {payment['Status']}")
        payment.update(Status="CONFIRMED", CardId=rebill["CardId"], RebillId=str(body["RebillId"]), **CARD)
        self._fiscalise(payment)
        return {"Success": True, "ErrorCode": "0", "TerminalKey": self.terminal_key, "Status": "CONFIRMED",
                "PaymentId": payment["PaymentId"], "OrderId": payment["OrderId"], "Amount": payment["Amount"]}

    def _getreceipt(self, body: dict) -> dict:
        payment = self._known(body.get("PaymentId"))
        receipts = []
        for record in self.fiscal.receipts(payment["PaymentId"]):
            item = {"Type": RECEIPT_TYPES[record["kind"]], "Amount": int(record["amount"] * 100),
                    "Status": "REGISTERED" if record["status"] == "registered" else "PENDING"}
            if record["status"] == "registered":
                item.update(FiscalNumber=int(record["number_in_shift"]), ShiftNumber=int(record["shift_number"]),
                            ReceiptDatetime=record["registered_at"].isoformat(timespec="seconds"),
                            FnNumber=record["fn"], EcrRegNumber=record["ecr_registration"],
                            FiscalDocumentNumber=int(record["fd"]), FiscalDocumentAttribute=int(record["fpd"]))
            receipts.append(item)
        return {"Success": True, "ErrorCode": "0", "TerminalKey": self.terminal_key, "OrderId": payment["OrderId"],
                "PaymentId": payment["PaymentId"], "Receipts": receipts}

    def _fiscalise(self, payment: dict) -> None:
        if payment.get("Receipt") is not None:
            self.fiscal.register(payment["PaymentId"], "payment", Decimal(payment["Amount"]) / 100)

    # ---- the payment page ----------------------------------------------------------------------------------

    def page(self, payment_id: str) -> tuple[int, str, bytes]:
        with self._lock:
            payment = self.payments.get(payment_id)
            if payment is None:
                return 404, "text/html; charset=utf-8", _html("Платёж не найден", "<p>Нет такого платежа.</p>")
            if payment["Status"] == "NEW":
                payment["Status"] = "FORM_SHOWED"
            status, amount, description, qr = (payment["Status"], payment["Amount"], payment["Description"],
                                               payment["Qr"])
        rows = [f"<p>Сумма: <strong>{amount // 100}.{amount % 100:02d} ₽</strong></p>",
                f"<p>{html.escape(description)}</p>"]
        if qr:
            rows.append(f"<p>Ссылка СБП: <code>{html.escape(qr)}</code></p>")
        if status in UNPAID:
            rows.append(f'<form method="post" action="{PAGE_PREFIX}{html.escape(payment_id)}">'
                        '<label><input type="checkbox" name="save" value="1"> Сохранить карту</label><br>'
                        '<button type="submit" name="action" value="pay">Pay</button> '
                        '<button type="submit" name="action" value="cancel">Cancel</button></form>')
        else:
            rows.append(f'<p>Статус платежа: <strong id="status">{html.escape(status)}</strong></p>')
        return 200, "text/html; charset=utf-8", _html("T-Bank (stand-in)", "\n".join(rows))

    def submit_page(self, payment_id: str, form: bytes) -> tuple[int, str, bytes, dict]:
        """POST /pay/{id}: pay (or cancel), notify, and send the customer to SuccessURL (FailURL)."""
        fields = parse_qs(form.decode("utf-8", errors="replace"))
        action = (fields.get("action") or ["pay"])[0]
        with self._lock:
            payment = self.payments.get(payment_id)
            if payment is None:
                return 404, "text/html; charset=utf-8", _html("Платёж не найден", "<p>Нет такого платежа.</p>"), {}
            changed = payment["Status"] in UNPAID
            if changed:
                if action == "cancel":
                    self.cancel(payment_id)
                else:
                    self.pay(payment_id, save_method=(fields.get("save") or [""])[0] == "1")
            paid = payment["Status"] == "CONFIRMED"
            target = payment["SuccessURL"] if paid else payment["FailURL"]
            notify_to = payment["NotificationURL"] or self.notification_url
        if changed and notify_to:
            self.notify(payment_id)
        if target:
            return 303, "text/plain; charset=utf-8", b"", {"Location": target}
        return (*self.page(payment_id), {})

    # ---- inside --------------------------------------------------------------------------------------------

    def _payment(self, payment_id: str) -> dict:
        payment = self.payments.get(payment_id)
        if payment is None:
            raise KeyError(f"no payment {payment_id!r}")
        return payment

    def _known(self, payment_id) -> dict:
        payment = self.payments.get(str(payment_id))
        if payment is None:
            raise ApiError("7", f"no payment {payment_id!r}")
        return payment

    def _new_id(self) -> int:
        with self._lock:
            self._next_id += 1
            return self._next_id

    def _notify(self, payment_id: str, body: bytes, times: int, concurrently: bool) -> list[int | None]:
        with self._lock:
            url = self._payment(payment_id)["NotificationURL"] or self.notification_url
        if not url:
            raise RuntimeError("neither the payment nor the stand-in has a notification URL")
        results = send_copies(lambda: self._post(url, body)[0], times, concurrently, self.notification_timeout,
                              "tbank-notify")
        with self._lock:
            self.notifications.extend({"payment_id": payment_id, "status": status, "body": body} for status in results)
        return results

    def _post(self, url: str, body: bytes) -> tuple[int | None, bytes]:
        request = urllib.request.Request(url, data=body, method="POST",
                                         headers={"Content-Type": JSON_TYPE, "User-Agent": "T-Bank-stand-in"})
        try:
            with urllib.request.urlopen(request, timeout=self.notification_timeout) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            exc.close()
            return exc.code, b""
        except (urllib.error.URLError, OSError):
            return None, b""


# ---- checking requests -------------------------------------------------------------------------------------

def _kopecks(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ApiError("9", f"{name} must be a whole number of kopecks above zero, not {value!r}")
    return value


def _check_receipt(receipt, total: int) -> None:
    if not isinstance(receipt, dict):
        raise ApiError("9", "Receipt must be an object")
    if not receipt.get("Email") and not receipt.get("Phone"):
        raise ApiError("9", "the Receipt needs Email or Phone")
    if receipt.get("Taxation") not in TAXATIONS:
        raise ApiError("9", f"Receipt.Taxation must be one of {sorted(TAXATIONS)}")
    items = receipt.get("Items")
    if not isinstance(items, list) or not items:
        raise ApiError("9", "the Receipt needs Items")
    added = 0
    for index, item in enumerate(items):
        where = f"Receipt.Items[{index}]"
        if not isinstance(item, dict) or not isinstance(item.get("Name"), str) or not 1 <= len(item["Name"]) <= 128:
            raise ApiError("9", f"{where}.Name must be 1..128 characters")
        price, amount = _kopecks(item.get("Price"), f"{where}.Price"), _kopecks(item.get("Amount"), f"{where}.Amount")
        quantity = item.get("Quantity")
        if isinstance(quantity, bool) or not isinstance(quantity, (int, float)) or quantity <= 0:
            raise ApiError("9", f"{where}.Quantity must be a number above zero")
        if abs(price * quantity - amount) >= 1:
            raise ApiError("308", f"{where}: Price × Quantity is not Amount")
        if item.get("Tax") not in TAXES:
            raise ApiError("9", f"{where}.Tax must be one of {sorted(TAXES)}")
        added += amount
    if added != total:
        raise ApiError("308", f"the Items add up to {added} kopecks, the payment is {total}")


def _json(obj) -> bytes:
    return json.dumps(obj, ensure_ascii=False).encode("utf-8")


def _html(title: str, body: str) -> bytes:
    return (f'<!doctype html><html lang="ru"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f'</head><body><h1>{html.escape(title)}</h1>\n{body}\n</body></html>\n').encode("utf-8")


# ---- running it by hand --------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Stand-in of T-Bank internet acquiring (API v2) on loopback.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8792)
    parser.add_argument("--terminal-key", default="TestTerminal")
    parser.add_argument("--password", default="TestPassword")
    parser.add_argument("--notification-url", default=None,
                        help="the terminal's notification URL (Init's NotificationURL wins), "
                             "e.g. http://127.0.0.1:5000/payments/notify/tbank")
    parser.add_argument("--delay", type=float, default=0, help="hold every API request this many seconds")
    parser.add_argument("--quiet", action="store_true", help="do not log requests")
    args = parser.parse_args(argv)
    simulator = TBankSimulator(args.host, args.port, terminal_key=args.terminal_key, password=args.password,
                               notification_url=args.notification_url, delay=args.delay, verbose=not args.quiet)
    simulator.run(lambda: f"T-Bank stand-in at {simulator.url} (terminal {simulator.terminal_key}, password "
                          f"{simulator.password}); notifications to "
                          f"{simulator.notification_url or 'the Init NotificationURL'}; Ctrl-C stops it",
                  "T-Bank stand-in stopped")


if __name__ == "__main__":
    main()
