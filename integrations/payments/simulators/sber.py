"""A stand-in of Sber internet acquiring (the REST gateway) on loopback, for tests and the demo setup.

It answers the methods the portal uses at `/payment/rest/<method>.do`, form-encoded POST (or GET with
the same parameters), each with the merchant's `userName` and `password`, answered HTTP 200 with JSON
and `errorCode` / `errorMessage` on a refusal:

- `register.do`: orderNumber, amount (kopecks) > 0, returnUrl; currency 643 if given; `orderBundle`
  (JSON) is checked: cartItems.items with positionId, name, quantity {value, measure}, itemPrice,
  itemAmount = itemPrice × quantity, itemCode, tax.taxType, adding up to the amount. The same orderNumber
  again returns the order made for it if the amount is the same (errorCode 1 if it differs). `formUrl` is
  this stand-in's page `/pay/{orderId}`.
- `getOrderStatusExtended.do` by orderId or orderNumber: orderStatus (0 registered, 2 deposited,
  4 refunded, 6 declined), amount, `paymentAmountInfo` (approvedAmount, depositedAmount, refundedAmount),
  `bindingInfo` (clientId, bindingId) once a card is saved, `cardAuthInfo`, `attributes` [mdOrder].
- `refund.do`: orderId, amount (0 = all that is left); only a deposited order, at most what is left.
  Any refund makes orderStatus 4; `refundedAmount` says how much.
- `getReceiptStatus.do` by orderId or orderNumber: `receipt[]`, one per 54-ФЗ receipt of the order and
  its refunds, with `receiptStatus` (0 payment receipt sent to the cash register, 1 registered; 3 refund
  receipt sent, 4 registered), `uuid`, `amount_total` (roubles) and, once registered, `shift_number`,
  `fiscal_receipt_number` (number in shift), `receipt_date_time` (Moscow time, no offset),
  `fn_number`, `ecr_registration_number`, `fiscal_document_number`, `fiscal_document_attribute`. An
  order registered with an `orderBundle` gets a receipt when it is deposited; a refund when it or its
  order carried one. `fiscal_delay` / `fiscalise=False` hold the registration.
- `paymentOrderBinding.do`: mdOrder (a registered, unpaid order), bindingId of a card saved by an earlier
  order of the same clientId: the order is deposited at once.

Error codes used (those of the gateway): 1 orderNumber taken by an order of another amount, 2 no such
binding (or one of another client), 3 unknown currency, 4 a missing parameter, 5 access denied (wrong
userName/password) or an invalid value, 6 no such order, 7 not allowed in the order's state or a refund
above what is left.

Callbacks: `notify` sends the order's callback (`mdOrder`, `orderNumber`, `operation`, `status`,
`amount`, `checksum`) to `callback_url`, form-encoded POST (or GET with `callback_method="GET"`). The
checksum is HMAC-SHA256 with `callback_key` over the parameters but `checksum`, sorted by name, as
`name;value;` pairs, upper-case hex (see `integrations.payments.sber.checksum`).

What the customer or the bank would do is done by Python methods: `pay`, `cancel`, `notify`,
`notify_forged`, `fail_next`; `delay` holds every API request. The page `GET /pay/{orderId}` has a
"Pay" and a "Cancel" button; `POST /pay/{orderId}` pays (or declines), sends the callback and redirects
to the order's returnUrl (failUrl) with `?orderId=...&lang=ru`, as the gateway does.

Only the standard library: it runs wherever the portal runs.

    python -m integrations.payments.simulators.sber --port 8793 \
        --callback-url http://127.0.0.1:5000/payments/notify/sber
"""
import argparse
import copy
import hashlib
import hmac
import html
import json
import threading
import time
import urllib.error
import urllib.request
import uuid
from decimal import Decimal
from urllib.parse import parse_qsl, urlencode, urlsplit

from integrations.standin import FiscalRegister, LoopbackHandler, LoopbackServer, send_copies

