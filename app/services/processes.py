"""Process definitions as analysts work on them: the shared draft, validation, deploying a version,
the catalog of names a diagram may use, and the versions with the cases running on each.

Deployed versions live in `process_definition` (the files in bpmn/ only seed them); a draft is one
row per process, saved with the revision it started from so two analysts never overwrite each other
silently. Deploying goes through `workflows.definitions.deploy`, which refuses a diagram with errors
and records the audit event.
"""
from dataclasses import dataclass

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from lxml import etree
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import Case, ProcessDefinition, ProcessDraft, StaffGroup
from app.models.types import utcnow
from app.services.errors import Conflict, InvalidInput, NotFound
from workflows import definitions

MAX_BYTES = 2 * 1024 * 1024  # a diagram larger than this is not something people draw
BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"


@dataclass(frozen=True)
class Draft:
    key: str
    xml: str
    revision: int  # 0 when there is no draft: the text is the latest deployed version
    base_version: int | None
    updated_by: str | None
    updated_at: object
    is_draft: bool
    comment: str = ""


def latest(key: str) -> ProcessDefinition:
    found = definitions.latest_version(key)
    if found is None:
        raise NotFound(_l("There is no process %(key)s.", key=key))
    return found


def draft(key: str) -> Draft:
    """The draft of a process, or its latest deployed version when nobody has started one."""
    row = db.session.scalar(select(ProcessDraft).where(ProcessDraft.key == key))
    if row is not None:
        return Draft(key=key, xml=row.bpmn_xml, revision=row.revision,
                     base_version=row.base.version if row.base else None,
                     updated_by=row.updated_by.full_name if row.updated_by else None, updated_at=row.updated_at,
                     is_draft=True, comment=row.comment)
    deployed = latest(key)
    return Draft(key=key, xml=deployed.bpmn_xml, revision=0, base_version=deployed.version,
                 updated_by=deployed.deployed_by.full_name if deployed.deployed_by else None,
                 updated_at=deployed.deployed_at, is_draft=False)


