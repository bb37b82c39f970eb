"""The test run pages: an analyst tries the process's draft through plain form posts, bad values come
back at their fields with what was typed, a run is continued only by whoever started it, customers
never get here, and nothing is written where real cases live."""
import io
import json
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import (AuditEvent, Case, CaseDocument, CaseEvent, HumanTask, OutboxMessage, ProcessDefinition,
                        ProcessTestRun)
from tests.factories import PASSWORD
from tests.helpers import location_path
from tests.workflows.test_technological_connection import APPLICATION, PDF
from workflows import definitions

DEMO = "demo_meter_replacement"
TP = "technological_connection"
IN_THREE_DAYS = (date.today() + timedelta(days=3)).isoformat()
REQUEST = {"reason": "failure", "visit_date": IN_THREE_DAYS, "phone": "+7 900 111-22-33"}
REAL = (Case, HumanTask, CaseEvent, CaseDocument, OutboxMessage, AuditEvent, ProcessDefinition)
RUN_URL = re.compile(r"^/processes/(?P<key>\w+)/test-runs/(?P<run>[0-9a-f-]{36})$")


def counts() -> dict[str, int]:
    db.session.rollback()
    return {model.__name__: db.session.scalar(select(func.count()).select_from(model)) for model in REAL}


@pytest.fixture
def deployed(app, tmp_path):
    app.config["FILE_STORE"] = str(tmp_path / "files")
    for key in (DEMO, TP):
        definitions.deploy((definitions.BPMN_FOLDER / f"{key}.bpmn").read_bytes(), source="test")


@pytest.fixture
def analyst(client, users, deployed):
    person = users.staff("analyst")
    client.login(person.email, PASSWORD)
    return person


def config(page) -> dict:
    text = page.get_data(as_text=True)
    found = re.search(r'<script type="application/json" id="test-run-config">(.*?)</script>', text, re.S)
    return json.loads(found.group(1))


def post(client, path, data, page):
    """Post a form of `page` (the token it carries) the way a browser does."""
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.get_data(as_text=True)).group(1)
    return client.post(path, data={"csrf_token": token, **data})


def task_id(page, element) -> str:
    """The id of a waiting task, from the page's own link or form to it."""
    text = page.get_data(as_text=True)
    found = re.search(r'/tasks/([0-9a-f-]{36})"', text)
    assert found, "no task form on the page"
    return found.group(1)