API_PREFIX = "/payment/rest"
PAGE_PREFIX = "/pay/"
MAX_REQUEST_BYTES = 1024 * 1024
METHODS = ("register.do", "getOrderStatusExtended.do", "refund.do", "paymentOrderBinding.do", "getReceiptStatus.do")
# getReceiptStatus.do receiptStatus: (sent to the cash register, registered) for each kind of receipt.
RECEIPT_STATUSES = {"payment": (0, 1), "refund": (3, 4)}
CURRENCY_RUB = "643"
JSON_TYPE = "application/json; charset=utf-8"
CARD = {"maskedPan": "411111**1111", "expiration": "203012", "cardholderName": "CARDHOLDER NAME",
        "approvalCode": "123456", "paymentSystem": "VISA"}
OPERATIONS = {2: ("deposited", "1"), 4: ("refunded", "1"), 3: ("reversed", "1"), 6: ("declinedByTimeout", "0")}
PAYMENT_STATES = {0: "CREATED", 2: "DEPOSITED", 3: "REVERSED", 4: "REFUNDED", 6: "DECLINED"}

ERRORS = {
    "1": "Заказ с таким номером уже обработан",
    "2": "Связка не найдена",
    "3": "Неизвестная валюта",
    "4": "Не указан обязательный параметр",
    "5": "Доступ запрещён",
    "6": "Заказ не найден",
    "7": "Операция невозможна в текущем состоянии заказа",
}


class ApiError(Exception):
    def __init__(self, code: str, message: str | None = None):
        super().__init__(f"{code}: {message}")
        self.code, self.message = code, message or ERRORS[code]


def checksum(params: dict, key: str) -> str:
    """The callback checksum, written out again here so that the stand-in checks the client rather than
    itself."""
    text = "".join(f"{name};{params[name]};" for name in sorted(params) if name != "checksum")
    return hmac.new(key.encode("utf-8"), text.encode("utf-8"), hashlib.sha256).hexdigest().upper()


class _Handler(LoopbackHandler):
    simulator: "SberSimulator"
    server_version = "SberStandIn/1"

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        if parts.path.startswith(API_PREFIX + "/"):
            self._api(parts.path, parts.query.encode("ascii", errors="replace"))
        elif parts.path.startswith(PAGE_PREFIX):
            self._send(*self.simulator.page(parts.path[len(PAGE_PREFIX):]))
        else:
            self._send(404, "text/plain; charset=utf-8",
                       f"Sber stand-in: the gateway is at {API_PREFIX}/<method>.do, payment pages at {PAGE_PREFIX}<id>\n"
                       .encode())

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        raw = self._body()
        if raw is None:
            return
        if path.startswith(API_PREFIX + "/"):
            self._api(path, raw)
        elif path.startswith(PAGE_PREFIX):
            self._send(*self.simulator.submit_page(path[len(PAGE_PREFIX):], raw))
        else:
            self._send(404, "text/plain; charset=utf-8", f"no such method: POST {path}\n".encode())

    def _api(self, path: str, raw: bytes) -> None:
        method = path[len(API_PREFIX) + 1:]
        if method not in METHODS:
            self._send(404, "text/plain; charset=utf-8", f"no such method: {method}\n".encode())
            return
        simulator = self.simulator
        if simulator.wait_delay():
            return  # stopped while holding the request: close without an answer
        params = dict(parse_qsl(raw.decode("utf-8", errors="replace"), keep_blank_values=True))
        self._send(*simulator.api(method, params))

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


