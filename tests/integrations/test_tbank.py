"""T-Bank acquiring: the client against the stand-in on loopback, the Token on a worked example, and the
answers the client must tell apart (paid, refused, unavailable, forged)."""
import hashlib
import json
import re
import threading
import time
from datetime import timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from integrations.payments.base import (ForgedNotification, PaymentRequest, ProviderRejected, ProviderUnavailable,
                                        Receipt, ReceiptItem)
from integrations.payments.simulators.tbank import TBankSimulator
from integrations.payments.tbank import TBankClient, token


pytestmark = pytest.mark.usefixtures("no_threads_left")


class Receiver:
    """The portal's notification endpoint, reduced to recording what comes and answering `answer`."""

    def __init__(self, answer: bytes = b"OK"):
        self.answer, self.received, self._lock = answer, [], threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._lock:
                    receiver.received.append({"path": self.path, "headers": dict(self.headers), "body": body})
                self.send_response(200)
                self.send_header("Content-Length", str(len(receiver.answer)))
                self.end_headers()
                self.wfile.write(receiver.answer)

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads, self._server.block_on_close = False, True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/payments/notify/tbank"
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
def sim():
    with TBankSimulator(terminal_key="GridCaseTerminal", password="s3cret-Пароль") as sim:
        yield sim


@pytest.fixture
def client(sim, receiver):
    with TBankClient(sim.terminal_key, sim.password, base_url=sim.url, timeout=2,
                     notification_url=receiver.url) as client:
        yield client


def request(order_id="pay-0001", amount="1234.56", **changes) -> PaymentRequest:
    values = dict(order_id=order_id, amount=Decimal(amount), description="Оплата по лицевому счёту 500100732259",
                  return_url="https://portal.example/payments/pay-0001")
    values.update(changes)
    return PaymentRequest(**values)


def sha256_token(fields: dict, password: str) -> str:
    """The documented rule, written out for the test: root scalars + Password, by key, values joined."""
    pairs = {k: v for k, v in fields.items() if k != "Token" and not isinstance(v, (dict, list))}
    pairs["Password"] = password
    joined = "".join(str(v).lower() if isinstance(v, bool) else str(v) for _, v in sorted(pairs.items()))
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()


def calls(sim, method):
    return [r["body"] for r in sim.requests if r["method"] == method]


# ---- the Token ---------------------------------------------------------------------------------------------

def test_the_token_of_the_documented_example():
    fields = {"TerminalKey": "MerchantTerminalKey", "Amount": 19200, "OrderId": "00000",
              "Description": "Подарочная карта на 1000 рублей",
              "Receipt": {"Email": "a@test.ru", "Items": []}, "DATA": {"Phone": "+71234567890"}}
    joined = "19200" "Подарочная карта на 1000 рублей" "00000" "11111111111111" "MerchantTerminalKey"
    expected = hashlib.sha256(joined.encode("utf-8")).hexdigest()
    assert expected == "72dd466f8ace0a37a1f740ce5fb78101712bc0665d91a8108c7c8a0ccd426db2"
    assert token(fields, "11111111111111") == expected
    assert token({**fields, "Token": "whatever"}, "11111111111111") == expected  # the Token itself is left out


def test_the_token_writes_booleans_and_numbers_as_notifications_carry_them():
    body = {"TerminalKey": "T", "OrderId": "o-1", "Success": True, "Status": "CONFIRMED", "PaymentId": 8742591,
            "ErrorCode": "0", "Amount": 9855, "CardId": 322264, "Pan": "430000******0777", "ExpDate": "1122",
            "RebillId": 1234567890}
    joined = "9855" "322264" "0" "1122" "o-1" "430000******0777" "pw" "8742591" "1234567890" "CONFIRMED" "true" "T"
    assert token(body, "pw") == hashlib.sha256(joined.encode()).hexdigest() == sha256_token(body, "pw")


# ---- creating a payment ------------------------------------------------------------------------------------

def test_create_gives_the_payment_page(sim, client, receiver):
    payment = client.create(request(), idempotency_key="pay-0001")
    assert payment.provider == "tbank" and payment.status == "pending"
    assert payment.amount == Decimal("1234.56")
    assert payment.confirmation_url == f"{sim.root}/pay/{payment.provider_id}"
    assert payment.qr_payload is None
    [init] = calls(sim, "Init")
    assert init["Amount"] == 123456 and init["OrderId"] == "pay-0001"
    assert init["Description"] == "Оплата по лицевому счёту 500100732259"
    assert init["NotificationURL"] == receiver.url
    assert init["SuccessURL"] == init["FailURL"] == "https://portal.example/payments/pay-0001"
    assert "Recurrent" not in init and "Password" not in init
    assert init["Token"] == sha256_token(init, sim.password)
    with requests.get(payment.confirmation_url, timeout=2) as page:
        assert page.status_code == 200 and "Pay" in page.text and "1234.56" in page.text


