"""Everything wrong with a BPMN diagram, element by element, found before it is deployed.

`check(xml)` returns a list of `Problem`s, each naming the BPMN element (the id bpmn-js selects; None
for the document), a severity, a message in the user's language and a stable code. Errors block a
deploy; warnings are shown and the diagram still deploys. It never raises for bad input: a file that
is not XML, not BPMN, too large or an XML bomb comes back as a problem like any other.

What is looked at, in order:

- the file itself: size (before parsing), no DTD or entities (refused before lxml sees them), well-formed
  XML, BPMN's root element, the number of flow elements, unique ids;
- the processes: exactly one executable top-level process (processes it calls by a call activity may
  sit next to it), then SpiffWorkflow's own parser, whose first complaint is mapped to its element;
- the flow of every process and subprocess: start and end events, sequence flows that point nowhere,
  elements no start event leads to (error), elements from which no end event can be reached (warning),
  tasks with several outgoing flows, gateway conditions and default flows;
- our extension properties (bpmn/README.md): forms, groups, handlers, checks, actors, slaDays;
- messages: a messageRef to a message the diagram does not define, a message nothing in GridCase sends;
- conditions and scripts through the sandbox (workflows.sandbox), timers evaluated there as well;
- extensions of other modelers (Camunda, Zeebe, Activiti, Flowable, Signavio, ...): ignored here, so
  each one is a warning on its element.
"""
from __future__ import annotations

import ast
import logging
import math
import re
from collections import defaultdict, deque
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from lxml import etree

from workflows import properties

log = logging.getLogger(__name__)

MAX_BYTES = 2 * 1024 * 1024
MAX_FLOW_ELEMENTS = 2_000

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XML = "http://www.w3.org/XML/1998/namespace"
# The diagram interchange: shapes, edges and their bounds.
DIAGRAM = frozenset(("http://www.omg.org/spec/BPMN/20100524/DI", "http://www.omg.org/spec/DD/20100524/DC",
                     "http://www.omg.org/spec/DD/20100524/DI"))
# What other tools add that changes nothing about how a process runs: colours, the modeler's own notes.
COSMETIC = frozenset((
    "http://bpmn.io/schema/bpmn/biocolor/1.0",
    "http://www.omg.org/spec/BPMN/non-normative/color/1.0",
    "http://camunda.org/schema/modeler/1.0",
))
KNOWN_NAMESPACES = frozenset((BPMN, SPIFF, XSI, XML)) | DIAGRAM | COSMETIC
VENDORS = {
    "http://camunda.org/schema/1.0/bpmn": "Camunda",
    "http://camunda.org/schema/zeebe/1.0": "Camunda 8 (Zeebe)",
    "http://activiti.org/bpmn": "Activiti",
    "http://flowable.org/bpmn": "Flowable",
    "http://www.signavio.com": "Signavio",
    "http://www.jboss.org/drools": "jBPM",
}  # any other namespace is named by its URI

ACTIVITIES = frozenset(("task", "userTask", "manualTask", "serviceTask", "scriptTask", "sendTask", "receiveTask",
                        "businessRuleTask", "callActivity", "subProcess", "transaction", "adHocSubProcess"))
EVENTS = frozenset(("startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent"))
GATEWAYS = frozenset(("exclusiveGateway", "inclusiveGateway", "parallelGateway", "eventBasedGateway",
                      "complexGateway"))
FLOW_NODES = ACTIVITIES | EVENTS | GATEWAYS
SCOPES = frozenset(("subProcess", "transaction", "adHocSubProcess"))
CONDITIONAL = frozenset(("exclusiveGateway", "inclusiveGateway"))
# SpiffWorkflow takes a single flow out of anything else (and refuses more).
MANY_OUTGOING = GATEWAYS | {"startEvent"}
CATCHING = frozenset(("startEvent", "intermediateCatchEvent", "boundaryEvent", "receiveTask"))
UNSUPPORTED = frozenset(("complexGateway",))
# The elements a modeler shows and selects; a problem inside one (a timer definition, a condition)
# is reported on it.
SELECTABLE = FLOW_NODES | {"sequenceFlow", "participant", "lane", "messageFlow", "textAnnotation", "association",
                           "dataObjectReference", "dataStoreReference", "group", "process", "message", "signal",
                           "error", "escalation"}

_FLOW_TAGS = tuple(f"{{{BPMN}}}{name}" for name in sorted(FLOW_NODES | {"sequenceFlow"}))

