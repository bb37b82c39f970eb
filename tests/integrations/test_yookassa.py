"""YooKassa: the API v3 client against the stand-in on loopback, and the answers it must tell apart
(a payment, a rejection, an unavailable provider, a notification to believe or not)."""
import json
import re
import threading
import time
from datetime import timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from integrations.payments.base import (
    ForgedNotification,
    PaymentRequest,
    ProviderRejected,
    ProviderUnavailable,
    Receipt,
    ReceiptItem,
)
from integrations.payments.simulators.yookassa import YooKassaSimulator
from integrations.payments.yookassa import YOOKASSA_NETWORKS, YooKassaClient

RETURN_URL = "https://portal.example/payments/return"


pytestmark = pytest.mark.usefixtures("no_threads_left")


class WebhookReceiver:
    """The portal's notification endpoint, as far as these tests need it: records what arrives."""

    def __init__(self, status: int = 200):
        self.received: list[tuple[str, bytes]] = []  # (sender address, body)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.received.append((self.client_address[0], body))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = False
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/payments/notify/yookassa"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05})

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc_info):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def receiver():
    with WebhookReceiver() as receiver:
        yield receiver


@pytest.fixture
def simulator(receiver):
    with YooKassaSimulator(webhook_url=receiver.url) as sim:
        yield sim


@pytest.fixture
def client(simulator):
    with YooKassaClient(simulator.shop_id, simulator.secret_key, base_url=simulator.url, timeout=2,
                        trusted_networks=("127.0.0.1/32",)) as client:
        yield client


def electricity_receipt() -> Receipt:
    return Receipt(
        items=(
            ReceiptItem(name="Электроэнергия, день, март 2026", quantity=Decimal("350.5"), price=Decimal("7.14"),
                        vat_code=11, measure="kilowatt_hour"),
            ReceiptItem(name="Электроэнергия, ночь, март 2026", quantity=Decimal("120"), price=Decimal("3.10"),
                        vat_code=11, measure="kilowatt_hour"),
        ),
        email="ivanova@example.ru", phone="79161234567", full_name="Иванова Мария Петровна",
    )


def payment_request(**changes) -> PaymentRequest:
    values = dict(order_id="PAY-2026-000017", amount=Decimal("2874.57"),
                  description="Оплата по лицевому счёту 500100732259 за март 2026",
                  return_url=RETURN_URL, receipt=electricity_receipt(), metadata={"account": "500100732259"})
    values.update(changes)
    return PaymentRequest(**values)


# ---- creating and following a payment ----------------------------------------------------------------------

def test_a_card_payment_sends_the_customer_to_the_confirmation_page(simulator, client):
    payment = client.create(payment_request(), "key-card-1")
    assert payment.provider == "yookassa"
    assert payment.status == "pending"
    assert payment.amount == Decimal("2874.57")
    assert payment.confirmation_url == f"{simulator.root}/pay/{payment.provider_id}"
    assert payment.qr_payload is None and payment.method_id is None and payment.paid_amount is None

    sent = simulator.requests[-1]
    assert (sent["method"], sent["path"], sent["idempotence_key"]) == ("POST", "/v3/payments", "key-card-1")
    body = sent["body"]
    assert body["amount"] == {"value": "2874.57", "currency": "RUB"}
    assert body["capture"] is True
    assert body["confirmation"] == {"type": "redirect", "return_url": RETURN_URL}
    assert body["payment_method_data"] == {"type": "bank_card"}
    assert body["metadata"] == {"order_id": "PAY-2026-000017", "account": "500100732259"}
    assert body["description"] == "Оплата по лицевому счёту 500100732259 за март 2026"
    assert "save_payment_method" not in body


def test_an_sbp_payment_gives_the_qr_payload(simulator, client):
    payment = client.create(payment_request(method="sbp", receipt=None, amount=Decimal("500")), "key-sbp-1")
    assert payment.qr_payload.startswith("https://qr.nspk.ru/")
    assert "sum=50000" in payment.qr_payload
    assert payment.confirmation_url == payment.qr_payload
    body = simulator.requests[-1]["body"]
    assert body["payment_method_data"] == {"type": "sbp"}
    assert body["confirmation"] == {"type": "qr"}
    assert body["amount"] == {"value": "500.00", "currency": "RUB"}


