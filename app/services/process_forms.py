"""Task forms as the processes use them: deployed versions in `form_version`, edited by analysts.

The files in bpmn/forms seed the versions (`seed`, run by `flask bpmn deploy`); from then on the form
editor deploys new ones. Pages and handlers ask `current(key)`: the latest version, or the file while
the database holds none of the form, so tests and a fresh install work before anything is seeded.

A stored version never changes, so its checked definition (with the WTForms classes built for it) is
kept in memory by content; a request costs one indexed query for the latest version's hash.
"""
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import undefer

from app.extensions import db
from app.models import FormVersion
from app.services.errors import Conflict, InvalidInput, NotFound
from app.services.form_problems import NAME, problems
from workflows import definitions
from workflows.forms import FormDefinition, FormDefinitionError, load_definition, load_file

FOLDER = definitions.BPMN_FOLDER / "forms"
MAX_BYTES = 256 * 1024  # a form larger than this is not something people fill in
RESERVED_KEYS = {"new"}  # /processes/forms/new is the page for a new form

_by_content: dict[tuple[str, str], FormDefinition] = {}  # (key, sha256) -> definition
_files: dict[str, tuple[tuple[int, int], FormDefinition]] = {}  # key -> ((mtime, size), definition)


@dataclass(frozen=True)
class Summary:
    """A form on the editor's list: its latest version, or None while only the file exists."""
    key: str
    title: str
    version: FormVersion | None
    count: int


# --- reading ------------------------------------------------------------------------------------------------

def canonical(data: dict) -> str:
    """The JSON the hash is taken over: the same form laid out differently hashes the same."""
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def digest(data: dict) -> str:
    return hashlib.sha256(canonical(data).encode("utf-8")).hexdigest()


def current(key: str) -> FormDefinition:
    """The form the next task page shows: the latest deployed version, else bpmn/forms/<key>.json."""
    latest = db.session.execute(select(FormVersion.id, FormVersion.key, FormVersion.sha256)
                                .where(FormVersion.key == key)
                                .order_by(FormVersion.version.desc()).limit(1)).first()
    if latest is not None:
        return _stored(*latest)
    found = _file(key)
    if found is None:
        raise NotFound(_l("There is no form %(key)s.", key=key))
    return found


def all_current() -> dict[str, FormDefinition]:
    """Every form by key: the deployed ones, and the files of forms never deployed."""
    found = {path.stem: None for path in sorted(FOLDER.glob("*.json"))}
    latest = {row.key: row for row in _latest_rows()}
    for key in found.keys() - latest.keys():
        found[key] = _file(key)
    for key, row in latest.items():
        found[key] = _stored(row.id, key, row.sha256)
    return dict(sorted(found.items()))


def keys() -> set[str]:
    """The form keys a diagram may name, without reading any form."""
    return ({path.stem for path in FOLDER.glob("*.json")}
            | set(db.session.scalars(select(FormVersion.key).distinct())))


def versions(key: str) -> list[FormVersion]:
    """The deployed versions of a form, the newest first."""
    return db.session.scalars(select(FormVersion).where(FormVersion.key == key)
                              .order_by(FormVersion.version.desc())).all()


def version(key: str, number: int) -> FormVersion:
    row = db.session.scalar(select(FormVersion).options(undefer(FormVersion.definition))
                            .where(FormVersion.key == key, FormVersion.version == number))
    if row is None:
        raise NotFound(_l("Form %(key)s has no version %(version)s.", key=key, version=number))
    return row


def source(key: str) -> tuple[dict, FormVersion | None]:
    """The JSON of the form as it is in use, for the editor; with its version row, or None for the file."""
    rows = versions(key)
    if rows:
        return json.loads(version(key, rows[0].version).definition), rows[0]
    path = _path(key)
    if path is None or not path.exists():
        raise NotFound(_l("There is no form %(key)s.", key=key))
    return json.loads(path.read_text(encoding="utf-8")), None


def overview() -> list[Summary]:
    counts = dict(db.session.execute(select(FormVersion.key, func.count()).group_by(FormVersion.key)).all())
    latest = {row.key: row for row in _latest_rows()}
    locale = str(get_locale())
    return [Summary(key, spec.title.get(locale), latest.get(key), counts.get(key, 0))
            for key, spec in all_current().items()]


def _latest_rows() -> list[FormVersion]:
    newest = (select(FormVersion.key, func.max(FormVersion.version).label("version"))
              .group_by(FormVersion.key).subquery())
    return db.session.scalars(select(FormVersion).join(newest, and_(FormVersion.key == newest.c.key,
                                                                    FormVersion.version == newest.c.version))).all()


def _stored(row_id: int, key: str, sha256: str) -> FormDefinition:
    found = _by_content.get((key, sha256))
    if found is None:
        text = db.session.scalar(select(FormVersion.definition).where(FormVersion.id == row_id))
        found = _by_content[(key, sha256)] = load_definition(json.loads(text))
    return found


def _path(key: str) -> Path | None:
    return FOLDER / f"{key}.json" if isinstance(key, str) and NAME.fullmatch(key) else None


def _file(key: str) -> FormDefinition | None:
    path = _path(key)
    try:
        stat = path.stat() if path else None
    except FileNotFoundError:
        return None
    if stat is None:
        return None
    stamp = (stat.st_mtime_ns, stat.st_size)
    cached = _files.get(key)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    found = load_file(path)
    if found.key != key:
        raise FormDefinitionError(f'{path.name}: the key "{found.key}" differs from the file name; '
                                  f"name the file {found.key}.json")
    _files[key] = (stamp, found)
    return found


