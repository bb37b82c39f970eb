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


def parse(xml: bytes | str) -> Parsed:
    """Parse a BPMN document holding one executable process; DefinitionError when it cannot run."""
    data = xml.encode() if isinstance(xml, str) else xml
    parser = SpiffBpmnParser()
    try:
        parser.add_bpmn_str(data)
        keys = parser.get_process_ids()
    except (etree.XMLSyntaxError, ValidationException, ValueError) as error:
        raise DefinitionError([("document", f"not a BPMN diagram: {error}")]) from None
    executable = list(keys)  # get_process_ids lists the executable processes only
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
                  start.check, applicant_account=props.get("applicantAccount") != "none")


def validate(parsed: Parsed, forms: set[str], handlers: set[str], groups: set[str],
             checks: set[str] = frozenset()) -> list[tuple[str, str]]:
    """What would fail at run time, found now: unknown forms, handlers and groups, sandbox violations."""
    from workflows import sandbox

    problems = []
    if parsed.start_form and parsed.start_form not in forms:
        problems.append((parsed.key, f"unknown start form {parsed.start_form!r}"))
    if parsed.start_check and parsed.start_check not in checks:
        problems.append((parsed.key, f"unknown check {parsed.start_check!r}"))
    for spec in [parsed.spec, *parsed.subprocess_specs.values()]:
        for task_spec in spec.task_specs.values():
            kind = type(task_spec).__name__
            element = getattr(task_spec, "bpmn_id", None) or task_spec.name
            props = properties.of(task_spec)
            if props.check and props.check not in checks:
                problems.append((element, f"unknown check {props.check!r}"))
            if kind == "UserTask":
                if not props.form_key:
                    problems.append((element, "a user task needs a formKey"))
                elif props.form_key not in forms:
                    problems.append((element, f"unknown form {props.form_key!r}"))
                if props.actor not in properties.ACTORS:
                    problems.append((element, f"actor must be one of {', '.join(properties.ACTORS)}"))
                if props.actor == "staff" and props.candidate_group and props.candidate_group not in groups:
                    problems.append((element, f"unknown group {props.candidate_group!r}"))
            if kind == "ServiceTask" and (not props.handler or props.handler not in handlers):
                problems.append((element, f"unknown handler {props.handler!r}"))
            if kind == "ScriptTask":
                try:
                    sandbox.check(task_spec.script or "", mode="exec")
                except sandbox.SandboxError as error:
                    problems.append((element, f"script: {error}"))
            for condition in _conditions(task_spec):
                try:
                    sandbox.check(condition, mode="eval")
                except sandbox.SandboxError as error:
                    problems.append((element, f"condition {condition!r}: {error}"))
    return problems


def _conditions(task_spec) -> list[str]:
    """The condition expressions on a gateway's outgoing flows (None marks the default flow)."""
    found = []
    for condition, _target in getattr(task_spec, "cond_task_specs", None) or []:
        args = getattr(condition, "args", None)
        if args and isinstance(args[0], str):
            found.append(args[0])
    return found


def known_names() -> tuple[set[str], set[str], set[str], set[str]]:
    from app.models import StaffGroup
    from workflows import forms as form_defs
    from workflows import handlers

    forms = set(form_defs.load_folder(BPMN_FOLDER / "forms"))
    groups = set(db.session.scalars(select(StaffGroup.code))) | {"team_lead"}
    return forms, set(handlers.REGISTRY), groups, set(handlers.CHECKS)


def deploy(xml: bytes | str, source: str, actor=None, comment: str | None = None) -> tuple[ProcessDefinition, bool]:
    """Store a new version unless this exact diagram is the latest already. Returns (row, created)."""
    data = xml.encode() if isinstance(xml, str) else xml
    parsed = parse(data)
    problems = validate(parsed, *known_names())
    if problems:
        raise DefinitionError(problems)
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