def test_the_receipt_goes_as_given(simulator, client):
    client.create(payment_request(), "key-receipt")
    receipt = simulator.requests[-1]["body"]["receipt"]
    assert receipt["customer"] == {"full_name": "Иванова Мария Петровна", "email": "ivanova@example.ru",
                                   "phone": "79161234567"}
    assert receipt["items"] == [
        {"description": "Электроэнергия, день, март 2026", "quantity": "350.5",
         "amount": {"value": "7.14", "currency": "RUB"}, "vat_code": 11, "payment_subject": "service",
         "payment_mode": "full_payment", "measure": "kilowatt_hour"},
        {"description": "Электроэнергия, ночь, март 2026", "quantity": "120",
         "amount": {"value": "3.10", "currency": "RUB"}, "vat_code": 11, "payment_subject": "service",
         "payment_mode": "full_payment", "measure": "kilowatt_hour"},
    ]
    assert "tax_system_code" not in receipt


def test_a_long_description_is_cut_to_yookassa_s_limit(simulator, client):
    client.create(payment_request(description="Оплата " * 40, receipt=None), "key-long")
    assert len(simulator.requests[-1]["body"]["description"]) == 128


def test_the_same_key_gives_the_same_payment(simulator, client):
    first = client.create(payment_request(), "key-repeat")
    again = client.create(payment_request(), "key-repeat")
    assert again.provider_id == first.provider_id
    assert len(simulator.payments) == 1
    with pytest.raises(ProviderRejected) as caught:
        client.create(payment_request(amount=Decimal("100.00"), receipt=None), "key-repeat")
    assert caught.value.code == "invalid_request"
    assert "Idempotence-Key" in caught.value.message
    assert len(simulator.payments) == 1


def test_the_status_after_the_customer_pays(simulator, client):
    payment = client.create(payment_request(), "key-pay")
    simulator.pay(payment.provider_id)
    paid = client.status(payment.provider_id)
    assert paid.status == "succeeded"
    assert paid.paid_amount == Decimal("2874.57")
    assert paid.method_id is None  # nothing was asked to be saved
    assert paid.raw["payment_method"]["type"] == "bank_card"


def test_a_canceled_payment(simulator, client):
    payment = client.create(payment_request(), "key-cancel")
    simulator.cancel(payment.provider_id)
    assert client.status(payment.provider_id).status == "canceled"


def test_an_unknown_payment_is_rejected(client):
    with pytest.raises(ProviderRejected) as caught:
        client.status("2f0b5a6e-000f-5000-8000-1a2b3c4d5e6f")
    assert caught.value.code == "not_found"


# ---- refunds ---------------------------------------------------------------------------------------------------

def test_refunds_up_to_the_paid_amount(simulator, client):
    payment = client.create(payment_request(), "key-refunded")
    simulator.pay(payment.provider_id)

    refund = client.refund(payment.provider_id, Decimal("874.57"), "refund-1")
    assert (refund.provider, refund.payment_id, refund.status, refund.amount) == (
        "yookassa", payment.provider_id, "succeeded", Decimal("874.57"))
    assert simulator.requests[-1]["body"] == {"payment_id": payment.provider_id,
                                              "amount": {"value": "874.57", "currency": "RUB"}}
    partly = client.status(payment.provider_id)
    assert (partly.status, partly.refunded_amount) == ("succeeded", Decimal("874.57"))

    with pytest.raises(ProviderRejected) as caught:
        client.refund(payment.provider_id, Decimal("2000.01"), "refund-2")
    assert caught.value.code == "invalid_request"
    assert "2000.00" in caught.value.message

    client.refund(payment.provider_id, Decimal("2000.00"), "refund-3")
    whole = client.status(payment.provider_id)
    assert (whole.status, whole.refunded_amount) == ("refunded", Decimal("2874.57"))


def test_a_refund_with_a_receipt(simulator, client):
    payment = client.create(payment_request(), "key-refund-receipt")
    simulator.pay(payment.provider_id)
    receipt = Receipt(items=(ReceiptItem(name="Возврат переплаты", quantity=Decimal(1), price=Decimal("100.00"),
                                         vat_code=11),), email="ivanova@example.ru")
    client.refund(payment.provider_id, Decimal("100.00"), "refund-receipt", receipt=receipt)
    sent = simulator.requests[-1]["body"]["receipt"]
    assert sent["items"][0]["quantity"] == "1" and sent["items"][0]["amount"]["value"] == "100.00"