def test_an_sbp_payment_gets_its_qr_payload(sim, client):
    payment = client.create(request(method="sbp"), idempotency_key="pay-0001")
    assert payment.qr_payload.startswith("https://qr.nspk.ru/")
    assert "sum=123456" in payment.qr_payload
    assert [r["method"] for r in sim.requests] == ["Init", "GetQr"]
    [get_qr] = calls(sim, "GetQr")
    assert get_qr["PaymentId"] == payment.provider_id and get_qr["DataType"] == "PAYLOAD"


def test_the_same_order_again_is_the_same_payment(sim, client):
    first = client.create(request(), idempotency_key="pay-0001")
    again = client.create(request(), idempotency_key="pay-0001")
    assert again.provider_id == first.provider_id and again.confirmation_url == first.confirmation_url
    assert len(sim.payments) == 1
    with pytest.raises(ProviderRejected) as caught:
        client.create(request(amount="1000.00"), idempotency_key="pay-0001")
    assert caught.value.code == "335"
    assert len(sim.payments) == 1


def test_the_receipt_goes_on_the_wire(sim, client):
    receipt = Receipt(items=(
        ReceiptItem(name="Электроэнергия, день, март 2026", quantity=Decimal("350.5"), price=Decimal("3.12"),
                    vat_code=11, measure="кВт·ч"),
        ReceiptItem(name="Пени", quantity=Decimal("1"), price=Decimal("140.98"), vat_code="none"),
    ), email="ivanova@example.ru", phone="+79161234567", tax_system_code=1)
    client.create(request(amount="1234.54", receipt=receipt), idempotency_key="pay-0001")
    [init] = calls(sim, "Init")
    assert init["Receipt"] == {
        "Email": "ivanova@example.ru", "Phone": "+79161234567", "Taxation": "osn",
        "Items": [
            {"Name": "Электроэнергия, день, март 2026", "Price": 312, "Quantity": 350.5, "Amount": 109356,
             "Tax": "vat22", "PaymentMethod": "full_payment", "PaymentObject": "service", "MeasurementUnit": "кВт·ч"},
            {"Name": "Пени", "Price": 14098, "Quantity": 1, "Amount": 14098, "Tax": "none",
             "PaymentMethod": "full_payment", "PaymentObject": "service"},
        ]}
    assert init["Token"] == sha256_token(init, sim.password)  # the Receipt is not part of it


def test_a_receipt_that_does_not_add_up_is_refused(client):
    receipt = Receipt(items=(ReceiptItem(name="Электроэнергия", quantity=Decimal(1), price=Decimal("100.00"),
                                         vat_code=11),), email="a@example.ru", tax_system_code=1)
    with pytest.raises(ProviderRejected) as caught:
        client.create(request(receipt=receipt), idempotency_key="pay-0001")
    assert caught.value.code == "308"


def test_what_cannot_be_sent_is_refused_before_any_request(sim, client):
    with pytest.raises(ValueError, match="kopecks"):
        client.create(request(amount="10.005"), idempotency_key="k")
    with pytest.raises(ValueError, match="customer_key"):
        client.create(request(save_method=True), idempotency_key="k")
    with pytest.raises(ValueError, match="tax_system_code"):
        client.create(request(receipt=Receipt(items=(), email="a@example.ru")), idempotency_key="k")
    assert sim.requests == []


# ---- status and refunds ------------------------------------------------------------------------------------

def test_the_status_follows_the_payment(sim, client):
    paid = client.create(request(), idempotency_key="pay-0001")
    declined = client.create(request(order_id="pay-0002"), idempotency_key="pay-0002")
    assert client.status(paid.provider_id).status == "pending"
    sim.pay(paid.provider_id)
    sim.cancel(declined.provider_id)
    seen = client.status(paid.provider_id)
    assert (seen.status, seen.amount, seen.paid_amount) == ("succeeded", Decimal("1234.56"), Decimal("1234.56"))
    assert seen.raw["Status"] == "CONFIRMED"
    assert client.status(declined.provider_id).status == "canceled"
    with pytest.raises(ProviderRejected) as caught:
        client.status("999")
    assert caught.value.code == "7"


