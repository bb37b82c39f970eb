"""Sber acquiring: the client against the stand-in on loopback, the callback checksum on a worked example,
and the answers the client must tell apart (paid, refused, unavailable, forged)."""
import hashlib
import hmac
import json
import re
import threading
import time
from datetime import timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests

from integrations.payments.base import (ForgedNotification, PaymentRequest, ProviderRejected, ProviderUnavailable,
                                        Receipt, ReceiptItem)
from integrations.payments.sber import SberClient, checksum
from integrations.payments.simulators.sber import SberSimulator

CALLBACK_KEY = "callback-key-Ключ"


pytestmark = pytest.mark.usefixtures("no_threads_left")


class Receiver:
    """The portal's callback endpoint, reduced to recording what comes (GET or POST) and answering 200."""

    def __init__(self):
        self.received, self._lock = [], threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def _record(self, body: bytes):
                with receiver._lock:
                    receiver.received.append({"method": self.command, "path": self.path,
                                              "headers": dict(self.headers), "body": body})
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_POST(self):
                self._record(self.rfile.read(int(self.headers.get("Content-Length") or 0)))

            def do_GET(self):
                self._record(b"")

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads, self._server.block_on_close = False, True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/payments/notify/sber"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05})

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


@pytest.fixture
def receiver():
    with Receiver() as receiver:
        yield receiver


@pytest.fixture
def sim(receiver):
    with SberSimulator(username="gridcase-api", password="s3cret", callback_key=CALLBACK_KEY,
                       callback_url=receiver.url) as sim:
        yield sim


@pytest.fixture
def client(sim):
    with SberClient(sim.username, sim.password, base_url=sim.url, timeout=2, callback_key=CALLBACK_KEY) as client:
        yield client


def request(order_id="pay-0001", amount="1234.56", **changes) -> PaymentRequest:
    values = dict(order_id=order_id, amount=Decimal(amount), description="Оплата по лицевому счёту 500100732259",
                  return_url="https://portal.example/payments/pay-0001")
    values.update(changes)
    return PaymentRequest(**values)


def calls(sim, method):
    return [r["params"] for r in sim.requests if r["method"] == method]


# ---- the checksum ------------------------------------------------------------------------------------------

def test_the_checksum_of_a_worked_example():
    params = {"mdOrder": "3ff6962a-7dcc-4283-ab50-a6d7dd3386fe", "orderNumber": "10747", "operation": "deposited",
              "status": "1", "amount": "123456"}
    text = ("amount;123456;mdOrder;3ff6962a-7dcc-4283-ab50-a6d7dd3386fe;operation;deposited;"
            "orderNumber;10747;status;1;")
    expected = hmac.new(b"test-key", text.encode(), hashlib.sha256).hexdigest().upper()
    assert checksum(params, "test-key") == expected
    assert checksum({**params, "checksum": "ANYTHING"}, "test-key") == expected  # the checksum is left out
    assert expected == expected.upper() and len(expected) == 64


# ---- creating a payment ------------------------------------------------------------------------------------

def test_create_registers_the_order_and_gives_the_form(sim, client):
    payment = client.create(request(), idempotency_key="pay-0001")
    assert (payment.provider, payment.status, payment.amount) == ("sber", "pending", Decimal("1234.56"))
    assert payment.confirmation_url == f"{sim.root}/pay/{payment.provider_id}"
    [register] = calls(sim, "register.do")
    assert register["userName"] == "gridcase-api" and register["password"] == "***"
    assert register["orderNumber"] == "pay-0001" and register["amount"] == "123456"
    assert register["returnUrl"] == "https://portal.example/payments/pay-0001"
    assert register["description"] == "Оплата по лицевому счёту 500100732259"
    assert "clientId" not in register and "orderBundle" not in register
    with requests.get(payment.confirmation_url, timeout=2) as page:
        assert page.status_code == 200 and "Pay" in page.text and "1234.56" in page.text


def test_sbp_is_not_offered(sim, client):
    with pytest.raises(ProviderRejected) as caught:
        client.create(request(method="sbp"), idempotency_key="pay-0001")
    assert caught.value.code == "UNSUPPORTED"
    assert sim.requests == []


