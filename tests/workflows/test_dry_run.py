"""Test runs: a diagram tried on sample data along each path, with service tasks only logged, timers
and messages fired by hand, values checked with the real forms, and nothing written where real cases
live (cases, tasks, timeline, outbox, documents, files, audit)."""
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from app.extensions import db
from app.models import (AuditEvent, Case, CaseDocument, CaseEvent, HumanTask, OutboxMessage, ProcessDefinition,
                        ProcessTestRun)
from app.models.types import utcnow
from app.services.errors import Forbidden, InvalidInput, NotFound
from tests.workflows.test_technological_connection import APPLICATION
from workflows import dry_run

BPMN = Path(__file__).resolve().parents[2] / "bpmn"
DEMO = (BPMN / "demo_meter_replacement.bpmn").read_text(encoding="utf-8")
TP = (BPMN / "technological_connection.bpmn").read_text(encoding="utf-8")
IN_THREE_DAYS = (date.today() + timedelta(days=3)).isoformat()
REQUEST = {"reason": "failure", "visit_date": IN_THREE_DAYS, "phone": "+7 900 111-22-33", "comment": "Код домофона 12"}
CONDITIONS = {"connection_point": "РУ-0,4 кВ ТП-125, фидер 3", "supply_source": "ПС 110/10 кВ «Лаговская»",
              "grid_works_rows": [{"item": "Строительство ВЛИ-0,4 кВ от опоры № 12"}],
              "applicant_works_rows": [{"item": "Установка вводного устройства"}]}
INSPECTION = {"meter_model": "Меркурий 201.8", "meter_number": "46211234", "meter_initial_reading": "0.8",
              "balance_boundary": "На контактах присоединения вводного провода к опоре № 12",
              "connected_on": date.today().isoformat()}


REAL = (Case, HumanTask, CaseEvent, CaseDocument, OutboxMessage, AuditEvent, ProcessDefinition)


def counts() -> dict[str, int]:
    return {model.__name__: db.session.scalar(select(func.count()).select_from(model)) for model in REAL}


@pytest.fixture
def analyst(app, tmp_path, users):
    app.config["FILE_STORE"] = str(tmp_path / "files")
    return users.staff("analyst")


@pytest.fixture
def nothing_real_written(analyst, tmp_path):
    """After the test: no row more where real cases live (making the analyst audited their account),
    and no stored file."""
    before = counts()
    yield
    db.session.rollback()
    assert counts() == before
    files = tmp_path / "files"
    assert not files.exists() or not any(files.rglob("*")), "a file was stored"


def ready(run, element):
    found = [task for task in run.ready if task.element == element]
    assert found, f"{element} is not waiting; waiting: {[t.element for t in run.ready]}"
    return found[0].id


def kinds(run, kind):
    return [entry for entry in run.log if entry["kind"] == kind]


def test_the_demo_runs_along_the_approval_path_and_writes_nothing_real(analyst, nothing_real_written):
    run = dry_run.start(DEMO, REQUEST, analyst)
    assert run.key == "demo_meter_replacement" and run.path == ["start"] and not run.ended
    review = run.ready[0]
    assert (review.element, review.form_key, review.actor, review.group) == (
        "review", "demo_review", "staff", "metering")
    timer = run.timers[0]
    assert timer.element == "overdue" and timer.expression == '"P3D"'
    assert date.fromisoformat(timer.due[:10]) == date.today() + timedelta(days=3)  # when a real case would fire it
    assert run.data["phone"] == "+7 900 111-22-33" and run.data["case_number"] == "ЗМ-TEST"

    run = dry_run.complete(run, review.id, {"decision": "approve", "visit_date": IN_THREE_DAYS,
                                            "materials": [{"name": "Счётчик", "quantity": 1}]})
    assert run.path == ["start", "review", "decision", "make_act"]
    assert run.flows == ["to_review", "to_decision", "to_act"]
    assert run.last["current_flows"] == ["to_confirm"]
    handler = kinds(run, "document")
    assert [(e["element"], e["handler"], e["document"], e["variable"]) for e in handler] == [
        ("make_act", "generate_document", "demo_act", "act")]
    assert "generate_document" in dry_run.describe(handler[0]) and "demo_act" in dry_run.describe(handler[0])
    assert run.data["act"] == {} and run.data["decision"] == "approve"
    assert run.data["materials"] == [{"name": "Счётчик", "quantity": "1"}]
    assert run.timers == [], "the boundary timer went with its task"
    confirm = run.ready[0]
    assert (confirm.element, confirm.actor, confirm.group) == ("confirm_visit", "applicant", None)

    run = dry_run.complete(run, confirm.id, {"visit_confirmed": True})
    assert run.ended and run.end_event == "done" and run.ready == [] and run.error is None
    assert run.path[-2:] == ["confirm_visit", "done"] and run.flows[-2:] == ["to_confirm", "to_done"]
    assert [step["kind"] for step in run.steps] == ["start", "task", "task"]
    assert run.steps[1]["data"]["decision"] == "approve" and "visit_confirmed" not in run.steps[1]["data"]
    assert run.data["visit_confirmed"] is True
    assert kinds(run, "ended")

    assert db.session.scalar(select(func.count()).select_from(ProcessTestRun)) == 1
    stored = db.session.get(ProcessTestRun, run.id)
    assert stored.created_by_id == analyst.id and stored.xml == DEMO and len(stored.steps) == 3