def test_an_analyst_tries_the_demo_through_the_pages_and_nothing_real_is_written(client, analyst, tmp_path):
    before = counts()
    new = client.get(f"/processes/{DEMO}/test-run")
    text = new.get_data(as_text=True)
    assert new.status_code == 200 and 'name="phone"' in text and 'name="visit_date"' in text  # the real start form
    assert "unsafe-inline" not in new.headers["Content-Security-Policy"] and "<script>" not in text
    picture = config(new)
    assert 'id="review"' in picture["xml"]  # the diagram itself; the page lays it out when it has no picture
    assert picture["taken"] == [] and picture["current"] == []

    started = post(client, f"/processes/{DEMO}/test-runs", REQUEST, new)
    assert started.status_code == 302
    match = RUN_URL.match(location_path(started))
    assert match and match["key"] == DEMO
    url = location_path(started)
    page = client.get(url)
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and 'name="decision"' in text  # the review's form
    assert "Рассмотреть заявку" in text and "/timers/" in text
    picture = config(page)
    assert picture["taken"] == ["start", "to_review"] and picture["current"] == ["review", "overdue"]
    assert "+7 900 111-22-33" in text  # the data after the step

    timer = re.search(r'/timers/([0-9a-f-]{36})"', text).group(1)
    fired = post(client, f"{url}/timers/{timer}", {}, page)
    assert fired.status_code == 302 and location_path(fired) == url
    page = client.get(url)
    assert set(config(page)["current"]) == {"review", "escalation"}

    review = re.search(r'/tasks/([0-9a-f-]{36})"', page.get_data(as_text=True)).group(1)
    page = client.get(f"{url}?task={review}")
    assert 'name="decision"' in page.get_data(as_text=True)
    done = post(client, f"{url}/tasks/{review}", {"decision": "approve", "visit_date": IN_THREE_DAYS}, page)
    assert done.status_code == 302
    page = client.get(url)
    text = page.get_data(as_text=True)
    assert "generate_document" in text and "demo_act" in text  # the handler is named in the log, not run
    assert {"review", "decision", "make_act", "to_act"} <= set(config(page)["taken"])

    run_id = match["run"]
    confirm = next(t["id"] for t in db.session.get(ProcessTestRun, run_id).steps[-1]["ready"]
                   if t["element"] == "confirm_visit")
    page = client.get(f"{url}?task={confirm}")
    assert 'name="visit_confirmed"' in page.get_data(as_text=True)
    post(client, f"{url}/tasks/{confirm}", {"visit_confirmed": "yes"}, page)
    page = client.get(url)
    assert config(page)["ended"] == ["done"] and config(page)["current"] == ["escalation"]  # the timer's branch
    post(client, f"{url}/tasks/{task_id(page, 'escalation')}", {"measures": "Разобрано"}, page)
    page = client.get(url)
    assert config(page)["ended"] == ["done", "escalated"]
    assert 'class="alert alert-success"' in page.get_data(as_text=True)  # the process has ended
    db.session.expire_all()
    assert db.session.get(ProcessTestRun, run_id).steps[-1]["ended"]
    assert counts() == before
    files = tmp_path / "files"
    assert not files.exists() or not any(files.rglob("*"))


def test_bad_values_come_back_with_the_errors_and_what_was_typed(client, analyst):
    new = client.get(f"/processes/{DEMO}/test-run")
    refused = post(client, f"/processes/{DEMO}/test-runs",
                   {**REQUEST, "phone": "звоните в обед", "comment": "Код домофона 12"}, new)
    text = refused.get_data(as_text=True)
    assert refused.status_code == 200 and 'aria-invalid="true"' in text
    assert "звоните в обед" in text and "Код домофона 12" in text
    assert db.session.scalar(select(func.count()).select_from(ProcessTestRun)) == 0

    url = location_path(post(client, f"/processes/{DEMO}/test-runs", REQUEST, new))
    page = client.get(url)
    review = task_id(page, "review")
    refused = post(client, f"{url}/tasks/{review}", {"decision": "reject", "rejection_reason": ""}, page)
    text = refused.get_data(as_text=True)
    assert refused.status_code == 200 and 'aria-invalid="true"' in text
    assert re.search(r'<option[^>]*(selected[^>]*value="reject"|value="reject"[^>]*selected)', text)
    db.session.expire_all()
    assert len(db.session.scalar(select(ProcessTestRun)).steps) == 1


