"""Moving open cases from one deployed version of a process to another.

A case's state names its tasks by task spec (the BPMN element id) and holds, after compaction, only
what is still alive: the tasks waiting, ready or started, the finished tasks something may still
look at (the last one, the parents of waiting tasks, the boundary-event splits around a running
activity, join instances), and below each waiting task the engine's predictions of what comes next.
A case can move when every task of the first kinds names an element that the target version has,
of the same kind (a user task stays a user task, a timer stays a timer), and each open user task's
form still exists. Predictions are not checked: they are dropped and made again from the target
version, so a task added after the current one is picked up by the cases already running.

The check reads the state JSON directly, with each version parsed once, so a preview of thousands
of cases costs a JSON parse per case. Moving loads the state with the target version's spec (the
state carries no spec, so SpiffWorkflow resolves each task's spec by name there), re-predicts, and
saves; each case in its own transaction under the case's lock, checked again there, because it may
have moved on since the preview.
"""
import json
import logging
from dataclasses import dataclass, field
from functools import lru_cache

from flask_babel import lazy_gettext as _l
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import bindparam, insert, select, update

from app.extensions import db
from app.models import Case, CaseEvent, HumanTask, ProcessDefinition, ProcessMigration, User
from app.models.types import utcnow
from app.services import audit
from app.services.errors import InvalidInput, NotFound
from workflows import definitions, engine, properties, state
from workflows.deadlines import due_after

log = logging.getLogger(__name__)

PREDICTED = TaskState.PREDICTED_MASK | TaskState.FUTURE
PENDING = TaskState.WAITING | TaskState.READY | TaskState.STARTED
FINISHED = TaskState.FINISHED_MASK
BATCH = 100  # cases per batch of the background job: its progress is saved after each
MAX_ERRORS = 500  # skipped cases kept on a job, with their reasons
# The kinds of elements, as an analyst calls them; other kinds are shown by their class name.
KINDS = {
    "UserTask": _l("user task"),
    "ServiceTask": _l("service task"),
    "ScriptTask": _l("script task"),
    "ManualTask": _l("manual task"),
    "BusinessRuleTask": _l("business rule task"),
    "NoneTask": _l("task"),
    "ExclusiveGateway": _l("exclusive gateway"),
    "ParallelGateway": _l("parallel gateway"),
    "InclusiveGateway": _l("inclusive gateway"),
    "EventBasedGateway": _l("event-based gateway"),
    "StartEvent": _l("start event"),
    "EndEvent": _l("end event"),
    "IntermediateCatchEvent": _l("intermediate catch event"),
    "IntermediateThrowEvent": _l("intermediate throw event"),
    "BoundaryEvent": _l("boundary event"),
    "SubWorkflowTask": _l("subprocess"),
    "CallActivity": _l("call activity"),
}
GENERATED = (".BoundaryEventSplit", ".BoundaryEventJoin")  # specs SpiffWorkflow adds around an activity


# --- one version, as migration compares it -------------------------------------------------------------------

@dataclass(frozen=True)
class Element:
    kind: str  # the task spec's class: UserTask, BoundaryEvent, ...
    event: str | None  # what an event waits for: its definition's class (and message or signal name)
    title: str
    props: properties.TaskProperties
    inputs: tuple[str, ...]
    merges: bool  # a parallel or inclusive join: which inputs it waits for is part of its state
    boundary_split: str | None  # the split SpiffWorkflow puts before an activity with boundary events
    called: str | None  # the process a subprocess or call activity runs


@dataclass(frozen=True)
class Layout:
    """Every element of a version by process (the main one under its key, and each subprocess)."""

    top: str
    processes: dict


@lru_cache(maxsize=32)
def layout(definition_id: int, sha256: str) -> Layout:
    parsed = definitions.specs(definition_id, sha256)
    processes = {parsed.key: elements_of(parsed.spec)}
    for name, spec in parsed.subprocess_specs.items():
        processes[name] = elements_of(spec)
    return Layout(top=parsed.key, processes=processes)