def test_a_fired_timer_takes_the_boundary_path(analyst, nothing_real_written):
    # Non-interrupting: the review stays, the escalation joins it.
    run = dry_run.start(DEMO, REQUEST, analyst)
    run = dry_run.fire_timer(run, run.timers[0].id)
    assert run.path == ["start", "overdue"] and {t.element for t in run.ready} == {"review", "escalation"}
    assert [e["element"] for e in kinds(run, "timer_fired")] == ["overdue"]
    run = dry_run.complete(run, ready(run, "escalation"), {"measures": "Передано другому специалисту"})
    assert "escalated" in run.path and not run.ended  # a branch's end; the review still waits
    assert [t.element for t in run.ready] == ["review"]

    # Interrupting, on a moment a skipped handler would have set: the task goes, the case is annulled.
    run = dry_run.start(TP, APPLICATION, analyst)
    run = dry_run.complete(run, ready(run, "completeness"), {"complete": False,
                                                             "missing_documents": "Нет плана расположения"})
    assert [t.element for t in run.ready] == ["fix_application"]
    timer = next(t for t in run.timers if t.element == "fix_timeout")
    assert timer.expression == "fix_deadline" and timer.due is None
    assert any(e["names"] == ["fix_deadline"] for e in kinds(run, "missing"))
    assert any(e["handler"] == "tp_request_fix" for e in kinds(run, "handler"))
    run = dry_run.fire_timer(run, timer.id)
    assert run.ended and run.end_event == "annulled_incomplete" and run.ready == []
    assert run.path[-2:] == ["fix_timeout", "annulled_incomplete"] and "fix_application" not in run.path


def test_technological_connection_runs_to_the_act_on_a_payment_message(analyst, nothing_real_written):
    run = dry_run.start(TP, APPLICATION, analyst)
    assert run.path == ["start", "intake"]
    # The start check and the handlers are named in the log, and none of them ran.
    assert [e["check"] for e in kinds(run, "check")] == ["tp_application"]
    assert [e["handler"] for e in kinds(run, "handler")] == ["tp_intake"]
    assert "category" not in run.data and run.data["intake"] == {}
    # Files are checked by the form but not stored: the data keeps their names and checksums.
    assert run.data["title_document"]["filename"] == "egrn.pdf" and len(run.data["title_document"]["sha256"]) == 64
    assert "data" not in run.data["title_document"]
    assert sorted(e["field"] for e in kinds(run, "file")) == ["location_plan", "title_document"]

    run = dry_run.complete(run, ready(run, "completeness"), {"complete": True})
    run = dry_run.complete(run, ready(run, "prepare_conditions"), CONDITIONS)
    assert [t.element for t in run.ready] == ["offer_decision"]
    assert [m.name for m in run.messages] == ["invoice_paid"] and run.messages[0].elements == ("paid_by_message",)
    assert {t.element for t in run.timers} == {"invoice_expired"}
    assert {e["handler"] for e in kinds(run, "handler")} >= {"submit_gis_tp", "tp_prepare_offer"}
    assert {e["document"] for e in kinds(run, "document")} == {"tp_conditions", "tp_contract", "tp_invoice"}

    with pytest.raises(InvalidInput):
        dry_run.send_message(run, "invoice_cancelled", {})
    run = dry_run.send_message(run, "invoice_paid", {"paid_on": "2026-11-20", "amount": "52500.00"})
    assert run.steps[-1]["kind"] == "message" and run.steps[-1]["label"] == "invoice_paid"
    assert run.data["invoice_paid"] == {"paid_on": "2026-11-20", "amount": "52500.00"}
    assert run.path[-4:] == ["paid_by_message", "paid_join", "conclude_contract", "gis_contract"]
    assert run.messages == [] and run.timers == [], "the payment ended the offer and its deadline"

    run = dry_run.complete(run, ready(run, "grid_works"), {"grid_works_done": True})
    run = dry_run.complete(run, ready(run, "readiness_notice"), {"applicant_ready": True})
    run = dry_run.complete(run, ready(run, "inspection"), INSPECTION)
    assert run.ended and run.end_event == "connected" and run.error is None
    # The inspection's check would say whether a notice is due; without it the condition reads None.
    assert any(e["names"] == ["notice_needed"] and e["element"] == "notice_gateway" for e in kinds(run, "missing"))
    assert run.path[-5:] == ["make_act", "notice_gateway", "notice_join", "gis_act", "connected"]
    assert "f_no_notice" in run.flows and "f_notice" not in run.flows
    assert run.data["meter_number"] == "46211234"