def test_a_file_a_message_and_bad_message_data_on_technological_connection(client, analyst, tmp_path):
    new = client.get(f"/processes/{TP}/test-run")
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', new.get_data(as_text=True)).group(1)
    fields = {k: v for k, v in APPLICATION.items() if not isinstance(v, dict)}
    fields = {**fields, "privileged": "no", "csrf_token": token,
              "title_document": (io.BytesIO(PDF), "egrn.pdf"), "location_plan": (io.BytesIO(PDF), "plan.pdf")}
    started = client.post(f"/processes/{TP}/test-runs", data=fields, content_type="multipart/form-data")
    assert started.status_code == 302, started.get_data(as_text=True)
    url = location_path(started)
    page = client.get(url)
    assert "egrn.pdf" in page.get_data(as_text=True)
    post(client, f"{url}/tasks/{task_id(page, 'completeness')}", {"complete": "yes"}, page)
    page = client.get(url)
    post(client, f"{url}/tasks/{task_id(page, 'prepare_conditions')}",
         {"connection_point": "РУ-0,4 кВ ТП-125", "supply_source": "ПС «Лаговская»"}, page)
    page = client.get(url)
    text = page.get_data(as_text=True)
    assert 'name="message" value="invoice_paid"' in text

    refused = post(client, f"{url}/messages", {"message": "invoice_paid", "payload": "{paid: today}"}, page)
    text = refused.get_data(as_text=True)
    assert refused.status_code == 200 and "{paid: today}" in text and 'aria-invalid="true"' in text
    sent = post(client, f"{url}/messages", {"message": "invoice_paid", "payload": '{"paid_on": "2026-11-20"}'}, page)
    assert sent.status_code == 302
    page = client.get(url)
    assert "paid_by_message" in config(page)["taken"] and "grid_works" in config(page)["current"]
    assert "2026-11-20" in page.get_data(as_text=True)
    files = tmp_path / "files"
    assert not files.exists() or not any(files.rglob("*"))
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_another_analyst_may_look_but_not_continue(client, analyst, users, app):
    new = client.get(f"/processes/{DEMO}/test-run")
    url = location_path(post(client, f"/processes/{DEMO}/test-runs", REQUEST, new))
    page = client.get(url)
    review = task_id(page, "review")
    timer = re.search(r'/timers/([0-9a-f-]{36})"', page.get_data(as_text=True)).group(1)

    other = users.staff("analyst")
    client.post("/auth/logout", data={"csrf_token": client.csrf("/profile/")})
    client.login(other.email, PASSWORD)
    looked = client.get(url)
    text = looked.get_data(as_text=True)
    assert looked.status_code == 200 and 'name="decision"' not in text and "/timers/" not in text
    assert post(client, f"{url}/tasks/{review}", {"decision": "reject", "rejection_reason": "Чужой"},
                looked).status_code == 403
    assert post(client, f"{url}/timers/{timer}", {}, looked).status_code == 403
    db.session.expire_all()
    assert len(db.session.scalar(select(ProcessTestRun)).steps) == 1
    assert client.get(url.replace(DEMO, TP)).status_code == 404  # a run belongs to its process


def test_customers_and_specialists_get_403(client, users, deployed):
    customer = users.customer()
    client.login(customer.email, PASSWORD)
    assert client.get(f"/processes/{DEMO}/test-run").status_code == 403
    token = client.csrf("/profile/")
    assert client.post(f"/processes/{DEMO}/test-runs", data={"csrf_token": token, **REQUEST}).status_code == 403
    assert db.session.scalar(select(func.count()).select_from(ProcessTestRun)) == 0
    client.post("/auth/logout", data={"csrf_token": token})
    specialist = users.staff("specialist")
    client.login(specialist.email, PASSWORD)
    assert client.get(f"/processes/{DEMO}/test-run").status_code == 403


def test_an_unknown_process_is_404_and_a_post_needs_its_token(client, analyst):
    assert client.get("/processes/no_such_process/test-run").status_code == 404
    assert client.post(f"/processes/{DEMO}/test-runs", data=REQUEST).status_code == 400
    assert db.session.scalar(select(func.count()).select_from(ProcessTestRun)) == 0


def test_a_draft_naming_a_missing_form_says_so_instead_of_failing(client, analyst):
    from app.services import processes

    xml = processes.draft(DEMO).xml.replace('value="demo_review"', 'value="no_such_form"')
    processes.save_draft(DEMO, xml, 0, analyst)
    new = client.get(f"/processes/{DEMO}/test-run")
    url = location_path(post(client, f"/processes/{DEMO}/test-runs", REQUEST, new))
    page = client.get(url)
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "no_such_form" in text and 'name="decision"' not in text
    refused = post(client, f"{url}/tasks/{task_id(page, 'review')}", {"decision": "approve"}, page)
    assert refused.status_code == 200 and 'class="alert alert-danger"' in refused.get_data(as_text=True)
