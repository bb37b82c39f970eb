"""Process definitions: parsed from BPMN, validated, deployed as versions, and cached once parsed.

A definition is deployed once per content (SHA-256 of the XML): deploying the same file again is a
no-op, a changed file becomes the next version. New cases start on the latest version; running cases
keep theirs, because each case points at its definition row.
"""
import hashlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from sqlalchemy import func, select

from app.extensions import db
from app.models import ProcessDefinition
from workflows import properties

BPMN_FOLDER = Path(__file__).resolve().parent.parent / "bpmn"


class DefinitionError(ValueError):
    """A diagram that cannot be deployed; `problems` lists (element id, reason)."""

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        super().__init__("; ".join(f"{element}: {reason}" for element, reason in problems))


@dataclass
class Parsed:
    key: str
    name: str
    spec: object
    subprocess_specs: dict
    case_prefix: str
    sla_days: int | None
    start_form: str | None
    start_check: str | None = None
    problems: list[tuple[str, str]] = field(default_factory=list)
    # False when the application is not about one of the applicant's accounts (it names the account
    # itself, as a change of owner does): the form offers no account to choose.
    applicant_account: bool = True
    xml: bytes = b""


def parse(xml: bytes | str) -> Parsed:
    """Parse a BPMN document holding one executable process; DefinitionError when it cannot run.
    `validation.check` says everything that is wrong with a diagram; this stops at the first thing."""
    from workflows import validation

    data = xml.encode() if isinstance(xml, str) else xml
    parser = SpiffBpmnParser()
    try:
        if len(data) > validation.MAX_BYTES:
            raise ValueError(f"larger than {validation.MAX_BYTES} bytes")
        root = etree.fromstring(data, validation.safe_parser())
        if root.getroottree().docinfo.internalDTD is not None:
            raise ValueError("a document type declaration (<!DOCTYPE>)")
        parser.add_bpmn_xml(root)
        keys = parser.get_process_ids()
    except (etree.XMLSyntaxError, ValidationException, ValueError) as error:
        raise DefinitionError([("document", f"not a BPMN diagram: {error}")]) from None
    # get_process_ids lists the executable processes only; those a call activity calls run inside the one.
    called = {node.get("calledElement") for node in root.iter(f"{{{validation.BPMN}}}callActivity")}
    executable = [key for key in keys if key not in called]
    if len(executable) != 1:
        raise DefinitionError([("document", f"expected one executable process, found {len(executable)}")])
    key = executable[0]
    try:
        spec = parser.get_spec(key)
        subprocess_specs = parser.get_subprocess_specs(key)
    except ValidationException as error:
        element = getattr(error, "id", None) or getattr(error, "name", None) or "document"
        raise DefinitionError([(element, str(error).splitlines()[0])]) from None
    starts = [s for s in spec.task_specs.values() if type(s).__name__ == "StartEvent"]
    if not starts:
        raise DefinitionError([(key, "the process has no start event")])
    start = properties.of(starts[0])
    props = (getattr(starts[0], "extensions", {}) or {}).get("properties", {}) or {}
    prefix = props.get("casePrefix") or key[:3].upper()
    return Parsed(key, spec.description or key, spec, subprocess_specs, prefix, start.sla_days, start.form_key,
                  start.check, applicant_account=props.get("applicantAccount") != "none", xml=data)


def validate(parsed: Parsed, forms: set[str], handlers: set[str], groups: set[str],
             checks: set[str] = frozenset(), messages: set[str] | None = None) -> list[tuple[str, str]]:
    """What would fail at run time, found now, as (element, reason): the errors of `validation.check`
    (unknown forms, handlers, groups and checks, sandbox violations, broken flows, bad timers, ...)."""
    from workflows import validation

    return _as_tuples(validation.errors(validation.check(parsed.xml, forms=forms, handlers=handlers, groups=groups,
                                                         checks=checks, messages=messages)))


def _as_tuples(problems) -> list[tuple[str, str]]:
    return [(problem.element or "document", str(problem.message)) for problem in problems]


def known_names() -> tuple[set[str], set[str], set[str], set[str]]:
    from app.models import StaffGroup
    from app.services import process_forms
    from workflows import handlers

    forms = set(process_forms.all_current())  # deployed forms, and the files of those never deployed
    groups = set(db.session.scalars(select(StaffGroup.code))) | {"team_lead"}
    return forms, set(handlers.REGISTRY), groups, set(handlers.CHECKS)


def deploy(xml: bytes | str, source: str, actor=None, comment: str | None = None,
           checked: list | None = None) -> tuple[ProcessDefinition, bool]:
    """Store a new version unless this exact diagram is the latest already. Returns (row, created).

    `checked` is what `validation.check` found for this very diagram when the caller has just run it
    (the modeler shows the warnings too), so the diagram is not checked twice."""
    from workflows import validation

    data = xml.encode() if isinstance(xml, str) else xml
    problems = validation.errors(checked if checked is not None else validation.check(data))
    if problems:
        raise DefinitionError(_as_tuples(problems))
    parsed = parse(data)
    digest = hashlib.sha256(data).hexdigest()
    latest = latest_version(parsed.key)
    if latest is not None and latest.sha256 == digest:
        return latest, False
    version = (latest.version if latest else 0) + 1
    row = ProcessDefinition(key=parsed.key, version=version, name=parsed.name, case_prefix=parsed.case_prefix,
                            bpmn_xml=data.decode("utf-8"), sha256=digest, source=source, comment=comment,
                            deployed_by_id=getattr(actor, "id", None))
    db.session.add(row)
    db.session.flush()
    from app.services import audit

    audit.record("process.deploy", actor=actor, obj=row, details={"key": parsed.key, "version": version,
                                                                  "source": source})
    db.session.commit()
    return row, True


def latest_version(key: str) -> ProcessDefinition | None:
    return db.session.scalar(select(ProcessDefinition).where(ProcessDefinition.key == key)
                             .order_by(ProcessDefinition.version.desc()).limit(1))


def versions() -> dict[str, int]:
    return dict(db.session.execute(select(ProcessDefinition.key, func.max(ProcessDefinition.version))
                                   .group_by(ProcessDefinition.key)).all())


@lru_cache(maxsize=64)
def specs(definition_id: int, sha256: str) -> Parsed:
    """The parsed spec of a deployed version; cached because a definition never changes once stored."""
    row = db.session.get(ProcessDefinition, definition_id)
    return parse(row.bpmn_xml.encode("utf-8"))