def test_a_pending_payment_cannot_be_refunded(client):
    payment = client.create(payment_request(), "key-unpaid")
    with pytest.raises(ProviderRejected, match="succeeded"):
        client.refund(payment.provider_id, Decimal("1.00"), "refund-unpaid")


# ---- auto-payment ---------------------------------------------------------------------------------------------

def test_a_saved_method_is_charged_without_the_customer(simulator, client):
    first = client.create(payment_request(save_method=True), "key-first")
    assert simulator.requests[-1]["body"]["save_payment_method"] is True
    simulator.pay(first.provider_id, save_method=True)
    method_id = client.status(first.provider_id).method_id
    assert method_id

    charged = client.charge_saved(method_id, payment_request(order_id="PAY-2026-000018"), "key-auto")
    assert charged.status == "succeeded"
    assert charged.paid_amount == Decimal("2874.57")
    body = simulator.requests[-1]["body"]
    assert body["payment_method_id"] == method_id
    assert "confirmation" not in body and "payment_method_data" not in body
    assert body["metadata"]["order_id"] == "PAY-2026-000018"

    with pytest.raises(ProviderRejected) as caught:
        client.charge_saved("no-such-method", payment_request(order_id="PAY-2026-000019"), "key-auto-2")
    assert caught.value.code == "invalid_request"


def test_a_method_is_saved_only_when_asked(simulator, client):
    payment = client.create(payment_request(), "key-not-asked")
    simulator.pay(payment.provider_id, save_method=True)
    assert client.status(payment.provider_id).method_id is None


# ---- failures ---------------------------------------------------------------------------------------------------

def test_a_server_error_is_unavailable_and_the_retry_creates_one_payment(simulator, client):
    simulator.fail_next(2)
    for _ in range(2):
        with pytest.raises(ProviderUnavailable, match="500"):
            client.create(payment_request(), "key-retry")
    assert simulator.payments == {}
    payment = client.create(payment_request(), "key-retry")
    assert list(simulator.payments) == [payment.provider_id]


@pytest.mark.parametrize("status", [429, 502, 503])
def test_other_temporary_answers_are_unavailable(simulator, client, status):
    simulator.fail_next(1, status=status)
    with pytest.raises(ProviderUnavailable, match=str(status)):
        client.status("whatever")


def test_no_answer_in_time_is_unavailable():
    with YooKassaSimulator(delay=5) as simulator, \
            YooKassaClient(simulator.shop_id, simulator.secret_key, base_url=simulator.url, timeout=0.2) as client:
        started = time.monotonic()
        with pytest.raises(ProviderUnavailable, match="in time"):
            client.create(payment_request(), "key-slow")
        assert time.monotonic() - started < 2


def test_a_closed_port_is_unavailable():
    with YooKassaSimulator() as simulator:
        url = simulator.url
    with YooKassaClient("100500", "test_secret", base_url=url, timeout=1) as client, \
            pytest.raises(ProviderUnavailable, match="cannot be reached"):
        client.status("whatever")


def test_bad_credentials_are_rejected(simulator):
    with YooKassaClient(simulator.shop_id, "wrong", base_url=simulator.url, timeout=2) as client, \
            pytest.raises(ProviderRejected) as caught:
        client.create(payment_request(), "key-auth")
    assert caught.value.code == "invalid_credentials"
    assert simulator.payments == {}


def test_a_receipt_is_required_where_the_shop_says_so():
    with YooKassaSimulator(require_receipt=True) as simulator, \
            YooKassaClient(simulator.shop_id, simulator.secret_key, base_url=simulator.url, timeout=2) as client:
        with pytest.raises(ProviderRejected, match="receipt"):
            client.create(payment_request(receipt=None), "key-no-receipt")
        assert client.create(payment_request(), "key-receipt").status == "pending"


def test_a_receipt_that_does_not_add_up_is_rejected(client):
    with pytest.raises(ProviderRejected, match="add up"):
        client.create(payment_request(amount=Decimal("2874.58")), "key-mismatch")


def test_amounts_are_never_floats(simulator, client):
    with pytest.raises(TypeError):
        client.create(payment_request(amount=2874.57), "key-float")
    with pytest.raises(ValueError, match="kopecks"):
        client.create(payment_request(amount=Decimal("10.005"), receipt=None), "key-fraction")
    assert simulator.requests == []


