"""GIS TP submission: the zeep client against the stand-in service on loopback, and the answers it must
tell apart (acknowledged, rejected, unavailable)."""
import time
from datetime import date
from decimal import Decimal

import pytest
import requests
from lxml import etree

from integrations.gis_tp import GisTpClient, GisTpSimulator, Rejected, Unavailable

NS = {"t": "urn:gridcase:gis-tp:1"}


pytestmark = pytest.mark.usefixtures("no_threads_left")


@pytest.fixture
def simulator():
    with GisTpSimulator() as sim:
        yield sim


@pytest.fixture
def client(simulator):
    with GisTpClient(simulator.url, timeout=2) as client:
        yield client


def application(**changes) -> dict:
    submission = {
        "registration_number": "ТП-2026-000123",
        "stage": "application",
        "stage_date": date(2026, 3, 2),
        "applicant": {"kind": "individual", "name": "Иванова Мария Петровна", "inn": "500100732259"},
        "object": {"name": "Жилой дом", "address": "Московская обл., г. Подольск, ул. Садовая, д. 7",
                   "cadastral_number": "50:55:0020215:1187"},
        "max_power_kw": Decimal("15.125"),
        "existing_power_kw": Decimal("5"),
        "voltage_kv": Decimal("0.4"),
        "reliability_category": "III",
        "status": "Заявка зарегистрирована",
    }
    submission.update(changes)
    return submission


def body_of(xml: str) -> etree._Element:
    # The client declares UTF-8, and the stand-in decoded the request by that declaration.
    return etree.fromstring(xml.encode("utf-8")).find(".//t:StageSubmission", NS)


# ---- accepted --------------------------------------------------------------------------------------------

def test_application_then_later_stages_are_acknowledged(simulator, client):
    ack = client.submit(application())
    assert ack["stage"] == "application"
    assert ack["external_id"] == "GIS-TP-000001"
    assert ack["received_at"][:4].isdigit() and "T" in ack["received_at"]

    external_id = ack["external_id"]
    later = [
        application(stage="conditions", stage_date="2026-03-20", external_id=external_id,
                    status="Технические условия выданы", document_number="ТУ-123/26"),
        application(stage="contract", stage_date=date(2026, 4, 1), external_id=external_id,
                    status="Договор заключён", document_number="Д-123/26", fee=Decimal("550.00"),
                    connection_deadline=date(2026, 10, 1)),
        application(stage="act", stage_date=date(2026, 9, 15), external_id=external_id,
                    status="Присоединение выполнено", document_number="АТП-123/26"),
    ]
    for submission in later:
        ack = client.submit(submission)
        assert ack["external_id"] == external_id
        assert ack["stage"] == submission["stage"]

    assert [(r["stage"], r["external_id"]) for r in simulator.received] == [
        ("application", external_id), ("conditions", external_id), ("contract", external_id), ("act", external_id)]
    assert {r["registration_number"] for r in simulator.received} == {"ТП-2026-000123"}


def test_the_request_carries_the_values_exactly(simulator, client):
    client.submit(application(max_power_kw=Decimal("150.125"), existing_power_kw="0.000",
                              voltage_kv=Decimal("1E+1")))
    client.submit(application(stage="contract", stage_date="2026-04-01", external_id="GIS-TP-000001",
                              fee=Decimal("12345.60"), document_number="Д-7", connection_deadline=date(2026, 10, 1)))

    xml = simulator.received[0]["xml"]
    assert "Московская обл., г. Подольск, ул. Садовая, д. 7" in xml  # Cyrillic as it was, not mangled
    body = body_of(xml)
    assert body.findtext("t:maxPowerKw", namespaces=NS) == "150.125"
    assert body.findtext("t:existingPowerKw", namespaces=NS) == "0.000"
    assert body.findtext("t:voltageKv", namespaces=NS) == "10"  # an exponent is written out
    assert body.findtext("t:stageDate", namespaces=NS) == "2026-03-02"
    assert body.findtext("t:applicant/t:kind", namespaces=NS) == "individual"
    assert body.findtext("t:applicant/t:name", namespaces=NS) == "Иванова Мария Петровна"
    assert body.findtext("t:object/t:cadastralNumber", namespaces=NS) == "50:55:0020215:1187"
    assert body.find("t:externalId", NS) is None  # optional and absent: not sent as an empty element

    contract = body_of(simulator.received[1]["xml"])
    assert contract.findtext("t:fee", namespaces=NS) == "12345.60"
    assert contract.findtext("t:externalId", namespaces=NS) == "GIS-TP-000001"
    assert contract.findtext("t:connectionDeadline", namespaces=NS) == "2026-10-01"


def test_a_repeated_application_keeps_its_external_id(simulator, client):
    first = client.submit(application())
    again = client.submit(application())
    other = client.submit(application(registration_number="ТП-2026-000124"))
    assert again["external_id"] == first["external_id"]
    assert other["external_id"] != first["external_id"]


# ---- temporary failures ----------------------------------------------------------------------------------

def test_failures_are_unavailable_until_the_service_recovers():
    with GisTpSimulator(failures=2) as simulator, GisTpClient(simulator.url, timeout=2) as client:
        for _ in range(2):
            with pytest.raises(Unavailable, match="500"):
                client.submit(application())
        assert client.submit(application())["external_id"] == "GIS-TP-000001"
        assert len(simulator.received) == 1
        assert simulator.request_count == 3


def test_a_closed_port_is_unavailable():
    with GisTpSimulator() as simulator:
        url = simulator.url
    with GisTpClient(url, timeout=2) as client, pytest.raises(Unavailable, match="cannot be reached"):
        client.submit(application())