def test_refunds_up_to_what_was_paid(sim, client):
    payment = client.create(request(), idempotency_key="pay-0001")
    sim.pay(payment.provider_id)
    part = client.refund(payment.provider_id, Decimal("234.56"), idempotency_key="refund-1")
    assert (part.status, part.amount, part.refund_id) == ("succeeded", Decimal("234.56"), "refund-1")
    assert part.raw["Status"] == "PARTIAL_REFUNDED"
    assert client.status(payment.provider_id).status == "succeeded"
    again = client.refund(payment.provider_id, Decimal("234.56"), idempotency_key="refund-1")  # a retry
    assert again.amount == Decimal("234.56") and sim.payments[payment.provider_id]["Left"] == 100000
    with pytest.raises(ProviderRejected) as caught:
        client.refund(payment.provider_id, Decimal("1000.01"), idempotency_key="refund-2")
    assert caught.value.code == "10"
    rest = client.refund(payment.provider_id, Decimal("1000.00"), idempotency_key="refund-3")
    assert rest.amount == Decimal("1000.00") and rest.raw["Status"] == "REFUNDED"
    seen = client.status(payment.provider_id)
    assert (seen.status, seen.refunded_amount) == ("refunded", Decimal("1234.56"))
    [cancel, *_] = calls(sim, "Cancel")
    assert cancel["Amount"] == 23456 and cancel["ExternalRequestId"] == "refund-1"
    with pytest.raises(ValueError):
        client.refund(payment.provider_id, Decimal(0), idempotency_key="refund-4")


def test_an_unpaid_payment_cannot_be_refunded_beyond_cancellation(sim, client):
    payment = client.create(request(), idempotency_key="pay-0001")
    sim.cancel(payment.provider_id)
    with pytest.raises(ProviderRejected) as caught:
        client.refund(payment.provider_id, Decimal("1.00"), idempotency_key="refund-1")
    assert caught.value.code == "8"


# ---- notifications -----------------------------------------------------------------------------------------

def test_a_genuine_notification_is_read(sim, client, receiver):
    payment = client.create(request(), idempotency_key="pay-0001")
    sim.pay(payment.provider_id)
    assert sim.notify(payment.provider_id) == [200]
    [got] = receiver.received
    assert got["path"] == "/payments/notify/tbank"
    claim = client.parse_notification(got["headers"], got["body"], "91.194.226.10")
    assert (claim.provider, claim.provider_id, claim.status) == ("tbank", payment.provider_id, "succeeded")
    assert claim.amount == Decimal("1234.56") and claim.order_id == "pay-0001" and claim.event == "CONFIRMED"
    assert claim.method_id is None
    assert client.acknowledge(claim) == (200, {"Content-Type": "text/plain; charset=utf-8"}, b"OK")


def test_forged_notifications_are_refused(sim, client, receiver):
    payment = client.create(request(), idempotency_key="pay-0001")
    sim.pay(payment.provider_id)
    assert sim.notify_forged(payment.provider_id) == 200
    with pytest.raises(ForgedNotification, match="Token"):
        client.parse_notification(receiver.received[0]["headers"], receiver.received[0]["body"], None)
    genuine = json.loads(sim.notification_body(payment.provider_id))
    for tampered in ({**genuine, "Amount": 100}, {**genuine, "Status": "REFUNDED"}, {k: v for k, v in genuine.items()
                                                                                       if k != "Token"}):
        with pytest.raises(ForgedNotification):
            client.parse_notification({}, json.dumps(tampered).encode(), None)
    with pytest.raises(ForgedNotification):
        client.parse_notification({}, b"<xml/>", None)
    other = {**genuine, "TerminalKey": "Other"}
    other["Token"] = token(other, sim.password)
    with pytest.raises(ForgedNotification, match="terminal"):
        client.parse_notification({}, json.dumps(other).encode(), None)


def test_repeated_notifications_arrive_at_once(sim, client, receiver):
    payment = client.create(request(), idempotency_key="pay-0001")
    sim.pay(payment.provider_id)
    assert sim.notify(payment.provider_id, times=5, concurrently=True) == [200] * 5
    bodies = {got["body"] for got in receiver.received}
    assert len(receiver.received) == 5 and len(bodies) == 1
    assert client.parse_notification({}, bodies.pop(), None).status == "succeeded"


def test_the_payment_page_pays_notifies_and_returns(sim, client, receiver):
    payment = client.create(request(), idempotency_key="pay-0001")
    with requests.Session() as browser:
        answer = browser.post(payment.confirmation_url, data={"action": "pay"}, allow_redirects=False, timeout=2)
    assert answer.status_code == 303 and answer.headers["Location"] == "https://portal.example/payments/pay-0001"
    [got] = receiver.received
    assert client.parse_notification(got["headers"], got["body"], None).status == "succeeded"
    assert client.status(payment.provider_id).status == "succeeded"


