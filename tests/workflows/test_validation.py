"""Validation of BPMN diagrams before deploy: every problem with its element, code and severity; bad
files (not XML, not BPMN, bombs, oversized) refused with a clear message; other modelers' diagrams
accepted with warnings; our demo diagrams clean."""
import time
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy import select

from app.extensions import db
from app.models import ProcessDefinition
from workflows import definitions, handlers, validation
from workflows import forms as form_defs

DIAGRAMS = Path(__file__).with_name("diagrams")
BPMN_FOLDER = definitions.BPMN_FOLDER
NAMES = {
    "forms": set(form_defs.load_folder(BPMN_FOLDER / "forms")),
    "handlers": set(handlers.REGISTRY),
    "groups": {"connection", "metering", "billing", "legal", "team_lead"},
    "checks": set(handlers.CHECKS),
    "messages": set(handlers.MESSAGES),
}
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
BPMN = validation.BPMN


def check(name_or_xml, **names):
    """Problems of a diagram in tests/workflows/diagrams/ (by file name) or of the XML given."""
    named = isinstance(name_or_xml, str) and not name_or_xml.lstrip().startswith("<")
    xml = (DIAGRAMS / name_or_xml).read_bytes() if named else name_or_xml
    return validation.check(xml, **{**NAMES, **names})


def found(problems) -> set[tuple]:
    return {(p.element, p.code, p.severity) for p in problems}


def only(problems, code):
    return [p for p in problems if p.code == code]


# --- the file -----------------------------------------------------------------------------------

def test_not_xml_is_refused_with_the_line():
    [problem] = check("not_xml.bpmn")
    assert (problem.element, problem.code, problem.severity) == (None, "not-xml", "error")
    assert "line 1" in str(problem.message)
    [problem] = check(b'<?xml version="1.0"?>\n<bpmn:definitions xmlns:bpmn="x">\n<a></b>')
    assert problem.code == "not-xml" and "line 3" in str(problem.message)


@pytest.mark.parametrize("junk", [b"", b"   \n", "", None, 42])
def test_nothing_at_all_is_refused(junk):
    [problem] = validation.check(junk, **NAMES)
    assert problem.code in ("empty", "not-xml") and problem.severity == "error"


def test_xml_that_is_not_bpmn_is_refused():
    [problem] = check("not_bpmn.xml")
    assert (problem.element, problem.code, problem.severity) == (None, "not-bpmn", "error")
    assert "<invoice>" in str(problem.message) and "bpmn:definitions" in str(problem.message)


def test_an_xml_bomb_is_refused_before_it_expands():
    started = time.perf_counter()
    [problem] = check("billion_laughs.bpmn")
    assert time.perf_counter() - started < 0.5
    assert (problem.element, problem.code, problem.severity) == (None, "doctype", "error")
    assert "DOCTYPE" in str(problem.message)
    with pytest.raises(definitions.DefinitionError):
        definitions.parse((DIAGRAMS / "billion_laughs.bpmn").read_bytes())


def test_a_doctype_behind_comments_or_in_utf16_is_found_too():
    bomb = (DIAGRAMS / "billion_laughs.bpmn").read_text()
    sneaky = bomb.replace('<?xml version="1.0"?>', '<?xml version="1.0"?>\n<!-- hello -->\n<?pi x?>')
    assert [p.code for p in check(sneaky.encode())] == ["doctype"]
    utf16 = bomb.replace('<?xml version="1.0"?>', '<?xml version="1.0" encoding="UTF-16"?>').encode("utf-16")
    assert [p.code for p in check(utf16)] == ["doctype"]
    assert [p.code for p in check(sneaky)] == ["doctype"]  # given as text


def test_an_oversized_file_is_refused_before_parsing():
    demo = (BPMN_FOLDER / "demo_meter_replacement.bpmn").read_bytes()
    padded = demo.replace(b"</bpmn:definitions>", b"<!--" + b"x" * validation.MAX_BYTES + b"--></bpmn:definitions>")
    started = time.perf_counter()
    [problem] = check(padded)
    assert time.perf_counter() - started < 0.5
    assert (problem.element, problem.code, problem.severity) == (None, "too-large", "error")
    assert "2.1 MB" in str(problem.message) and "2.0 MB" in str(problem.message)


