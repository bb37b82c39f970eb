"""The sandbox for BPMN conditions and scripts: known escapes are refused, bounds hold, useful code runs,
and SpiffWorkflow runs gateways and script tasks through it."""
import sys
import threading
import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from xml.sax.saxutils import escape

import pytest
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.util.task import TaskState

from workflows.sandbox import (
    HELPERS,
    LOCAL_TIMEZONE,
    SandboxError,
    check,
    evaluate,
    execute,
    script_engine,
)

# --- escapes --------------------------------------------------------------------------------------

ESCAPES = [
    ("eval", "__import__('os')"),
    ("eval", "().__class__.__bases__[0].__subclasses__()"),
    ("eval", "[c for c in ().__class__.__base__.__subclasses__()]"),
    ("eval", "(lambda: 1)()"),
    ("eval", "getattr(1, 'real')"),
    ("eval", "open('/etc/passwd')"),
    ("eval", "eval('1')"),
    ("eval", "exec('x=1')"),
    ("eval", "globals()"),
    ("eval", "x.__dict__"),
    ("exec", "import os"),
    ("exec", "from os import system"),
    ("exec", "while True: pass"),
    ("exec", "def f(): pass"),
    ("exec", "class A: pass"),
    ("exec", "try:\n    x = 1\nexcept Exception:\n    pass"),
    ("exec", "del x"),
    ("exec", "global x"),
    ("exec", "x.real = 1"),
    ("exec", "len = 1"),
    ("eval", "type(1)"),
    ("eval", "_secret"),
    ("eval", "x._private"),
    ("eval", "sorted([1], _key=1)"),
    ("eval", "dict(**x)"),
    ("eval", "max(*x)"),
    ("eval", "x.format(1)"),
    ("eval", "(y := 1)"),
    ("eval", "1 << 10**9"),
    ("eval", "x.get('f')()"),
    ("eval", "[" + "1, " * 2500 + "]"),  # more than 2,000 nodes in under 10,000 characters
    ("eval", "-" * 150 + "1"),  # nested deeper than 100 levels
    ("eval", "1" + " " * 20_000),  # longer than 10,000 characters
]


@pytest.mark.parametrize(("mode", "source"), ESCAPES, ids=[s[:40] for _, s in ESCAPES])
def test_escapes_are_refused_by_the_check(mode, source):
    with pytest.raises(SandboxError):
        check(source, mode)


BOMBS = [
    "9 ** 9 ** 9",
    "'a' * 10**9",
    "range(10**9)",
    "[1] * 10**8",
    "10 ** 1001",
    "(10 ** 100) ** 2",
    "(2 ** 1000) ** 1000",
    "(10 ** 99) ** 101",
    "sum(range(10**7))",
    "'%1000000000d' % 1",
    "f'{1:>1000000000}'",
    "('a' * 100000).replace('a', 'aa')",
    "','.join(['a'] * 100000)",
    "str.join('', ['ab'] * 100000)",
    "['a'] * 60000 + ['b'] * 60000",
    "sum([[1]] * 10, [])",
    "round(5, -10**9)",
    "int(big)",
    "Decimal('1e100000000')",
    "f'{big:f}'",
    "text + 'a' * 99000",
]


@pytest.mark.parametrize("source", BOMBS)
def test_values_that_would_exhaust_memory_are_refused_at_run_time(source):
    check(source)  # legal Python for the check; the guards stop it while running
    with pytest.raises(SandboxError) as caught:
        evaluate(source, {"big": Decimal("1e100000000"), "text": "b" * 2000})
    assert "took longer" not in caught.value.reason  # a size guard stopped it, not the clock


def test_an_augmented_assignment_is_bounded_too():
    with pytest.raises(SandboxError, match="at most 100000 are allowed"):
        execute("s = 'a' * 1000\nfor i in range(10):\n    s += s", {})
    with pytest.raises(SandboxError, match="more than 10000 digits"):
        execute("x = 7\nfor i in range(20):\n    x *= x", {})


@pytest.mark.parametrize("source", [
    "sum(i * j for i in range(100000) for j in range(100000))",
    "[[i, j] for i in range(100000) for j in range(100000)]",
    "add_working_days(date(2025, 1, 1), 10**9)",  # a loop inside a helper is stopped as well
])
def test_a_long_computation_is_stopped_by_the_time_budget(source):
    started = time.perf_counter()
    with pytest.raises(SandboxError, match="took longer than 50 ms"):
        evaluate(source, {})
    assert time.perf_counter() - started < 1


def test_a_long_script_loop_is_stopped_and_the_line_reported():
    script = "total = 0\nfor i in range(100000):\n    for j in range(100000):\n        total += i * j\n"
    started = time.perf_counter()
    with pytest.raises(SandboxError) as caught:
        execute(script, {}, timeout_ms=20)
    assert time.perf_counter() - started < 1
    assert caught.value.lineno in (2, 3, 4)
    assert "took longer than 20 ms" in caught.value.reason


