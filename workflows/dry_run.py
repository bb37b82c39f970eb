"""Test runs: a diagram (usually a process's draft, not yet deployed) tried on sample data.

The same SpiffWorkflow engine and sandbox run the diagram, but nothing reaches the real world:

- service tasks do not call their handlers: the log says which handler would run, and the task's
  result variable gets an empty result; checks (`check` property) are not run either;
- no case, human task, timeline event, outbox row, stored file or audit record is written: a run is
  one `process_test_run` row with the diagram, the workflow's state and the history of its steps;
- timers never fire by the clock: they wait until the analyst fires them (the log shows when they
  would fire in a real case), so every path can be tried at once;
- a condition, script or timer that names data a skipped handler or check would have supplied sees
  it as empty (None), and the log says so, instead of the run stopping there.

    run = start(xml, {"reason": "failure", ...}, user)       # values checked with the start form
    run.ready        -> [ReadyTask(id, element, name, form_key, actor, group)]
    run = complete(run, run.ready[0].id, {"decision": "approve"})
    run = fire_timer(run, run.timers[0].id)
    run = send_message(run, "invoice_paid", {"paid_on": "2026-11-20"})
    run.path, run.flows, run.data, run.log, run.ended, run.end_event

Values are a dict of task data (as the API takes them) or the posted form data of a page; either way
they are checked with the same declarative form as in a real case, and `InvalidValues` carries the
bound form, errors and what was typed, back to the page.
"""
import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from lxml import etree
from SpiffWorkflow.bpmn import BpmnEvent
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (CycleTimerEventDefinition, DurationTimerEventDefinition,
                                                              TimeDateEventDefinition, TimerEventDefinition)
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import delete, select
from werkzeug.datastructures import MultiDict

from app.extensions import db
from app.models import ProcessTestRun
from app.models.types import utcnow
from app.services.errors import Conflict, Forbidden, InvalidInput, NotFound
from workflows import definitions, properties, sandbox, state
from workflows.forms.data import as_formdata

KEEP_FOR = timedelta(days=1)
# What a timer waits for in a test run: far enough that the clock never fires it.
_NEVER = {TimeDateEventDefinition: "9999-12-31T00:00:00+00:00", DurationTimerEventDefinition: "P36500D",
          CycleTimerEventDefinition: "R1/P36500D"}
_PAST = "2000-01-01T00:00:00+00:00"
BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
MAX_MISSING = 20  # names a single expression may lack before it counts as broken

# The log as people read it; an entry stores its kind and parameters, so it shows in the reader's language.
MESSAGES = {
    "started": _l("The test run started."),
    "handler": _l("Service task: the handler “%(handler)s” would run here. In a test run it does not; "
                  "“%(variable)s” gets an empty result."),
    "document": _l("Service task: the handler “%(handler)s” would make the document “%(document)s” here. In a test "
                   "run it does not; “%(variable)s” gets an empty result."),
    "unknown_handler": _l("Service task: there is no handler “%(handler)s”. A real case would stop here with an error; "
                          "the test run goes on with an empty result."),
    "check": _l("The check “%(check)s” would run on these values here. In a test run it does not, so the data it "
                "adds is missing."),
    "file": _l("The file “%(filename)s” (%(size)s bytes) in “%(field)s” would be stored. In a test run only its name "
               "and checksum are kept."),
    "missing": _l("In “%(expression)s”, %(names)s had no value in this run (a skipped handler or check would have "
                  "set it) and counted as empty (None)."),
    "task_ready": _l("The task “%(name)s” is waiting (%(who)s)."),
    "task_completed": _l("The task “%(name)s” is completed."),
    "timer_waiting": _l("The timer “%(name)s” is waiting: in a real case it fires at %(due)s. Here it fires when "
                        "you fire it."),
    "timer_waiting_unknown": _l("The timer “%(name)s” is waiting for “%(expression)s”, which has no moment in this "
                                "run. It fires when you fire it."),
    "timer_fired": _l("The timer “%(name)s” fired."),
    "message_waiting": _l("“%(name)s” waits for the message “%(message)s”."),
    "message_received": _l("The message “%(message)s” arrived."),
    "end": _l("The end event “%(name)s” is reached."),
    "ended": _l("The process has ended."),
    "error": _l("Error at “%(name)s”: %(message)s. A real case would not get past this step."),
}