class SberSimulator(LoopbackServer):
    """The gateway on http://host:port/payment/rest in a daemon thread.

    Inspection: `orders` (orderId → the order as the stand-in keeps it: orderId, orderNumber, amount,
    deposited, refunded, lastRefund, orderStatus, description, returnUrl, failUrl, clientId, features,
    orderBundle, jsonParams, bindingId), `requests` (every API request: method, params as received, the
    password masked), `notifications` (every callback sent: order_id, status = the HTTP answer or None,
    params). `url` is the gateway's base URL, for `SberClient(base_url=...)` and SBER_URL.
    """

    handler = _Handler
    name = "sber"
    path = API_PREFIX

    def __init__(self, host: str = "127.0.0.1", port: int = 0, username: str = "test-api",
                 password: str = "test-password", callback_key: str = "test-callback-key",
                 callback_url: str | None = None, callback_method: str = "POST", delay: float = 0,
                 callback_timeout: float = 5, verbose: bool = False, fiscal_delay: float = 0,
                 fiscalise: bool = True):
        if callback_method not in ("GET", "POST"):
            raise ValueError("callback_method is GET or POST")
        super().__init__(host, port)
        self.username, self.password = username, password
        self.callback_key = callback_key
        self.callback_url, self.callback_method = callback_url, callback_method
        self.delay = delay  # seconds every API request is held
        self.callback_timeout = callback_timeout
        self.verbose = verbose
        self.orders: dict[str, dict] = {}
        self.requests: list[dict] = []
        self.notifications: list[dict] = []
        self._numbers: dict[str, str] = {}  # orderNumber -> orderId
        self._bindings: dict[str, dict] = {}  # bindingId -> {"clientId"}
        self._failures = 0
        self._failure_status = 500
        self._lock = threading.RLock()
        # The cash register: receipts `fiscal_delay` s after the payment, or on fiscalise_now() only.
        self.fiscal = FiscalRegister(delay=fiscal_delay, enabled=fiscalise)

    # ---- test controls -------------------------------------------------------------------------------------

    def pay(self, order_id: str, save_method: bool = False) -> dict:
        """The customer pays: orderStatus 2. The card is saved (a binding of the order's clientId) when the
        order has a clientId or `save_method` is true. Paying a paid order again changes nothing."""
        with self._lock:
            order = self._order(order_id)
            if order["orderStatus"] != 2:
                if order["orderStatus"] != 0:
                    raise ValueError(f"order {order_id} has orderStatus {order['orderStatus']}, it cannot be paid")
                self._deposit(order)
                if save_method or order["clientId"]:
                    binding = str(uuid.uuid4())
                    order["bindingId"] = binding
                    self._bindings[binding] = {"clientId": order["clientId"]}
            return copy.deepcopy(order)

    def cancel(self, order_id: str) -> dict:
        """An unpaid order is declined (the customer gave up; the session timed out): orderStatus 6."""
        with self._lock:
            order = self._order(order_id)
            if order["orderStatus"] != 0:
                raise ValueError(f"order {order_id} has orderStatus {order['orderStatus']}, it cannot be declined")
            order.update(orderStatus=6, actionCode=-2007, actionCodeDescription="Истёк срок ожидания ввода данных")
            return copy.deepcopy(order)

    def notification_params(self, order_id: str, forged: bool = False) -> dict:
        """The callback of the order's last operation, with its checksum (made with another key if
        `forged`)."""
        with self._lock:
            order = self._order(order_id)
            if order["orderStatus"] not in OPERATIONS:
                raise ValueError(f"order {order_id} has had no operation to call back about")
            operation, status = OPERATIONS[order["orderStatus"]]
            amount = order["lastRefund"] if operation == "refunded" else order["amount"]
            params = {"mdOrder": order["orderId"], "orderNumber": order["orderNumber"], "operation": operation,
                      "status": status, "amount": str(amount)}
        params["checksum"] = checksum(params, self.callback_key + ("-forged" if forged else ""))
        return params

    def notification_body(self, order_id: str, forged: bool = False) -> bytes:
        """`notification_params` form-encoded: a POSTed callback's body, or a GET callback's query string."""
        return urlencode(self.notification_params(order_id, forged)).encode("ascii")

    def notify(self, order_id: str, times: int = 1, concurrently: bool = False) -> list[int | None]:
        """Send the order's callback (correctly signed) to `callback_url`, `times` copies (all at once with
        `concurrently`). Returns the HTTP status of each answer, None where there was none."""
        return self._notify(order_id, self.notification_params(order_id), times, concurrently)

    def notify_forged(self, order_id: str) -> int | None:
        """Send the order's callback with a checksum made with a wrong key."""
        return self._notify(order_id, self.notification_params(order_id, forged=True), 1, False)[0]

    def fiscalise_now(self) -> None:
        """The cash register registers every receipt still pending, now."""
        self.fiscal.fiscalise_now()

    def fail_next(self, n: int, status: int = 500) -> None:
        """The next `n` API requests answer HTTP `status` and change nothing."""
        with self._lock:
            self._failures, self._failure_status = n, status

    # ---- answering the API ---------------------------------------------------------------------------------

    def api(self, method: str, params: dict) -> tuple[int, str, bytes]:
        """(HTTP status, content type, body) of one API request."""
        with self._lock:
            self.requests.append({"method": method,
                                  "params": {k: ("***" if k == "password" else v) for k, v in params.items()}})
            if self._failures > 0:
                self._failures -= 1
                return self._failure_status, "text/html; charset=utf-8", b"<html><body>Service Unavailable</body></html>"
            try:
                if params.get("userName") != self.username or not hmac.compare_digest(
                        str(params.get("password", "")).encode(), self.password.encode()):
                    raise ApiError("5")
                answer = {"register.do": self._register, "getOrderStatusExtended.do": self._status,
                          "refund.do": self._refund, "paymentOrderBinding.do": self._pay_binding,
                          "getReceiptStatus.do": self._receipt_status}[method](params)
            except ApiError as error:
                answer = {"errorCode": error.code, "errorMessage": error.message}
            except (KeyError, TypeError, ValueError, AttributeError) as exc:  # a parameter of the wrong shape
                answer = {"errorCode": "5", "errorMessage": f"Неверное значение параметра: {exc}"}
            return 200, JSON_TYPE, _json(answer)

    def _register(self, params: dict) -> dict:
        number = params.get("orderNumber")
        if not number:
            raise ApiError("4", "Номер заказа не может быть пуст")
        if len(number) > 36:
            raise ApiError("5", "orderNumber длиннее 36 символов")
        amount = _kopecks(params.get("amount"), "amount")
        if not params.get("returnUrl"):
            raise ApiError("4", "URL возврата не может быть пуст")
        if params.get("currency", CURRENCY_RUB) != CURRENCY_RUB:
            raise ApiError("3")
        bundle = None
        if params.get("orderBundle"):
            try:
                bundle = json.loads(params["orderBundle"])
            except ValueError:
                raise ApiError("5", "orderBundle не является JSON") from None
            _check_bundle(bundle, amount)
        json_params = None
        if params.get("jsonParams"):
            try:
                json_params = json.loads(params["jsonParams"])
            except ValueError:
                raise ApiError("5", "jsonParams не является JSON") from None
            if not isinstance(json_params, dict):
                raise ApiError("5", "jsonParams должен быть объектом")
        known = self._numbers.get(number)
        if known is not None:
            order = self.orders[known]
            if order["amount"] != amount:
                raise ApiError("1")
        else:
            order = {"orderId": str(uuid.uuid4()), "orderNumber": number, "amount": amount, "deposited": 0,
                     "refunded": 0, "lastRefund": 0, "orderStatus": 0, "actionCode": -100,
                     "actionCodeDescription": "", "description": params.get("description", ""),
                     "returnUrl": params["returnUrl"], "failUrl": params.get("failUrl") or params["returnUrl"],
                     "clientId": params.get("clientId") or None, "features": params.get("features") or None,
                     "taxSystem": params.get("taxSystem"), "orderBundle": bundle, "jsonParams": json_params,
                     "bindingId": None, "date": int(time.time() * 1000)}
            self.orders[order["orderId"]] = order
            self._numbers[number] = order["orderId"]
        return {"orderId": order["orderId"], "formUrl": f"{self.root}{PAGE_PREFIX}{order['orderId']}"}

    def _status(self, params: dict) -> dict:
        order_id = params.get("orderId") or self._numbers.get(params.get("orderNumber") or "")
        if not order_id and not params.get("orderNumber"):
            raise ApiError("4", "Не указан orderId или orderNumber")
        order = self._known(order_id)
        answer = {"errorCode": "0", "errorMessage": "Успешно", "orderNumber": order["orderNumber"],
                  "orderStatus": order["orderStatus"], "actionCode": order["actionCode"],
                  "actionCodeDescription": order["actionCodeDescription"], "amount": order["amount"],
                  "currency": CURRENCY_RUB, "date": order["date"], "orderDescription": order["description"],
                  "merchantOrderParams": [{"name": k, "value": str(v)} for k, v in (order["jsonParams"] or {}).items()],
                  "attributes": [{"name": "mdOrder", "value": order["orderId"]}],
                  "paymentAmountInfo": {"paymentState": PAYMENT_STATES.get(order["orderStatus"], "CREATED"),
                                        "approvedAmount": order["deposited"], "depositedAmount": order["deposited"],
                                        "refundedAmount": order["refunded"], "feeAmount": 0,
                                        "totalAmount": order["amount"]}}
        if order["deposited"]:
            answer["cardAuthInfo"] = {**CARD, "pan": CARD["maskedPan"]}
        if order["bindingId"]:
            answer["bindingInfo"] = {"clientId": order["clientId"], "bindingId": order["bindingId"]}
        return answer

    def _refund(self, params: dict) -> dict:
        order = self._known(params.get("orderId"))
        raw = params.get("amount")
        if raw in (None, ""):
            raise ApiError("4", "Не указана сумма возврата")
        amount = _kopecks(raw, "amount", zero=True)
        if order["orderStatus"] not in (2, 4):
            raise ApiError("7", "Платёж должен быть в корректном состоянии")
        left = order["deposited"] - order["refunded"]
        amount = amount or left
        if amount > left or left == 0:
            raise ApiError("7", "Сумма возврата превышает сумму списания")
        if params.get("orderBundle"):
            try:
                _check_bundle(json.loads(params["orderBundle"]), amount)
            except ValueError:
                raise ApiError("5", "orderBundle не является JSON") from None
        order.update(refunded=order["refunded"] + amount, lastRefund=amount, orderStatus=4)
        if params.get("orderBundle") or order["orderBundle"] is not None:
            self.fiscal.register(order["orderId"], "refund", Decimal(amount) / 100)
        return {"errorCode": "0", "errorMessage": "Успешно"}

    def _pay_binding(self, params: dict) -> dict:
        order = self._known(params.get("mdOrder"))
        binding = self._bindings.get(params.get("bindingId") or "")
        if binding is None or (order["clientId"] and binding["clientId"] != order["clientId"]):
            raise ApiError("2")
        if order["orderStatus"] != 0:
            raise ApiError("7")
        self._deposit(order)
        order["bindingId"] = params["bindingId"]
        if not order["clientId"]:
            order["clientId"] = binding["clientId"]
        return {"errorCode": "0", "errorMessage": "Успешно", "info": "Ваш платёж обработан, происходит переадресация...",
                "redirect": _with_order(order["returnUrl"], order["orderId"])}

    # ---- the payment page ----------------------------------------------------------------------------------

    def page(self, order_id: str) -> tuple[int, str, bytes]:
        with self._lock:
            order = self.orders.get(order_id)
            if order is None:
                return 404, "text/html; charset=utf-8", _html("Заказ не найден", "<p>Нет такого заказа.</p>")
            status, amount, description = order["orderStatus"], order["amount"], order["description"]
        rows = [f"<p>Сумма: <strong>{amount // 100}.{amount % 100:02d} ₽</strong></p>",
                f"<p>{html.escape(description)}</p>"]
        if status == 0:
            rows.append(f'<form method="post" action="{PAGE_PREFIX}{html.escape(order_id)}">'
                        '<label><input type="checkbox" name="save" value="1"> Сохранить карту</label><br>'
                        '<button type="submit" name="action" value="pay">Pay</button> '
                        '<button type="submit" name="action" value="cancel">Cancel</button></form>')
        else:
            rows.append(f'<p>Статус заказа: <strong id="status">{status}</strong></p>')
        return 200, "text/html; charset=utf-8", _html("Sber (stand-in)", "\n".join(rows))

    def submit_page(self, order_id: str, form: bytes) -> tuple[int, str, bytes, dict]:
        """POST /pay/{orderId}: pay (or decline), call back, and send the customer to returnUrl (failUrl)."""
        fields = dict(parse_qsl(form.decode("utf-8", errors="replace")))
        with self._lock:
            order = self.orders.get(order_id)
            if order is None:
                return 404, "text/html; charset=utf-8", _html("Заказ не найден", "<p>Нет такого заказа.</p>"), {}
            changed = order["orderStatus"] == 0
            if changed:
                if fields.get("action") == "cancel":
                    self.cancel(order_id)
                else:
                    self.pay(order_id, save_method=fields.get("save") == "1")
            target = order["returnUrl"] if order["orderStatus"] == 2 else order["failUrl"]
        if changed and self.callback_url:
            self.notify(order_id)
        if target:
            return 303, "text/plain; charset=utf-8", b"", {"Location": _with_order(target, order_id)}
        return (*self.page(order_id), {})

    # ---- inside --------------------------------------------------------------------------------------------

    def _order(self, order_id: str) -> dict:
        order = self.orders.get(order_id)
        if order is None:
            raise KeyError(f"no order {order_id!r}")
        return order

    def _known(self, order_id) -> dict:
        order = self.orders.get(order_id or "")
        if order is None:
            raise ApiError("6")
        return order

    def _deposit(self, order: dict) -> None:
        order.update(orderStatus=2, deposited=order["amount"], actionCode=0, actionCodeDescription="")
        if order["orderBundle"] is not None:
            self.fiscal.register(order["orderId"], "payment", Decimal(order["amount"]) / 100)

    def _receipt_status(self, params: dict) -> dict:
        order_id = params.get("orderId") or self._numbers.get(params.get("orderNumber") or "")
        if not order_id and not params.get("orderNumber"):
            raise ApiError("4", "Не указан orderId или orderNumber")
        order = self._known(order_id)
        receipts = []
        for record in self.fiscal.receipts(order["orderId"]):
            sent, registered = RECEIPT_STATUSES[record["kind"]]
            item = {"receiptStatus": registered if record["status"] == "registered" else sent,
                    "uuid": record["id"], "amount_total": format(record["amount"], "f")}
            if record["status"] == "registered":
                item.update(shift_number=int(record["shift_number"]),
                            fiscal_receipt_number=int(record["number_in_shift"]),
                            receipt_date_time=record["registered_at"].strftime("%Y-%m-%dT%H:%M:%S"),
                            fn_number=record["fn"], ecr_registration_number=record["ecr_registration"],
                            fiscal_document_number=int(record["fd"]),
                            fiscal_document_attribute=record["fpd"])
            receipts.append(item)
        return {"errorCode": "0", "errorMessage": "Успешно", "orderId": order["orderId"],
                "orderNumber": order["orderNumber"], "receipt": receipts}

    def _notify(self, order_id: str, params: dict, times: int, concurrently: bool) -> list[int | None]:
        if not self.callback_url:
            raise RuntimeError("the stand-in has no callback_url")
        results = send_copies(lambda: self._send_callback(params), times, concurrently, self.callback_timeout,
                              "sber-callback")
        with self._lock:
            self.notifications.extend({"order_id": order_id, "status": status, "params": dict(params)}
                                      for status in results)
        return results

    def _send_callback(self, params: dict) -> int | None:
        query = urlencode(params)
        if self.callback_method == "GET":
            separator = "&" if urlsplit(self.callback_url).query else "?"
            request = urllib.request.Request(f"{self.callback_url}{separator}{query}", method="GET",
                                             headers={"User-Agent": "Sber-stand-in"})
        else:
            request = urllib.request.Request(self.callback_url, data=query.encode("ascii"), method="POST",
                                             headers={"Content-Type": "application/x-www-form-urlencoded",
                                                      "User-Agent": "Sber-stand-in"})
        try:
            with urllib.request.urlopen(request, timeout=self.callback_timeout) as response:
                response.read()
                return response.status
        except urllib.error.HTTPError as exc:
            exc.close()
            return exc.code
        except (urllib.error.URLError, OSError):
            return None


