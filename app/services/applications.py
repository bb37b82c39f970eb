"""Filing an application online: the guide to a process, the draft kept between the form and the
"check your answers" page, and the submission that starts the case.

The draft lives in the database, not the session cookie: answers can be long and files are attached,
and an applicant who leaves and comes back finds what they typed. Files go to the file store as soon
as the form is accepted, so the check page and the case refer to the same stored bytes.
"""
from datetime import date
from functools import lru_cache

from flask_babel import format_date, gettext, lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.models import ApplicationDraft, Case, User
from app.services import cases, file_store
from app.services.errors import NotFound
from workflows import definitions, engine, guides


@lru_cache(maxsize=1)
def _guides() -> dict[str, guides.Guide]:
    return guides.load_folder(definitions.BPMN_FOLDER / "guides")


def guide(process_key: str) -> guides.Guide | None:
    return _guides().get(process_key)


def draft_of(user: User, process_key: str) -> ApplicationDraft | None:
    return db.session.scalar(select(ApplicationDraft).where(ApplicationDraft.user_id == user.id,
                                                            ApplicationDraft.process_key == process_key))


def file_fields(form_definition) -> set[str]:
    return {f.name for f in form_definition.fields if f.type == "file"} if form_definition else set()


def save_draft(user: User, process_key: str, form_definition, values: dict, account=None) -> ApplicationDraft:
    """Keep the accepted answers. A file field left empty keeps the file attached before. The
    process's start check runs now, so that what cannot be filed is said at the form."""
    engine.check_start(process_key, user, account, {k: v for k, v in values.items() if k not in file_fields(form_definition)})
    draft = draft_of(user, process_key)
    before = dict(draft.values) if draft else {}
    files = file_fields(form_definition)
    kept = {}
    for name, value in values.items():
        if name in files and isinstance(value, dict) and "data" in value:
            stored = file_store.save(value["data"])
            kept[name] = {"filename": value.get("filename") or name, "content_type": value["content_type"],
                          "size": stored.size, "sha256": stored.sha256}
        elif name in files and value is None:
            kept[name] = before.get(name)
        else:
            kept[name] = value
    if draft is None:
        draft = ApplicationDraft(user_id=user.id, process_key=process_key)
        db.session.add(draft)
    draft.values, draft.account_id = kept, getattr(account, "id", None)
    db.session.commit()
    return draft


def discard(user: User, process_key: str) -> None:
    draft = draft_of(user, process_key)
    if draft is not None:
        db.session.delete(draft)
        db.session.commit()


def submit(user: User, process_key: str) -> Case:
    """Start the case from the draft; the draft goes once the case is filed."""
    draft = draft_of(user, process_key)
    if draft is None:
        raise NotFound(_l("There is nothing to submit: fill in the application first."))
    account = draft.account if draft.account_id else None
    values = dict(draft.values)
    case = cases.start(user, process_key, values, account=account)
    discard(user, process_key)
    return case


def summary(form_definition, values: dict, locale: str) -> list[tuple[str, str]]:
    """The answers as the applicant reads them on the check page: labels and printable values."""
    rows = []
    for spec in form_definition.fields:
        rows.append((spec.label.get(locale), _printable(spec, values.get(spec.name), locale)))
    return rows


def _printable(spec, value, locale: str) -> str:
    if value in (None, "", []):
        return "—"
    kind = spec.type
    if kind == "choice":
        return next((o.label.get(locale) for o in spec.choices if o.value == value), str(value))
    if kind == "multichoice":
        return ", ".join(o.label.get(locale) for o in spec.choices if o.value in value) or "—"
    if kind == "yesno":
        return gettext("Yes") if value else gettext("No")
    if kind == "date":
        return format_date(date.fromisoformat(value), "long")
    if kind == "file":
        return value.get("filename", "") if isinstance(value, dict) else str(value)
    if kind == "table":
        return "; ".join(", ".join(_printable(column, row.get(column.name), locale) for column in spec.columns)
                         for row in value)
    if kind == "decimal":
        return str(value).replace(".", ",") if locale.startswith("ru") else str(value)
    return str(value)