class InvalidValues(InvalidInput):
    """Values the form refuses: `form` is the bound form with its errors and what was typed."""

    def __init__(self, form, definition):
        self.form = form
        self.definition = definition
        self.errors = {name: _flat(messages) for name, messages in form.errors.items()}
        field = next(iter(self.errors), None)
        super().__init__(self.errors[field][0] if field else _l("Please correct the marked fields."), field=field,
                         errors=self.errors)


def _flat(messages) -> list[str]:
    """A field's errors as one list of texts (a table's come nested by row and column)."""
    if isinstance(messages, dict):
        return [text for value in messages.values() for text in _flat(value)]
    if isinstance(messages, (list, tuple)):
        return [text for value in messages for text in _flat(value)]
    return [str(messages)] if messages is not None else []


@dataclass(frozen=True)
class ReadyTask:
    id: str
    element: str
    name: str
    form_key: str | None
    actor: str
    group: str | None


@dataclass(frozen=True)
class WaitingTimer:
    id: str
    element: str
    name: str
    expression: str
    due: str | None  # when it would fire in a real case, if the run's data tells


@dataclass(frozen=True)
class WaitingMessage:
    name: str
    elements: tuple[str, ...]


class TestRun:
    """A run as its page shows it: the stored row and what its last step left."""

    __test__ = False  # not a pytest test class, whatever its name

    def __init__(self, row: ProcessTestRun):
        self.row = row

    id = property(lambda self: self.row.id)
    key = property(lambda self: self.row.key)
    xml = property(lambda self: self.row.xml)
    steps = property(lambda self: list(self.row.steps or []))
    created_by_id = property(lambda self: self.row.created_by_id)
    created_at = property(lambda self: self.row.created_at)
    updated_at = property(lambda self: self.row.updated_at)

    @property
    def last(self) -> dict:
        return self.steps[-1] if self.steps else {}

    @property
    def ready(self) -> list[ReadyTask]:
        return [ReadyTask(**t) for t in self.last.get("ready", [])]

    @property
    def timers(self) -> list[WaitingTimer]:
        return [WaitingTimer(**t) for t in self.last.get("timers", [])]

    @property
    def messages(self) -> list[WaitingMessage]:
        return [WaitingMessage(m["name"], tuple(m["elements"])) for m in self.last.get("messages", [])]

    @property
    def path(self) -> list[str]:
        return [element for step in self.steps for element in step.get("path", [])]

    @property
    def flows(self) -> list[str]:
        return [flow for step in self.steps for flow in step.get("flows", [])]

    @property
    def data(self) -> dict:
        return dict(self.last.get("data", {}))

    @property
    def log(self) -> list[dict]:
        return [{**entry, "step": number} for number, step in enumerate(self.steps) for entry in step.get("log", [])]

    @property
    def ends(self) -> list[str]:
        """The end events reached so far (a branch's end, too, while other paths go on)."""
        return [element for step in self.steps for element in step.get("ends", [])]

    @property
    def ended(self) -> bool:
        return bool(self.last.get("ended"))

    @property
    def end_event(self) -> str | None:
        return self.last.get("end_event")

    @property
    def error(self) -> dict | None:
        return self.last.get("error")

    @property
    def names(self) -> dict[str, str]:
        """Element id -> its name in the diagram (the id when it has none)."""
        return names(self.row.xml)

    def task(self, task_id: str) -> ReadyTask | None:
        return next((t for t in self.ready if t.id == task_id), None)

    def owned_by(self, user) -> bool:
        return user is not None and self.row.created_by_id == getattr(user, "id", None)


def describe(entry: dict) -> str:
    """A log entry as a sentence in the reader's language."""
    template = MESSAGES.get(entry.get("kind"))
    if template is None:
        return str(entry.get("kind"))
    params = {key: value for key, value in entry.items() if key not in ("kind", "level", "element", "step")}
    if "names" in params:
        params["names"] = ", ".join(params["names"])
    if params.get("due"):
        params["due"] = _when(params["due"])
    if params.get("who") == "applicant":
        params["who"] = str(_l("the applicant"))
    elif params.get("who") == "staff":
        params["who"] = str(_l("staff, group %(group)s", group=entry.get("group") or "—"))
    return str(template) % params if params else str(template)


