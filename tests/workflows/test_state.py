"""The compact state: the engine behaves the same with compaction (joins, boundary timers, loops,
data), while the state stays small however long the case runs."""
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.util.task import TaskState

from workflows import state

DIAGRAM = Path(__file__).with_name("compaction.bpmn")


def spec():
    parser = SpiffBpmnParser()
    parser.add_bpmn_file(str(DIAGRAM))
    return parser.get_spec("rounds"), parser.get_subprocess_specs("rounds")


def run(rounds: int, late_every: int, compacted: bool) -> tuple[BpmnWorkflow, list[int]]:
    """Complete A and B each round; every `late_every`-th round B's boundary timer fires instead.
    With `compacted`, the workflow goes through dump/load (which compacts) after every step."""
    process, subprocesses = spec()
    engine = PythonScriptEngine()
    workflow = BpmnWorkflow(process, subprocesses, script_engine=engine)
    for task in workflow.get_tasks(state=TaskState.READY):
        task.data.update(rounds=0, late_rounds=0, limit=rounds)
    workflow.do_engine_steps()
    sizes = []
    for n in range(rounds):
        late = late_every and n % late_every == late_every - 1
        for name in ("a", "b"):
            if late and name == "b":
                for waiting in workflow.get_tasks(state=TaskState.WAITING):
                    if waiting.task_spec.name == "b_late":
                        past = (datetime.now(timezone.utc) - timedelta(hours=2)).isoformat()
                        waiting._set_internal_data(event_value=past)
                workflow.refresh_timers()
            else:
                task = next(t for t in workflow.get_tasks(state=TaskState.READY, manual=True)
                            if t.task_spec.name == name)
                task.data[f"seen_{name}"] = n
                task.run()
            workflow.do_engine_steps()
            if compacted:
                saved = state.dump(workflow)
                sizes.append(state.size(saved))
                workflow = state.load(saved, process, subprocesses, engine)
    return workflow, sizes


@pytest.mark.parametrize("late_every", [0, 3])
def test_compaction_changes_nothing_but_the_size(late_every):
    plain, _ = run(40, late_every, compacted=False)
    compact, sizes = run(40, late_every, compacted=True)
    assert plain.is_completed() and compact.is_completed()
    assert compact.data == plain.data
    assert compact.data["rounds"] == 40
    assert compact.data["late_rounds"] == (40 // late_every if late_every else 0)
    assert max(sizes) < 20_000
    assert max(sizes[20:]) < 1.3 * max(sizes[:20])  # no growth with the length of the case
    assert len(compact.tasks) < len(plain.tasks) / 5


def test_a_hundred_rounds_keep_the_state_flat():
    _, sizes = run(100, 0, compacted=True)
    assert sizes[-1] <= sizes[10] * 1.1
