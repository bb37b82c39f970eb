"""The case engine: start a case, complete a task, correlate a message, fire due timers.

Each of these is one transaction that locks the case (SELECT ... FOR UPDATE on PostgreSQL; the
version column everywhere), loads the workflow from its compact state, acts, runs the engine to the
next wait, saves the state, projects READY user tasks into `human_task`, and appends timeline events.
The timeline (`case_event`: who, when, what, status from and to) is the case's audit trail; the
security audit log gets refusals and access denials.
Two people completing the same task: the second finds the task done and gets "already done by X".
"""
import contextvars
import functools
import json
import logging
from datetime import datetime, timezone

from flask_babel import lazy_gettext as _l
from SpiffWorkflow.bpmn import BpmnEvent
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition  # what SpiffBpmnParser builds
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from app.extensions import db
from app.models import Case, CaseEvent, CaseNumberCounter, HumanTask
from app.models.types import utcnow
from app.services.errors import Conflict, InvalidInput, NotFound
from workflows import definitions, handlers, properties, sandbox, state
from workflows.deadlines import due_after

_current_case: contextvars.ContextVar = contextvars.ContextVar("current_case")
_current_actor: contextvars.ContextVar = contextvars.ContextVar("current_actor", default=None)
# SpiffWorkflow's timer event definitions, as `waiting_events()` names them.
TIMER_EVENTS = {"TimerEventDefinition", "TimeDateEventDefinition", "DurationTimerEventDefinition",
                "CycleTimerEventDefinition"}


class CaseScriptEngine(PythonScriptEngine):
    """The sandbox for conditions and scripts, plus service tasks dispatched to our named handlers."""

    def call_service(self, task, operation_name=None, operation_params=None, **kwargs):
        handler = handlers.REGISTRY.get(operation_name or "")
        if handler is None:
            raise WorkflowException(f"no handler {operation_name!r}", task_spec=task.task_spec)
        result = handler(_current_case.get(), task) or {}
        return json.dumps(result, default=str)


def current_actor_id() -> int | None:
    """Who made the step being run (for handlers: the specialist whose task led to a document)."""
    return _current_actor.get()


def _script_engine() -> CaseScriptEngine:
    return CaseScriptEngine(environment=sandbox.SandboxedEnvironment())


# --- numbering --------------------------------------------------------------------------------------

def next_number(prefix: str, year: int) -> str:
    """The next case number, under a row lock; the year's first case creates the counter row, and two
    first cases at once are settled by the primary key (the loser finds the winner's row)."""
    query = select(CaseNumberCounter).where(CaseNumberCounter.prefix == prefix,
                                            CaseNumberCounter.year == year).with_for_update()
    counter = db.session.scalar(query)
    if counter is None:
        try:
            with db.session.begin_nested():
                db.session.add(CaseNumberCounter(prefix=prefix, year=year, last=0))
        except IntegrityError:
            pass
        counter = db.session.scalar(query)
    counter.last += 1
    db.session.flush()
    return f"{prefix}-{year}-{counter.last:06d}"


# --- loading and saving -----------------------------------------------------------------------------

def _load(case: Case) -> BpmnWorkflow:
    parsed = definitions.specs(case.definition_id, case.definition.sha256)
    return state.load(case.state, parsed.spec, parsed.subprocess_specs, _script_engine())


def _lock(case_id: int) -> Case:
    case = db.session.scalar(select(Case).where(Case.id == case_id).with_for_update(of=Case))
    if case is None:
        raise NotFound(_l("No such case."))
    return case