def elements_of(spec) -> dict[str, Element]:
    found = {}
    for name, task_spec in spec.task_specs.items():
        kind = type(task_spec).__name__
        definition = getattr(task_spec, "event_definition", None)
        event = None
        if definition is not None:
            event = type(definition).__name__
            if "Message" in event or "Signal" in event:
                event = f"{event}:{getattr(definition, 'name', '')}"
        inputs = tuple(sorted(i.name for i in task_spec.inputs))
        split = None if kind == "BoundaryEvent" else next(
            (i.name for i in task_spec.inputs if type(i).__name__ == "BoundaryEventSplit"), None)
        called = getattr(task_spec, "spec", None)  # subprocess tasks name the spec they run
        found[name] = Element(
            kind=kind, event=event, title=getattr(task_spec, "bpmn_name", None) or name,
            props=properties.of(task_spec), inputs=inputs,
            merges=len(inputs) > 1 and kind in ("ParallelGateway", "InclusiveGateway"),
            boundary_split=split, called=called if isinstance(called, str) else None)
    return found


# --- what the preview and the job report ---------------------------------------------------------------------

@dataclass(frozen=True)
class Change:
    """Something about an open task (or the case's status) that reads differently on the target version."""

    task: str  # the task's title now ("" for the case's status)
    field: str  # title | group | form | actor | sla | status
    before: object
    after: object


@dataclass(frozen=True)
class CaseCheck:
    case_id: int
    number: str
    status_label: str
    reasons: tuple = ()  # why the case cannot move; empty when it can
    changes: tuple = ()

    @property
    def movable(self) -> bool:
        return not self.reasons


@dataclass(frozen=True)
class Preview:
    key: str
    source: ProcessDefinition
    target: ProcessDefinition
    movable: list[CaseCheck]
    blocked: list[CaseCheck]
    added: list[str]  # element ids the target version has and the source has not
    removed: list[str]  # and the other way round

    @property
    def total(self) -> int:
        return len(self.movable) + len(self.blocked)


@dataclass(frozen=True)
class Outcome:
    case_id: int
    number: str
    reasons: tuple = ()  # why it stayed (plain strings)


@dataclass
class Result:
    moved: list[Outcome] = field(default_factory=list)
    skipped: list[Outcome] = field(default_factory=list)


# --- checking a state ---------------------------------------------------------------------------------------

def _predicted(task: dict, tasks: dict) -> bool:
    """A guess of what comes after a task that has not finished: made again from the target version."""
    if not task["state"] & PREDICTED or task.get("triggered"):
        return False
    parent = tasks.get(task["parent"]) if task.get("parent") else None
    return parent is not None and not parent["state"] & FINISHED


def _workflows(data: dict, source: Layout, target: Layout):
    """Each workflow dict of a state (the case's and its subprocesses'), with the process it runs in
    the source and in the target version (None where the target has no such process)."""
    subprocesses = data.get("subprocesses") or {}
    queue = [(data, source.top, target.top)]
    while queue:
        workflow, old, new = queue.pop(0)
        yield workflow, old, new
        for task_id, task in workflow["tasks"].items():
            if task_id in subprocesses:
                name = task["task_spec"]
                old_element = source.processes.get(old, {}).get(name)
                new_element = target.processes.get(new, {}).get(name) if new else None
                queue.append((subprocesses[task_id], old_element.called if old_element else None,
                              new_element.called if new_element else None))


def _element_id(name: str) -> str:
    for suffix in GENERATED:
        if name.endswith(suffix):
            return name[:-len(suffix)]
    return name


def _kind(kind: str) -> str:
    return str(KINDS.get(kind, kind))