# ---- checking requests -------------------------------------------------------------------------------------

def _kopecks(value, name: str, zero: bool = False) -> int:
    try:
        number = int(str(value))
    except ValueError:
        raise ApiError("5", f"Неверное значение {name}: {value!r}") from None
    if number < 0 or (number == 0 and not zero) or str(number) != str(value).strip():
        raise ApiError("5", f"Неверная сумма {name}: {value!r}")
    return number


def _check_bundle(bundle, total: int) -> None:
    items = ((bundle or {}).get("cartItems") or {}).get("items") if isinstance(bundle, dict) else None
    if not isinstance(items, list) or not items:
        raise ApiError("5", "orderBundle.cartItems.items пуст")
    added = 0
    for index, item in enumerate(items):
        where = f"cartItems.items[{index}]"
        if not isinstance(item, dict):
            raise ApiError("5", f"{where} не объект")
        for key in ("positionId", "name", "quantity", "itemCode", "itemPrice"):
            if item.get(key) in (None, ""):
                raise ApiError("4", f"{where}.{key} не указан")
        if not isinstance(item["name"], str) or len(item["name"]) > 100:
            raise ApiError("5", f"{where}.name длиннее 100 символов")
        quantity = item["quantity"]
        if not isinstance(quantity, dict) or not quantity.get("measure") or \
                isinstance(quantity.get("value"), bool) or not isinstance(quantity.get("value"), (int, float)) or \
                quantity["value"] <= 0:
            raise ApiError("5", f"{where}.quantity должен быть {{value > 0, measure}}")
        price = item["itemPrice"]
        amount = item.get("itemAmount", round(price * quantity["value"]) if isinstance(price, int) else None)
        if not isinstance(price, int) or not isinstance(amount, int) or abs(price * quantity["value"] - amount) >= 1:
            raise ApiError("5", f"{where}: itemPrice × quantity не равно itemAmount")
        tax = item.get("tax")
        if tax is not None and (not isinstance(tax, dict) or not isinstance(tax.get("taxType"), int)):
            raise ApiError("5", f"{where}.tax.taxType должен быть числом")
        added += amount
    if added != total:
        raise ApiError("5", f"Сумма позиций корзины {added} не равна сумме заказа {total}")