class _Writes:
    """What a step writes: the case row, timeline events and the task projection.

    They go out as a handful of Core statements when the step ends, rather than through the ORM's
    unit of work, which would cost more CPU than the workflow itself on a path run per completion.
    """

    def __init__(self, case: Case):
        self.case = case
        self.events: list[dict] = []
        self.new_tasks: list[dict] = []
        self.cancelled: list[str] = []
        self.done: tuple[int, int | None] | None = None

    def event(self, kind: str, actor, details: dict | None = None, **fields) -> None:
        self.events.append({"case_id": self.case.id, "at": utcnow(), "actor_id": _actor_id(actor), "kind": kind,
                            "from_status": fields.get("from_status"), "to_status": fields.get("to_status"),
                            "details": details or {}})

    def save(self, changes: dict) -> None:
        case, now = self.case, utcnow()
        connection = db.session.connection()
        if self.done:
            task_id, actor_id = self.done
            result = connection.execute(_FINISH_TASK, {"task_id": task_id, "at": now, "by": actor_id})
            if result.rowcount != 1:  # cannot happen under the case's lock: the projection is out of step
                raise Conflict(_l("This task is no longer waiting for anyone. Reload the page."))
        if self.cancelled:  # gone without being completed: cancelled by the process
            connection.execute(update(_TASKS).where(_TASKS.c.case_id == case.id, _TASKS.c.task_uuid.in_(self.cancelled),
                                                    _TASKS.c.status == "open")
                               .values(status="cancelled", completed_at=now))
        if self.new_tasks:
            connection.execute(insert(_TASKS), self.new_tasks)
        if self.events:
            connection.execute(insert(CaseEvent.__table__), self.events)
        changes = {"status": case.status, "closed_at": case.closed_at, **changes, "version": case.version + 1}
        result = connection.execute(_SAVE_CASE, {"case_id": case.id, "old_version": case.version,
                                                 **{f"new_{key}": value for key, value in changes.items()}})
        if result.rowcount != 1:
            raise Conflict(_l("The case was changed by someone else at the same moment. Reload the page."))
        for key, value in changes.items():  # the object shows what was written, without another UPDATE
            set_committed_value(case, key, value)


# Built once: constructing an UPDATE costs more CPU than running it.
_TASKS, _CASES = HumanTask.__table__, Case.__table__
_FINISH_TASK = (update(_TASKS).where(_TASKS.c.id == bindparam("task_id"), _TASKS.c.status == "open")
                .values(status="done", completed_at=bindparam("at"), completed_by_id=bindparam("by")))
_SAVE_CASE = (update(_CASES).where(_CASES.c.id == bindparam("case_id"), _CASES.c.version == bindparam("old_version"))
              .values({column: bindparam(f"new_{column}") for column in
                       ("status", "status_label", "closed_at", "next_timer_at", "state", "version")}))
_LOCK_BY_TASK = (select(Case, HumanTask.task_uuid).join(HumanTask, HumanTask.case_id == Case.id)
                 .where(HumanTask.id == bindparam("task_id")).with_for_update(of=Case))


def _actor_id(actor) -> int | None:
    """The actor's id, read from its identity key when it has one: a user object the previous commit
    expired would otherwise be reloaded (two queries) just for its id."""
    if actor is None:
        return None
    instance = sa_inspect(actor, raiseerr=False)
    if instance is not None and instance.identity:
        return instance.identity[0]
    return getattr(actor, "id", None)


def _waiting_for_people(workflow: BpmnWorkflow) -> dict:
    """READY user tasks by UUID. Between steps these are exactly the case's open `human_task` rows."""
    return {str(t.id): t for t in workflow.get_tasks(state=TaskState.READY, manual=True)}


def _advance(case: Case, workflow: BpmnWorkflow, writes: _Writes, actor, before: set[str]) -> None:
    """Run to the next wait, then save the state and bring the projections (tasks, status, timer) up
    to date. `before` are the user tasks that were waiting when the step began (their rows are open)."""
    token, actor_token = _current_case.set(case), _current_actor.set(_actor_id(actor))
    try:
        workflow.do_engine_steps()
        workflow.refresh_timers()
        workflow.do_engine_steps()
    finally:
        _current_case.reset(token)
        _current_actor.reset(actor_token)
    # Projections first: compaction (in dump) drops finished tasks such as the end event reached.
    _project_tasks(case, workflow, writes, before)
    changes = _status(case, workflow, writes, actor)
    changes.update(next_timer_at=_next_timer(workflow), state=state.dump(workflow))
    writes.save(changes)


def _project_tasks(case: Case, workflow: BpmnWorkflow, writes: _Writes, before: set[str]) -> None:
    ready = _waiting_for_people(workflow)
    writes.cancelled = [uuid for uuid in before if uuid not in ready]
    now = utcnow()
    for uuid, task in ready.items():
        if uuid in before:
            continue
        props = properties.of(task.task_spec)
        writes.new_tasks.append({
            "case_id": case.id, "task_uuid": uuid, "spec": task.task_spec.name,
            "title": task.task_spec.bpmn_name or task.task_spec.name, "form_key": props.form_key,
            "candidate_group": props.candidate_group if props.actor == "staff" else None, "actor": props.actor,
            "assignee_id": None, "status": "open", "created_at": now,
            "due_at": due_after(now, props.sla_days) if props.sla_days else None})