def test_the_same_order_number_again_is_the_same_order(sim, client):
    first = client.create(request(), idempotency_key="pay-0001")
    again = client.create(request(), idempotency_key="pay-0001")
    assert again.provider_id == first.provider_id and again.confirmation_url == first.confirmation_url
    assert len(sim.orders) == 1
    with pytest.raises(ProviderRejected) as caught:
        client.create(request(amount="1000.00"), idempotency_key="pay-0001")
    assert caught.value.code == "1"


def test_the_order_bundle_goes_on_the_wire(sim, client):
    receipt = Receipt(items=(
        ReceiptItem(name="Электроэнергия, день, март 2026", quantity=Decimal("350.5"), price=Decimal("3.12"),
                    vat_code=6, measure="кВт·ч"),
        ReceiptItem(name="Пени", quantity=Decimal("1"), price=Decimal("140.98"), vat_code=0),
    ), email="ivanova@example.ru", phone="+79161234567", tax_system_code=1)
    client.create(request(amount="1234.54", receipt=receipt), idempotency_key="pay-0001")
    [register] = calls(sim, "register.do")
    assert register["taxSystem"] == "0"
    assert json.loads(register["orderBundle"]) == {
        "customerDetails": {"email": "ivanova@example.ru", "phone": "+79161234567"},
        "cartItems": {"items": [
            {"positionId": 1, "name": "Электроэнергия, день, март 2026",
             "quantity": {"value": 350.5, "measure": "кВт·ч"}, "itemAmount": 109356, "itemPrice": 312,
             "itemCode": "1", "tax": {"taxType": 6},
             "itemAttributes": {"attributes": [{"name": "paymentMethod", "value": "4"},
                                               {"name": "paymentObject", "value": "4"}]}},
            {"positionId": 2, "name": "Пени", "quantity": {"value": 1, "measure": "шт"}, "itemAmount": 14098,
             "itemPrice": 14098, "itemCode": "2", "tax": {"taxType": 0},
             "itemAttributes": {"attributes": [{"name": "paymentMethod", "value": "4"},
                                               {"name": "paymentObject", "value": "4"}]}},
        ]}}


def test_a_cart_that_does_not_add_up_is_refused(sim, client):
    receipt = Receipt(items=(ReceiptItem(name="Электроэнергия", quantity=Decimal(1), price=Decimal("100.00"),
                                         vat_code=6),), email="a@example.ru")
    with pytest.raises(ProviderRejected) as caught:
        client.create(request(receipt=receipt), idempotency_key="pay-0001")
    assert caught.value.code == "5"
    assert sim.orders == {}


# ---- status and refunds ------------------------------------------------------------------------------------

def test_the_status_follows_the_order(sim, client):
    paid = client.create(request(), idempotency_key="pay-0001")
    declined = client.create(request(order_id="pay-0002"), idempotency_key="pay-0002")
    assert client.status(paid.provider_id).status == "pending"
    sim.pay(paid.provider_id)
    sim.cancel(declined.provider_id)
    seen = client.status(paid.provider_id)
    assert (seen.status, seen.amount, seen.paid_amount, seen.method_id) == (
        "succeeded", Decimal("1234.56"), Decimal("1234.56"), None)
    assert seen.raw["orderStatus"] == 2
    assert client.status(declined.provider_id).status == "canceled"
    with pytest.raises(ProviderRejected) as caught:
        client.status("00000000-0000-0000-0000-000000000000")
    assert caught.value.code == "6"


def test_refunds_up_to_what_was_paid(sim, client):
    payment = client.create(request(), idempotency_key="pay-0001")
    with pytest.raises(ProviderRejected) as caught:  # nothing paid yet
        client.refund(payment.provider_id, Decimal("1.00"), idempotency_key="refund-0")
    assert caught.value.code == "7"
    sim.pay(payment.provider_id)
    part = client.refund(payment.provider_id, Decimal("234.56"), idempotency_key="refund-1")
    assert (part.status, part.amount, part.refund_id, part.payment_id) == (
        "succeeded", Decimal("234.56"), "refund-1", payment.provider_id)
    seen = client.status(payment.provider_id)
    assert (seen.status, seen.refunded_amount, seen.paid_amount) == ("succeeded", Decimal("234.56"), Decimal("1234.56"))
    with pytest.raises(ProviderRejected) as caught:
        client.refund(payment.provider_id, Decimal("1000.01"), idempotency_key="refund-2")
    assert caught.value.code == "7"
    client.refund(payment.provider_id, Decimal("1000.00"), idempotency_key="refund-3")
    seen = client.status(payment.provider_id)
    assert (seen.status, seen.refunded_amount) == ("refunded", Decimal("1234.56"))
    assert [c["amount"] for c in calls(sim, "refund.do")] == ["100", "23456", "100001", "100000"]
    with pytest.raises(ValueError):  # amount=0 would refund everything
        client.refund(payment.provider_id, Decimal(0), idempotency_key="refund-4")