# ISO 8601, as the timers take them; SpiffWorkflow's own parser is run on top.
_NUMBER = r"\d+(?:[.,]\d+)?"
ISO_DURATION = re.compile(
    rf"P(?=\d|T\d)(?:{_NUMBER}Y)?(?:{_NUMBER}M)?(?:{_NUMBER}W)?(?:{_NUMBER}D)?"
    rf"(?:T(?=\d)(?:{_NUMBER}H)?(?:{_NUMBER}M)?(?:{_NUMBER}S)?)?")
ISO_CYCLE = re.compile(r"R\d*/\S+")
ISO_DATE = re.compile(r"\d{4}-?\d{2}-?\d{2}(?:[T ]\S+)?|\d{4}-?W\d{2}-?\d(?:T\S+)?")
# A Camunda or Zeebe expression where ours are Python: ${amount > 100}, #{...}, =amount > 100.
FOREIGN_EXPRESSION = re.compile(r"\s*(?:[$#]\{.*\}|=(?!=).*)\s*", re.S)
# What may come before the root element: the XML declaration, comments, processing instructions.
_PROLOG = re.compile(r"(?:\s|<\?.*?\?>|<!--.*?-->)*", re.S)


@dataclass(frozen=True)
class Problem:
    element: str | None  # the BPMN element id (what bpmn-js selects), None for the document
    severity: str  # "error" (blocks deploy) | "warning"
    message: object  # a lazy string in the user's language; str() renders it
    code: str  # stable, for machines: "unknown-form", "unreachable", ...

    def __str__(self) -> str:
        return f"{self.element or 'document'}: {self.message}"

    def as_dict(self) -> dict:
        return {"element": self.element, "severity": self.severity, "message": str(self.message), "code": self.code}


def safe_parser(encoding: str | None = None) -> etree.XMLParser:
    """lxml's parser with nothing fetched and nothing expanded (a DTD is refused before parsing)."""
    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False,
                           encoding=encoding)


def errors(problems) -> list[Problem]:
    return [p for p in problems if p.severity == "error"]


def check(xml: bytes | str, *, forms=None, handlers=None, groups=None, checks=None, messages=None) -> list[Problem]:
    """Every problem of the diagram. The known names default to what is deployed here
    (definitions.known_names(), handlers.MESSAGES); pass them to check many diagrams at once."""
    if None in (forms, handlers, groups, checks):
        from workflows import definitions

        known = definitions.known_names()
        forms, handlers, groups, checks = (given if given is not None else default
                                           for given, default in zip((forms, handlers, groups, checks), known))
    if messages is None:
        from workflows.handlers import MESSAGES as messages
    report = _Report()
    try:
        _Diagram(report, _Names(set(forms), set(handlers), set(groups), set(checks), set(messages))).check(xml)
    except Exception as error:  # a gap here must not turn into a crash of the page that shows the problems
        log.exception("checking a diagram failed")
        report.error(None, "internal", _l("The diagram could not be checked: %(reason)s", reason=repr(error)))
    return report.problems


@dataclass(frozen=True)
class _Names:
    forms: set
    handlers: set
    groups: set
    checks: set
    messages: set


class _Report:
    def __init__(self):
        self.problems: list[Problem] = []
        self._seen: set = set()

    def add(self, element, severity, code, message, key=None):
        # One problem per element, code and subject: a flow seen from both of its ends counts once.
        seen = (element, code, key)
        if seen not in self._seen:
            self._seen.add(seen)
            self.problems.append(Problem(element, severity, message, code))

    def error(self, element, code, message, key=None):
        self.add(element, "error", code, message, key)

    def warning(self, element, code, message, key=None):
        self.add(element, "warning", code, message, key)

    def has_error(self, element=None) -> bool:
        return any(p.severity == "error" and (element is None or p.element == element) for p in self.problems)


