"""Information disclosure: the taxonomy, publishing versions of documents, withdrawing, the archive
and search. Shared by the public pages, the staff pages, the CLI and the Celery tasks.

Publishing is all or nothing: the file is checked whole (`disclosure_files.check`), its bytes go to
the content-addressed store, and one transaction marks the previous version replaced and adds the
new one. Two uploads to one item at once: each names the item's revision it saw, and a guarded
UPDATE lets exactly one through; the other is told someone else published meanwhile.
"""
import json
from dataclasses import dataclass
from pathlib import Path

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import joinedload, undefer

from app import policy
from app.extensions import db
from app.models.disclosure import (PERIODICITIES, DisclosureCategory, DisclosureDocument, DisclosureItem,
                                   DisclosureStandard)
from app.models.types import utcnow
from app.services import audit, disclosure_files, file_store
from app.services import disclosure_periods as periods
from app.services.errors import Conflict, Forbidden, InvalidInput, NotFound

SEED = Path(__file__).resolve().parents[1] / "data" / "disclosure_taxonomy.json"
ARCHIVE_PAGE = 50


# --- the taxonomy -----------------------------------------------------------------------------------

def seed_taxonomy(path: Path = SEED) -> dict:
    """Add the standards, categories and items of the seed that are missing (matched by code).
    What exists is left as it is: an administrator's edits are never overwritten."""
    seed = json.loads(Path(path).read_text(encoding="utf-8"))
    added = {"standards": 0, "categories": 0, "items": 0}
    for s_position, s in enumerate(seed["standards"]):
        standard = db.session.scalar(select(DisclosureStandard).where(DisclosureStandard.code == s["code"]))
        if standard is None:
            standard = DisclosureStandard(code=s["code"], title_ru=s["title_ru"], title_en=s["title_en"],
                                          act_ru=s.get("act_ru", ""), act_en=s.get("act_en", ""),
                                          position=s_position)
            db.session.add(standard)
            db.session.flush()
            added["standards"] += 1
        for c_position, c in enumerate(s["categories"]):
            if c["periodicity"] not in PERIODICITIES:
                raise ValueError(f"{path}: category {c['code']}: unknown periodicity {c['periodicity']!r}")
            category = db.session.scalar(select(DisclosureCategory).where(
                DisclosureCategory.standard_id == standard.id, DisclosureCategory.code == c["code"]))
            if category is None:
                category = DisclosureCategory(
                    standard_id=standard.id, code=c["code"], clause=c.get("clause", ""), title_ru=c["title_ru"],
                    title_en=c["title_en"], description_ru=c.get("description_ru", ""),
                    description_en=c.get("description_en", ""), periodicity=c["periodicity"],
                    due_days=c.get("due_days", 30), position=c_position)
                db.session.add(category)
                db.session.flush()
                added["categories"] += 1
            for i_position, i in enumerate(c.get("items", [])):
                exists = db.session.scalar(select(DisclosureItem.id).where(
                    DisclosureItem.category_id == category.id, DisclosureItem.code == i["code"]))
                if exists is None:
                    db.session.add(DisclosureItem(category_id=category.id, code=i["code"], title_ru=i["title_ru"],
                                                  title_en=i["title_en"], generator=i.get("generator"),
                                                  position=i_position))
                    added["items"] += 1
    db.session.commit()
    return added


def save_taxonomy(row: DisclosureStandard | DisclosureCategory | DisclosureItem, user) -> None:
    """Store a new or edited standard, category or item, with its audit event."""
    created = row.id is None
    db.session.add(row)
    db.session.flush()
    audit.record("disclosure.taxonomy_changed", actor=user, obj=row, details={"created": created})
    db.session.commit()


def standards() -> list[DisclosureStandard]:
    return db.session.scalars(
        select(DisclosureStandard).options(joinedload(DisclosureStandard.categories))
        .order_by(DisclosureStandard.position, DisclosureStandard.id)).unique().all()