def test_a_diagram_with_too_many_elements_is_refused():
    count = validation.MAX_FLOW_ELEMENTS
    tasks = "".join(f'<bpmn:task id="t{i}"/><bpmn:sequenceFlow id="f{i}" sourceRef="t{i}" targetRef="t{i + 1}"/>'
                    for i in range(count))
    xml = (f'<bpmn:definitions xmlns:bpmn="{BPMN}"><bpmn:process id="big" isExecutable="true">'
           f'{tasks}</bpmn:process></bpmn:definitions>')
    [problem] = check(xml)
    assert (problem.element, problem.code, problem.severity) == (None, "too-many-elements", "error")
    assert str(count * 2) in str(problem.message)


def test_not_exactly_one_executable_process():
    [problem] = check("two_processes.bpmn")
    assert (problem.element, problem.code, problem.severity) == (None, "several-processes", "error")
    assert "first, second" in str(problem.message)
    [problem] = check(f'<bpmn:definitions xmlns:bpmn="{BPMN}"/>'.encode())
    assert problem.code == "no-process"


def test_duplicate_ids_dangling_flows_and_a_task_that_forks():
    problems = check("structure.bpmn")
    assert found(problems) >= {
        ("twin", "duplicate-id", "error"),
        ("f5", "dangling-flow", "error"),
        ("adrift", "bad-attachment", "error"),
        ("fork", "multiple-outgoing", "error"),
    }
    assert "Event_gone" in str(only(problems, "dangling-flow")[0].message)


def test_what_only_spiffworkflow_objects_to_is_mapped_to_its_element():
    [problem] = check("spiff_refuses.bpmn")
    assert (problem.element, problem.code, problem.severity) == ("endless", "spiff", "error")
    assert "loopMaximum" in str(problem.message)


# --- the flow -----------------------------------------------------------------------------------

def test_no_start_and_no_end_event_on_the_pool():
    assert found(check("no_start_no_end.bpmn")) == {("pool", "no-start-event", "error"),
                                                    ("pool", "no-end-event", "error")}


def test_unreachable_elements_and_loops_without_an_end():
    assert found(check("flow.bpmn")) == {
        ("lonely", "unreachable", "error"),
        ("spin", "no-path-to-end", "warning"),
        ("spin_again", "no-path-to-end", "warning"),
    }


def test_a_subprocess_is_entered_and_left_and_its_inside_checked():
    # The boundary timer's path counts; the inner start reaches the inner end; an inner orphan does not.
    assert found(check("subprocess.bpmn")) == {("sub_orphan", "unreachable", "error")}
    broken = (DIAGRAMS / "subprocess.bpmn").read_bytes().replace(
        b'<bpmn:startEvent id="sub_start"><bpmn:outgoing>s1</bpmn:outgoing></bpmn:startEvent>', b"")
    assert ("sub", "no-start-event", "error") in found(check(broken))


def test_gateways():
    assert found(check("gateways.bpmn")) == {
        ("all_conditional", "no-default-flow", "error"),
        ("f_default", "default-with-condition", "warning"),
        ("f_unconditional", "flow-without-condition", "error"),
        ("f_right", "condition-ignored", "warning"),
    }
    [problem] = only(check("gateways.bpmn"), "no-default-flow")
    assert "may all fail" in str(problem.message)


# --- names --------------------------------------------------------------------------------------

def test_unknown_names_and_bad_properties():
    problems = check("names.bpmn")
    assert found(problems) == {
        ("start", "unknown-form", "error"),
        ("start", "unknown-check", "error"),
        ("unknown_form", "unknown-form", "error"),
        ("no_form", "missing-form", "error"),
        ("unknown_group", "unknown-group", "error"),
        ("bad_actor", "bad-actor", "error"),
        ("bad_actor", "bad-sla", "error"),
        ("no_handler", "missing-handler", "error"),
        ("unknown_handler", "unknown-handler", "error"),
    }
    messages = {(p.element, p.code): str(p.message) for p in problems}
    assert "no_such_form" in messages[("unknown_form", "unknown-form")]
    assert "astronauts" in messages[("unknown_group", "unknown-group")]
    assert "launch_rocket" in messages[("unknown_handler", "unknown-handler")]
    assert "robot" in messages[("bad_actor", "bad-actor")]


def test_the_names_given_are_the_ones_known():
    problems = check("names.bpmn", forms=NAMES["forms"] | {"no_such_form", "no_such_application"},
                     groups={"astronauts"}, handlers={"launch_rocket"}, checks={"no_such_check"})
    assert {p.code for p in problems} == {"missing-form", "bad-actor", "bad-sla", "missing-handler"}