def _when(moment: str) -> str:
    from flask_babel import format_datetime

    try:
        return format_datetime(datetime.fromisoformat(moment), "short")
    except (ValueError, TypeError):
        return moment


# --- the script engine ------------------------------------------------------------------------------

class DryRunScriptEngine(PythonScriptEngine):
    """The case sandbox, except that service tasks only say what they would do, missing names read as
    None (with a note in the log), and timers wait for the analyst instead of the clock."""

    def __init__(self, log: list[dict]):
        super().__init__(environment=sandbox.SandboxedEnvironment())
        self.log = log

    def call_service(self, task, operation_name=None, operation_params=None, **kwargs):
        from workflows import handlers

        element, variable = _element(task), getattr(task.task_spec, "result_variable", "")
        if operation_name not in handlers.REGISTRY:
            self.log.append({"kind": "unknown_handler", "level": "error", "element": element,
                             "handler": operation_name or ""})
        else:
            document = _props(task.task_spec).get("document")
            self.log.append({"kind": "document" if document else "handler", "level": "info", "element": element,
                             "handler": operation_name, "variable": variable,
                             **({"document": document} if document else {})})
        return json.dumps({})

    def evaluate(self, task, expression, external_context=None):
        timer = _timer_of(task, expression)
        if timer is not None:
            return self._timer(task, timer, expression)
        return self._tolerant(task, expression, super().evaluate, external_context)

    def execute(self, task, script, external_context=None):
        return self._tolerant(task, script, super().execute, external_context)

    def _tolerant(self, task, source, run, external_context):
        """Run; each name the data lacks is supplied as None and noted, up to MAX_MISSING of them."""
        context = dict(external_context or {})
        missing = []
        try:
            while True:
                try:
                    return run(task, source, context or None)
                except SpiffWorkflowException as error:
                    name = _missing_name(error)
                    if name is None or name in context or len(missing) >= MAX_MISSING:
                        raise
                    context[name] = None
                    missing.append(name)
        finally:  # noted also when the expression fails anyway: the empty values may be why
            if missing:
                self.log.append({"kind": "missing", "level": "warning", "element": _element(task),
                                 "expression": _short(source), "names": missing})

    def _timer(self, task, timer, expression) -> str | dict:
        """The moment a real case would wait for goes to the log and the page; the workflow itself is
        told to wait "forever" until the analyst fires the timer."""
        due = None
        try:
            value = self._tolerant(task, expression, super().evaluate, None)
            due = _moment(timer, value)
        except Exception:  # an expression that gives no moment: the timer still waits, to be fired by hand
            pass
        task._set_internal_data(test_run_due=due, test_run_expression=expression)
        entry = {"level": "info", "element": _element(task), "name": _name(task)}
        if due:
            self.log.append({"kind": "timer_waiting", "due": due, **entry})
        else:
            self.log.append({"kind": "timer_waiting_unknown", "expression": expression, **entry})
        return _NEVER.get(type(timer), _NEVER[TimeDateEventDefinition])


def _missing_name(error) -> str | None:
    cause = error.__context__ or error.__cause__
    while cause is not None and not isinstance(cause, NameError):
        cause = cause.__context__ or cause.__cause__
    return getattr(cause, "name", None) if isinstance(cause, NameError) else None


def _timer_of(task, expression):
    definition = getattr(task.task_spec, "event_definition", None)
    for candidate in [definition, *(getattr(definition, "event_definitions", None) or [])]:
        if isinstance(candidate, TimerEventDefinition) and candidate.expression == expression:
            return candidate
    return None


def _moment(timer, value) -> str | None:
    text = str(value)
    if isinstance(timer, DurationTimerEventDefinition):
        parsed = TimerEventDefinition.parse_iso_duration(text)
        return (datetime.now(timezone.utc) + TimerEventDefinition.get_timedelta_from_start(parsed)).isoformat()
    if isinstance(timer, CycleTimerEventDefinition):
        return TimerEventDefinition.parse_iso_recurring_interval(text)[1].isoformat()
    return TimerEventDefinition.get_datetime(text).isoformat()


