"""Cases through the pages: an applicant files, a specialist takes and completes the review, the
applicant answers their step and downloads the generated act."""
from pathlib import Path
from urllib.parse import unquote

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Case, HumanTask
from tests.factories import PASSWORD
from tests.helpers import Browser, location_path
from workflows import definitions

DEMO = Path(__file__).resolve().parents[2] / "bpmn" / "demo_meter_replacement.bpmn"


@pytest.fixture
def demo(app, tmp_path):
    app.config["FILE_STORE"] = str(tmp_path / "files")
    definitions.deploy(DEMO.read_bytes(), source="test")


def test_filing_working_and_answering_a_case(app, demo, users):
    applicant = users.customer()
    account = users.account(owner=applicant)
    specialist = users.staff("specialist", groups=["metering"])
    as_applicant, as_specialist = Browser(app.test_client()), Browser(app.test_client())
    as_applicant.login(applicant.email, PASSWORD)
    as_specialist.login(specialist.email, PASSWORD)

    form = "/cases/new/demo_meter_replacement/form"
    bad = as_applicant.submit(form, {"account_id": account.id, "reason": "", "phone": "12"})
    assert bad.status_code == 200 and 'aria-invalid="true"' in bad.get_data(as_text=True)
    answered = as_applicant.submit(form, {
        "account_id": account.id, "reason": "failure", "phone": "+7 900 111-22-33", "visit_date": "2099-01-10"})
    assert location_path(answered) == "/cases/new/demo_meter_replacement/check"
    filed = as_applicant.submit("/cases/new/demo_meter_replacement/check", {})
    assert filed.status_code == 302, filed.get_data(as_text=True)[:2000]
    number = unquote(location_path(filed).split("/")[2])
    page = as_applicant.get(f"/cases/{number}").get_data(as_text=True)
    assert "Заявка на рассмотрении" in page

    queue = as_specialist.get("/tasks/?scope=groups").get_data(as_text=True)
    assert number in queue
    db.session.rollback()
    review = db.session.scalar(select(HumanTask).where(HumanTask.status == "open"))
    as_specialist.submit("/tasks/?scope=groups", {}, action=f"/tasks/{review.id}/claim")
    done = as_specialist.submit(f"/tasks/{review.id}", {"decision": "approve", "visit_date": "2099-02-01",
                                                        "materials-0-name": "Счётчик", "materials-0-quantity": "1"})
    assert done.status_code == 302, done.get_data(as_text=True)[:3000]

    page = as_applicant.get(f"/cases/{number}").get_data(as_text=True)
    assert "Ждём вашего подтверждения времени визита" in page and "PDF" in page
    db.session.rollback()
    confirm = db.session.scalar(select(HumanTask).where(HumanTask.status == "open"))
    answered = as_applicant.submit(f"/cases/{number}", {"task_id": confirm.id, "visit_confirmed": "yes"})
    assert answered.status_code == 302, answered.get_data(as_text=True)[:3000]
    db.session.rollback()
    case = db.session.scalar(select(Case).where(Case.number == number))
    assert case.status == "closed"
    pdf = next(d for d in case_documents(case) if d.filename.endswith(".pdf"))
    download = as_applicant.get(f"/cases/{number}/documents/{pdf.id}")
    assert download.status_code == 200 and download.data.startswith(b"%PDF")


def case_documents(case):
    from app.models import CaseDocument

    return db.session.scalars(select(CaseDocument).where(CaseDocument.case_id == case.id)).all()


def test_someone_elses_case_and_a_task_of_another_group(app, demo, users):
    from app.services import cases

    applicant, stranger = users.customer(), users.customer()
    case = cases.start(applicant, "demo_meter_replacement", {"reason": "failure", "phone": "+79001112233"})
    client = Browser(app.test_client())
    client.login(stranger.email, PASSWORD)
    assert client.get(f"/cases/{case.number}").status_code == 404
    client.submit("/profile/", {}, action="/auth/logout")
    other = users.staff("specialist", groups=["legal"])
    client.login(other.email, PASSWORD)
    task = db.session.scalar(select(HumanTask).where(HumanTask.case_id == case.id))
    refused = client.submit("/tasks/", {}, action=f"/tasks/{task.id}/claim", follow=True)
    assert 'role="alert"' in refused.get_data(as_text=True)
    db.session.rollback()
    assert db.session.get(HumanTask, task.id).assignee_id is None