def _local(element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def _is_bpmn(element, *names) -> bool:
    if not isinstance(element.tag, str) or not element.tag.startswith("{" + BPMN + "}"):
        return False
    return not names or _local(element) in names


def _text(element) -> str:
    return (element.text or "").strip() if element is not None else ""


def _size(count: int) -> str:
    # Rounded up, so that a file just over the limit does not read as the limit itself.
    if count >= 1024 * 1024:
        return f"{math.ceil(count / 1024 / 1024 * 10) / 10:.1f} MB"
    return f"{math.ceil(count / 1024)} KB"


class _Diagram:
    def __init__(self, report: _Report, names: _Names):
        self.report, self.names = report, names
        self.root = None
        self.ids: dict[str, etree._Element] = {}
        self.participants: dict[str, str] = {}  # process id -> participant id
        self.lanes: dict[str, str] = {}  # flow node id -> lane name
        self.messages: dict[str, str | None] = {}  # message id -> name
        self.process_ids: set[str] = set()
        self._sent: set | None = None

    # --- the file ---------------------------------------------------------------------------------

    def check(self, xml) -> None:
        root = self._read(xml)
        if root is None:
            return
        self.root = root
        self._index()
        processes, main = self._processes()
        for process in processes:
            self._scope(process)
        if main is not None:
            self._spiff(main)
        self._vendor_extensions()

    def _read(self, xml):
        error = self.report.error
        if isinstance(xml, str):
            data, encoding = xml.encode("utf-8"), "utf-8"
        elif isinstance(xml, (bytes, bytearray, memoryview)):
            data, encoding = bytes(xml), None
        else:
            error(None, "not-xml", _l("Not an XML file."))
            return None
        if len(data) > MAX_BYTES:
            error(None, "too-large", _l("The file is %(size)s; diagrams larger than %(limit)s are refused.",
                                        size=_size(len(data)), limit=_size(MAX_BYTES)))
            return None
        if not data.strip():
            error(None, "empty", _l("The file is empty."))
            return None
        # Entities are refused before the parser sees them: libxml2 expands them in attribute values
        # even when told not to resolve them, which is all a "billion laughs" needs.
        if self._declares_doctype(data, encoding):
            error(None, "doctype", _l("The file has a document type declaration (<!DOCTYPE>). BPMN diagrams "
                                      "never have one, and the entities it can declare may expand without "
                                      "bound, so the file is refused."))
            return None
        try:
            root = etree.fromstring(data, safe_parser(encoding))
        except etree.XMLSyntaxError as failure:
            line, column = failure.position or (1, 1)
            reason = re.sub(r",? line \d+, column \d+$", "", failure.msg or str(failure))
            error(None, "not-xml", _l("Not an XML file: %(reason)s (line %(line)s, column %(column)s).",
                                      reason=reason, line=line, column=column))
            return None
        except (ValueError, LookupError) as failure:  # an encoding Python or libxml2 does not know
            error(None, "not-xml", _l("Not an XML file: %(reason)s (line %(line)s, column %(column)s).",
                                      reason=str(failure), line=1, column=1))
            return None
        if root.getroottree().docinfo.internalDTD is not None:
            error(None, "doctype", _l("The file has a document type declaration (<!DOCTYPE>). BPMN diagrams "
                                      "never have one, and the entities it can declare may expand without "
                                      "bound, so the file is refused."))
            return None
        if root.tag != f"{{{BPMN}}}definitions":
            qname = etree.QName(root)
            error(None, "not-bpmn", _l("Not a BPMN diagram: the root element is <%(tag)s>, expected "
                                       "<bpmn:definitions> in the namespace %(namespace)s.",
                                       tag=qname.localname, namespace=BPMN))
            return None
        count = sum(1 for _ in root.iter(*_FLOW_TAGS))
        if count > MAX_FLOW_ELEMENTS:
            error(None, "too-many-elements", _l("The diagram has %(count)s flow elements; at most %(limit)s "
                                                "are accepted.", count=count, limit=MAX_FLOW_ELEMENTS))
            return None
        return root

    @staticmethod
    def _declares_doctype(data: bytes, encoding: str | None) -> bool:
        if data[:4] in (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff"):
            text = data.decode("utf-32", "replace")
        elif data[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in data[:4]:
            text = data.decode("utf-16", "replace")
        else:
            text = data.decode(encoding or "latin-1", "replace")
        text = text.lstrip("\ufeff").removeprefix("\xef\xbb\xbf")  # a UTF-8 byte order mark read as Latin-1
        start = _PROLOG.match(text).end()
        return text[start:start + 9].upper() == "<!DOCTYPE"

    def _index(self) -> None:
        seen: dict[str, list] = defaultdict(list)
        for element in self.root.iter():
            if _is_bpmn(element) and element.get("id"):
                seen[element.get("id")].append(element)
        self.ids = {key: found[0] for key, found in seen.items()}
        for key, found in seen.items():
            if len(found) > 1:
                self.report.error(key, "duplicate-id", _l("The id %(id)s is used by %(count)s elements; ids "
                                                          "must be unique.", id=key, count=len(found)))
        for participant in self.root.iter(f"{{{BPMN}}}participant"):
            if participant.get("processRef") and participant.get("id"):
                self.participants.setdefault(participant.get("processRef"), participant.get("id"))
        for ref in self.root.iter(f"{{{BPMN}}}flowNodeRef"):
            if ref.text:  # as SpiffWorkflow reads lanes: by name, over the whole document
                self.lanes[ref.text.strip()] = ref.getparent().get("name")
        for message in self.root.iter(f"{{{BPMN}}}message"):
            if message.get("id"):
                self.messages[message.get("id")] = message.get("name")
        self.process_ids = {p.get("id") for p in self.root.iter(f"{{{BPMN}}}process")}

    def selectable(self, element) -> str | None:
        """The id of the element a modeler would select for a problem in or on `element`."""
        while element is not None:
            if _is_bpmn(element, *SELECTABLE) and element.get("id"):
                key = element.get("id")
                return self.participants.get(key, key) if _local(element) == "process" else key
            if isinstance(element.tag, str) and etree.QName(element).namespace in DIAGRAM \
                    and element.get("bpmnElement"):
                return element.get("bpmnElement")
            element = element.getparent()
        return None

    # --- processes --------------------------------------------------------------------------------

    def _processes(self) -> tuple[list, object]:
        """The processes to check, and the one to deploy (None, with a problem, unless exactly one)."""
        error = self.report.error
        processes = list(self.root.iter(f"{{{BPMN}}}process"))
        if not processes:
            error(None, "no-process", _l("The diagram holds no process."))
            return [], None
        called = {c.get("calledElement") for c in self.root.iter(f"{{{BPMN}}}callActivity")}
        # SpiffWorkflow's reading: a process is executable unless it says otherwise.
        executable = [p for p in processes if p.get("isExecutable", "true") == "true"]
        top = [p for p in executable if p.get("id") not in called]
        if not top:
            if len(processes) == 1:
                # Checked all the same: the rest of the list is what making it executable will bring.
                error(self.selectable(processes[0]), "not-executable",
                      _l('The process is not marked executable (isExecutable="true").'))
                return processes, None
            error(None, "no-executable-process",
                  _l('The diagram has no executable process; mark one with isExecutable="true".'))
            return [], None
        if len(top) > 1:
            error(None, "several-processes", _l("The diagram has %(count)s executable processes (%(ids)s); a "
                                                "diagram deploys one process.", count=len(top),
                                                ids=", ".join(p.get("id") or "?" for p in top)))
            return executable, None
        return executable, top[0]

    def _spiff(self, process) -> None:
        """SpiffWorkflow's parser on the process; its first complaint, unless found above already."""
        from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
        from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

        parser = SpiffBpmnParser()
        try:
            parser.add_bpmn_xml(self.root)
            key = process.get("id")
            parser.get_spec(key)
            parser.get_subprocess_specs(key)
        except ValidationException as failure:
            node = self.ids.get(getattr(failure, "id", None) or "")
            element = self.selectable(node) if node is not None else None
            reason = str(failure).splitlines()[0] if str(failure) else type(failure).__name__
        except Exception as failure:
            element, reason = None, repr(failure)
        else:
            return
        if self.report.has_error(element):  # said already, and better (None: any error at all)
            return
        self.report.error(element, "spiff", _l("SpiffWorkflow cannot run this: %(reason)s", reason=reason))

    # --- the flow of a process or subprocess ------------------------------------------------------

    def _scope(self, scope, reachable=True) -> None:
        report, scope_id = self.report, self.selectable(scope)
        kind = _local(scope)
        nodes = {n.get("id"): n for n in scope if _is_bpmn(n, *FLOW_NODES) and n.get("id")}
        flows = [f for f in scope if _is_bpmn(f, "sequenceFlow")]
        outgoing, incoming = defaultdict(list), defaultdict(list)
        edges = defaultdict(set)
        for flow in flows:
            if not self._flow_ends_here(flow, nodes):
                continue
            source, target = flow.get("sourceRef"), flow.get("targetRef")
            outgoing[source].append(flow)
            incoming[target].append(flow)
            edges[source].add(target)
        for key, node in nodes.items():
            if _local(node) == "boundaryEvent":
                attached = node.get("attachedToRef")
                if attached in nodes and _local(nodes[attached]) in ACTIVITIES:
                    edges[attached].add(key)
                else:
                    report.error(key, "bad-attachment", _l("The boundary event is attached to %(ref)s, which is "
                                                           "not an activity of this process.",
                                                           ref=attached or "-"))

        starts = [k for k, n in nodes.items() if _local(n) == "startEvent"]
        ends = [k for k, n in nodes.items() if _local(n) == "endEvent"]
        if kind == "process":
            if not starts:
                report.error(scope_id, "no-start-event", _l("The process has no start event."))
            if not ends:
                report.error(scope_id, "no-end-event", _l("The process has no end event."))
        elif kind in ("subProcess", "transaction"):
            if len(starts) != 1:
                report.error(scope_id, "no-start-event", _l("A subprocess needs exactly one start event; this "
                                                            "one has %(count)s.", count=len(starts)))
            if not ends:
                report.error(scope_id, "no-end-event", _l("The subprocess has no end event."))

        roots = set(starts)
        for key, node in nodes.items():
            if node.get("triggeredByEvent") == "true" or node.get("isForCompensation") == "true" \
                    or (kind == "adHocSubProcess" and not incoming[key]):
                roots.add(key)
        if reachable and (starts or kind == "adHocSubProcess"):
            seen = _walk(roots, edges)
            for key in nodes:
                if key not in seen:
                    report.error(key, "unreachable", _l("No path from a start event leads here; the element "
                                                        "would never run."))
            if ends and kind != "adHocSubProcess":
                backward = defaultdict(set)
                for source, targets in edges.items():
                    for target in targets:
                        backward[target].add(source)
                finishing = _walk(ends, backward)
                for key, node in nodes.items():
                    exempt = _local(node) == "endEvent" or node.get("triggeredByEvent") == "true" \
                        or node.get("isForCompensation") == "true"
                    if key in seen and key not in finishing and not exempt:
                        report.warning(key, "no-path-to-end", _l("No path leads from here to an end event; a "
                                                                 "case that gets here never finishes."))
        else:
            seen = set()

        for key, node in nodes.items():
            self._outgoing(node, outgoing[key])
            self._element(node)
            if _local(node) in SCOPES:
                self._scope(node, reachable=reachable and key in seen)

    def _flow_ends_here(self, flow, nodes) -> bool:
        for end in ("sourceRef", "targetRef"):
            ref = flow.get(end)
            if ref in nodes:
                continue
            if ref in self.ids:
                message = _l("The flow connects %(ref)s, which is inside another process or subprocess; a "
                             "sequence flow stays within one.", ref=ref)
            elif end == "sourceRef":
                message = _l("The flow starts at %(ref)s, which is not an element of this process.", ref=ref or "-")
            else:
                message = _l("The flow leads to %(ref)s, which is not an element of this process.", ref=ref or "-")
            self.report.error(flow.get("id"), "dangling-flow", message, key=end)
            return False
        return True

    def _outgoing(self, node, flows) -> None:
        report, key, kind = self.report, node.get("id"), _local(node)
        if len(flows) > 1 and kind not in MANY_OUTGOING:
            report.error(key, "multiple-outgoing", _l("%(count)s flows leave this element; SpiffWorkflow takes "
                                                      "one flow out of a task or an event. Split with a "
                                                      "parallel or an exclusive gateway.", count=len(flows)))
        conditions = {}
        for flow in flows:
            expression = flow.find(f"{{{BPMN}}}conditionExpression")
            conditions[flow.get("id")] = _text(expression)
            if conditions[flow.get("id")]:
                self._condition(flow.get("id"), expression.text)
        if kind not in CONDITIONAL:
            for flow in flows:
                if conditions[flow.get("id")]:
                    report.warning(flow.get("id"), "condition-ignored", _l(
                        "The condition is ignored: only exclusive and inclusive gateways evaluate conditions."))
            return
        default = node.get("default")
        if default and default not in conditions:
            report.error(key, "bad-default-flow", _l("The default flow %(ref)s does not leave this gateway.",
                                                     ref=default))
        if default in conditions and conditions[default]:
            report.warning(default, "default-with-condition", _l("This is the gateway's default flow; its "
                                                                 "condition is ignored."))
        if flows and default not in conditions and all(conditions.values()):
            report.error(key, "no-default-flow", _l("Every flow out of this gateway has a condition and none is "
                                                    "the default: the conditions may all fail and the case would "
                                                    "stop here. Mark one flow as the default."))
        if len(flows) > 1:
            for flow in flows:
                if flow.get("id") != default and not conditions[flow.get("id")]:
                    report.error(flow.get("id"), "flow-without-condition", _l(
                        "A flow out of a gateway with several outgoing flows needs a condition unless it is "
                        "the gateway's default flow."))

    # --- one element: properties, names, expressions ----------------------------------------------

    def _element(self, node) -> None:
        kind, key = _local(node), node.get("id")
        if kind in UNSUPPORTED:
            self.report.error(key, "unsupported-element", _l("SpiffWorkflow does not run %(tag)s elements.",
                                                             tag=kind))
        if node.find(f"{{{BPMN}}}linkEventDefinition") is not None:
            # Nothing after a link catch event would ever run: SpiffWorkflow does not follow links.
            self.report.error(key, "unsupported-element", _l("SpiffWorkflow does not run %(tag)s elements.",
                                                             tag="linkEventDefinition"))
        props = self._properties(node)
        self._names(node, kind, props)
        self._expressions(node, kind)
        for timer in node.findall(f"{{{BPMN}}}timerEventDefinition"):
            self._timer(key, timer)
        self._message(node, kind)
        if kind == "callActivity":
            called = node.get("calledElement")
            if not called:
                self.report.error(key, "unknown-called-process", _l("The call activity names no process "
                                                                    "(calledElement)."))
            elif called not in self.process_ids:
                self.report.error(key, "unknown-called-process", _l("The call activity calls %(ref)s, which is "
                                                                    "not a process in this diagram.", ref=called))

    def _properties(self, node) -> properties.TaskProperties:
        values, bad = {}, False
        for prop in node.iterfind(f"{{{BPMN}}}extensionElements/{{{SPIFF}}}properties//{{{SPIFF}}}property"):
            if prop.get("name") is None or prop.get("value") is None:
                bad = True
                continue
            values[prop.get("name")] = prop.get("value")
        if bad:
            self.report.error(node.get("id"), "bad-property", _l("A property needs a name and a value."))
        sla = values.get("slaDays")
        if sla not in (None, "") and not re.fullmatch(r"\s*\d+\s*", sla):
            self.report.error(node.get("id"), "bad-sla", _l("slaDays must be a whole number of working days, "
                                                            "not %(value)s.", value=sla))
            values.pop("slaDays")
        operator = node.find(f"{{{BPMN}}}extensionElements/{{{SPIFF}}}serviceTaskOperator")
        return properties.of(_Spec({"properties": values}, self.lanes.get(node.get("id")),
                                   operator.get("id") if operator is not None else None))

    def _names(self, node, kind, props) -> None:
        report, names, key = self.report, self.names, node.get("id")
        if props.form_key and props.form_key not in names.forms:
            report.error(key, "unknown-form", _l("Unknown form %(name)s (there is no bpmn/forms/%(name)s.json).",
                                                 name=props.form_key))
        if props.check and props.check not in names.checks:
            report.error(key, "unknown-check", _l("Unknown check %(name)s.", name=props.check))
        if props.actor not in properties.ACTORS:
            report.error(key, "bad-actor", _l("The actor %(value)s is not one of: %(allowed)s.", value=props.actor,
                                              allowed=", ".join(properties.ACTORS)))
        if kind == "userTask":
            if not props.form_key:
                foreign = self._foreign_form(node)
                report.error(key, "missing-form", _l("A user task needs a formKey property naming its form; "
                                                     "%(name)s is ignored.", name=foreign) if foreign else
                             _l("A user task needs a formKey property naming its form."))
            if props.actor == "staff" and props.candidate_group and props.candidate_group not in names.groups:
                report.error(key, "unknown-group", _l("Unknown staff group %(name)s.", name=props.candidate_group))
        if kind == "serviceTask":
            if not props.handler:
                report.error(key, "missing-handler", _l('A service task needs a handler: '
                                                        '<spiffworkflow:serviceTaskOperator id="...">.'))
            elif props.handler not in names.handlers:
                report.error(key, "unknown-handler", _l("Unknown handler %(name)s.", name=props.handler))

    @staticmethod
    def _foreign_form(node) -> str | None:
        """camunda:formKey, zeebe:formDefinition and the like: another engine's way of naming a form."""
        for element in node.iter():
            if not isinstance(element.tag, str):
                continue
            namespace = etree.QName(element).namespace
            if namespace not in KNOWN_NAMESPACES and "form" in etree.QName(element).localname.lower():
                return _prefixed(element, element.tag)
            for attribute in element.attrib:
                qname = etree.QName(attribute)
                if qname.namespace and qname.namespace not in KNOWN_NAMESPACES and "form" in qname.localname.lower():
                    return _prefixed(element, attribute)
        return None

    def _expressions(self, node, kind) -> None:
        key = node.get("id")
        if kind == "scriptTask":
            script = node.find(f"{{{BPMN}}}script")
            if script is None or not _text(script):
                self.report.error(key, "empty-script", _l("The script task has no script."))
            else:
                self._script(key, script.text)
        for script in node.iterfind(f"{{{BPMN}}}extensionElements/{{{SPIFF}}}*"):
            if etree.QName(script).localname in ("preScript", "postScript") and _text(script):
                self._script(key, script.text)
        for path in ("conditionalEventDefinition/bpmn:condition", "standardLoopCharacteristics/bpmn:loopCondition",
                     "multiInstanceLoopCharacteristics/bpmn:loopCardinality",
                     "multiInstanceLoopCharacteristics/bpmn:completionCondition"):
            for expression in node.xpath(f"bpmn:{path}", namespaces={"bpmn": BPMN}):
                if _text(expression):
                    self._condition(key, expression.text)

    def _script(self, element, script: str) -> None:
        from workflows import sandbox

        try:
            sandbox.check(script, mode="exec")
        except sandbox.SandboxError as failure:
            self.report.error(element, "script-not-allowed", _l("The script is not allowed: %(reason)s",
                                                                reason=str(failure)), key=script)

    def _condition(self, element, expression: str) -> None:
        """A condition as SpiffWorkflow hands it to the sandbox: the text as written."""
        from workflows import sandbox

        if FOREIGN_EXPRESSION.fullmatch(expression):
            self.report.error(element, "foreign-expression", _l(
                "%(expression)s is an expression of another engine (JUEL or FEEL); write a Python expression "
                "over the case data, e.g. amount > 100.", expression=expression), key=expression)
            return
        try:
            sandbox.check(expression, mode="eval")
        except sandbox.SandboxError as failure:
            self.report.error(element, "condition-not-allowed", _l("The condition %(expression)s is not allowed: "
                                                                   "%(reason)s", expression=expression,
                                                                   reason=str(failure)), key=expression)

    def _timer(self, key, timer) -> None:
        found = [child for child in timer if _is_bpmn(child, "timeDate", "timeDuration", "timeCycle")]
        if not found:
            self.report.error(key, "bad-timer", _l("The timer defines no timeDate, timeDuration or timeCycle."))
            return
        problem = _timer_problem(_local(found[0]), found[0].text or "")
        if problem:
            self.report.error(key, *problem)

    def _message(self, node, kind) -> None:
        report, key = self.report, node.get("id")
        refs = [d.get("messageRef") for d in node.findall(f"{{{BPMN}}}messageEventDefinition")]
        if kind in ("receiveTask", "sendTask"):
            refs.append(node.get("messageRef"))
        for ref in refs:
            if ref:
                if ref not in self.messages:
                    report.error(key, "undefined-message", _l('The message %(ref)s is not defined in the diagram '
                                                              '(<bpmn:message id="%(ref)s" name="...">).', ref=ref))
                    continue
                name = self.messages[ref]
                if not name:
                    report.error(key, "unnamed-message", _l("The message %(ref)s has no name; messages are "
                                                            "delivered by name.", ref=ref))
                    continue
            else:
                name = node.get("name")  # what SpiffWorkflow waits for when no message is referenced
            if kind in CATCHING and name and name not in self._sent_messages():
                report.warning(key, "unknown-message", _l("Nothing in GridCase sends the message %(name)s; the "
                                                          "process would wait for it for ever.", name=name))

    def _sent_messages(self) -> set:
        """The messages GridCase sends, and those this diagram sends itself (throw events, send tasks,
        the answers that post_webhook tasks wait for)."""
        if self._sent is None:
            sent = set(self.names.messages)
            for node in self.root.iter(f"{{{BPMN}}}intermediateThrowEvent", f"{{{BPMN}}}endEvent",
                                       f"{{{BPMN}}}sendTask"):
                refs = [d.get("messageRef") for d in node.iter(f"{{{BPMN}}}messageEventDefinition")]
                refs += [node.get("messageRef")] if _local(node) == "sendTask" else []
                sent.update(self.messages.get(ref) or "" for ref in refs if ref)
            for prop in self.root.iter(f"{{{SPIFF}}}property"):
                if prop.get("name") == "replyMessage" and prop.get("value"):
                    sent.add(prop.get("value"))
            self._sent = sent
        return self._sent

    # --- other modelers' extensions ---------------------------------------------------------------

    def _vendor_extensions(self) -> None:
        for element in self.root.iter():
            if not isinstance(element.tag, str):
                continue
            namespace = etree.QName(element).namespace
            if namespace not in KNOWN_NAMESPACES:
                parent = element.getparent()
                if parent is None or etree.QName(parent).namespace in KNOWN_NAMESPACES:
                    self._ignored(element, element.tag, namespace)
                continue
            for attribute in element.attrib:
                attribute_namespace = etree.QName(attribute).namespace
                if attribute_namespace and attribute_namespace not in KNOWN_NAMESPACES:
                    self._ignored(element, attribute, attribute_namespace)

    def _ignored(self, element, tag, namespace) -> None:
        name = _prefixed(element, tag)
        message = _l("%(name)s is an extension of %(vendor)s; GridCase ignores it.", name=name,
                     vendor=VENDORS.get(namespace, namespace))
        self.report.warning(self.selectable(element), "vendor-extension", message, key=name)


@dataclass
class _Spec:
    """What workflows.properties reads of a task spec, taken from the XML."""

    extensions: dict
    lane: str | None
    operation_name: str | None


def _prefixed(element, tag) -> str:
    qname = etree.QName(tag)
    prefixes = {namespace: prefix for prefix, namespace in (element.nsmap or {}).items() if prefix}
    prefix = prefixes.get(qname.namespace)
    return f"{prefix}:{qname.localname}" if prefix else qname.localname


def _walk(roots, edges) -> set:
    seen, queue = set(roots), deque(roots)
    while queue:
        for following in edges.get(queue.popleft(), ()):
            if following not in seen:
                seen.add(following)
                queue.append(following)
    return seen


# --- timers ---------------------------------------------------------------------------------------

def _timer_problem(what: str, expression: str) -> tuple[str, object] | None:
    """(code, message) when the timer is wrong. Its expression must be sandbox-safe and, unless it reads
    the case data, give an ISO 8601 date-time (timeDate), duration (timeDuration) or repeating interval
    (timeCycle) as a text."""
    from workflows import sandbox

    shown = expression.strip()
    if not shown:
        return "bad-timer", _l("The timer's %(kind)s is empty.", kind=what)
    if _iso_value(what, shown):
        return "timer-unquoted", _l('%(expression)s must be written in quotes, as a string: "%(expression)s".',
                                    expression=shown)
    try:
        tree = sandbox.check(expression, mode="eval")
    except sandbox.SandboxError as failure:
        return "timer-expression", _l("The timer expression %(expression)s is not allowed: %(reason)s",
                                      expression=shown, reason=str(failure))
    if _reads_data(tree):
        return None  # a moment the process computes (`fix_deadline`): known only when the case runs
    try:
        value = sandbox.evaluate(expression, {})
    except Exception as failure:  # noqa: BLE001 — whatever the expression raises is the analyst's to fix
        return "timer-expression", _l("The timer expression %(expression)s fails: %(reason)s", expression=shown,
                                      reason=str(failure) or type(failure).__name__)
    if not isinstance(value, str):
        return "bad-timer", _l("The timer expression %(expression)s gives %(value)s, not a text.",
                               expression=shown, value=repr(value))
    if _iso_value(what, value):
        return None
    if what == "timeDuration":
        return "bad-timer", _l('%(value)s is not an ISO 8601 duration such as "P10D" or "PT4H".', value=value)
    if what == "timeDate":
        return "bad-timer", _l('%(value)s is not an ISO 8601 date-time such as "2026-12-31T18:00:00+03:00".',
                               value=value)
    return "bad-timer", _l('%(value)s is not an ISO 8601 repeating interval such as "R3/PT10M" or '
                           '"R/2026-01-01T09:00:00/P1D".', value=value)


def _iso_value(what: str, value: str) -> bool:
    """The value is what SpiffWorkflow's timer of this kind takes, and well-formed ISO 8601."""
    from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition as Timer

    try:
        if what == "timeDuration":
            return bool(ISO_DURATION.fullmatch(value)) and isinstance(Timer.parse_iso_duration(value), dict)
        if what == "timeDate":
            return bool(ISO_DATE.fullmatch(value)) and isinstance(Timer.parse_time_or_duration(value), datetime)
        if what == "timeCycle":
            if not ISO_CYCLE.fullmatch(value):
                return False
            parts = value[value.index("/") + 1:].split("/")
            if not all(ISO_DURATION.fullmatch(p) or ISO_DATE.fullmatch(p) for p in parts) or len(parts) > 2:
                return False
            Timer.parse_iso_recurring_interval(value)
            return True
    except Exception:  # noqa: BLE001 — SpiffWorkflow's parsers raise plain Exception and friends
        return False
    return False


def _reads_data(tree: ast.AST) -> bool:
    """Whether the expression reads a name that is not a helper (a case-data field)."""
    from workflows.sandbox import HELPERS

    bound = {target.id for node in ast.walk(tree) if isinstance(node, ast.comprehension)
             for target in ast.walk(node.target) if isinstance(target, ast.Name)}
    return any(isinstance(node, ast.Name) and node.id not in HELPERS and node.id not in bound
               for node in ast.walk(tree))