def test_the_budget_is_per_thread_and_the_previous_tracer_comes_back():
    def tracer(frame, event, arg):
        return None

    sys.settrace(tracer)
    try:
        results = {}

        def slow():
            try:
                evaluate("sum(i * j for i in range(100000) for j in range(100000))", {})
            except SandboxError as error:
                results["slow"] = error

        def quick():
            results["quick"] = [evaluate("sum(range(n))", {"n": n}, timeout_ms=1000) for n in range(200)]

        threads = [threading.Thread(target=slow), threading.Thread(target=quick)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(5)
        assert isinstance(results["slow"], SandboxError)
        assert results["quick"] == [n * (n - 1) // 2 for n in range(200)]
        assert sys.gettrace() is tracer
    finally:
        sys.settrace(None)


def test_errors_say_where():
    with pytest.raises(SandboxError) as caught:
        check("x = 1\ny = x.__class__", "exec")
    error = caught.value
    assert (error.lineno, error.col) == (2, 5)
    assert str(error) == f"line 2, col 5: {error.reason}"
    assert "__class__" in error.reason
    with pytest.raises(SandboxError, match="Lambda is not allowed"):
        check("(lambda: 1)()")
    with pytest.raises(SandboxError, match="syntax error"):
        check("1 +")
    with pytest.raises(SandboxError, match="While is not allowed"):
        check("x = 0\nwhile x:\n    pass", "exec")


def test_a_script_cannot_store_functions_or_generators():
    with pytest.raises(SandboxError, match="function"):
        execute("f = len", {})
    with pytest.raises(SandboxError, match="generator"):
        execute("g = (x for x in range(3))", {})
    with pytest.raises(SandboxError):
        evaluate("str", {})


# --- what analysts write ----------------------------------------------------------------------------

def test_decimal_arithmetic():
    data = {"price": Decimal("4.57"), "kwh": Decimal("123.456")}
    assert evaluate("(price * kwh).quantize(Decimal('0.01'))", data) == Decimal("564.19")
    assert evaluate("sum([Decimal('0.10')] * 3) == Decimal('0.30')", {}) is True
    assert evaluate("round(Decimal('2.675'), 2)", {}) == Decimal("2.68")


def test_date_arithmetic():
    data = {"filed": date(2025, 3, 1)}
    assert evaluate("filed + timedelta(days=30)", data) == date(2025, 3, 31)
    assert evaluate("(date(2025, 12, 31) - filed).days", data) == 305
    assert evaluate("filed.isoformat()", data) == "2025-03-01"
    assert evaluate("datetime(2025, 3, 1, 12, 30).date() == filed", data) is True
    assert evaluate("f'{filed:%d.%m.%Y}'", data) == "01.03.2025"
    assert evaluate("today()", {}) == datetime.now(LOCAL_TIMEZONE).date()
    moment = evaluate("now()", {})
    assert moment.tzinfo is LOCAL_TIMEZONE
    assert abs(moment - datetime.now(LOCAL_TIMEZONE)) < timedelta(seconds=5)


def test_comprehensions_and_dict_get():
    data = {"meters": [{"id": 1, "kwh": 10}, {"id": 2, "kwh": None}, {"id": 3, "kwh": 5}],
            "applicant": {"kind": "individual"}}
    assert evaluate("[m['id'] for m in meters if m.get('kwh')]", data) == [1, 3]
    assert evaluate("{m['id']: m.get('kwh') or 0 for m in meters}", data) == {1: 10, 2: 0, 3: 5}
    assert evaluate("sum(m.get('kwh') or 0 for m in meters)", data) == 15
    assert evaluate("applicant.get('kind', 'legal') == 'individual'", data) is True
    assert evaluate("applicant.get('inn') is None", data) is True
    assert evaluate("sorted(applicant.keys())", data) == ["kind"]


def test_working_days_across_the_new_year_holidays():
    # 31.12.2025 and 1-11.01.2026 are days off: the first working day after 30.12.2025 is 12.01.2026.
    assert evaluate("add_working_days(date(2025, 12, 30), 1) == date(2026, 1, 12)", {}) is True
    assert evaluate("add_working_days(date(2025, 12, 30), 3) == date(2026, 1, 14)", {}) is True
    assert evaluate("working_days_between(date(2025, 12, 30), date(2026, 1, 14))", {}) == 3
    assert evaluate("is_working_day(date(2025, 11, 1))", {}) is True  # the working Saturday


def test_string_methods():
    data = {"name": "  Иванов Иван ", "inn": "7701234567"}
    assert evaluate("name.strip().upper()", data) == "ИВАНОВ ИВАН"
    assert evaluate("name.split()", data) == ["Иванов", "Иван"]
    assert evaluate("inn.startswith('77') and len(inn) == 10", data) is True
    assert evaluate("'-'.join(inn[i:i + 2] for i in range(0, 6, 2))", data) == "77-01-23"
    assert evaluate("inn.replace('77', 'RU-', 1)", data) == "RU-01234567"
    assert evaluate("f'{inn!r} {len(inn):03d}'", data) == "'7701234567' 010"


def test_a_script_updates_the_data_in_place():
    data = {"amount": Decimal("150.00"), "lines": []}
    script = (
        "total = amount * 2\n"
        "if total > 200:\n"
        "    level = 'high'\n"
        "else:\n"
        "    level = 'low'\n"
        "for i in range(3):\n"
        "    lines.append(f'line {i}')\n"
        "count: int = len(lines)\n"
        "count += 1\n"
        "summary = {'total': total, 'level': level}\n"
        "summary['count'] = count\n"
    )
    result = execute(script, data)
    assert result is data
    assert data["total"] == Decimal("300.00")
    assert data["level"] == "high"
    assert data["lines"] == ["line 0", "line 1", "line 2"]
    assert data["summary"] == {"total": Decimal("300.00"), "level": "high", "count": 4}
    assert not set(data) & set(HELPERS)


def test_a_failed_script_writes_nothing_to_the_top_level():
    data = {"a": 1}
    with pytest.raises(ZeroDivisionError):
        execute("b = 2\nc = a / 0", data)
    assert data == {"a": 1}


def test_helpers_win_over_data_and_cannot_be_replaced():
    data = {"date": "2025-01-01"}
    assert evaluate("date(2025, 1, 1).year", data) == 2025
    execute("d = date(2025, 1, 2)", data)
    assert data == {"date": "2025-01-01", "d": date(2025, 1, 2)}


def test_no_builtins_are_reachable():
    with pytest.raises(NameError):
        evaluate("print", {})
    with pytest.raises(NameError):
        evaluate("chr", {})


# --- SpiffWorkflow ----------------------------------------------------------------------------------

DIAGRAM = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
                  id="definitions" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="sandboxed" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>to_script</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="to_script" sourceRef="start" targetRef="double" />
    <bpmn:scriptTask id="double">
      <bpmn:incoming>to_script</bpmn:incoming><bpmn:outgoing>to_gateway</bpmn:outgoing>
      <bpmn:script>{script}</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="to_gateway" sourceRef="double" targetRef="big_enough" />
    <bpmn:exclusiveGateway id="big_enough" default="to_small">
      <bpmn:incoming>to_gateway</bpmn:incoming>
      <bpmn:outgoing>to_big</bpmn:outgoing><bpmn:outgoing>to_small</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:sequenceFlow id="to_big" sourceRef="big_enough" targetRef="end_big">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{condition}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="to_small" sourceRef="big_enough" targetRef="end_small" />
    <bpmn:endEvent id="end_big"><bpmn:incoming>to_big</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="end_small"><bpmn:incoming>to_small</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""


def run_diagram(tmp_path, amount, script="total = amount * 2", condition="amount > 100") -> BpmnWorkflow:
    path = tmp_path / "sandboxed.bpmn"
    path.write_text(DIAGRAM.format(script=escape(script), condition=escape(condition)), encoding="utf-8")
    parser = SpiffBpmnParser()
    parser.add_bpmn_file(str(path))
    workflow = BpmnWorkflow(parser.get_spec("sandboxed"), script_engine=script_engine())
    for task in workflow.get_tasks(state=TaskState.READY):
        task.data["amount"] = amount
    workflow.do_engine_steps()
    return workflow


def finished_at(workflow: BpmnWorkflow) -> set[str]:
    return {t.task_spec.name for t in workflow.get_tasks(state=TaskState.COMPLETED)} & {"end_big", "end_small"}


@pytest.mark.parametrize(("amount", "end"), [(150, "end_big"), (100, "end_small"), (Decimal("100.01"), "end_big")])
def test_spiff_runs_gateways_and_scripts_in_the_sandbox(tmp_path, amount, end):
    workflow = run_diagram(tmp_path, amount)
    assert workflow.is_completed()
    assert finished_at(workflow) == {end}
    assert workflow.last_task.data["total"] == amount * 2
    assert not set(workflow.last_task.data) & set(HELPERS)


@pytest.mark.parametrize(("script", "condition"), [
    ("x = ().__class__", "amount > 100"),
    ("total = amount * 2", "__import__('os').system('true') == 0"),
    ("while True:\n    pass", "amount > 100"),
    ("total = 'a' * 10**9", "amount > 100"),
])
def test_spiff_reports_what_the_sandbox_refuses(tmp_path, script, condition):
    with pytest.raises(WorkflowException) as caught:
        run_diagram(tmp_path, 150, script=script, condition=condition)
    wrapped = caught.value.__cause__ or caught.value.__context__
    assert isinstance(wrapped, SandboxError)
    assert "SandboxError" in str(caught.value) or caught.value.error_type == "SandboxError"
