"""A case's serialized state: the workflow without its spec, kept small by compaction.

SpiffWorkflow's own serializer writes the whole spec into every state and keeps every finished task
in the tree, so the state (and the time to load and save it) grows with the case. Here the spec is
left out (it is stored once in `process_definition`) and finished tasks that nothing can need any
more are spliced out of the tree after every step.

A finished task can go when every child of it has already started (READY or later): children copy
their data from the parent when they become ready, and joins and boundary events look only at the
parents of waiting tasks, which the rule keeps. Merging gateways are the exception: in a loop,
SpiffWorkflow tells a join's iterations apart by its earlier instances, so those nodes stay, empty.
"""
import contextvars
import json
from uuid import UUID

from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState

_specs: contextvars.ContextVar = contextvars.ContextVar("specs")
SETTLED = TaskState.READY | TaskState.STARTED | TaskState.COMPLETED | TaskState.CANCELLED | TaskState.ERROR


class SpeclessWorkflowConverter(BpmnWorkflowConverter):
    def to_dict(self, workflow):
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct):
        spec, subprocess_specs = _specs.get()
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


_config = dict(SPIFF_CONFIG)
_config[BpmnWorkflow] = SpeclessWorkflowConverter
SERIALIZER = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(_config))


def dump(workflow: BpmnWorkflow) -> str:
    compact(workflow)
    return SERIALIZER.serialize_json(workflow)


def load(state: str, spec, subprocess_specs, script_engine) -> BpmnWorkflow:
    token = _specs.set((spec, subprocess_specs))
    try:
        workflow = SERIALIZER.deserialize_json(state)
    finally:
        _specs.reset(token)
    workflow.script_engine = script_engine
    return workflow


def compact(workflow: BpmnWorkflow) -> int:
    """Splice finished tasks out of the tree where nothing can need them; returns how many went."""
    removed = 0
    for wf in [workflow, *workflow.subprocesses.values()]:
        keep = _latest_joins(wf)
        for task in list(wf.tasks.values()):
            parent = task.parent
            if parent is None or task is wf.last_task or task.id in workflow.subprocesses:
                continue
            if not task.has_state(TaskState.FINISHED_MASK):
                continue
            children = task.children
            if any(not child.has_state(SETTLED) for child in children):
                continue
            if type(task.task_spec).__name__ == "BoundaryEventSplit" and any(
                    not child.has_state(TaskState.FINISHED_MASK) for child in children):
                # The activity with its boundary events: the join after them looks for this split
                # until the activity (or a non-interrupting event's path) has finished.
                continue
            if task.id in keep or any(child.id in keep for child in children):
                # Those join instances and their parents tell the join's next iteration which
                # inputs have arrived: keep the nodes, without their data.
                if task.data:
                    task.data = {}
                continue
            index = parent._children.index(task.id)
            parent._children[index:index + 1] = [child.id for child in children]
            for child in children:
                child._parent = parent.id
            del wf.tasks[task.id]
            removed += 1
    return removed


def _latest_joins(wf) -> set:
    """The first and the newest finished instance of each join: SpiffWorkflow's loop detection for
    joins compares a new instance with those (the ones between them are never consulted)."""
    by_spec: dict[str, list] = {}
    for task in wf.tasks.values():
        if _merges(task) and task.has_state(TaskState.COMPLETED):
            by_spec.setdefault(task.task_spec.name, []).append(task)
    keep = set()
    for tasks in by_spec.values():
        tasks.sort(key=lambda t: t.last_state_change)
        keep |= {tasks[0].id, tasks[-1].id}
    return keep


def _merges(task) -> bool:
    """A parallel or inclusive gateway with several inputs: a join that waits for its inputs."""
    spec = task.task_spec
    return len(getattr(spec, "inputs", ())) > 1 and type(spec).__name__ in ("ParallelGateway", "InclusiveGateway")


def size(state: str) -> int:
    return len(state.encode("utf-8"))


def data_of(state: str) -> dict:
    return json.loads(state).get("data", {})
