"""What changed between two versions of a process: elements added, removed and changed, by id.

Elements are compared by their BPMN id with the diagram's layout (the DI part) left out, so moving a
shape is not a change, while a renamed task, a new form key, a changed condition or SLA is. The
modeler's diff page colours the shapes from this list and prints it beside the diagrams.
"""
from dataclasses import dataclass, field

from lxml import etree

from app.services.processes import draft, version

DRAFT = "draft"  # the other side may be the process's draft instead of a deployed version

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
DI_NAMESPACES = ("http://www.omg.org/spec/BPMN/20100524/DI", "http://www.omg.org/spec/DD/20100524/DI",
                 "http://www.omg.org/spec/DD/20100524/DC")
# Containers whose own content is their children, compared one by one.
CONTAINERS = {"definitions", "process", "subProcess", "laneSet", "collaboration"}


@dataclass(frozen=True)
class Change:
    element: str
    kind: str  # the BPMN type: userTask, sequenceFlow…
    name: str
    change: str  # added | removed | changed
    details: tuple[str, ...] = ()  # what changed, for "changed": "name", "formKey", "condition"…


@dataclass
class Diff:
    key: str
    old: int
    new: int | str  # a version, or DRAFT
    changes: list[Change] = field(default_factory=list)

    def of(self, change: str) -> list[Change]:
        return [c for c in self.changes if c.change == change]


def compare(key: str, old: int, new: int | str) -> Diff:
    """Version `old` against version `new`, or against the draft when `new` is DRAFT."""
    after = draft(key).xml if new == DRAFT else version(key, new).bpmn_xml
    return Diff(key=key, old=old, new=new, changes=changes(version(key, old).bpmn_xml, after))


def changes(old_xml: str, new_xml: str) -> list[Change]:
    before, after = _elements(old_xml), _elements(new_xml)
    found = []
    for element_id, (kind, name, signature) in after.items():
        if element_id not in before:
            found.append(Change(element_id, kind, name, "added"))
        elif before[element_id][2] != signature:
            found.append(Change(element_id, kind, name, "changed", _what(before[element_id][2], signature)))
    for element_id, (kind, name, _signature) in before.items():
        if element_id not in after:
            found.append(Change(element_id, kind, name, "removed"))
    order = {"removed": 0, "changed": 1, "added": 2}
    return sorted(found, key=lambda c: (order[c.change], c.kind, c.element))


def _elements(xml: str) -> dict[str, tuple[str, str, dict]]:
    """Every element with an id outside the layout: its type, name and a comparable signature."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True, remove_blank_text=True)
    root = etree.fromstring(xml.encode("utf-8"), parser)
    found = {}
    for node in root.iter():
        if not isinstance(node.tag, str):
            continue
        qname = etree.QName(node)
        if qname.namespace in DI_NAMESPACES or qname.namespace != BPMN or qname.localname in CONTAINERS:
            continue
        element_id = node.get("id")
        if not element_id or _inside_element(node):
            continue
        found[element_id] = (qname.localname, node.get("name") or "", _signature(node))
    return found


def _inside_element(node) -> bool:
    """Event definitions, conditions and the like belong to the element around them."""
    parent = node.getparent()
    while parent is not None:
        qname = etree.QName(parent)
        if qname.namespace == BPMN and qname.localname not in CONTAINERS and parent.get("id"):
            return True
        parent = parent.getparent()
    return False


def _signature(node) -> dict:
    """What matters about an element: its attributes, our extension properties, and its other content
    (conditions, timer expressions, scripts…) as text, ids of nested definitions left out."""
    signature = {f"@{k}": v for k, v in node.attrib.items() if k != "id"}
    for child in node.iter():
        if child is node or not isinstance(child.tag, str):
            continue
        qname = etree.QName(child)
        if qname.localname == "property" and child.get("name"):
            signature[child.get("name")] = child.get("value") or ""
        elif qname.localname in ("incoming", "outgoing"):
            signature.setdefault(qname.localname, []).append((child.text or "").strip())
        elif qname.localname not in ("extensionElements", "properties"):
            attributes = tuple(sorted((k, v) for k, v in child.attrib.items() if k != "id"))
            signature.setdefault(qname.localname, []).append(((child.text or "").strip(), attributes))
    return signature


def _what(before: dict, after: dict) -> tuple[str, ...]:
    names = sorted(set(before) | set(after))
    return tuple(n.lstrip("@") for n in names if before.get(n) != after.get(n))