def _with_order(url: str, order_id: str) -> str:
    separator = "&" if urlsplit(url).query else "?"
    return f"{url}{separator}{urlencode({'orderId': order_id, 'lang': 'ru'})}"


def _json(obj) -> bytes:
    return json.dumps(obj, ensure_ascii=False).encode("utf-8")


def _html(title: str, body: str) -> bytes:
    return (f'<!doctype html><html lang="ru"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f'</head><body><h1>{html.escape(title)}</h1>\n{body}\n</body></html>\n').encode("utf-8")


# ---- running it by hand --------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Stand-in of Sber internet acquiring (REST gateway) on loopback.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8793)
    parser.add_argument("--username", default="test-api")
    parser.add_argument("--password", default="test-password")
    parser.add_argument("--callback-key", default="test-callback-key")
    parser.add_argument("--callback-url", default=None,
                        help="where to send callbacks, e.g. http://127.0.0.1:5000/payments/notify/sber")
    parser.add_argument("--callback-method", choices=("POST", "GET"), default="POST")
    parser.add_argument("--delay", type=float, default=0, help="hold every API request this many seconds")
    parser.add_argument("--quiet", action="store_true", help="do not log requests")
    args = parser.parse_args(argv)
    simulator = SberSimulator(args.host, args.port, username=args.username, password=args.password,
                              callback_key=args.callback_key, callback_url=args.callback_url,
                              callback_method=args.callback_method, delay=args.delay, verbose=not args.quiet)
    simulator.run(lambda: f"Sber stand-in at {simulator.url} (userName {simulator.username}, password "
                          f"{simulator.password}, callback key {simulator.callback_key}); callbacks to "
                          f"{simulator.callback_url or 'nowhere'}; Ctrl-C stops it",
                  "Sber stand-in stopped")


if __name__ == "__main__":
    main()