# ---- notifications ------------------------------------------------------------------------------------------

def test_a_notification_from_the_stand_in_is_read(simulator, client, receiver):
    payment = client.create(payment_request(), "key-notify")
    simulator.pay(payment.provider_id)
    assert simulator.notify(payment.provider_id) == [200]
    sender, body = receiver.received[-1]
    notification = client.parse_notification({"Content-Type": "application/json"}, body, sender)
    assert notification.provider == "yookassa"
    assert notification.provider_id == payment.provider_id
    assert (notification.event, notification.status) == ("payment.succeeded", "succeeded")
    assert notification.amount == Decimal("2874.57")
    assert notification.order_id == "PAY-2026-000017"
    assert client.acknowledge(notification) == (200, {}, b"")


def test_a_refund_notification_names_the_payment(simulator, client, receiver):
    payment = client.create(payment_request(), "key-notify-refund")
    simulator.pay(payment.provider_id)
    client.refund(payment.provider_id, Decimal("74.57"), "refund-notify")
    simulator.notify(payment.provider_id, "refund.succeeded")
    sender, body = receiver.received[-1]
    notification = client.parse_notification({}, body, sender)
    assert (notification.provider_id, notification.status, notification.amount) == (
        payment.provider_id, "refunded", Decimal("74.57"))


def test_repeated_notifications_arrive_concurrently(simulator, client, receiver):
    payment = client.create(payment_request(), "key-notify-many")
    simulator.cancel(payment.provider_id)
    assert simulator.notify(payment.provider_id, "payment.canceled", times=3, concurrent=True) == [200] * 3
    assert len(receiver.received) == 3
    assert {client.parse_notification({}, body, sender).status for sender, body in receiver.received} == {"canceled"}


def notification_body(event="payment.succeeded", **obj) -> bytes:
    payment = {"id": "2f0b5a6e-000f-5000-8000-1a2b3c4d5e6f", "status": "succeeded", "paid": True,
               "amount": {"value": "2874.57", "currency": "RUB"}, "metadata": {"order_id": "PAY-2026-000017"}}
    payment.update(obj)
    return json.dumps({"type": "notification", "event": event, "object": payment}).encode()


@pytest.mark.parametrize("address", ["185.71.76.5", "77.75.156.35", "77.75.154.200", "2a02:5180::12",
                                     "::ffff:185.71.77.10"])
def test_yookassa_s_networks_are_trusted(address):
    client = YooKassaClient("100500", "test_secret")
    notification = client.parse_notification({}, notification_body(), address)
    assert (notification.provider_id, notification.status) == ("2f0b5a6e-000f-5000-8000-1a2b3c4d5e6f", "succeeded")
    client.close()


@pytest.mark.parametrize("address", ["127.0.0.1", "8.8.8.8", "185.71.76.32", "77.75.156.12", "2a02:5181::1",
                                     "", None, "not an address"])
def test_a_notification_from_elsewhere_is_forged(address):
    client = YooKassaClient("100500", "test_secret", trusted_networks=YOOKASSA_NETWORKS)
    with pytest.raises(ForgedNotification):
        client.parse_notification({}, notification_body(), address)
    client.close()


@pytest.mark.parametrize("body", [
    b"", b"not json", b"[]", b'{"type": "error"}',
    json.dumps({"type": "notification", "event": "payment.succeeded"}).encode(),
    notification_body(event="payout.succeeded"),
    notification_body(amount={"value": "abc", "currency": "RUB"}),
    notification_body(id=None),
], ids=["empty", "text", "list", "not-a-notification", "no-object", "unknown-event", "bad-amount", "no-id"])
def test_garbage_is_forged(body):
    client = YooKassaClient("100500", "test_secret")
    with pytest.raises(ForgedNotification):
        client.parse_notification({}, body, "185.71.76.5")
    client.close()


# ---- paying through the stand-in's page ----------------------------------------------------------------------