def _short(source: str) -> str:
    text = " ".join(str(source).split())
    return text if len(text) <= 80 else text[:77] + "…"


def _props(task_spec) -> dict:
    return (getattr(task_spec, "extensions", None) or {}).get("properties", {}) or {}


def _element(task) -> str | None:
    return getattr(task.task_spec, "bpmn_id", None)


def _name(task) -> str:
    return task.task_spec.bpmn_name or task.task_spec.bpmn_id or task.task_spec.name


# --- the diagram ------------------------------------------------------------------------------------

@lru_cache(maxsize=16)
def _parsed(xml: str) -> definitions.Parsed:
    """Parsed once per diagram text: a run's steps all parse the same stored copy."""
    return definitions.parse(xml.encode("utf-8"))


def parse(xml: str) -> definitions.Parsed:
    """The diagram, or InvalidInput saying why it cannot run."""
    try:
        return _parsed(xml)
    except definitions.DefinitionError as error:
        raise InvalidInput(_l("The diagram cannot run: %(reason)s", reason=str(error)), field="xml") from None


@lru_cache(maxsize=16)
def _flows(xml: str) -> dict[str, list[tuple[str, str]]]:
    """Target element -> [(sequence flow id, source element)], read from the diagram itself: SpiffWorkflow
    keeps which element follows which, not the flows' ids that the picture highlights."""
    root = etree.fromstring(xml.encode("utf-8"), parser=etree.XMLParser(resolve_entities=False, no_network=True))
    found: dict[str, list[tuple[str, str]]] = {}
    for flow in root.iter(f"{{{BPMN_NS}}}sequenceFlow"):
        found.setdefault(flow.get("targetRef"), []).append((flow.get("id"), flow.get("sourceRef")))
    return found


@lru_cache(maxsize=16)
def names(xml: str) -> dict[str, str]:
    """Element id -> its name (the id when it has none), for every element the engine runs."""
    parsed = parse(xml)
    names = {}
    for spec in [parsed.spec, *parsed.subprocess_specs.values()]:
        for task_spec in spec.task_specs.values():
            if getattr(task_spec, "bpmn_id", None):
                names[task_spec.bpmn_id] = task_spec.bpmn_name or task_spec.bpmn_id
    return names


# --- form values ------------------------------------------------------------------------------------

def _formdata(values) -> MultiDict:
    """Task data as posted form fields (a page's posted form passes through as it is)."""
    if values is None:
        return MultiDict()
    if hasattr(values, "getlist"):
        return values
    return as_formdata(values)


def form_definition(form_key: str):
    """The form a real case shows for this key now."""
    from app.services import process_forms

    return process_forms.current(form_key)


def _validated(form_key: str, values, data: dict, log: list[dict]) -> dict:
    try:
        definition = form_definition(form_key)
    except NotFound:
        raise InvalidInput(_l("There is no form %(key)s.", key=form_key)) from None
    locale = str(get_locale() or "ru")
    # Page posts were checked for CSRF by the app before they got here; the API and tests have no token.
    form = definition.form_class(locale)(formdata=_formdata(values), meta={"csrf": False})
    if definition.offered:
        definition.offer(form, data, locale)
    if not form.validate():
        raise InvalidValues(form, definition)
    return _without_files(definition.values(form), log)


def _without_files(values: dict, log: list[dict]) -> dict:
    """Uploaded files are not stored: the data keeps the name and checksum a stored file would have."""
    clean = {}
    for name, value in values.items():
        if isinstance(value, dict) and isinstance(value.get("data"), bytes):
            content = value["data"]
            clean[name] = {"filename": value.get("filename") or name, "sha256": hashlib.sha256(content).hexdigest()}
            log.append({"kind": "file", "level": "info", "element": None, "field": name,
                        "filename": clean[name]["filename"], "size": len(content)})
        else:
            clean[name] = value
    return clean


# --- steps ------------------------------------------------------------------------------------------

def _jsonable(value):
    return json.loads(json.dumps(value, default=str))


def _all_tasks(workflow: BpmnWorkflow) -> list:
    return [task for wf in [workflow, *workflow.subprocesses.values()] for task in wf.tasks.values()]