def test_messages():
    assert found(check("messages.bpmn")) == {
        ("never_sent", "unknown-message", "warning"),
        ("undefined", "undefined-message", "error"),
    }
    # A message the diagram's own webhook task waits for is sent by GridCase (the outbox answers it).
    assert validation.errors(check(Path(__file__).with_name("outbox.bpmn").read_bytes())) == []
    assert not only(check(Path(__file__).with_name("outbox.bpmn").read_bytes()), "unknown-message")


# --- expressions and timers ---------------------------------------------------------------------

def test_scripts_and_conditions_go_through_the_sandbox():
    problems = check("expressions.bpmn")
    assert found(problems) == {
        ("escape", "script-not-allowed", "error"),
        ("empty", "empty-script", "error"),
        ("with_prescript", "script-not-allowed", "error"),
        ("f_dunder", "condition-not-allowed", "error"),
        ("f_juel", "foreign-expression", "error"),
    }
    assert "Import is not allowed" in str(only(problems, "script-not-allowed")[0].message)


def test_timers():
    problems = check("timers.bpmn")
    assert found(problems) == {
        ("unquoted", "timer-unquoted", "error"),
        ("bad_duration", "bad-timer", "error"),
        ("empty_duration", "bad-timer", "error"),
        ("bad_date", "bad-timer", "error"),
        ("duration_as_date", "bad-timer", "error"),
        ("bad_cycle", "bad-timer", "error"),
        ("forbidden", "timer-expression", "error"),
        ("failing", "timer-expression", "error"),
        ("not_text", "bad-timer", "error"),
    }
    messages = {p.element: str(p.message) for p in problems}
    assert messages["unquoted"] == 'P10D must be written in quotes, as a string: "P10D".'
    assert '"P10D"' in messages["bad_duration"] and "division by zero" in messages["failing"]


# --- other modelers -----------------------------------------------------------------------------

def with_our_properties(xml: bytes, properties: dict, operators: dict = None) -> bytes:
    """The diagram with spiffworkflow properties (and service-task handlers) added, as an analyst
    would in our modeler."""
    root = etree.fromstring(xml)
    for element in root.iter():
        key = element.get("id")
        if key not in properties and key not in (operators or {}):
            continue
        extensions = element.find(f"{{{BPMN}}}extensionElements")
        if extensions is None:
            extensions = etree.Element(f"{{{BPMN}}}extensionElements")
            element.insert(0, extensions)
        if key in (operators or {}):
            etree.SubElement(extensions, f"{{{SPIFF}}}serviceTaskOperator", id=operators[key])
        if key in properties:
            holder = etree.SubElement(extensions, f"{{{SPIFF}}}properties")
            for name, value in properties[key].items():
                etree.SubElement(holder, f"{{{SPIFF}}}property", name=name, value=value)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def test_a_camunda_modeler_diagram_needs_only_our_properties():
    xml = (DIAGRAMS / "camunda_modeler.bpmn").read_bytes()
    problems = check(xml)
    assert validation.errors(problems) == [p for p in problems if p.code in ("missing-form", "missing-handler")]
    [missing] = only(problems, "missing-form")
    assert missing.element == "Activity_review" and "camunda:formKey is ignored" in str(missing.message)

    ours = with_our_properties(xml, {"Activity_review": {"formKey": "demo_review", "candidateGroup": "metering"}},
                               operators={"Activity_act": "noop"})
    problems = check(ours)
    assert validation.errors(problems) == []
    assert {(p.element, str(p.message).split(" ")[0]) for p in problems} == {
        ("meter_check", "camunda:historyTimeToLive"),
        ("StartEvent_1", "camunda:initiator"),
        ("Activity_review", "camunda:formKey"),
        ("Activity_review", "camunda:assignee"),
        ("Activity_review", "camunda:candidateGroups"),
        ("Activity_review", "camunda:inputOutput"),  # once, not once per parameter inside
        ("Activity_review", "camunda:taskListener"),
        ("Activity_act", "camunda:asyncBefore"),
        ("Activity_act", "camunda:delegateExpression"),
    }
    assert {(p.code, p.severity) for p in problems} == {("vendor-extension", "warning")}
    assert "Camunda" in str(problems[0].message)  # colours and the modeler's notes are not mentioned