def test_the_confirmation_page_pays_notifies_and_returns(simulator, client, receiver):
    payment = client.create(payment_request(), "key-page")
    with requests.Session() as browser:
        page = browser.get(payment.confirmation_url, timeout=2)
        assert page.status_code == 200
        assert f'action="/pay/{payment.provider_id}"' in page.text and ">Pay</button>" in page.text
        answer = browser.post(payment.confirmation_url, data={"action": "pay"}, allow_redirects=False, timeout=2)
    assert answer.status_code == 303
    assert answer.headers["Location"] == RETURN_URL
    assert client.status(payment.provider_id).status == "succeeded"
    sender, body = receiver.received[-1]
    assert client.parse_notification({}, body, sender).provider_id == payment.provider_id


def test_the_client_keeps_the_secret_out_of_its_repr():
    client = YooKassaClient("100500", "live_very_secret")
    assert "live_very_secret" not in repr(client)
    client.close()


def test_the_settings_are_checked():
    with pytest.raises(ValueError, match="YOOKASSA_URL"):
        YooKassaClient("100500", "test_secret", base_url="api.yookassa.ru/v3")
    with pytest.raises(ValueError, match="YOOKASSA_SHOP_ID"):
        YooKassaClient("", "test_secret")


# ---- fiscal receipts (54-ФЗ) ----------------------------------------------------------------------------------

QR_RE = re.compile(r"^t=(\d{8}T\d{4})&s=(\d+\.\d{2})&fn=(\d{16})&i=(\d+)&fp=(\d{10})&n=([12])$")


def check_qr(receipt, n: str) -> None:
    match = QR_RE.match(receipt.qr_text)
    assert match, receipt.qr_text
    assert match.groups() == (receipt.registered_at.strftime("%Y%m%dT%H%M"), format(receipt.amount, "f"),
                              receipt.fn, receipt.fd, receipt.fpd, n)


def test_a_paid_payment_gets_its_fiscal_receipt(simulator, client):
    payment = client.create(payment_request(), idempotency_key="k-fiscal-1")
    assert client.fiscal_receipts(payment.provider_id) == []  # not paid yet: nothing to register
    simulator.pay(payment.provider_id)
    [receipt] = client.fiscal_receipts(payment.provider_id)
    assert receipt.kind == "payment"
    assert receipt.amount == Decimal("2874.57")
    assert receipt.registered_at.utcoffset() == timedelta(hours=3)  # Moscow time, as the receipt shows it
    assert len(receipt.fn) == 16 and len(receipt.fpd) == 10
    assert receipt.raw["status"] == "succeeded" and receipt.raw["payment_id"] == payment.provider_id
    check_qr(receipt, "1")
    assert ("GET", "/v3/receipts") == (simulator.requests[-1]["method"], simulator.requests[-1]["path"])


def test_no_fiscal_receipt_before_the_cash_register_has_registered_it(simulator, client):
    simulator.fiscal.enabled = False
    payment = client.create(payment_request(), idempotency_key="k-fiscal-2")
    simulator.pay(payment.provider_id)
    assert client.fiscal_receipts(payment.provider_id) == []
    simulator.fiscalise_now()
    assert [r.kind for r in client.fiscal_receipts(payment.provider_id)] == ["payment"]


def test_a_fiscal_delay_holds_the_receipt(client):
    with YooKassaSimulator(fiscal_delay=0.3) as sim, \
            YooKassaClient(sim.shop_id, sim.secret_key, base_url=sim.url, timeout=2) as delayed:
        payment = delayed.create(payment_request(), idempotency_key="k-fiscal-3")
        sim.pay(payment.provider_id)
        assert delayed.fiscal_receipts(payment.provider_id) == []
        time.sleep(0.4)
        assert len(delayed.fiscal_receipts(payment.provider_id)) == 1


def test_a_payment_without_receipt_data_gets_no_fiscal_receipt(simulator, client):
    payment = client.create(payment_request(receipt=None), idempotency_key="k-fiscal-4")
    simulator.pay(payment.provider_id)
    assert client.fiscal_receipts(payment.provider_id) == []


def test_a_refund_gets_a_refund_receipt(simulator, client):
    payment = client.create(payment_request(), idempotency_key="k-fiscal-5")
    simulator.pay(payment.provider_id)
    client.refund(payment.provider_id, Decimal("100.00"), idempotency_key="r-fiscal-5")
    paid, refunded = client.fiscal_receipts(payment.provider_id)
    assert (paid.kind, refunded.kind) == ("payment", "refund")
    assert refunded.amount == Decimal("100.00")
    assert int(refunded.fd) > int(paid.fd)
    assert refunded.fn == paid.fn
    check_qr(refunded, "2")