def find_standard(code: str) -> DisclosureStandard:
    standard = db.session.scalar(select(DisclosureStandard).where(DisclosureStandard.code == code))
    if standard is None:
        raise NotFound(_l("There is no such section of disclosed information."))
    return standard


def find_category(standard_code: str, category_code: str) -> DisclosureCategory:
    category = db.session.scalar(
        select(DisclosureCategory).join(DisclosureStandard)
        .where(DisclosureStandard.code == standard_code, DisclosureCategory.code == category_code)
        .options(joinedload(DisclosureCategory.items)))
    if category is None:
        raise NotFound(_l("There is no such category of disclosed information."))
    return category


# --- what is published --------------------------------------------------------------------------------

def latest_by_item(item_ids) -> dict[int, DisclosureDocument]:
    """The newest version of each item (current, or withdrawn when it was withdrawn last)."""
    item_ids = list(item_ids)
    if not item_ids:
        return {}
    rows = db.session.scalars(select(DisclosureDocument).where(
        DisclosureDocument.item_id.in_(item_ids), DisclosureDocument.replaced_at.is_(None))).all()
    return {d.item_id: d for d in rows}


def archived(category: DisclosureCategory, page: int = 1, per_page: int = ARCHIVE_PAGE,
             item_id: int | None = None) -> tuple[list[DisclosureDocument], int]:
    """Replaced versions in a category (or of one item), the most recently replaced first, and how many."""
    where = [DisclosureDocument.replaced_at.is_not(None)]
    where.append(DisclosureDocument.item_id == item_id if item_id is not None else
                 DisclosureDocument.item_id.in_(select(DisclosureItem.id)
                                                .where(DisclosureItem.category_id == category.id)))
    total = db.session.scalar(select(func.count()).select_from(DisclosureDocument).where(*where))
    rows = db.session.scalars(
        select(DisclosureDocument).where(*where)
        .order_by(DisclosureDocument.replaced_at.desc(), DisclosureDocument.id.desc())
        .limit(per_page).offset(max(page - 1, 0) * per_page)).all()
    return rows, total


def versions(item: DisclosureItem) -> list[DisclosureDocument]:
    return db.session.scalars(select(DisclosureDocument).where(DisclosureDocument.item_id == item.id)
                              .order_by(DisclosureDocument.version.desc())).all()


def get_document(document_id: int) -> DisclosureDocument:
    document = db.session.get(DisclosureDocument, document_id,
                              options=[joinedload(DisclosureDocument.item).joinedload(DisclosureItem.category)
                                       .joinedload(DisclosureCategory.standard)])
    if document is None:
        raise NotFound(_l("There is no such published document."))
    return document


def format_of(document: DisclosureDocument) -> str:
    return disclosure_files.FORMAT_NAMES.get(document.content_type, "")


# --- publishing ------------------------------------------------------------------------------------------

def publish(item: DisclosureItem, *, data: bytes, filename: str | None, user, seen_revision: int,
            title: str = "", period: str | None = None, note: str = "", system: bool = False) -> DisclosureDocument:
    """Publish a new version of the item. `system=True` is the portal itself publishing a generated
    item's snapshot on schedule (no user); every other publication is checked against the category."""
    category = item.category
    if not system:
        require_publisher(user, category, item)
    checked = disclosure_files.check(data, filename)
    covered = _period_for(category, period)
    stored = file_store.save(data)  # content-addressed: harmless if the transaction below fails
    _take_turn(item, seen_revision)
    now = utcnow()
    db.session.execute(update(DisclosureDocument)
                       .where(DisclosureDocument.item_id == item.id, DisclosureDocument.replaced_at.is_(None))
                       .values(replaced_at=now))
    version = (db.session.scalar(select(func.max(DisclosureDocument.version))
                                 .where(DisclosureDocument.item_id == item.id)) or 0) + 1
    document = DisclosureDocument(
        item_id=item.id, version=version, title=(title or "").strip()[:300] or item.title_ru,
        period=covered.code if covered else None, period_end=covered.end if covered else None,
        note=(note or "").strip()[:500], filename=checked.filename, content_type=checked.content_type,
        size=stored.size, sha256=stored.sha256, pages=checked.pages, search_text=checked.text,
        published_at=now, published_by_id=user.id if user is not None else None)
    db.session.add(document)
    db.session.flush()
    audit.record("disclosure.published", actor=user, actor_label="system" if system else None, obj=document,
                 details={"item": item.id, "version": version, "sha256": stored.sha256, "size": stored.size,
                          "period": document.period, "filename": checked.filename})
    db.session.commit()
    return document


