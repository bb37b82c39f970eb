"""Filing a technological connection application through the pages: what is refused, and how."""
import io
from pathlib import Path

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import ApplicationDraft
from app.services import connection_fees
from tests.factories import PASSWORD
from tests.helpers import Browser, location_path
from workflows import definitions

DIAGRAM = Path(__file__).resolve().parents[2] / "bpmn" / "technological_connection.bpmn"
FORM = "/cases/new/technological_connection/form"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
ANSWERS = {"applicant_kind": "individual", "object_name": "Баня", "object_address": "д. Лаговское, уч. 15",
           "cadastral_number": "50:27:0020806:123", "max_power": "15", "existing_power": "0", "voltage": "0.4",
           "reliability_category": "III", "load": "household", "distance_m": "100", "area": "rural",
           "retail_supplier": "gridcase_sales"}


@pytest.fixture
def browser(app, tmp_path, users):
    app.config["FILE_STORE"] = str(tmp_path / "files")
    definitions.deploy(DIAGRAM.read_bytes(), source="test")
    connection_fees.seed_demo_rates()
    client = Browser(app.test_client())
    client.login(users.customer().email, PASSWORD)
    return client


def files(title=PDF, plan=PDF):
    found = {}
    if title is not None:
        found["title_document"] = (io.BytesIO(title), "egrn.pdf")
    if plan is not None:
        found["location_plan"] = (io.BytesIO(plan), "plan.pdf")
    return found


@pytest.mark.parametrize("changes, attachments, message", [
    ({"max_power": "800"}, {}, "свыше 670 кВт"),
    ({"cadastral_number": "50-27-123"}, {}, "50:27:0020806:123"),
    ({}, {"plan": None}, "Приложите файл."),
    ({}, {"title": b"just text, not a PDF"}, "Файл должен быть в формате"),
    ({"existing_power": "16"}, {}, "не может превышать"),
])
def test_bad_answers_are_refused_at_the_field_and_kept(browser, changes, attachments, message):
    page = browser.submit(FORM, {**ANSWERS, **changes, **files(**attachments)})
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and 'aria-invalid="true"' in text and message in text
    assert 'value="д. Лаговское, уч. 15"' in text  # what was typed is still there
    db.session.rollback()
    assert db.session.scalar(select(ApplicationDraft)) is None


def test_good_answers_reach_the_check_page(browser):
    answered = browser.submit(FORM, {**ANSWERS, **files()})
    assert location_path(answered) == "/cases/new/technological_connection/check"
    check = browser.get("/cases/new/technological_connection/check").get_data(as_text=True)
    assert "Бытовая (для собственных нужд)" in check and "egrn.pdf" in check
