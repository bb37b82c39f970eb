"""Moving running cases to another version of their process: which can move and why the others
cannot, moved cases running to the end on the new version, those left behind still working, the
task projection, the timeline and the audit log, running twice, a case that moves on between the
preview and the move, and the background job's progress."""
import json
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select

from flask_babel import force_locale

from app.extensions import db
from app.models import AuditEvent, Case, CaseEvent, HumanTask, ProcessMigration
from app.services import process_migration
from app.services.errors import InvalidInput, NotFound
from app.tasks import enqueue
from app.tasks import processes as process_tasks
from tests.helpers import age_timers
from workflows import definitions, engine, state

DEMO = definitions.BPMN_FOLDER / "demo_meter_replacement.bpmn"
KEY = "demo_meter_replacement"
REQUEST = {"reason": "failure", "phone": "+7 900 111-22-33"}
APPROVE = {"decision": "approve", "visit_date": "2026-12-01", "materials": [{"name": "Счётчик", "quantity": "1"}]}
V1 = DEMO.read_text(encoding="utf-8")
CHECK_DOCS = """    <bpmn:userTask id="check_docs" name="Проверить документы">
      <bpmn:extensionElements>
        <spiffworkflow:properties>
          <spiffworkflow:property name="formKey" value="demo_escalation" />
          <spiffworkflow:property name="candidateGroup" value="legal" />
          <spiffworkflow:property name="slaDays" value="1" />
        </spiffworkflow:properties>
      </bpmn:extensionElements>
      <bpmn:incoming>to_decision</bpmn:incoming>
      <bpmn:outgoing>to_decision_after_docs</bpmn:outgoing>
    </bpmn:userTask>
"""


def _replace(xml: str, *pairs) -> str:
    for old, new in pairs:
        assert old in xml, old
        xml = xml.replace(old, new)
    return xml


def changed_but_compatible() -> str:
    """Version 2: review renamed (title only) with another SLA, escalation goes to another group, and
    a task added between review and the decision."""
    return _replace(
        V1,
        ('name="Рассмотреть заявку"', 'name="Рассмотреть заявку на замену"'),
        ('<spiffworkflow:property name="slaDays" value="2" />', '<spiffworkflow:property name="slaDays" value="4" />'),
        ('<spiffworkflow:property name="candidateGroup" value="team_lead" />',
         '<spiffworkflow:property name="candidateGroup" value="metering" />'),
        ('<bpmn:flowNodeRef>decision</bpmn:flowNodeRef>',
         '<bpmn:flowNodeRef>check_docs</bpmn:flowNodeRef>\n        <bpmn:flowNodeRef>decision</bpmn:flowNodeRef>'),
        ('<bpmn:sequenceFlow id="to_decision" sourceRef="review" targetRef="decision" />',
         '<bpmn:sequenceFlow id="to_decision" sourceRef="review" targetRef="check_docs" />\n'
         '    <bpmn:sequenceFlow id="to_decision_after_docs" sourceRef="check_docs" targetRef="decision" />'),
        ('<bpmn:incoming>to_decision</bpmn:incoming>\n      <bpmn:outgoing>to_act</bpmn:outgoing>',
         '<bpmn:incoming>to_decision_after_docs</bpmn:incoming>\n      <bpmn:outgoing>to_act</bpmn:outgoing>'),
        ('    <bpmn:exclusiveGateway id="decision"', CHECK_DOCS + '    <bpmn:exclusiveGateway id="decision"'),
    )


def renamed(xml: str, old: str, new: str) -> str:
    """The element `old` gets the id `new` everywhere it is named."""
    return _replace(xml, (f'id="{old}"', f'id="{new}"'))\
        .replace(f"<bpmn:flowNodeRef>{old}</bpmn:flowNodeRef>", f"<bpmn:flowNodeRef>{new}</bpmn:flowNodeRef>")\
        .replace(f'sourceRef="{old}"', f'sourceRef="{new}"').replace(f'targetRef="{old}"', f'targetRef="{new}"')\
        .replace(f'attachedToRef="{old}"', f'attachedToRef="{new}"')


@pytest.fixture(autouse=True)
def english(app):
    """The reasons are compared as written in English; the portal's default language is Russian."""
    with force_locale("en"):
        yield