# --- checking and deploying ---------------------------------------------------------------------------------

def check(data) -> list[str]:
    """Every problem of a draft form, each a sentence saying where it is; empty when it can be deployed."""
    return [p.text for p in problems(data)]


def deploy(key: str, data, user, comment: str = "") -> FormVersion:
    """Deploy `data` as the next version of form `key`; the next task page shows it.

    Refused with InvalidInput (and `problems`) when it is not a valid form or names another key, and
    with Conflict when it is the form in use already or another analyst deployed at the same moment.
    """
    if not isinstance(data, dict):
        raise InvalidInput(_l("Send the form as a JSON object."))
    if data.get("key") != key:
        raise InvalidInput(_l("The form's key is “%(found)s”, but this is form %(key)s.",
                              found=data.get("key"), key=key), field="key")
    text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    _deployable(data, text)
    sha256 = digest(data)
    latest = db.session.scalar(select(FormVersion).where(FormVersion.key == key)
                               .order_by(FormVersion.version.desc()).limit(1))
    if latest is not None and latest.sha256 == sha256:
        raise Conflict(_l("This form is the deployed version %(version)s already.", version=latest.version))
    if latest is None:
        path = _path(key)
        if path is not None and path.exists() and _file_digest(path) == sha256:
            raise Conflict(_l("This form is the one in use already (bpmn/forms/%(key)s.json).", key=key))
    row = _store(key, text, sha256, latest.version + 1 if latest else 1, user, comment, source="editor")
    db.session.commit()
    return row


def create(data, user, comment: str = "") -> FormVersion:
    """A new form: as `deploy`, but refused when the key is taken (by a version or by a file)."""
    if not isinstance(data, dict):
        raise InvalidInput(_l("Send the form as a JSON object."))
    _deployable(data, json.dumps(data, ensure_ascii=False, indent=2))
    key = data["key"]
    if key in RESERVED_KEYS:
        raise InvalidInput(_l("The name “%(key)s” is reserved; choose another.", key=key), field="key")
    if key in keys():
        raise Conflict(_l("A form named %(key)s exists already; choose another name.", key=key), field="key")
    return deploy(key, data, user, comment)


def seed(actor=None, folder=None) -> list[tuple[str, FormVersion, bool]]:
    """Deploy each bpmn/forms/*.json whose content was never deployed, as the next version of its form.

    A file whose content some version already has is left alone: the analysts may have deployed newer
    versions in the editor since, and the file must not take the form back. Returns (file name, row,
    deployed now); FormDefinitionError names the first file that is not a valid form, before anything
    is stored.
    """
    found = []
    for path in sorted(Path(folder or FOLDER).glob("*.json")):
        spec = load_file(path)
        if spec.key != path.stem:
            raise FormDefinitionError(f'{path.name}: the key "{spec.key}" differs from the file name; '
                                      f"name the file {spec.key}.json")
        text = path.read_text(encoding="utf-8")
        found.append((path, spec.key, text, digest(json.loads(text))))
    results = []
    for path, key, text, sha256 in found:
        known = db.session.scalar(select(FormVersion).where(FormVersion.key == key, FormVersion.sha256 == sha256)
                                  .order_by(FormVersion.version.desc()).limit(1))
        if known is not None:
            results.append((path.name, known, False))
            continue
        latest = db.session.scalar(select(func.max(FormVersion.version)).where(FormVersion.key == key)) or 0
        row = _store(key, text, sha256, latest + 1, actor, f"bpmn/forms/{path.name}", source=f"bpmn/forms/{path.name}")
        results.append((path.name, row, True))
    db.session.commit()
    return results


def export(key: str, path=None) -> Path:
    """Write the latest deployed version back to a file (bpmn/forms/<key>.json by default), so the
    repository keeps what analysts deployed in the editor."""
    rows = versions(key)
    if not rows:
        raise NotFound(_l("Form %(key)s has no deployed version.", key=key))
    target = Path(path) if path else _path(key)
    target.write_text(version(key, rows[0].version).definition, encoding="utf-8")
    return target


def _deployable(data: dict, text: str) -> None:
    if len(text.encode("utf-8")) > MAX_BYTES:
        raise InvalidInput(_l("The form is larger than %(kb)s KB.", kb=MAX_BYTES // 1024))
    found = problems(data)
    if found:
        raise InvalidInput(_l("The form has errors; it cannot be deployed until they are fixed."),
                           problems=[p.as_dict() for p in found])


def _file_digest(path: Path) -> str | None:
    try:
        return digest(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return None


def _store(key: str, text: str, sha256: str, number: int, actor, comment: str, source: str) -> FormVersion:
    from app.services import audit

    row = FormVersion(key=key, version=number, definition=text, sha256=sha256,
                      comment=(comment or "").strip()[:300] or None, deployed_by_id=getattr(actor, "id", None))
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:  # another deploy took this version number a moment before
        db.session.rollback()
        raise Conflict(_l("Another analyst deployed form %(key)s a moment ago. Reload the page to see their "
                          "version.", key=key)) from None
    audit.record("form.deploy", actor=actor, obj=row, details={"key": key, "version": number, "source": source,
                                                               "sha256": sha256})
    return row