def check_state(data: dict, source: Layout, target: Layout, to_version: int, forms: set[str]) -> tuple[list, dict]:
    """Why this state cannot move to the target version (nothing when it can), and its READY user
    tasks (UUID -> (process, element id) in the target version)."""
    reasons: list = []
    seen: set[str] = set()
    ready: dict[str, tuple[str, str]] = {}

    def refuse(reason) -> None:
        if str(reason) not in seen:
            seen.add(str(reason))
            reasons.append(reason)

    for workflow, old_process, new_process in _workflows(data, source, target):
        tasks = workflow["tasks"]
        old_elements = source.processes.get(old_process, {})
        new_elements = target.processes.get(new_process) if new_process else None
        if new_elements is None:
            refuse(_l("the subprocess %(task)s is not in version %(version)s", task=old_process, version=to_version))
            continue
        for task_id, task in tasks.items():
            if _predicted(task, tasks):
                continue
            name, now = task["task_spec"], task["state"]
            new, old = new_elements.get(name), old_elements.get(name)
            shown = _element_id(name)
            if new is None:
                if shown != name:
                    refuse(_l("the boundary events of %(task)s are not in version %(version)s", task=shown,
                              version=to_version))
                else:
                    refuse(_l("the task %(task)s is not in version %(version)s", task=name, version=to_version))
                continue
            if old is not None and old.kind != new.kind:
                refuse(_l("%(task)s is a %(old)s now but a %(new)s in version %(version)s", task=shown,
                          old=_kind(old.kind), new=_kind(new.kind), version=to_version))
                continue
            if old is not None and old.event != new.event:
                refuse(_l("the event %(task)s waits for something else in version %(version)s", task=shown,
                          version=to_version))
                continue
            if not now & PENDING:
                continue
            if new.boundary_split:
                parent = tasks.get(task.get("parent") or "")
                if parent is None or parent["task_spec"] != new.boundary_split:
                    refuse(_l("the task %(task)s gets boundary events in version %(version)s", task=shown,
                              version=to_version))
            if old is not None and old.merges and old.inputs != new.inputs:
                refuse(_l("the gateway %(task)s has other incoming flows in version %(version)s", task=shown,
                          version=to_version))
            if now & TaskState.READY and new.kind == "UserTask":
                ready[task_id] = (new_process, name)
                if new.props.form_key not in forms:
                    refuse(_l("the form %(form)s of the task %(task)s does not exist", form=new.props.form_key or "—",
                              task=shown))
    return reasons, ready


def _status_label(data: dict, target: Layout) -> str | None:
    """The status the target version gives the case: the label of its first waiting task that has one
    (the engine's rule, in the tree's order)."""
    tasks = data["tasks"]
    elements = target.processes.get(target.top, {})
    stack = [data.get("root")]
    while stack:
        task = tasks.get(stack.pop())
        if task is None:
            continue
        if task["state"] & PENDING:
            element = elements.get(task["task_spec"])
            if element is not None and element.props.status_label:
                return element.props.status_label
        stack.extend(reversed(task.get("children") or []))
    return None


# --- preview ------------------------------------------------------------------------------------------------

def versions_of(key: str, from_version: int, to_version: int) -> tuple[ProcessDefinition, ProcessDefinition]:
    if from_version == to_version:
        raise InvalidInput(_l("Choose two different versions."), field="to")
    found = {row.version: row for row in db.session.scalars(select(ProcessDefinition).where(
        ProcessDefinition.key == key, ProcessDefinition.version.in_([from_version, to_version])))}
    for number in (from_version, to_version):
        if number not in found:
            raise NotFound(_l("Process %(key)s has no version %(version)s.", key=key, version=number))
    return found[from_version], found[to_version]


def known_forms() -> set[str]:
    return definitions.known_names()[0]