def save_draft(key: str, xml: str, revision: int, user, comment: str = "") -> ProcessDraft:
    """Save the analyst's diagram as the process's draft, if nobody saved another meanwhile.

    A draft need not be valid (that is what drafts are for), but it must be a BPMN document of this
    same process: a diagram of another process, or no diagram at all, is refused here.
    """
    base = latest(key)
    _same_process(key, xml)
    comment = (comment or "").strip()[:300]
    now = utcnow()
    if revision == 0:
        row = ProcessDraft(key=key, base_definition_id=base.id, bpmn_xml=xml, revision=1, comment=comment,
                           updated_by_id=user.id, updated_at=now)
        try:
            with db.session.begin_nested():
                db.session.add(row)
        except IntegrityError:  # someone started the draft a moment before
            db.session.rollback()
            raise _conflict(key) from None
        db.session.commit()
        return row
    result = db.session.execute(
        update(ProcessDraft).where(ProcessDraft.key == key, ProcessDraft.revision == revision)
        .values(bpmn_xml=xml, revision=ProcessDraft.revision + 1, comment=comment, updated_by_id=user.id,
                updated_at=now).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        db.session.rollback()
        raise _conflict(key)
    db.session.commit()
    return db.session.scalar(select(ProcessDraft).where(ProcessDraft.key == key))


def _conflict(key: str) -> Conflict:
    row = db.session.scalar(select(ProcessDraft).where(ProcessDraft.key == key))
    who = row.updated_by.full_name if row is not None and row.updated_by else ""
    return Conflict(_l("%(who)s saved this draft after you opened it. Load their version, or save yours over it.",
                       who=who or _l("Another analyst")),
                    current_revision=row.revision if row is not None else 0, updated_by=who)


def discard_draft(key: str, user) -> None:
    from app.services import audit

    row = db.session.scalar(select(ProcessDraft).where(ProcessDraft.key == key))
    if row is not None:
        audit.record("process.draft_discarded", actor=user, obj=row, details={"key": key, "revision": row.revision})
        db.session.delete(row)
        db.session.commit()


def check(xml: str | bytes) -> list:
    """Every problem of the diagram, element by element (`workflows.validation.Problem`)."""
    from workflows import validation

    return validation.check(xml, **catalog_names())


def deploy(key: str, xml: str, user, comment: str = "", revision: int | None = None) -> ProcessDefinition:
    """Deploy the diagram as the next version of `key`; running cases stay on theirs.

    `revision` is the draft revision the analyst's diagram came from: if someone saved a newer draft
    since, deploying would throw their work away, so it is refused. The draft is gone once deployed.
    """
    latest(key)
    _same_process(key, xml)
    row = db.session.scalar(select(ProcessDraft).where(ProcessDraft.key == key))
    if row is not None and revision is not None and revision != row.revision:
        raise _conflict(key)
    problems = check(xml)
    if any(p.severity == "error" for p in problems):
        raise InvalidInput(_l("The diagram has errors; it cannot be deployed until they are fixed."),
                           problems=[p.as_dict() for p in problems])
    try:
        deployed, created = definitions.deploy(xml, source="modeler", actor=user,
                                               comment=(comment or "").strip()[:300] or None, checked=problems)
    except definitions.DefinitionError as error:  # what only the deploy itself finds
        raise InvalidInput(_l("The diagram has errors; it cannot be deployed until they are fixed."),
                           problems=[{"element": e, "severity": "error", "message": m, "code": "definition"}
                                     for e, m in error.problems]) from None
    if not created:
        raise Conflict(_l("This diagram is the deployed version %(version)s already.", version=deployed.version))
    if row is not None:
        db.session.delete(row)
        db.session.commit()
    return deployed


def rollback(key: str, number: int, user) -> ProcessDefinition:
    """Make an earlier version the one new cases start on, by deploying its diagram again as the next
    version (history only grows; running cases stay where they are). Checked first: a form or a group
    it names may have gone since."""
    target, current = version(key, number), latest(key)
    if target.id == current.id:
        raise Conflict(_l("Version %(version)s is the current one already.", version=number))
    problems = check(target.bpmn_xml)
    if any(p.severity == "error" for p in problems):
        raise InvalidInput(_l("Version %(version)s cannot be deployed again as it is: %(problems)s",
                              version=number, problems="; ".join(f"{p.element or '—'}: {p.message}" for p in problems
                                                               if p.severity == "error")),
                           problems=[p.as_dict() for p in problems])
    deployed, _created = definitions.deploy(target.bpmn_xml, source=f"rollback:v{number}", actor=user,
                                            comment=str(_l("Back to version %(version)s", version=number)),
                                            checked=problems)
    return deployed


def import_diagram(data: bytes, filename: str, user, comment: str = "") -> tuple[ProcessDefinition, list]:
    """Deploy a diagram made elsewhere (Camunda Modeler, a SpiffWorkflow example, a file from the
    repository): a new process, or the next version of the one with its key. Refused whole with the
    problems by element when it has errors; the warnings (other modelers' extensions, ignored) come
    back with the version."""
    if not data:
        raise InvalidInput(_l("Choose a .bpmn file."), field="file")
    problems = check(data)
    if any(p.severity == "error" for p in problems):
        raise InvalidInput(_l("The diagram has errors; it cannot be deployed until they are fixed."),
                           problems=[p.as_dict() for p in problems])
    try:
        deployed, created = definitions.deploy(data, source=f"upload:{filename[:150]}", actor=user,
                                               comment=(comment or "").strip()[:300] or None, checked=problems)
    except definitions.DefinitionError as error:
        raise InvalidInput(_l("The diagram has errors; it cannot be deployed until they are fixed."),
                           problems=[{"element": e, "severity": "error", "message": m, "code": "definition"}
                                     for e, m in error.problems]) from None
    if not created:
        raise Conflict(_l("This diagram is the deployed version %(version)s already.", version=deployed.version))
    return deployed, problems


def _same_process(key: str, xml: str | bytes) -> None:
    data = xml.encode("utf-8") if isinstance(xml, str) else xml
    if len(data) > MAX_BYTES:
        raise InvalidInput(_l("The diagram is larger than %(mb)s MB.", mb=MAX_BYTES // (1024 * 1024)))
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as error:
        raise InvalidInput(_l("This is not a BPMN diagram: %(reason)s", reason=str(error))) from None
    if root.tag != f"{{{BPMN_NS}}}definitions":
        raise InvalidInput(_l("This is not a BPMN diagram: its root is not bpmn:definitions."))
    ids = [p.get("id") for p in root.iter(f"{{{BPMN_NS}}}process") if p.get("isExecutable") == "true"]
    if ids != [key]:
        raise InvalidInput(_l("The diagram must hold the one executable process %(key)s (found: %(found)s).",
                              key=key, found=", ".join(filter(None, ids)) or "—"))


# --- what a diagram may name ---------------------------------------------------------------------------------

def catalog_names() -> dict:
    """The names validation checks against: forms, handlers, groups, checks and messages."""
    forms, handlers, groups, checks = definitions.known_names()
    from workflows import handlers as registry

    return {"forms": forms, "handlers": handlers, "groups": groups, "checks": checks,
            "messages": set(registry.MESSAGES)}


def catalog() -> dict:
    """What the modeler's properties panel offers, with labels in the user's language."""
    from app.services import process_forms
    from workflows import handlers as registry
    from workflows import properties

    locale = str(get_locale())
    groups = db.session.scalars(select(StaffGroup).order_by(StaffGroup.code)).all()
    return {
        "forms": [{"key": key, "title": spec.title.get(locale)}
                  for key, spec in sorted(process_forms.all_current().items())],
        "groups": [{"code": g.code, "name": g.name_en if locale == "en" else g.name_ru} for g in groups]
        + [{"code": "team_lead", "name": str(_l("Team leads"))}],
        "handlers": sorted(registry.REGISTRY),
        "checks": sorted(registry.CHECKS),
        "messages": sorted(registry.MESSAGES),
        "actors": list(properties.ACTORS),
    }


# --- versions ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Version:
    definition: ProcessDefinition
    running: int  # open cases on this version


def versions(key: str) -> list[Version]:
    rows = db.session.scalars(select(ProcessDefinition).where(ProcessDefinition.key == key)
                              .order_by(ProcessDefinition.version.desc())).all()
    if not rows:
        raise NotFound(_l("There is no process %(key)s.", key=key))
    running = dict(db.session.execute(
        select(Case.definition_id, func.count()).where(Case.status == "open",
                                                       Case.definition_id.in_([r.id for r in rows]))
        .group_by(Case.definition_id)).all())
    return [Version(definition=r, running=running.get(r.id, 0)) for r in rows]


def version(key: str, number: int) -> ProcessDefinition:
    row = db.session.scalar(select(ProcessDefinition).where(ProcessDefinition.key == key,
                                                            ProcessDefinition.version == number))
    if row is None:
        raise NotFound(_l("Process %(key)s has no version %(version)s.", key=key, version=number))
    return row


@dataclass(frozen=True)
class Summary:
    latest: ProcessDefinition
    running: int
    draft: ProcessDraft | None


def overview() -> list[Summary]:
    """Every process with its latest version, the open cases on any version, and its draft if any."""
    latest_ids = select(func.max(ProcessDefinition.id)).group_by(ProcessDefinition.key)
    rows = db.session.scalars(select(ProcessDefinition).where(ProcessDefinition.id.in_(latest_ids))
                              .order_by(ProcessDefinition.key)).all()
    running = dict(db.session.execute(
        select(ProcessDefinition.key, func.count()).join(Case, Case.definition_id == ProcessDefinition.id)
        .where(Case.status == "open").group_by(ProcessDefinition.key)).all())
    drafts = {d.key: d for d in db.session.scalars(select(ProcessDraft))}
    return [Summary(latest=r, running=running.get(r.key, 0), draft=drafts.get(r.key)) for r in rows]