@dataclass(frozen=True)
class _Before:
    """What was done and what waited when a step began: the step reports only what it changed."""
    completed: frozenset = frozenset()
    ready: frozenset = frozenset()
    waiting: frozenset = frozenset()


def _before(workflow: BpmnWorkflow) -> _Before:
    return _Before(frozenset(t.id for t in _all_tasks(workflow) if t.has_state(TaskState.COMPLETED)),
                   frozenset(t.id for t in workflow.get_tasks(state=TaskState.READY, manual=True)),
                   frozenset(workflow.event_manager.tasks))


def _data(workflow: BpmnWorkflow) -> dict:
    data = dict(workflow.last_task.data) if workflow.last_task is not None else {}
    data.update(workflow.data)
    return _jsonable(data)


def _ancestor_element(task) -> str | None:
    parent = task.parent
    while parent is not None:
        if getattr(parent.task_spec, "bpmn_id", None):
            return parent.task_spec.bpmn_id
        parent = parent.parent
    return None


def _advance(workflow: BpmnWorkflow, log: list[dict]) -> dict | None:
    """Run to the next wait, as a case step does; an error in the diagram is returned, not raised, so
    the page can show where the run stopped."""
    try:
        workflow.do_engine_steps()
        workflow.refresh_timers()
        workflow.do_engine_steps()
    except (SpiffWorkflowException, sandbox.SandboxError) as error:
        return _error(error, log)
    return None


def _error(error, log: list[dict]) -> dict:
    task = getattr(error, "task", None)
    spec = task.task_spec if task is not None else getattr(error, "task_spec", None)
    element = getattr(spec, "bpmn_id", None)
    name = (getattr(spec, "bpmn_name", None) or element or "—") if spec is not None else "—"
    message = str(error).splitlines()[0] if str(error) else type(error).__name__
    log.append({"kind": "error", "level": "error", "element": element, "name": name, "message": message})
    return {"element": element, "message": message}


def _record(run_xml: str, workflow: BpmnWorkflow, before: _Before, log: list[dict], earlier_path: list[str],
            kind: str, element: str | None, label: str | None, values: dict, error: dict | None) -> dict:
    """What the step did and what it left: the path, the waits, the data and the log."""
    flows_into = _flows(run_xml)
    done = [task for task in _all_tasks(workflow) if task.has_state(TaskState.COMPLETED)
            and task.id not in before.completed and getattr(task.task_spec, "bpmn_id", None)]
    done.sort(key=lambda task: task.last_state_change)
    path, flows, seen = [], [], list(earlier_path)

    def flow_into(task) -> str | None:
        candidates = flows_into.get(task.task_spec.bpmn_id, [])
        source = _ancestor_element(task)
        flow = next((f for f, s in candidates if s == source), None)
        if flow is None:  # the element before it was compacted away: the latest one of the path with a flow here
            flow = next((f for earlier in reversed(seen) for f, s in candidates if s == earlier), None)
        return flow

    end_event, ends = None, []
    for task in done:
        target = task.task_spec.bpmn_id
        flow = flow_into(task)
        if flow is not None:
            flows.append(flow)
        path.append(target)
        seen.append(target)
        kind_of = type(task.task_spec).__name__
        if kind_of == "EndEvent":
            end_event = target
            ends.append(target)
            log.append({"kind": "end", "level": "info", "element": target, "name": _name(task)})
        elif kind_of == "UserTask" or task.task_spec.manual:
            log.append({"kind": "task_completed", "level": "info", "element": target, "name": _name(task)})

    ready = []
    for task in workflow.get_tasks(state=TaskState.READY, manual=True):
        props = properties.of(task.task_spec)
        ready.append({"id": str(task.id), "element": _element(task), "name": _name(task), "form_key": props.form_key,
                      "actor": props.actor, "group": props.candidate_group if props.actor == "staff" else None})
        if task.id not in before.ready:
            log.append({"kind": "task_ready", "level": "info", "element": _element(task), "name": _name(task),
                        "who": props.actor, "group": props.candidate_group})
    timers, messages = [], {}
    for task in workflow.event_manager.tasks.values():
        definition = task.task_spec.event_definition
        if isinstance(definition, TimerEventDefinition) or any(
                isinstance(d, TimerEventDefinition) for d in getattr(definition, "event_definitions", None) or []):
            timers.append({"id": str(task.id), "element": _element(task), "name": _name(task),
                           "expression": task._get_internal_data("test_run_expression") or "",
                           "due": task._get_internal_data("test_run_due")})
        for candidate in [definition, *(getattr(definition, "event_definitions", None) or [])]:
            if isinstance(candidate, MessageEventDefinition):
                waiting = messages.setdefault(candidate.name, [])
                if _element(task) not in waiting:
                    waiting.append(_element(task))
                if task.id not in before.waiting:
                    log.append({"kind": "message_waiting", "level": "info", "element": _element(task),
                                "name": _name(task), "message": candidate.name})
    # The flows the tokens waiting now came along (into a waiting task or catch event).
    waiting_now = [*workflow.get_tasks(state=TaskState.READY, manual=True), *workflow.event_manager.tasks.values()]
    current_flows = [flow for flow in dict.fromkeys(flow_into(task) for task in waiting_now) if flow]
    ended = workflow.is_completed()
    if ended:
        log.append({"kind": "ended", "level": "info", "element": end_event})
    return {"kind": kind, "element": element, "label": label, "at": utcnow().isoformat(), "values": _jsonable(values),
            "path": path, "flows": flows, "current_flows": current_flows, "data": _data(workflow), "log": log,
            "ready": ready, "timers": timers, "messages": [{"name": n, "elements": e} for n, e in messages.items()],
            "ends": ends, "ended": ended, "end_event": end_event if ended else None, "error": error}