# ---- callbacks ---------------------------------------------------------------------------------------------

def test_a_genuine_callback_is_read(sim, client, receiver):
    payment = client.create(request(), idempotency_key="pay-0001")
    sim.pay(payment.provider_id)
    assert sim.notify(payment.provider_id) == [200]
    [got] = receiver.received
    assert got["method"] == "POST" and got["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    claim = client.parse_notification(got["headers"], got["body"], "194.54.14.1")
    assert (claim.provider, claim.provider_id, claim.status) == ("sber", payment.provider_id, "succeeded")
    assert claim.amount == Decimal("1234.56") and claim.order_id == "pay-0001" and claim.event == "deposited"
    assert client.acknowledge(claim) == (200, {}, b"")


def test_a_get_callback_is_read_from_its_query_string(receiver):
    with SberSimulator(callback_key=CALLBACK_KEY, callback_url=receiver.url, callback_method="GET") as sim, \
            SberClient(sim.username, sim.password, base_url=sim.url, timeout=2, callback_key=CALLBACK_KEY) as client:
        payment = client.create(request(), idempotency_key="pay-0001")
        sim.pay(payment.provider_id)
        client.refund(payment.provider_id, Decimal("34.56"), idempotency_key="refund-1")
        assert sim.notify(payment.provider_id) == [200]
    [got] = receiver.received
    assert got["method"] == "GET" and got["body"] == b""
    claim = client.parse_notification(got["headers"], urlsplit(got["path"]).query.encode(), None)
    assert (claim.event, claim.status, claim.amount) == ("refunded", "refunded", Decimal("34.56"))


def test_forged_callbacks_are_refused(sim, client, receiver):
    payment = client.create(request(), idempotency_key="pay-0001")
    sim.pay(payment.provider_id)
    assert sim.notify_forged(payment.provider_id) == 200
    with pytest.raises(ForgedNotification, match="checksum"):
        client.parse_notification(receiver.received[0]["headers"], receiver.received[0]["body"], None)
    genuine = dict(parse_qsl(sim.notification_body(payment.provider_id).decode()))
    for tampered in ({**genuine, "amount": "100"}, {**genuine, "operation": "refunded"},
                     {k: v for k, v in genuine.items() if k != "checksum"}):
        with pytest.raises(ForgedNotification):
            client.parse_notification({}, "&".join(f"{k}={v}" for k, v in tampered.items()).encode(), None)
    with SberClient("u", "p", base_url=sim.url) as keyless, pytest.raises(ForgedNotification, match="SBER_CALLBACK_KEY"):
        keyless.parse_notification({}, sim.notification_body(payment.provider_id), None)
    as_json = json.dumps(genuine).encode()  # the same parameters as a JSON body are as good
    assert client.parse_notification({"Content-Type": "application/json"}, as_json, None).status == "succeeded"


def test_a_declined_order_calls_back_canceled(sim, client):
    payment = client.create(request(), idempotency_key="pay-0001")
    sim.cancel(payment.provider_id)
    claim = client.parse_notification({}, sim.notification_body(payment.provider_id), None)
    assert (claim.event, claim.status) == ("declinedByTimeout", "canceled")


def test_repeated_callbacks_arrive_at_once(sim, client, receiver):
    payment = client.create(request(), idempotency_key="pay-0001")
    sim.pay(payment.provider_id)
    assert sim.notify(payment.provider_id, times=5, concurrently=True) == [200] * 5
    assert len(receiver.received) == 5 and len({got["body"] for got in receiver.received}) == 1


def test_the_payment_page_pays_calls_back_and_returns(sim, client, receiver):
    payment = client.create(request(), idempotency_key="pay-0001")
    with requests.Session() as browser:
        answer = browser.post(payment.confirmation_url, data={"action": "pay"}, allow_redirects=False, timeout=2)
    assert answer.status_code == 303
    assert answer.headers["Location"] == f"https://portal.example/payments/pay-0001?orderId={payment.provider_id}&lang=ru"
    [got] = receiver.received
    assert client.parse_notification(got["headers"], got["body"], None).status == "succeeded"
    assert client.status(payment.provider_id).status == "succeeded"


# ---- auto-payments -----------------------------------------------------------------------------------------

def test_a_saved_card_is_charged_again(sim, client):
    first = client.create(request(save_method=True, customer_key="cust-77"), idempotency_key="pay-0001")
    assert calls(sim, "register.do")[0]["clientId"] == "cust-77"
    sim.pay(first.provider_id)
    method_id = client.status(first.provider_id).method_id
    assert method_id and method_id == sim.orders[first.provider_id]["bindingId"]

    monthly = request(order_id="auto-0001", amount="980.00", customer_key="cust-77")
    charged = client.charge_saved(method_id, monthly, idempotency_key="auto-0001")
    assert (charged.status, charged.amount, charged.method_id) == ("succeeded", Decimal("980.00"), method_id)
    register = calls(sim, "register.do")[-1]
    assert register["features"] == "AUTO_PAYMENT" and register["clientId"] == "cust-77"
    [binding] = calls(sim, "paymentOrderBinding.do")
    assert binding["mdOrder"] == charged.provider_id and binding["bindingId"] == method_id

    again = client.charge_saved(method_id, monthly, idempotency_key="auto-0001")  # a retry: not charged twice
    assert again.provider_id == charged.provider_id and again.status == "succeeded"
    assert sim.orders[charged.provider_id]["deposited"] == 98000

    with pytest.raises(ProviderRejected) as caught:
        client.charge_saved("no-such-binding", request(order_id="auto-0002", customer_key="cust-77"),
                            idempotency_key="auto-0002")
    assert caught.value.code == "2"
    with pytest.raises(ProviderRejected) as caught:  # another customer's card
        client.charge_saved(method_id, request(order_id="auto-0003", customer_key="cust-99"), idempotency_key="auto-0003")
    assert caught.value.code == "2"


# ---- the gateway's own duplicate answer ----------------------------------------------------------------------

class Gateway(requests.adapters.BaseAdapter):
    """Answers as the real gateway does to a second order with the same number: errorCode 1."""

    def __init__(self, answers: dict):
        super().__init__()
        self.answers = answers

    def send(self, request, **kwargs):
        method = request.url.rsplit("/", 1)[1]
        response = requests.Response()
        response.status_code, response._content = 200, json.dumps(self.answers[method]).encode()
        response.headers["Content-Type"] = "application/json"
        response.url, response.request = request.url, request
        return response

    def close(self):
        pass


def test_an_order_number_the_gateway_already_has_is_looked_up():
    found = {"errorCode": "0", "orderNumber": "pay-0001", "orderStatus": 0, "amount": 123456,
             "attributes": [{"name": "mdOrder", "value": "70906e55-7114-41d6-8332-4609dc6590f4"}]}
    session = requests.Session()
    session.mount("https://sber.test/", Gateway({
        "register.do": {"errorCode": "1", "errorMessage": "Заказ с таким номером уже обработан"},
        "getOrderStatusExtended.do": found}))
    with SberClient("u", "p", base_url="https://sber.test/payment/rest", session=session) as client:
        payment = client.create(request(), idempotency_key="pay-0001")
        assert (payment.provider_id, payment.status, payment.confirmation_url) == (
            "70906e55-7114-41d6-8332-4609dc6590f4", "pending", None)
        with pytest.raises(ProviderRejected) as caught:
            client.create(request(amount="1.00"), idempotency_key="pay-0001")
    session.close()
    assert caught.value.code == "1"


# ---- failures ----------------------------------------------------------------------------------------------

def test_a_5xx_is_unavailable_until_the_service_recovers(sim, client):
    sim.fail_next(2, status=502)
    for _ in range(2):
        with pytest.raises(ProviderUnavailable, match="502"):
            client.create(request(), idempotency_key="pay-0001")
    assert client.create(request(), idempotency_key="pay-0001").status == "pending"
    assert len(sim.orders) == 1


def test_no_answer_in_time_is_unavailable(sim):
    sim.delay = 5
    with SberClient(sim.username, sim.password, base_url=sim.url, timeout=0.2) as client:
        started = time.monotonic()
        with pytest.raises(ProviderUnavailable, match="in time"):
            client.status("x")
        assert time.monotonic() - started < 2


def test_a_closed_port_is_unavailable():
    with SberSimulator() as sim:
        url = sim.url
    with SberClient("u", "p", base_url=url, timeout=1) as client, \
            pytest.raises(ProviderUnavailable, match="cannot be reached"):
        client.status("x")


def test_wrong_credentials_are_rejected(sim):
    with SberClient(sim.username, "not-the-password", base_url=sim.url, timeout=2) as client:
        with pytest.raises(ProviderRejected) as caught:
            client.create(request(), idempotency_key="pay-0001")
    assert caught.value.code == "5"
    assert sim.orders == {}


# ---- fiscal receipts (54-ФЗ) ----------------------------------------------------------------------------------

QR_RE = re.compile(r"^t=(\d{8}T\d{4})&s=(\d+\.\d{2})&fn=(\d{16})&i=(\d+)&fp=(\d{10})&n=([12])$")


def fiscal_request(order_id="pay-fiscal", **changes) -> PaymentRequest:
    receipt = Receipt(items=(ReceiptItem(name="Электроэнергия", quantity=Decimal(2), price=Decimal("617.28"),
                                         vat_code=6),), email="a@example.ru", tax_system_code=1)
    return request(order_id=order_id, receipt=receipt, **changes)


def check_qr(receipt, n: str) -> None:
    match = QR_RE.match(receipt.qr_text)
    assert match, receipt.qr_text
    assert match.groups() == (receipt.registered_at.strftime("%Y%m%dT%H%M"), format(receipt.amount, "f"),
                              receipt.fn, receipt.fd, receipt.fpd, n)


def test_a_paid_payment_gets_its_fiscal_receipt(sim, client):
    payment = client.create(fiscal_request(), idempotency_key="pay-fiscal")
    assert client.fiscal_receipts(payment.provider_id) == []  # not paid yet
    sim.pay(payment.provider_id)
    [receipt] = client.fiscal_receipts(payment.provider_id)
    assert receipt.kind == "payment"
    assert receipt.amount == Decimal("1234.56")
    assert receipt.registered_at.utcoffset() == timedelta(hours=3)
    assert len(receipt.fn) == 16 and len(receipt.fpd) == 10
    assert receipt.ecr_registration and len(receipt.ecr_registration) == 16
    assert receipt.shift_number and receipt.number_in_shift
    check_qr(receipt, "1")
    assert sim.requests[-1]["method"] == "getReceiptStatus.do"


def test_no_fiscal_receipt_before_the_cash_register_has_registered_it(sim, client):
    sim.fiscal.enabled = False
    payment = client.create(fiscal_request(), idempotency_key="pay-fiscal")
    sim.pay(payment.provider_id)
    assert client.fiscal_receipts(payment.provider_id) == []
    sim.fiscalise_now()
    assert [r.kind for r in client.fiscal_receipts(payment.provider_id)] == ["payment"]


def test_a_fiscal_delay_holds_the_receipt():
    with SberSimulator(fiscal_delay=0.3) as sim, SberClient(sim.username, sim.password, base_url=sim.url, timeout=2) as delayed:
        payment = delayed.create(fiscal_request(), idempotency_key="pay-fiscal")
        sim.pay(payment.provider_id)
        assert delayed.fiscal_receipts(payment.provider_id) == []
        time.sleep(0.4)
        assert len(delayed.fiscal_receipts(payment.provider_id)) == 1


def test_a_payment_without_receipt_data_gets_no_fiscal_receipt(sim, client):
    payment = client.create(request(order_id="pay-no-receipt"), idempotency_key="pay-no-receipt")
    sim.pay(payment.provider_id)
    assert client.fiscal_receipts(payment.provider_id) == []


def test_a_refund_gets_a_refund_receipt(sim, client):
    payment = client.create(fiscal_request(), idempotency_key="pay-fiscal")
    sim.pay(payment.provider_id)
    client.refund(payment.provider_id, Decimal("100.00"), idempotency_key="refund-fiscal")
    paid, refunded = client.fiscal_receipts(payment.provider_id)
    assert (paid.kind, refunded.kind) == ("payment", "refund")
    assert refunded.amount == Decimal("100.00")
    assert int(refunded.fd) == int(paid.fd) + 1
    assert int(refunded.number_in_shift) == int(paid.number_in_shift) + 1
    assert refunded.fn == paid.fn
    check_qr(refunded, "2")