def withdraw(document: DisclosureDocument, *, user, reason: str, seen_revision: int) -> DisclosureDocument:
    """Mark the current version withdrawn: it stays reachable, marked so with the reason."""
    item = document.item
    require_publisher(user, item.category, item, "disclosure.withdraw")
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_l("Say why the document is withdrawn."), field="reason")
    if not document.is_current:
        raise Conflict(_l("Only the current version can be withdrawn."))
    _take_turn(item, seen_revision)
    document.withdrawn_at = utcnow()
    document.withdrawn_by_id = user.id
    document.withdraw_reason = reason[:500]
    audit.record("disclosure.withdrawn", actor=user, obj=document, details={"item": item.id, "reason": reason[:500]})
    db.session.commit()
    return document


def require_publisher(user, category: DisclosureCategory, item: DisclosureItem,
                      action: str = "disclosure.publish") -> None:
    """Forbidden (audited) unless the user publishes in this category."""
    if not policy.can_publish_in(user, category):
        db.session.rollback()
        audit.record(action, actor=user, outcome="denied", obj=item, commit=True)
        raise Forbidden(_l("You may not publish in the category “%(title)s”.", title=category.title_ru))


def _period_for(category: DisclosureCategory, code: str | None) -> periods.Period | None:
    covered = periods.parse(code)
    if category.periodicity in periods.PERIODIC:
        if covered is None:
            raise InvalidInput(_l("Choose the period the document covers."), field="period")
        if covered.kind != category.periodicity:
            raise InvalidInput(_l("This category is published %(periodicity)s: choose a period of that kind.",
                                  periodicity=periods.PERIODICITY_LABELS[category.periodicity]), field="period")
    return covered


def _take_turn(item: DisclosureItem, seen_revision: int) -> None:
    """The guard against two publications at once: only the one that saw the latest revision passes."""
    result = db.session.execute(update(DisclosureItem)
                                .where(DisclosureItem.id == item.id, DisclosureItem.revision == seen_revision)
                                .values(revision=DisclosureItem.revision + 1)
                                .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        db.session.rollback()
        raise Conflict(_l("Someone else has just published or withdrawn a version of this item. "
                          "Look at the current version, then try again."))
    db.session.expire(item, ["revision"])


# --- search ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Hit:
    document: DisclosureDocument
    snippet: str


def search(query: str, include_archive: bool = False, limit: int = 50) -> list[Hit]:
    """Published documents whose text or title holds every word of the query, newest first."""
    words = [w for w in disclosure_files.normalize(query or "").split() if len(w) >= 2][:8]
    if not words:
        return []
    where = []
    for word in words:
        pattern = "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        where.append(or_(DisclosureDocument.search_text.like(pattern, escape="\\"),
                         func.lower(DisclosureDocument.title).like(pattern, escape="\\")))
    if not include_archive:
        where.append(DisclosureDocument.replaced_at.is_(None))
    rows = db.session.scalars(
        select(DisclosureDocument).where(*where).options(undefer(DisclosureDocument.search_text))
        .order_by(DisclosureDocument.published_at.desc()).limit(limit)).all()
    return [Hit(document=d, snippet=_snippet(d.search_text, words)) for d in rows]


def _snippet(text: str, words: list[str], width: int = 90) -> str:
    at = min((i for i in (text.find(w) for w in words) if i >= 0), default=-1)
    if at < 0:
        return text[:2 * width]
    start = max(at - width, 0)
    return ("…" if start else "") + text[start:at + width] + ("…" if at + width < len(text) else "")