def _load(run: TestRun, log: list[dict]) -> BpmnWorkflow:
    parsed = parse(run.xml)
    return state.load(run.row.state, parsed.spec, parsed.subprocess_specs, DryRunScriptEngine(log))


def _save(run: TestRun, workflow: BpmnWorkflow, step: dict) -> TestRun:
    run.row.state = state.dump(workflow)
    run.row.steps = [*run.steps, step]  # a new list: the JSON column sees the change
    run.row.updated_at = utcnow()
    db.session.commit()
    return run


def _step(run: TestRun, kind: str, element: str | None, label: str, values: dict, act) -> TestRun:
    """Load, act, run to the next wait, record; `act(workflow, log)` does the step's own part."""
    if run.ended:
        raise Conflict(_l("This test run has ended. Start a new one."))
    log: list[dict] = []
    workflow = _load(run, log)
    before = _before(workflow)
    act(workflow, log)
    error = _advance(workflow, log)
    return _save(run, workflow, _record(run.xml, workflow, before, log, run.path, kind, element, label, values, error))


def _forget_old() -> None:
    db.session.execute(delete(ProcessTestRun).where(ProcessTestRun.updated_at < utcnow() - KEEP_FOR))


# --- the public steps -------------------------------------------------------------------------------

def start(xml: str, values, user) -> TestRun:
    """Start a test run of the diagram with the start form's values (checked with that form)."""
    parsed = parse(xml)
    log: list[dict] = [{"kind": "started", "level": "info", "element": None}]
    clean = _validated(parsed.start_form, values, {}, log) if parsed.start_form else {}
    if parsed.start_check:
        log.append({"kind": "check", "level": "warning", "element": None, "check": parsed.start_check})
    _forget_old()
    workflow = BpmnWorkflow(parsed.spec, parsed.subprocess_specs, script_engine=DryRunScriptEngine(log))
    # What a real case puts in first; a test run belongs to no applicant and no account.
    initial = {**clean, "case_number": f"{parsed.case_prefix}-TEST", "applicant_id": None, "account_id": None}
    for task in workflow.get_tasks(state=TaskState.READY):
        task.data.update(initial)
    start_event = next(s for s in parsed.spec.task_specs.values() if type(s).__name__ == "StartEvent")
    error = _advance(workflow, log)
    row = ProcessTestRun(id=str(uuid.uuid4()), key=parsed.key, xml=xml, state="{}", steps=[],
                         created_by_id=user.id, created_at=utcnow(), updated_at=utcnow())
    db.session.add(row)
    run = TestRun(row)
    step = _record(xml, workflow, _Before(), log, [], "start", start_event.bpmn_id,
                   start_event.bpmn_name or start_event.bpmn_id, clean, error)
    return _save(run, workflow, step)