@pytest.fixture
def demo(app, tmp_path):
    app.config["FILE_STORE"] = str(tmp_path / "files")
    definition, _created = definitions.deploy(V1.encode("utf-8"), source="test")
    return definition


@pytest.fixture
def people(users):
    return SimpleNamespace(applicant=users.customer(), specialist=users.staff("specialist", groups=["metering"]),
                           analyst=users.staff("analyst"))


def deploy(xml: str):
    row, created = definitions.deploy(xml.encode("utf-8"), source="test")
    assert created
    return row


def open_tasks(case) -> list[HumanTask]:
    db.session.expire_all()
    return list(db.session.scalars(select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.status == "open")
                                   .order_by(HumanTask.id)))


def task(case, spec) -> HumanTask:
    [found] = [t for t in open_tasks(case) if t.spec == spec]
    return found


def at_review(people) -> Case:
    return engine.start_case(KEY, applicant=people.applicant, data=REQUEST)


def at_confirmation(people) -> Case:
    case = at_review(people)
    return engine.complete_task(task(case, "review").id, people.specialist, APPROVE)


def reload(case) -> Case:
    db.session.expire_all()
    return db.session.get(Case, case.id)


def events(case, kind=None) -> list[CaseEvent]:
    query = select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)
    return [e for e in db.session.scalars(query) if kind is None or e.kind == kind]


def test_the_preview_tells_which_cases_can_move_and_why_the_others_cannot(demo, people):
    reviewing, confirming = at_review(people), at_confirmation(people)
    deploy(renamed(V1, "review", "review_new"))

    preview = process_migration.preview(KEY, 1, 2)

    assert [c.number for c in preview.movable] == [confirming.number]
    [blocked] = preview.blocked
    assert blocked.number == reviewing.number and not blocked.movable
    assert sorted(str(r) for r in blocked.reasons) == ["the boundary events of review are not in version 2",
                                                       "the task review is not in version 2"]
    assert preview.added == ["review_new"] and preview.removed == ["review"]
    assert preview.total == 2


def test_the_preview_lists_what_changes_for_the_open_tasks(demo, people):
    reviewing, confirming = at_review(people), at_confirmation(people)
    deploy(changed_but_compatible())

    preview = process_migration.preview(KEY, 1, 2)

    assert not preview.blocked and preview.added == ["check_docs"]
    changes = {c.number: {(ch.field, ch.before, ch.after) for ch in c.changes} for c in preview.movable}
    assert changes[reviewing.number] == {("title", "Рассмотреть заявку", "Рассмотреть заявку на замену"),
                                         ("sla", 2, 4)}
    assert changes[confirming.number] == set()


def test_moved_cases_run_to_the_end_on_the_new_version(demo, people):
    reviewing, confirming = at_review(people), at_confirmation(people)
    [review] = open_tasks(reviewing)
    due_before = review.due_at
    target = deploy(changed_but_compatible())

    result = process_migration.migrate(KEY, 1, 2, people.analyst)

    assert sorted(o.number for o in result.moved) == sorted([reviewing.number, confirming.number])
    assert result.skipped == []
    reviewing, confirming = reload(reviewing), reload(confirming)
    assert reviewing.definition_id == confirming.definition_id == target.id
    [review] = open_tasks(reviewing)
    assert review.title == "Рассмотреть заявку на замену" and review.candidate_group == "metering"
    assert review.due_at == due_before  # a deadline given stays
    [moved] = events(reviewing, "migrated")
    assert moved.details == {"process": KEY, "from_version": 1, "to_version": 2}
    assert moved.actor_id == people.analyst.id
    audited = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "case.migrated")).all()
    assert sorted(a.object_id for a in audited) == sorted([str(reviewing.id), str(confirming.id)])

    # The task added after the current one is on the way now.
    engine.complete_task(review.id, people.specialist, APPROVE)
    check_docs = task(reviewing, "check_docs")
    assert (check_docs.candidate_group, check_docs.title) == ("legal", "Проверить документы")
    engine.complete_task(check_docs.id, people.specialist, {"comment": "ok"})
    engine.complete_task(task(reviewing, "confirm_visit").id, people.applicant, {"visit_confirmed": True})
    assert (reload(reviewing).status, reload(reviewing).status_label) == ("closed", "Визит согласован, акт готов")

    engine.complete_task(task(confirming, "confirm_visit").id, people.applicant, {"visit_confirmed": True})
    assert reload(confirming).status == "closed"