def test_a_camunda_8_diagram_names_zeebe():
    problems = check("camunda8_zeebe.bpmn")
    [missing] = only(problems, "missing-form")
    assert "zeebe:formDefinition" in str(missing.message)
    assert ("Activity_notify", "vendor-extension", "warning") in found(problems)
    ours = with_our_properties((DIAGRAMS / "camunda8_zeebe.bpmn").read_bytes(),
                               {"Activity_review": {"formKey": "demo_review", "candidateGroup": "metering"}},
                               operators={"Activity_notify": "noop"})
    assert validation.errors(check(ours)) == []


def test_a_signavio_export():
    problems = check("signavio.bpmn")
    process = "sid-2f0d4f1a-8a0e-4c47-a2a4-6e5b1c0f4a77"
    assert validation.errors(problems) == only(problems, "not-executable")
    assert only(problems, "not-executable")[0].element == process
    ignored = [p.element for p in only(problems, "vendor-extension")]
    # Each element once, however many signavioMetaData it carries.
    assert sorted(ignored) == sorted([process, "sid-START", "sid-CHECK", "sid-GW", "sid-VISIT", "sid-END", "sid-F1"])
    executable = (DIAGRAMS / "signavio.bpmn").read_bytes().replace(b'isExecutable="false"', b'isExecutable="true"')
    assert validation.errors(check(executable)) == []


def test_a_spiffworkflow_diagram_is_clean():
    assert check("spiff_example.bpmn") == []


# --- with the application: defaults, demo diagrams, deploy --------------------------------------

@pytest.mark.parametrize("path", sorted(BPMN_FOLDER.glob("*.bpmn")), ids=lambda p: p.name)
def test_every_demo_diagram_validates(app, path):
    assert validation.errors(validation.check(path.read_bytes())) == []


def test_the_spiffworkflow_example_deploys(app):
    row, created = definitions.deploy((DIAGRAMS / "spiff_example.bpmn").read_bytes(), source="test")
    assert created and (row.key, row.version, row.case_prefix) == ("spiff_example", 1, "ПР")


@pytest.mark.parametrize("name", ["names.bpmn", "billion_laughs.bpmn", "not_xml.bpmn", "timers.bpmn",
                                  "camunda_modeler.bpmn"])
def test_deploy_refuses_a_diagram_with_errors(app, name):
    with pytest.raises(definitions.DefinitionError) as refused:
        definitions.deploy((DIAGRAMS / name).read_bytes(), source="test")
    assert refused.value.problems and all(isinstance(e, str) and isinstance(m, str) for e, m in refused.value.problems)
    assert db.session.scalar(select(ProcessDefinition)) is None


def test_deploy_reports_element_and_reason(app):
    with pytest.raises(definitions.DefinitionError) as refused:
        definitions.deploy((DIAGRAMS / "names.bpmn").read_bytes(), source="test")
    problems = dict(refused.value.problems)
    assert "launch_rocket" in problems["unknown_handler"] and "no_such_form" in problems["unknown_form"]


def test_warnings_do_not_stop_a_deploy(app):
    # The test diagram waits for a message no part of GridCase sends: a warning, not an error.
    xml = Path(__file__).with_name("withdrawal.bpmn").read_bytes()
    assert [p.code for p in validation.check(xml)] == ["unknown-message"]
    _row, created = definitions.deploy(xml, source="test")
    assert created


def test_validate_keeps_its_tuples(app):
    parsed = definitions.parse((BPMN_FOLDER / "demo_meter_replacement.bpmn").read_bytes())
    assert definitions.validate(parsed, *definitions.known_names()) == []
    assert definitions.validate(parsed, set(), set(), set(), set())[0] == (
        "start", "Неизвестная форма demo_request (нет файла bpmn/forms/demo_request.json).")


def test_problems_render_as_dicts(app):
    [problem] = validation.check(b"not xml")
    assert problem.as_dict() == {"element": None, "severity": "error", "code": "not-xml",
                                 "message": str(problem.message)}


# --- speed --------------------------------------------------------------------------------------

def test_the_technological_connection_diagram_is_checked_fast():
    xml = (BPMN_FOLDER / "technological_connection.bpmn").read_bytes()
    check(xml)  # imports and the first sandbox compilations
    started = time.perf_counter()
    for _ in range(5):
        assert validation.errors(check(xml)) == []
    assert (time.perf_counter() - started) / 5 < 0.2