def preview(key: str, from_version: int, to_version: int) -> Preview:
    """Every open case on `from_version`: whether it can move to `to_version`, why not, and what its
    open tasks will look like there."""
    source_row, target_row = versions_of(key, from_version, to_version)
    source, target = layout(source_row.id, source_row.sha256), layout(target_row.id, target_row.sha256)
    forms = known_forms()
    open_tasks: dict[int, list] = {}
    task_rows = db.session.execute(
        select(HumanTask.case_id, HumanTask.task_uuid, HumanTask.title, HumanTask.candidate_group,
               HumanTask.form_key, HumanTask.actor)
        .join(Case, Case.id == HumanTask.case_id)
        .where(Case.definition_id == source_row.id, Case.status == "open", HumanTask.status == "open"))
    for row in task_rows:
        open_tasks.setdefault(row.case_id, []).append(row)
    movable, blocked = [], []
    cases = db.session.execute(
        select(Case.id, Case.number, Case.status_label, Case.state)
        .where(Case.definition_id == source_row.id, Case.status == "open").order_by(Case.id)
        .execution_options(yield_per=500))
    for case in cases:
        try:
            data = json.loads(case.state)
            reasons, ready = check_state(data, source, target, to_version, forms)
        except (ValueError, KeyError, TypeError) as error:  # a state this code cannot read is not moved
            reasons, ready, data = [_l("the state could not be read: %(error)s", error=str(error))], {}, None
        changes = () if reasons else tuple(_changes(case, data, ready, open_tasks.get(case.id, []),
                                                    source, target))
        checked = CaseCheck(case.id, case.number, case.status_label, tuple(reasons), changes)
        (blocked if reasons else movable).append(checked)
    old_ids = {n for elements in source.processes.values() for n in elements}
    new_ids = {n for elements in target.processes.values() for n in elements}
    return Preview(key=key, source=source_row, target=target_row, movable=movable, blocked=blocked,
                   added=sorted(_element_id(n) for n in new_ids - old_ids if not n.endswith(GENERATED)),
                   removed=sorted(_element_id(n) for n in old_ids - new_ids if not n.endswith(GENERATED)))


def _changes(case, data: dict, ready: dict, rows: list, source: Layout, target: Layout):
    for row in rows:
        process, name = ready.get(row.task_uuid, (None, None))
        if name is None:
            continue
        new = target.processes[process][name]
        old = source.processes.get(process, {}).get(name)
        group = new.props.candidate_group if new.props.actor == "staff" else None
        for what, before, after in (("title", row.title, new.title), ("group", row.candidate_group, group),
                                    ("form", row.form_key, new.props.form_key), ("actor", row.actor, new.props.actor),
                                    ("sla", old.props.sla_days if old else None, new.props.sla_days)):
            if before != after:
                yield Change(row.title, what, before, after)
    label = _status_label(data, target)
    if label and label != case.status_label:
        yield Change("", "status", case.status_label, label)


# --- moving -------------------------------------------------------------------------------------------------

def _prune(data: dict) -> None:
    """Drop the predictions below unfinished tasks, from the case and each of its subprocesses."""
    for workflow in [data, *(data.get("subprocesses") or {}).values()]:
        tasks = workflow["tasks"]
        gone = {task_id for task_id, task in tasks.items() if _predicted(task, tasks)}
        for task_id in gone:
            del tasks[task_id]
        for task in tasks.values():
            if any(child in gone for child in task["children"]):
                task["children"] = [child for child in task["children"] if child not in gone]


def _predict_again(workflow) -> None:
    """What SpiffWorkflow does when a task becomes ready or starts waiting: predict its children from
    the spec, which is now the target version's."""
    for wf in [workflow, *workflow.subprocesses.values()]:
        for task in list(wf.tasks.values()):
            parent_done = task.parent is None or task.parent.has_state(FINISHED)
            if task.has_state(PENDING) or (task.has_state(TaskState.FUTURE) and parent_done):
                task.task_spec._predict(task, mask=TaskState.PREDICTED_MASK | TaskState.FUTURE | task.state)


def rebuild(data: dict, spec, subprocess_specs, script_engine):
    """The workflow of a state that passed `check_state`, on the target version's spec: its
    predictions dropped (they may name elements the target has not) and made again from that spec."""
    _prune(data)
    workflow = state.load(json.dumps(data), spec, subprocess_specs, script_engine)
    _predict_again(workflow)
    return workflow