def test_a_moved_case_keeps_its_timer_and_escalates_by_the_new_version(demo, people):
    reviewing = at_review(people)
    timer_before = reload(reviewing).next_timer_at
    deploy(changed_but_compatible())
    process_migration.migrate(KEY, 1, 2, people.analyst)
    reviewing = reload(reviewing)
    assert reviewing.next_timer_at == timer_before

    age_timers(reviewing, timedelta(days=3, minutes=1))
    assert engine.fire_due_timers() == 1
    escalation = task(reviewing, "escalation")
    assert escalation.candidate_group == "metering"  # team_lead in version 1
    engine.complete_task(escalation.id, people.specialist, {"comment": "разобрались"})
    engine.complete_task(task(reviewing, "review").id, people.specialist, {"decision": "reject",
                                                                         "rejection_reason": "Нет доступа"})
    engine.complete_task(task(reviewing, "check_docs").id, people.specialist, {"comment": "ok"})
    assert (reload(reviewing).status, reload(reviewing).status_label) == ("closed", "Отказано")


def test_a_case_with_its_escalation_open_moves_with_both_tasks(demo, people):
    case = at_review(people)
    age_timers(case, timedelta(days=3, minutes=1))
    assert engine.fire_due_timers() == 1
    deploy(changed_but_compatible())

    result = process_migration.migrate(KEY, 1, 2, people.analyst)

    assert [o.number for o in result.moved] == [case.number]
    assert {t.spec: t.candidate_group for t in open_tasks(case)} == {"review": "metering", "escalation": "metering"}
    engine.complete_task(task(case, "escalation").id, people.specialist, {"comment": "ok"})
    engine.complete_task(task(case, "review").id, people.specialist, APPROVE)
    engine.complete_task(task(case, "check_docs").id, people.specialist, {"comment": "ok"})
    engine.complete_task(task(case, "confirm_visit").id, people.applicant, {"visit_confirmed": True})
    assert reload(case).status == "closed"


def test_cases_that_cannot_move_stay_and_still_work(demo, people):
    reviewing = at_review(people)
    state_before = reload(reviewing).state
    deploy(renamed(V1, "review", "review_new"))

    result = process_migration.migrate(KEY, 1, 2, people.analyst)

    assert result.moved == []
    [skipped] = result.skipped
    assert skipped.number == reviewing.number and "the task review is not in version 2" in skipped.reasons
    reviewing = reload(reviewing)
    assert reviewing.definition_id == demo.id and reviewing.state == state_before
    assert events(reviewing, "migrated") == []
    engine.complete_task(task(reviewing, "review").id, people.specialist, APPROVE)
    engine.complete_task(task(reviewing, "confirm_visit").id, people.applicant, {"visit_confirmed": True})
    assert reload(reviewing).status == "closed"


def test_a_task_that_changes_its_kind_keeps_the_case(demo, people):
    reviewing = at_review(people)
    deploy(_replace(V1, ('<bpmn:userTask id="review"', '<bpmn:manualTask id="review"'),
                    ('</bpmn:userTask>\n    <bpmn:boundaryEvent id="overdue"',
                     '</bpmn:manualTask>\n    <bpmn:boundaryEvent id="overdue"')))

    [blocked] = process_migration.preview(KEY, 1, 2).blocked

    assert blocked.number == reviewing.number
    assert [str(r) for r in blocked.reasons] == ["review is a user task now but a manual task in version 2"]


NO_ANSWER = """    <bpmn:boundaryEvent id="no_answer" cancelActivity="false" attachedToRef="confirm_visit">
      <bpmn:outgoing>to_no_answer_end</bpmn:outgoing>
      <bpmn:timerEventDefinition id="no_answer_timer">
        <bpmn:timeDuration>"P5D"</bpmn:timeDuration>
      </bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:endEvent id="no_answer_end"><bpmn:incoming>to_no_answer_end</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="to_no_answer_end" sourceRef="no_answer" targetRef="no_answer_end" />
"""