def complete(run: TestRun, task_id: str, values) -> TestRun:
    """Complete a READY user task of the run with its form's values."""
    found = run.task(task_id)
    if found is None:
        raise NotFound(_l("This task is not waiting in this test run."))
    log: list[dict] = []
    clean = _validated(found.form_key, values, run.data, log) if found.form_key else {}

    def act(workflow, step_log):
        step_log.extend(log)
        task = _task(workflow, task_id)
        if task is None or not task.has_state(TaskState.READY) or not task.task_spec.manual:
            raise Conflict(_l("This task is not waiting any more. Reload the page."))
        check = properties.of(task.task_spec).check
        if check:
            step_log.append({"kind": "check", "level": "warning", "element": _element(task), "check": check})
        task.data.update(clean)
        task.run()

    return _step(run, "task", found.element, found.name, clean, act)


def fire_timer(run: TestRun, task_id: str) -> TestRun:
    """Fire a waiting timer now (a boundary or an intermediate timer event)."""
    found = next((t for t in run.timers if t.id == task_id), None)
    if found is None:
        raise NotFound(_l("This timer is not waiting in this test run."))

    def act(workflow, log):
        task = _task(workflow, task_id)
        if task is None or task.id not in workflow.event_manager.tasks:
            raise Conflict(_l("This timer is not waiting any more. Reload the page."))
        value = task._get_internal_data("event_value")
        if isinstance(value, dict):  # a cycle: its next round is now
            task._set_internal_data(event_value={**value, "next": _PAST})
        else:
            task._set_internal_data(event_value=_PAST)
        log.append({"kind": "timer_fired", "level": "info", "element": _element(task), "name": _name(task)})
        workflow.refresh_timers()

    return _step(run, "timer", found.element, found.name, {}, act)


def send_message(run: TestRun, name: str, payload: dict | None = None) -> TestRun:
    """Deliver a message the run waits for, with its data (what the outside system would send)."""
    found = next((m for m in run.messages if m.name == name), None)
    if found is None:
        raise InvalidInput(_l("The process is not waiting for the message %(name)s.", name=name), field="message")
    if payload is not None and not isinstance(payload, dict):
        raise InvalidInput(_l("The message's data must be a JSON object."), field="payload")

    def act(workflow, log):
        log.append({"kind": "message_received", "level": "info", "element": found.elements[0], "message": name})
        try:
            workflow.send_event(BpmnEvent(MessageEventDefinition(name), payload or {}))
        except SpiffWorkflowException:
            raise Conflict(_l("The process is not waiting for the message %(name)s.", name=name)) from None

    return _step(run, "message", found.elements[0], name, payload or {}, act)


def _task(workflow: BpmnWorkflow, task_id: str):
    try:
        return workflow.get_task_from_id(uuid.UUID(str(task_id)))
    except (ValueError, SpiffWorkflowException):
        return None


def find(run_id: str, key: str | None = None) -> TestRun:
    """A run to look at (anyone who may edit processes may look)."""
    row = db.session.get(ProcessTestRun, str(run_id))
    if row is None or (key is not None and row.key != key):
        raise NotFound(_l("There is no such test run (runs are deleted after a day)."))
    return TestRun(row)


def get(run_id: str, user, key: str | None = None) -> TestRun:
    """A run to continue: only the analyst who started it may. The row is locked for the step."""
    row = db.session.scalar(select(ProcessTestRun).where(ProcessTestRun.id == str(run_id)).with_for_update())
    if row is None or (key is not None and row.key != key):
        raise NotFound(_l("There is no such test run (runs are deleted after a day)."))
    run = TestRun(row)
    if not run.owned_by(user):
        raise Forbidden(_l("Only the analyst who started this test run can continue it."))
    return run


def latest_of(user, key: str) -> TestRun | None:
    row = db.session.scalar(select(ProcessTestRun).where(ProcessTestRun.key == key,
                                                         ProcessTestRun.created_by_id == user.id,
                                                         ProcessTestRun.updated_at >= utcnow() - KEEP_FOR)
                            .order_by(ProcessTestRun.updated_at.desc()).limit(1))
    return TestRun(row) if row is not None else None
