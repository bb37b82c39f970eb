"""Diagrams made elsewhere are imported whole or refused with the reasons by element."""
import io
from pathlib import Path

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import ProcessDefinition
from tests.factories import PASSWORD

DIAGRAMS = Path(__file__).resolve().parent.parent / "workflows" / "diagrams"


@pytest.fixture
def analyst(client, users):
    person = users.staff("analyst")
    client.login(person.email, PASSWORD)
    return person


def _upload(client, name: str, data: bytes):
    return client.submit("/processes/import", {"file": (io.BytesIO(data), name), "comment": "из другого редактора"})


def test_a_spiffworkflow_example_is_deployed_as_a_new_process(client, analyst):
    response = _upload(client, "spiff_example.bpmn", (DIAGRAMS / "spiff_example.bpmn").read_bytes())
    assert response.status_code in (200, 302), response.get_data(as_text=True)
    row = db.session.scalar(select(ProcessDefinition).where(ProcessDefinition.key == "spiff_example"))
    assert row is not None and row.version == 1 and row.source == "upload:spiff_example.bpmn"
    assert row.comment == "из другого редактора" and row.deployed_by_id == analyst.id
    again = _upload(client, "spiff_example.bpmn", (DIAGRAMS / "spiff_example.bpmn").read_bytes())
    assert again.status_code == 409 and "уже развёрнута как версия 1" in again.get_data(as_text=True)


def test_a_camunda_diagram_without_our_properties_is_refused_by_element(client, analyst):
    response = _upload(client, "camunda.bpmn", (DIAGRAMS / "camunda_modeler.bpmn").read_bytes())
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and 'id="import-problems"' in page
    assert "camunda" in page.lower() and "<code>" in page  # the ignored extensions and the elements named
    assert db.session.scalar(select(ProcessDefinition.id)) is None


@pytest.mark.parametrize("name", ["not_xml.bpmn", "not_bpmn.xml", "billion_laughs.bpmn"])
def test_what_is_not_a_diagram_is_refused_whole(client, analyst, name):
    response = _upload(client, name, (DIAGRAMS / name).read_bytes())
    assert response.status_code == 422 and 'id="import-problems"' in response.get_data(as_text=True)
    assert db.session.scalar(select(ProcessDefinition.id)) is None


def test_an_empty_upload_and_a_specialist(client, users, analyst):
    response = _upload(client, "empty.bpmn", b"")
    assert response.status_code == 422
    specialist = users.staff("specialist", groups=["metering"])
    other = client.__class__(client.application.test_client())
    other.login(specialist.email, PASSWORD)
    assert other.get("/processes/import").status_code == 403
