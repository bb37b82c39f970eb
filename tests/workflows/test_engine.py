"""The case engine on the demo process: start, tasks, gateway, generated documents, timers,
locking, and what a deploy refuses."""
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import CaseDocument, CaseEvent, HumanTask, ProcessDefinition
from app.models.types import utcnow
from app.services.errors import Conflict, NotFound
from tests.helpers import age_timers, at_once
from workflows import definitions, engine

DEMO = Path(__file__).resolve().parents[2] / "bpmn" / "demo_meter_replacement.bpmn"
REQUEST = {"reason": "failure", "phone": "+7 900 111-22-33"}


@pytest.fixture
def demo(app, tmp_path):
    app.config["FILE_STORE"] = str(tmp_path / "files")
    definition, created = definitions.deploy(DEMO.read_bytes(), source="test")
    assert created
    return definition


def open_tasks(case, group=None):
    db.session.expire_all()
    query = select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.status == "open")
    return list(db.session.scalars(query))


def test_deploying_the_same_file_twice_keeps_one_version(demo):
    again, created = definitions.deploy(DEMO.read_bytes(), source="test")
    assert (again.id, created) == (demo.id, False)
    changed, created = definitions.deploy(DEMO.read_bytes().replace(b"P3D", b"P4D"), source="test")
    assert created and changed.version == 2


def test_a_case_goes_from_filing_to_the_generated_act(demo, users):
    applicant, specialist = users.customer(), users.staff("specialist", groups=["metering"])
    case = engine.start_case("demo_meter_replacement", applicant=applicant, data=REQUEST)
    assert case.number.startswith(f"ЗМ-{utcnow().year}-") and case.status_label == "Заявка на рассмотрении"
    [review] = open_tasks(case)
    assert (review.spec, review.candidate_group, review.form_key, review.actor) == (
        "review", "metering", "demo_review", "staff")
    assert review.due_at is not None and case.next_timer_at is not None

    case = engine.complete_task(review.id, specialist, {"decision": "approve", "visit_date": "2026-12-01",
                                                        "materials": [{"name": "Счётчик", "quantity": "1"}]})
    assert case.status_label == "Ждём вашего подтверждения времени визита"
    [confirm] = open_tasks(case)
    assert (confirm.spec, confirm.actor, confirm.candidate_group) == ("confirm_visit", "applicant", None)
    documents = db.session.scalars(select(CaseDocument).where(CaseDocument.case_id == case.id)).all()
    assert sorted(d.filename.rsplit(".", 1)[1] for d in documents) == ["docx", "pdf"]

    case = engine.complete_task(confirm.id, applicant, {"visit_confirmed": True})
    assert (case.status, case.status_label) == ("closed", "Визит согласован, акт готов")
    assert open_tasks(case) == []
    kinds = [e.kind for e in db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id)
                                                .order_by(CaseEvent.id))]
    assert kinds[0] == "started" and kinds.count("task_completed") == 2 and "status" in kinds


def test_rejection_takes_the_default_flow(demo, users):
    case = engine.start_case("demo_meter_replacement", applicant=users.customer(), data=REQUEST)
    [review] = open_tasks(case)
    case = engine.complete_task(review.id, users.staff("specialist"), {"decision": "reject",
                                                                       "rejection_reason": "Нет доступа"})
    assert (case.status, case.status_label) == ("closed", "Отказано")


def test_the_same_task_completed_twice(demo, users):
    case = engine.start_case("demo_meter_replacement", applicant=users.customer(), data=REQUEST)
    [review] = open_tasks(case)
    first = users.staff("specialist")
    engine.complete_task(review.id, first, {"decision": "reject", "rejection_reason": "x"})
    with pytest.raises(Conflict) as refused:
        engine.complete_task(review.id, users.staff("specialist"), {"decision": "approve"})
    assert first.full_name in str(refused.value.message)


def test_a_boundary_timer_escalates_without_anyone_acting(demo, users):
    case = engine.start_case("demo_meter_replacement", applicant=users.customer(), data=REQUEST)
    assert engine.fire_due_timers() == 0  # nothing is due yet
    assert case.next_timer_at - utcnow() > timedelta(days=2, hours=23)
    age_timers(case, timedelta(days=3, minutes=1))
    assert engine.fire_due_timers() == 1
    assert sorted(t.spec for t in open_tasks(case)) == ["escalation", "review"]
    [escalation] = [t for t in open_tasks(case) if t.spec == "escalation"]
    assert escalation.candidate_group == "team_lead"
    db.session.refresh(case)
    assert case.next_timer_at is None  # the non-interrupting timer has fired; nothing else waits
    assert "timer" in [e.kind for e in db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id))]


def test_an_unknown_process_and_an_unknown_task(app, users):
    with pytest.raises(NotFound):
        engine.start_case("nothing", applicant=users.customer())
    with pytest.raises(NotFound):
        engine.complete_task(999999, users.staff("specialist"), {})