def test_no_answer_in_time_is_unavailable():
    with GisTpSimulator(delay=5) as simulator, GisTpClient(simulator.url, timeout=0.2) as client:
        started = time.monotonic()
        with pytest.raises(Unavailable, match="in time"):
            client.submit(application())
        assert time.monotonic() - started < 2
        assert simulator.received == []


class CannedAdapter(requests.adapters.BaseAdapter):
    """Answers every request with one response: for what the stand-in does not say."""

    def __init__(self, status: int, body: bytes, content_type: str = "text/xml; charset=utf-8"):
        super().__init__()
        self.status, self.body, self.content_type = status, body, content_type

    def send(self, request, **kwargs):
        response = requests.Response()
        response.status_code = self.status
        response._content = self.body
        response.headers["Content-Type"] = self.content_type
        response.url, response.request = request.url, request
        return response

    def close(self):
        pass


def fault(code: str, detail: str = "") -> bytes:
    return (f'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><soap:Fault>'
            f'<faultcode>{code}</faultcode><faultstring>сбой</faultstring>{detail}'
            f'</soap:Fault></soap:Body></soap:Envelope>').encode("utf-8")


def canned_client(status: int, body: bytes, content_type: str = "text/xml; charset=utf-8") -> GisTpClient:
    session = requests.Session()
    session.mount("http://gis-tp.test/", CannedAdapter(status, body, content_type))
    return GisTpClient("http://gis-tp.test/ws", session=session)


@pytest.mark.parametrize("status, body, content_type", [
    (500, fault("soap:Server"), "text/xml; charset=utf-8"),
    (503, b"<html><body>Service Unavailable</body></html>", "text/html"),
    (502, b"", "text/plain"),
    (200, b"not xml at all", "text/xml"),
], ids=["server-fault", "http-503-html", "http-502-empty", "garbage"])
def test_answers_that_are_not_about_the_data_are_unavailable(status, body, content_type):
    with pytest.raises(Unavailable):
        canned_client(status, body, content_type).submit(application())


def test_a_client_fault_without_a_rejection_is_still_rejected():
    with pytest.raises(Rejected) as caught:
        canned_client(500, fault("soap:Client.Authentication")).submit(application())
    assert (caught.value.code, caught.value.reason) == ("UNSPECIFIED", "сбой")


# ---- rejected ------------------------------------------------------------------------------------------

def test_a_value_against_the_schema_is_rejected(simulator, client):
    bad_object = {"name": "Гараж", "address": "г. Подольск", "cadastral_number": "50:55:20215"}
    with pytest.raises(Rejected) as caught:
        client.submit(application(object=bad_object))
    assert caught.value.code == "SCHEMA"
    assert "cadastralNumber" in caught.value.reason and "50:55:20215" in caught.value.reason
    assert caught.value.reason.startswith("line ")
    assert simulator.received == []


def test_a_later_stage_of_an_unknown_application_is_rejected(simulator, client):
    with pytest.raises(Rejected) as caught:
        client.submit(application(stage="contract", external_id="GIS-TP-999999"))
    assert caught.value.code == "UNKNOWN_APPLICATION"
    with pytest.raises(Rejected) as caught:
        client.submit(application(stage="conditions"))  # no external id at all
    assert caught.value.code == "UNKNOWN_APPLICATION"
    assert simulator.received == []


def test_an_external_id_of_another_application_is_rejected(simulator, client):
    other = client.submit(application(registration_number="ТП-2026-000999"))["external_id"]
    with pytest.raises(Rejected, match="UNKNOWN_APPLICATION"):
        client.submit(application(stage="act", external_id=other))


# ---- refused before sending ------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["max_power_kw", "status", "applicant.name", "object.address"])
def test_a_missing_required_key_is_refused_before_any_request(simulator, client, path):
    submission = application()
    if "." in path:
        part, key = path.split(".")
        submission[part] = {k: v for k, v in submission[part].items() if k != key}
    else:
        del submission[path]
    with pytest.raises(ValueError, match=path.replace(".", r"\.")):
        client.submit(submission)
    assert simulator.request_count == 0


def test_an_unknown_key_or_a_float_is_refused(simulator, client):
    with pytest.raises(ValueError, match="cadastral_numbr"):
        client.submit(application(cadastral_numbr="50:55:0020215:1187"))
    with pytest.raises(TypeError, match="max_power_kw"):
        client.submit(application(max_power_kw=15.1))
    assert simulator.request_count == 0


def test_the_endpoint_must_be_an_http_url():
    with pytest.raises(ValueError, match="GIS_TP_URL"):
        GisTpClient("gis-tp.example/ws")


# ---- the stand-in itself ----------------------------------------------------------------------------------

def test_the_stand_in_serves_its_wsdl_with_its_own_address(simulator):
    with requests.Session() as session:
        response = session.get(simulator.url + "?wsdl", timeout=2)
    assert response.status_code == 200
    wsdl = etree.fromstring(response.content)
    address = wsdl.find(".//{http://schemas.xmlsoap.org/wsdl/soap/}address")
    assert address.get("location") == simulator.url
    assert wsdl.get("targetNamespace") == "urn:gridcase:gis-tp:1"


def test_the_stand_in_rejects_what_is_not_soap(simulator):
    with requests.Session() as session:
        response = session.post(simulator.url, data=b"<hello/>", timeout=2,
                                headers={"Content-Type": "text/xml; charset=utf-8"})
    assert response.status_code == 500
    assert b"soap:Client" in response.content and b"<code>MALFORMED</code>" in response.content