def test_a_task_that_gets_boundary_events_keeps_the_cases_waiting_in_it(demo, people):
    """SpiffWorkflow arms boundary events when the activity starts: a case already in it could not
    finish it on the new version ("split was not reached"); a case before it gets the new timer."""
    confirming, reviewing = at_confirmation(people), at_review(people)
    deploy(_replace(V1, ('    <bpmn:endEvent id="done"', NO_ANSWER + '    <bpmn:endEvent id="done"'),
                    ('<bpmn:flowNodeRef>confirm_visit</bpmn:flowNodeRef>',
                     '<bpmn:flowNodeRef>confirm_visit</bpmn:flowNodeRef><bpmn:flowNodeRef>no_answer</bpmn:flowNodeRef>'
                     '<bpmn:flowNodeRef>no_answer_end</bpmn:flowNodeRef>')))

    result = process_migration.migrate(KEY, 1, 2, people.analyst)

    assert [o.number for o in result.moved] == [reviewing.number]
    assert [(o.number, o.reasons) for o in result.skipped] == [
        (confirming.number, ("the task confirm_visit gets boundary events in version 2",))]
    engine.complete_task(task(confirming, "confirm_visit").id, people.applicant, {"visit_confirmed": True})
    assert reload(confirming).status == "closed"
    engine.complete_task(task(reviewing, "review").id, people.specialist, APPROVE)
    assert reload(reviewing).next_timer_at is not None  # the new timer on the confirmation runs
    engine.complete_task(task(reviewing, "confirm_visit").id, people.applicant, {"visit_confirmed": True})
    assert reload(reviewing).status == "closed"


def test_running_it_twice_moves_nothing_more(demo, people):
    movable, unmovable = at_confirmation(people), at_review(people)
    deploy(renamed(V1, "review", "review_new"))

    first = process_migration.migrate(KEY, 1, 2, people.analyst)
    second = process_migration.migrate(KEY, 1, 2, people.analyst)

    assert [o.number for o in first.moved] == [movable.number]
    assert second.moved == [] and [o.number for o in second.skipped] == [unmovable.number]
    assert len(events(movable, "migrated")) == 1
    # Named again by id, a moved case is reported, not moved again.
    third = process_migration.migrate(KEY, 1, 2, people.analyst, case_ids=[movable.id])
    assert third.moved == [] and third.skipped[0].reasons == ("the case is no longer on version 1",)


def test_a_case_that_moved_on_after_the_preview_is_checked_again(demo, people):
    reviewing, closing = at_review(people), at_review(people)
    # Version 2 no longer has the confirmation step (it is called otherwise).
    deploy(renamed(V1, "confirm_visit", "agree_visit"))
    preview = process_migration.preview(KEY, 1, 2)
    assert sorted(c.number for c in preview.movable) == sorted([reviewing.number, closing.number])

    engine.complete_task(task(reviewing, "review").id, people.specialist, APPROVE)  # now at confirm_visit
    engine.complete_task(task(closing, "review").id, people.specialist, {"decision": "reject",
                                                                       "rejection_reason": "Нет доступа"})
    result = process_migration.migrate(KEY, 1, 2, people.analyst, case_ids=[c.case_id for c in preview.movable])

    assert result.moved == []
    reasons = {o.number: o.reasons for o in result.skipped}
    assert reasons[reviewing.number] == ("the task confirm_visit is not in version 2",)
    assert reasons[closing.number] == ("the case is closed",)
    assert reload(reviewing).definition_id == demo.id


def test_the_background_job_records_its_progress(demo, people):
    movable = [at_confirmation(people) for _ in range(3)]
    unmovable = at_review(people)
    deploy(renamed(V1, "review", "review_new"))

    job = process_migration.schedule(KEY, 1, 2, people.analyst)
    assert job.status == "queued"
    process_migration.run(job.id, batch=2)

    job = db.session.get(ProcessMigration, job.id)
    assert (job.status, job.total, job.moved, job.skipped) == ("done", 4, 3, 1)
    assert job.started_at is not None and job.finished_at is not None
    [error] = job.errors
    assert (error["case_id"], error["number"]) == (unmovable.id, unmovable.number)
    assert sorted(error["reasons"]) == ["the boundary events of review are not in version 2",
                                        "the task review is not in version 2"]
    assert all(reload(c).definition.version == 2 for c in movable)
    requested = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "process.migration_requested"))
    assert requested.actor_id == people.analyst.id and requested.details["to_version"] == 2

    # Through Celery (eager in tests): another run finds nothing more to move.
    again = process_migration.schedule(KEY, 1, 2, people.analyst)
    assert enqueue(process_tasks.migrate, again.id).get()["status"] == "done"
    again = db.session.get(ProcessMigration, again.id)
    assert (again.total, again.moved, again.skipped) == (1, 0, 1)