@pytest.mark.parametrize("change, reason", [
    (b'<spiffworkflow:property name="formKey" value="demo_review" />',
     b'<spiffworkflow:property name="formKey" value="no_such_form" />'),
    (b'<spiffworkflow:serviceTaskOperator id="generate_document"', b'<spiffworkflow:serviceTaskOperator id="no_handler"'),
    (b'decision == "approve"', b'__import__("os").system("id")'),
    (b'<bpmn:startEvent id="start" name="', b'<bpmn:intermediateThrowEvent id="start" name="'),
])
def test_a_broken_diagram_is_refused_with_the_element(app, change, reason):
    broken = DEMO.read_bytes().replace(change, reason)
    if b"intermediateThrowEvent" in reason:
        broken = broken.replace(b"</bpmn:startEvent>", b"</bpmn:intermediateThrowEvent>")
    with pytest.raises(definitions.DefinitionError) as refused:
        definitions.deploy(broken, source="test")
    assert refused.value.problems
    assert db.session.scalar(select(ProcessDefinition)) is None


def test_not_bpmn_at_all(app):
    for junk in (b"not xml", b"<html><body>hello</body></html>", b""):
        with pytest.raises(definitions.DefinitionError):
            definitions.deploy(junk, source="test")


def test_two_people_complete_the_same_task_at_once_one_wins(app, demo, users):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("row locks are what this shows; SQLite serialises writers by itself")
    case = engine.start_case("demo_meter_replacement", applicant=users.customer(), data=REQUEST)
    [review] = open_tasks(case)
    people = [users.staff("specialist").id, users.staff("specialist").id]
    outcomes = at_once(app, people, lambda person: engine.complete_task(
        review.id, person, {"decision": "reject", "rejection_reason": "x"}))
    assert len(outcomes) == 2 and outcomes.count("ok") == 1
    assert "Сотрудник Тестовый" in next(o for o in outcomes if o != "ok")  # who did it
    db.session.expire_all()
    events = db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id,
                                                        CaseEvent.kind == "task_completed")).all()
    assert len(events) == 1


def test_the_daily_digest_lists_overdue_work_to_the_group(demo, users, mailbox):
    from app.services import cases as case_service

    metering = users.staff("specialist", groups=["metering"], email="late.metering@example.com")
    users.staff("specialist", groups=["legal"], email="other.group@example.com")
    case = engine.start_case("demo_meter_replacement", applicant=users.customer(), data=REQUEST)
    assert case_service.send_overdue_digest() == 0
    assert case_service.send_overdue_digest(now=utcnow() + timedelta(days=10)) == 1
    letter = mailbox.last_to(metering.email)
    assert case.number in letter.get_content()
    assert all(m["To"] != "other.group@example.com" for m in mailbox.messages())


def test_the_first_cases_of_a_year_filed_at_once_get_different_numbers(app, demo, users):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("needs concurrent writers")
    numbers = []
    outcomes = at_once(app, [users.customer().id for _ in range(4)], lambda person: numbers.append(
        engine.start_case("demo_meter_replacement", applicant=person, data=REQUEST).number))
    assert outcomes == ["ok"] * 4 and len(set(numbers)) == 4


def test_a_task_the_process_cancels_leaves_the_queue_and_cannot_be_completed(app, users):
    definitions.deploy(Path(__file__).with_name("withdrawal.bpmn").read_bytes(), source="test")
    case = engine.start_case("withdrawal_test", applicant=users.customer())
    [review] = open_tasks(case)
    engine.correlate(case.id, "withdrawn")
    assert open_tasks(case) == []
    db.session.refresh(review)
    assert (review.status, review.completed_by_id) == ("cancelled", None)
    db.session.refresh(case)
    assert (case.status, case.status_label) == ("closed", "Отозвано")
    with pytest.raises(Conflict, match="отменена процессом"):
        engine.complete_task(review.id, users.staff("specialist", groups=["metering"]), {"decision": "approve"})


def test_after_a_non_interrupting_timer_both_paths_can_still_be_completed(demo, users):
    """Compaction keeps an activity's boundary split until the activity and the timer's path are done."""
    applicant, specialist, lead = users.customer(), users.staff("specialist", groups=["metering"]), users.staff("team_lead")
    case = engine.start_case("demo_meter_replacement", applicant=applicant, data=REQUEST)
    age_timers(case, timedelta(days=3, minutes=1))
    assert engine.fire_due_timers() == 1
    [escalation] = [t for t in open_tasks(case) if t.spec == "escalation"]
    engine.complete_task(escalation.id, lead, {"measures": "Напомнил исполнителю"})
    [review] = open_tasks(case)
    engine.complete_task(review.id, specialist, {"decision": "reject", "rejection_reason": "Нет доступа к прибору"})
    db.session.refresh(case)
    assert case.status == "closed"