def test_the_case_api(app, demo, users):
    applicant = users.customer()
    specialist = users.staff("specialist", groups=["metering"])
    as_applicant, as_specialist = Browser(app.test_client()), Browser(app.test_client())
    as_applicant.login(applicant.email, PASSWORD)
    as_specialist.login(specialist.email, PASSWORD)
    bad = as_applicant.api("POST", "/api/v1/cases", json={"process": "demo_meter_replacement",
                                                         "values": {"reason": "nonsense", "phone": "+79001112233",
                                                                    "visit_date": "2099-01-01"}})
    assert bad.status_code == 422 and bad.mimetype == "application/problem+json" and "reason" in bad.get_json()["errors"]
    made = as_applicant.api("POST", "/api/v1/cases", json={"process": "demo_meter_replacement", "values": {
        "reason": "failure", "phone": "+79001112233", "visit_date": "2099-01-01"}})
    assert made.status_code == 201, made.get_json()
    number = made.get_json()["number"]
    assert [c["number"] for c in as_applicant.api("GET", "/api/v1/cases").get_json()] == [number]

    [task] = as_specialist.api("GET", "/api/v1/tasks?scope=groups").get_json()
    assert as_specialist.api("POST", f"/api/v1/tasks/{task['id']}/claim").status_code == 200
    done = as_specialist.api("POST", f"/api/v1/tasks/{task['id']}/complete",
                             json={"values": {"decision": "reject", "rejection_reason": "Нет доступа"}})
    assert done.status_code == 200 and done.get_json()["status"] == "closed", done.get_json()
    again = as_specialist.api("POST", f"/api/v1/tasks/{task['id']}/complete",
                              json={"values": {"decision": "reject", "rejection_reason": "x"}})
    assert again.status_code == 409
    timeline = as_applicant.api("GET", f"/api/v1/cases/{number}/timeline").get_json()
    assert timeline[0]["kind"] == "started"
    stranger = Browser(app.test_client())
    stranger.login(users.customer().email, PASSWORD)
    assert stranger.api("GET", f"/api/v1/cases/{number}").status_code == 404


def test_admin_sees_a_cases_history_and_state(app, demo, users, client):
    from app.services import cases

    case = cases.start(users.customer(), "demo_meter_replacement", {"reason": "failure", "phone": "+79001112233"})
    admin = users.staff("admin")
    client.login(admin.email, PASSWORD)
    page = client.get(f"/admin/cases/{case.number}").get_data(as_text=True)
    assert "Рассмотреть заявку" in page and "&#34;tasks&#34;" in page
    assert client.get("/admin/incidents").status_code == 200


def test_messages_between_the_applicant_and_the_specialist(app, demo, users):
    import io

    from app.services import cases

    applicant, specialist = users.customer(), users.staff("specialist", groups=["metering"])
    case = cases.start(applicant, "demo_meter_replacement", {"reason": "failure", "phone": "+79001112233"})
    as_applicant, as_specialist = Browser(app.test_client()), Browser(app.test_client())
    as_applicant.login(applicant.email, PASSWORD)
    as_specialist.login(specialist.email, PASSWORD)
    token = as_applicant.csrf(f"/cases/{case.number}")
    sent = as_applicant.post(f"/cases/{case.number}/messages", data={
        "csrf_token": token, "text": "Счётчик в подвале, ключ у консьержа",
        "attachment": (io.BytesIO(b"%PDF-1.4 test"), "plan.pdf")}, content_type="multipart/form-data")
    assert sent.status_code == 302
    fake = as_applicant.post(f"/cases/{case.number}/messages", data={
        "csrf_token": token, "text": "", "attachment": (io.BytesIO(b"MZ not a pdf"), "virus.pdf")},
        content_type="multipart/form-data", follow_redirects=True)
    assert 'role="alert"' in fake.get_data(as_text=True)
    task = cases.open_tasks(case)[0]
    page = as_specialist.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "ключ у консьержа" in page and "Вложенный файл" in page


def test_the_status_line_for_polling(app, demo, users, client):
    from app.services import cases

    applicant = users.customer()
    case = cases.start(applicant, "demo_meter_replacement", {"reason": "failure", "phone": "+79001112233"})
    client.login(applicant.email, PASSWORD)
    assert "Заявка на рассмотрении" in client.get(f"/cases/{case.number}/status").get_data(as_text=True)
    assert 'hx-trigger="every 15s"' in client.get(f"/cases/{case.number}").get_data(as_text=True)