def test_invalid_values_are_refused_with_the_forms_errors(analyst):
    with pytest.raises(dry_run.InvalidValues) as refused:
        dry_run.start(DEMO, {**REQUEST, "phone": "12345", "visit_date": "2020-01-01"}, analyst)
    assert set(refused.value.errors) == {"phone", "visit_date"}
    assert refused.value.form.phone.data == "12345"  # what was typed, for the page to show again
    assert db.session.scalar(select(func.count()).select_from(ProcessTestRun)) == 0

    run = dry_run.start(DEMO, REQUEST, analyst)
    with pytest.raises(dry_run.InvalidValues) as refused:
        dry_run.complete(run, run.ready[0].id, {"decision": "reject"})
    assert list(refused.value.errors) == ["rejection_reason"]
    with pytest.raises(dry_run.InvalidValues):
        dry_run.complete(run, run.ready[0].id, {"decision": "maybe"})
    db.session.expire_all()
    assert len(dry_run.find(run.id).steps) == 1

    with pytest.raises(NotFound):
        dry_run.complete(run, "00000000-0000-0000-0000-000000000000", {})
    with pytest.raises(NotFound):
        dry_run.fire_timer(run, run.ready[0].id)  # a task is not a timer


def test_only_the_analyst_who_started_a_run_may_continue_it(analyst, users):
    run = dry_run.start(DEMO, REQUEST, analyst)
    other = users.staff("analyst")
    with pytest.raises(Forbidden):
        dry_run.get(run.id, other, "demo_meter_replacement")
    assert dry_run.find(run.id, "demo_meter_replacement").id == run.id  # looking is fine
    with pytest.raises(NotFound):
        dry_run.get(run.id, analyst, "technological_connection")
    mine = dry_run.get(run.id, analyst, "demo_meter_replacement")
    assert dry_run.complete(mine, mine.ready[0].id, {"decision": "reject", "rejection_reason": "Нет доступа"}).ended


def test_a_run_is_resumed_from_its_stored_state(analyst):
    run = dry_run.start(DEMO, REQUEST, analyst)
    review = run.ready[0].id
    db.session.expire_all()
    again = dry_run.get(run.id, analyst)
    run = dry_run.complete(again, review, {"decision": "reject", "rejection_reason": "Нет доступа к прибору"})
    assert run.ended and run.end_event == "rejected" and run.flows[-1] == "to_rejected"
    with pytest.raises(Exception) as ended:
        dry_run.complete(run, review, {})
    assert getattr(ended.value, "status", None) in (404, 409)


def test_runs_older_than_a_day_go_when_a_new_one_starts(analyst):
    old = dry_run.start(DEMO, REQUEST, analyst).id
    recent = dry_run.start(DEMO, REQUEST, analyst).id
    db.session.execute(update(ProcessTestRun).where(ProcessTestRun.id == old)
                       .values(updated_at=utcnow() - timedelta(days=1, minutes=1)))
    db.session.commit()
    dry_run.start(DEMO, REQUEST, analyst)
    left = set(db.session.scalars(select(ProcessTestRun.id)))
    assert old not in left and recent in left and len(left) == 2


SCRIPT_ERROR = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <bpmn:process id="broken" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:scriptTask id="compute" name="Посчитать"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:script>share = total / parts</bpmn:script></bpmn:scriptTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="compute" />
    <bpmn:sequenceFlow id="f2" sourceRef="compute" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>"""


def test_a_failing_script_stops_the_run_where_it_fails(analyst):
    run = dry_run.start(SCRIPT_ERROR, {}, analyst)
    # `total` and `parts` would come from elsewhere: read as None, the division then fails.
    assert [e["names"] for e in kinds(run, "missing")] == [["total", "parts"]]
    assert run.error["element"] == "compute" and not run.ended and run.ready == []
    assert [e["element"] for e in kinds(run, "error")] == ["compute"]
    with pytest.raises(InvalidInput):
        dry_run.start("<not-bpmn/>", {}, analyst)