# ---- auto-payments -----------------------------------------------------------------------------------------

def test_a_saved_card_is_charged_again(sim, client, receiver):
    first = client.create(request(save_method=True, customer_key="cust-77"), idempotency_key="pay-0001")
    [init] = calls(sim, "Init")
    assert init["Recurrent"] == "Y" and init["CustomerKey"] == "cust-77"
    sim.pay(first.provider_id)
    sim.notify(first.provider_id)
    method_id = client.parse_notification({}, receiver.received[0]["body"], None).method_id
    assert method_id and method_id == sim.payments[first.provider_id]["RebillId"]

    monthly = request(order_id="auto-0001", amount="980.00", customer_key="cust-77")
    charged = client.charge_saved(method_id, monthly, idempotency_key="auto-0001")
    assert (charged.status, charged.amount, charged.method_id) == ("succeeded", Decimal("980.00"), method_id)
    [charge] = calls(sim, "Charge")
    assert charge["RebillId"] == method_id and charge["PaymentId"] == charged.provider_id
    assert charge["Token"] == sha256_token(charge, sim.password)
    assert "Recurrent" not in calls(sim, "Init")[-1]

    again = client.charge_saved(method_id, monthly, idempotency_key="auto-0001")  # a retry: not charged twice
    assert again.provider_id == charged.provider_id and again.status == "succeeded"
    assert len(calls(sim, "Charge")) == 1

    with pytest.raises(ProviderRejected) as caught:
        client.charge_saved("42", request(order_id="auto-0002", customer_key="cust-77"), idempotency_key="auto-0002")
    assert caught.value.code == "103"


# ---- failures ----------------------------------------------------------------------------------------------

def test_a_5xx_is_unavailable_until_the_service_recovers(sim, client):
    sim.fail_next(2, status=503)
    for _ in range(2):
        with pytest.raises(ProviderUnavailable, match="503"):
            client.create(request(), idempotency_key="pay-0001")
    assert client.create(request(), idempotency_key="pay-0001").status == "pending"
    assert len(sim.payments) == 1


def test_no_answer_in_time_is_unavailable(sim):
    sim.delay = 5
    with TBankClient(sim.terminal_key, sim.password, base_url=sim.url, timeout=0.2) as client:
        started = time.monotonic()
        with pytest.raises(ProviderUnavailable, match="in time"):
            client.status("1")
        assert time.monotonic() - started < 2


def test_a_closed_port_is_unavailable():
    with TBankSimulator() as sim:
        url = sim.url
    with TBankClient("T", "p", base_url=url, timeout=1) as client, \
            pytest.raises(ProviderUnavailable, match="cannot be reached"):
        client.status("1")


def test_a_wrong_password_is_rejected(sim):
    with TBankClient(sim.terminal_key, "not-the-password", base_url=sim.url, timeout=2) as client:
        with pytest.raises(ProviderRejected) as caught:
            client.create(request(), idempotency_key="pay-0001")
    assert caught.value.code == "204"
    assert sim.payments == {}


# ---- fiscal receipts (54-ФЗ) ----------------------------------------------------------------------------------

QR_RE = re.compile(r"^t=(\d{8}T\d{4})&s=(\d+\.\d{2})&fn=(\d{16})&i=(\d+)&fp=(\d{10})&n=([12])$")


def fiscal_request(order_id="pay-fiscal", **changes) -> PaymentRequest:
    receipt = Receipt(items=(ReceiptItem(name="Электроэнергия", quantity=Decimal(2), price=Decimal("617.28"),
                                         vat_code=11),), email="a@example.ru", tax_system_code=1)
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
    assert [r["method"] for r in sim.requests][-1] == "GetReceipt"


def test_no_fiscal_receipt_before_the_cash_register_has_registered_it(sim, client):
    sim.fiscal.enabled = False
    payment = client.create(fiscal_request(), idempotency_key="pay-fiscal")
    sim.pay(payment.provider_id)
    assert client.fiscal_receipts(payment.provider_id) == []
    sim.fiscalise_now()
    assert [r.kind for r in client.fiscal_receipts(payment.provider_id)] == ["payment"]


def test_a_fiscal_delay_holds_the_receipt():
    with TBankSimulator(terminal_key="T", password="p", fiscal_delay=0.3) as sim, TBankClient(sim.terminal_key, sim.password, base_url=sim.url, timeout=2) as delayed:
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