def migrate(key: str, from_version: int, to_version: int, user, case_ids=None) -> Result:
    """Move the open cases of `from_version` (or those of `case_ids`) that can move, one transaction
    each; the others stay, reported with the reason. Running it again moves nothing more."""
    source_row, target_row = versions_of(key, from_version, to_version)
    source = (source_row.id, source_row.version)
    target = (target_row.id, target_row.sha256, target_row.version)
    source_layout = layout(source_row.id, source_row.sha256)
    forms = known_forms()
    who = _Who(user.id, user.email) if user is not None else None
    if case_ids is None:
        case_ids = open_case_ids(source_row.id)
    result = Result()
    for case_id in case_ids:
        try:
            moved, outcome = _move(case_id, source, target, source_layout, key, who, forms)
        except Exception as error:  # one broken case must not stop the others; it stays where it was
            db.session.rollback()
            log.exception("case %s: migration to version %s failed", case_id, to_version)
            number = db.session.scalar(select(Case.number).where(Case.id == case_id)) or str(case_id)
            moved, outcome = False, Outcome(case_id, number, (str(_l("the case could not be moved: %(error)s",
                                                                     error=str(error) or type(error).__name__)),))
        (result.moved if moved else result.skipped).append(outcome)
    return result


def open_case_ids(definition_id: int) -> list[int]:
    return list(db.session.scalars(select(Case.id).where(Case.definition_id == definition_id, Case.status == "open")
                                   .order_by(Case.id)))


def _move(case_id: int, source: tuple, target: tuple, source_layout: Layout, key: str, who, forms) -> tuple:
    source_id, from_version = source
    target_id, target_sha, to_version = target
    try:
        case = engine._lock(case_id)
    except NotFound:
        db.session.rollback()
        return False, Outcome(case_id, str(case_id), (str(_l("there is no such case")),))
    number = case.number
    if case.status != "open" or case.definition_id != source_id:
        db.session.rollback()
        reason = (_l("the case is closed") if case.status != "open" else
                  _l("the case is no longer on version %(version)s", version=from_version))
        return False, Outcome(case_id, number, (str(reason),))
    target_layout = layout(target_id, target_sha)
    data = json.loads(case.state)
    reasons, _ready = check_state(data, source_layout, target_layout, to_version, forms)
    if reasons:
        db.session.rollback()
        return False, Outcome(case_id, number, tuple(str(r) for r in reasons))

    parsed = definitions.specs(target_id, target_sha)
    workflow = rebuild(data, parsed.spec, parsed.subprocess_specs, engine._script_engine())

    # Written with a few Core statements, as the engine does: the ORM's unit of work would cost more
    # than the workflow itself, case after case.
    connection, now = db.session.connection(), utcnow()
    waiting = {str(t.id): t for t in workflow.get_tasks(state=TaskState.READY, manual=True)}
    tasks = []
    for row in connection.execute(_OPEN_TASKS, {"case_id": case_id}):
        task = waiting.get(row.task_uuid)
        if task is None:
            continue
        props = properties.of(task.task_spec)
        due = row.due_at  # a deadline once given is a promise made: kept as it is
        if due is None and props.sla_days:
            due = due_after(row.created_at, props.sla_days)
        tasks.append({"row_id": row.id, "new_title": (task.task_spec.bpmn_name or task.task_spec.name)[:200],
                      "new_form_key": props.form_key, "new_actor": props.actor, "new_due_at": due,
                      "new_candidate_group": props.candidate_group if props.actor == "staff" else None})
    if tasks:
        connection.execute(_UPDATE_TASK, tasks)

    before = case.status_label
    label = next((properties.of(t.task_spec).status_label for t in workflow.get_tasks(state=PENDING)
                  if properties.of(t.task_spec).status_label), None) or before
    saved = connection.execute(_SAVE_CASE, {"case_id": case_id, "old_version": case.version,
                                            "new_state": state.dump(workflow), "new_definition_id": target_id,
                                            "new_status_label": label, "new_version": case.version + 1})
    if saved.rowcount != 1:  # changed between the lock and the save: only possible without row locks
        db.session.rollback()
        return False, Outcome(case_id, number, (str(_l("the case changed at the same moment; run the move again")),))
    details = {"process": key, "from_version": from_version, "to_version": to_version}
    events = [{"case_id": case_id, "at": now, "actor_id": getattr(who, "id", None), "kind": "migrated",
               "from_status": None, "to_status": None, "details": details}]
    if label != before:
        events.append({"case_id": case_id, "at": now, "actor_id": getattr(who, "id", None), "kind": "status",
                       "from_status": before or None, "to_status": label, "details": {}})
    connection.execute(insert(CaseEvent.__table__), events)
    audit.record("case.migrated", actor=who, object_type="case", object_id=case_id, details=details)
    db.session.commit()
    return True, Outcome(case_id, number)