def _label(task_spec) -> str | None:
    return properties.of(task_spec).status_label


def _status(case: Case, workflow: BpmnWorkflow, writes: _Writes, actor) -> dict:
    """The case's status columns after the step, and a timeline event when the label changed."""
    before = case.status_label
    if workflow.is_completed():
        ended = [t for t in workflow.get_tasks(state=TaskState.COMPLETED) if type(t.task_spec).__name__ == "EndEvent"]
        label = next((_label(t.task_spec) for t in reversed(ended) if _label(t.task_spec)), None)
        changes = {"status": "closed", "closed_at": case.closed_at or utcnow(),
                   "status_label": label or str(_l("Completed"))}
    else:
        waiting = workflow.get_tasks(state=TaskState.READY | TaskState.WAITING | TaskState.STARTED)
        label = next((_label(t.task_spec) for t in waiting if _label(t.task_spec)), None)
        changes = {"status_label": label or before or str(_l("In progress"))}
    if changes["status_label"] != before:
        writes.event("status", actor, from_status=before or None, to_status=changes["status_label"])
    return changes


def _next_timer(workflow: BpmnWorkflow) -> datetime | None:
    moments = []
    for pending in workflow.waiting_events():
        value = pending.value
        if pending.event_type not in TIMER_EVENTS:
            continue
        if isinstance(value, dict):
            value = value.get("next")
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            continue
        moments.append(moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc))
    return min(moments) if moments else None


def _commit(case: Case) -> None:
    try:
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        raise Conflict(_l("The case was changed by someone else at the same moment. Reload the page.")) from None


# --- the public steps -------------------------------------------------------------------------------

log = logging.getLogger(__name__)


def _all_or_nothing(step):
    """A step that fails writes nothing: what it (or a handler) put in the session is rolled back before
    the error goes to the caller, who may well commit something else (an audit event) afterwards."""

    @functools.wraps(step)
    def run(*args, **kwargs):
        try:
            return step(*args, **kwargs)
        except BaseException:
            db.session.rollback()
            raise

    return run


def check_start(process_key: str, applicant=None, account=None, data: dict | None = None) -> dict:
    """Run the process's start check (its `check` property) on an application's values: raises
    InvalidInput when they cannot be filed, returns what the check adds to the data."""
    definition = definitions.latest_version(process_key)
    if definition is None:
        raise NotFound(_l("There is no such process."))
    parsed = definitions.specs(definition.id, definition.sha256)
    if not parsed.start_check:
        return {}
    context = handlers.CheckContext(None, _actor_id(applicant), _actor_id(account), dict(data or {}))
    return handlers.run_check(parsed.start_check, context, dict(data or {}))


@_all_or_nothing
def start_case(process_key: str, applicant=None, account=None, data: dict | None = None, actor=None) -> Case:
    definition = definitions.latest_version(process_key)
    if definition is None:
        raise NotFound(_l("There is no such process."))
    parsed = definitions.specs(definition.id, definition.sha256)
    if parsed.start_check:
        data = {**(data or {}), **check_start(process_key, applicant, account, data)}
    workflow = BpmnWorkflow(parsed.spec, parsed.subprocess_specs, script_engine=_script_engine())
    now = utcnow()
    case = Case(number=next_number(definition.case_prefix, now.year), definition=definition,
                applicant_id=getattr(applicant, "id", None), account_id=getattr(account, "id", None),
                state="{}", due_at=due_after(now, parsed.sla_days) if parsed.sla_days else None)
    db.session.add(case)
    db.session.flush()
    initial = {**(data or {}), "case_number": case.number, "applicant_id": case.applicant_id,
               "account_id": case.account_id}
    for task in workflow.get_tasks(state=TaskState.READY):  # the start task: data flows on from it
        task.data.update(initial)
    writes = _Writes(case)
    writes.event("started", actor or applicant, details={"process": process_key, "version": definition.version})
    _advance(case, workflow, writes, actor or applicant, set())
    _commit(case)
    return case