def test_versions_that_do_not_exist_or_are_the_same(demo, people):
    with pytest.raises(NotFound):
        process_migration.preview(KEY, 1, 5)
    with pytest.raises(InvalidInput):
        process_migration.preview(KEY, 1, 1)
    with pytest.raises(NotFound):
        process_migration.migrate("no_such_process", 1, 2, people.analyst)


def test_a_state_is_checked_without_loading_the_workflow(demo, people):
    """The preview reads the state JSON: it must agree with what a loaded workflow says is ready."""
    case = at_review(people)
    target = deploy(changed_but_compatible())
    source_layout = process_migration.layout(demo.id, demo.sha256)
    target_layout = process_migration.layout(target.id, target.sha256)
    reasons, ready = process_migration.check_state(json.loads(reload(case).state), source_layout, target_layout, 2,
                                                   process_migration.known_forms())
    assert reasons == []
    assert {uuid: name for uuid, (_process, name) in ready.items()} == {t.task_uuid: t.spec for t in open_tasks(case)}


ROUNDS = Path(__file__).resolve().parents[1] / "workflows" / "compaction.bpmn"  # a parallel join in a loop


def _rounds(xml: str):
    parser = SpiffBpmnParser()
    parser.add_bpmn_str(xml.encode("utf-8"))
    return parser.get_spec("rounds"), parser.get_subprocess_specs("rounds")


def _layout(spec) -> process_migration.Layout:
    return process_migration.Layout(top="rounds", processes={"rounds": process_migration.elements_of(spec)})


def _complete(workflow, *names) -> None:
    for name in names:
        ready = next(t for t in workflow.get_tasks(state=TaskState.READY, manual=True) if t.task_spec.name == name)
        ready.run()
        workflow.do_engine_steps()


def test_a_join_waiting_for_its_other_input_fires_after_the_move(app):
    xml = ROUNDS.read_text(encoding="utf-8")
    source = _rounds(xml)
    changed = _rounds(xml.replace('name="A"', 'name="A, renamed"').replace("rounds = rounds + 1",
                                                                         "rounds = rounds + 1\nchanged = True"))
    more_inputs = _rounds(xml.replace('<bpmn:parallelGateway id="join"><bpmn:incoming>fa2</bpmn:incoming>',
                                      '<bpmn:parallelGateway id="join"><bpmn:incoming>fa2</bpmn:incoming>'
                                      '<bpmn:incoming>fx</bpmn:incoming>')
                          .replace('<bpmn:sequenceFlow id="fj"', '<bpmn:sequenceFlow id="fx" sourceRef="split" '
                                   'targetRef="join"/>\n    <bpmn:sequenceFlow id="fj"'))
    scripts = PythonScriptEngine()
    workflow = BpmnWorkflow(*source, script_engine=scripts)
    for start in workflow.get_tasks(state=TaskState.READY):
        start.data.update(rounds=0, late_rounds=0, limit=4)
    workflow.do_engine_steps()
    _complete(workflow, "a", "b", "a", "b", "a")  # the third round: A is done, the join waits for B
    data = json.loads(state.dump(workflow))

    reasons, _ready = process_migration.check_state(data, _layout(source[0]), _layout(more_inputs[0]), 2, {None})
    assert [str(r) for r in reasons] == ["the gateway join has other incoming flows in version 2"]
    reasons, ready = process_migration.check_state(data, _layout(source[0]), _layout(changed[0]), 2, {None})
    assert reasons == [] and [name for _process, name in ready.values()] == ["b"]

    moved = process_migration.rebuild(data, *changed, scripts)
    moved = state.load(state.dump(moved), *changed, scripts)
    _complete(moved, "b", "a", "b")
    assert moved.is_completed()
    assert (moved.data["rounds"], moved.data.get("changed")) == (4, True)