@dataclass(frozen=True)
class _Who:
    """The analyst behind a move, as the timeline and the audit log name them: read once, not
    reloaded after each case's commit."""

    id: int
    email: str


_CASES, _TASKS = Case.__table__, HumanTask.__table__
_OPEN_TASKS = (select(_TASKS.c.id, _TASKS.c.task_uuid, _TASKS.c.due_at, _TASKS.c.created_at)
               .where(_TASKS.c.case_id == bindparam("case_id"), _TASKS.c.status == "open"))
_UPDATE_TASK = (update(_TASKS).where(_TASKS.c.id == bindparam("row_id"))
                .values({column: bindparam(f"new_{column}") for column in
                         ("title", "form_key", "actor", "candidate_group", "due_at")}))
_SAVE_CASE = (update(_CASES).where(_CASES.c.id == bindparam("case_id"), _CASES.c.version == bindparam("old_version"))
              .values({column: bindparam(f"new_{column}") for column in
                       ("state", "definition_id", "status_label", "version")}))


# --- the background job -------------------------------------------------------------------------------------

def schedule(key: str, from_version: int, to_version: int, user) -> ProcessMigration:
    """Record the analyst's request for a move; the job (processes.migrate) does the work."""
    versions_of(key, from_version, to_version)
    job = ProcessMigration(key=key, from_version=from_version, to_version=to_version, requested_by_id=user.id,
                           requested_at=utcnow(), status="queued", errors=[])
    db.session.add(job)
    db.session.flush()
    audit.record("process.migration_requested", actor=user, obj=job,
                 details={"key": key, "from_version": from_version, "to_version": to_version})
    db.session.commit()
    return job


def run(migration_id: int, batch: int = BATCH) -> dict:
    """Move the job's cases in batches, saving its progress after each. A job run again (a worker
    that died mid-way hands it back) goes on with the cases still on the old version."""
    job = db.session.get(ProcessMigration, migration_id)
    if job is None or job.status == "done":
        return {"migration": migration_id, "status": job.status if job else "missing"}
    try:
        source, _target = versions_of(job.key, job.from_version, job.to_version)
        ids = open_case_ids(source.id)
        job.status, job.started_at, job.finished_at = "running", utcnow(), None
        job.total, job.skipped, job.errors = job.moved + len(ids), 0, []
        db.session.commit()
        user = db.session.get(User, job.requested_by_id) if job.requested_by_id else None
        for start in range(0, len(ids), batch):
            result = migrate(job.key, job.from_version, job.to_version, user, case_ids=ids[start:start + batch])
            job = db.session.get(ProcessMigration, migration_id)
            job.moved += len(result.moved)
            job.skipped += len(result.skipped)
            room = MAX_ERRORS - len(job.errors)
            if room > 0 and result.skipped:
                job.errors = job.errors + [{"case_id": o.case_id, "number": o.number, "reasons": list(o.reasons)}
                                           for o in result.skipped[:room]]
            db.session.commit()
        job.status, job.finished_at = "done", utcnow()
        db.session.commit()
    except Exception as error:
        db.session.rollback()
        log.exception("process migration %s failed", migration_id)
        job = db.session.get(ProcessMigration, migration_id)
        job.status, job.finished_at = "failed", utcnow()
        job.errors = [*job.errors, {"case_id": None, "number": None, "reasons": [str(error) or type(error).__name__]}]
        db.session.commit()
    return {"migration": migration_id, "status": job.status, "moved": job.moved, "skipped": job.skipped}


def history(key: str, limit: int = 20) -> list[ProcessMigration]:
    return list(db.session.scalars(select(ProcessMigration).where(ProcessMigration.key == key)
                                   .order_by(ProcessMigration.id.desc()).limit(limit)))