@_all_or_nothing
def complete_task(task_id: int, actor, data: dict) -> Case:
    """Complete a human task with the form's values. The case row is locked for the whole step."""
    # One round trip: lock the task's case (the task's UUID never changes, so reading it here is safe).
    found = db.session.execute(_LOCK_BY_TASK, {"task_id": task_id}).first()
    if found is None:
        raise NotFound(_l("No such task."))
    case, uuid = found
    # The state read under the lock is the truth: a completion that won the race shows here.
    workflow = _load(case)
    waiting = _waiting_for_people(workflow)
    task = waiting.get(uuid) if case.status == "open" else None
    if task is None:
        row = db.session.get(HumanTask, task_id)
        if row.status == "cancelled":
            raise Conflict(_l("This task was cancelled by the process and is no longer needed."))
        if row.status != "open":
            who = row.completed_by.full_name if row.completed_by else str(_l("the process"))
            raise Conflict(_l("This task is already done by %(who)s.", who=who))
        raise Conflict(_l("This task is no longer waiting for anyone. Reload the page."))
    check = properties.of(task.task_spec).check
    if check:
        context = handlers.CheckContext(case, case.applicant_id, case.account_id, dict(task.data), _actor_id(actor))
        data = {**data, **handlers.run_check(check, context, data)}
    task.data.update(data)
    task.run()
    writes = _Writes(case)
    writes.done = (task_id, _actor_id(actor))
    writes.event("task_completed", actor, details={"task": task.task_spec.name,
                                                   "title": task.task_spec.bpmn_name or task.task_spec.name,
                                                   "fields": sorted(data)})
    _advance(case, workflow, writes, actor, set(waiting) - {uuid})
    _commit(case)
    return case


@_all_or_nothing
def correlate(case_id: int, message_name: str, payload: dict | None = None, actor=None) -> Case:
    """Deliver a BPMN message from outside (a payment, an answer of the state system)."""
    case = _lock(case_id)
    workflow = _load(case)
    before = set(_waiting_for_people(workflow))
    event = BpmnEvent(MessageEventDefinition(message_name), payload or {})
    try:
        workflow.send_event(event)
    except WorkflowException:
        raise InvalidInput(_l("The case is not waiting for the message %(name)s.", name=message_name)) from None
    writes = _Writes(case)
    writes.event("message", actor, details={"message": message_name})
    _advance(case, workflow, writes, actor, before)
    _commit(case)
    return case


def fire_due_timers(now: datetime | None = None, limit: int = 500) -> int:
    """Wake only the cases whose next timer is due; each in its own transaction."""
    now = now or utcnow()
    due = list(db.session.scalars(select(Case.id).where(Case.next_timer_at <= now, Case.status == "open")
                                  .order_by(Case.next_timer_at).limit(limit)))
    fired = 0
    for case_id in due:
        try:
            fired += _fire(case_id, now)
        except Exception:  # one broken case must not hold up the others' timers; it is retried next run
            db.session.rollback()
            log.exception("timer of case %s failed", case_id)
    return fired


def _fire(case_id: int, now: datetime) -> int:
    case = _lock(case_id)
    if case.next_timer_at is None or case.next_timer_at > now:
        db.session.rollback()
        return 0
    workflow = _load(case)
    writes = _Writes(case)
    writes.event("timer", None, details={"due": case.next_timer_at.isoformat()})
    _advance(case, workflow, writes, None, set(_waiting_for_people(workflow)))
    _commit(case)
    return 1


def data_if_waiting_for(case: Case, message_name: str) -> dict | None:
    """The process's data if it waits for this message now (a payment, an answer), else None; one load
    of the workflow for both questions."""
    if case.status != "open":
        return None
    workflow = _load(case)
    if not any(e.name == message_name and "Message" in e.event_type for e in workflow.waiting_events()):
        return None
    return _data(workflow)


def task_data(case: Case, human_task: HumanTask) -> dict:
    workflow = _load(case)
    task = next((t for t in workflow.get_tasks() if str(t.id) == human_task.task_uuid), None)
    return dict(task.data) if task else {}


def case_data(case: Case) -> dict:
    """What the process knows now: the data of the step done last (and, once finished, the workflow's)."""
    return _data(_load(case))


def _data(workflow: BpmnWorkflow) -> dict:
    data = dict(workflow.last_task.data) if workflow.last_task is not None else {}
    data.update(workflow.data)
    return data
