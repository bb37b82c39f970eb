"""What regulators' robots read: the whole disclosure taxonomy with every published version as one
JSON document (described by a JSON Schema), and an Atom feed (RFC 4287) of the newest publications
and withdrawals.

Links are absolute and built on PUBLIC_URL, not on the host a request came through: the index and
the feed say the same to every robot, and the CLI or a Celery job can build them too. Times are
ISO 8601 in the company's time zone, with the offset.
"""
import json
from collections import defaultdict
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask import current_app, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from lxml import etree
from lxml.builder import ElementMaker
from sqlalchemy import func, select

from app.extensions import db
from app.i18n import filesize
from app.models.disclosure import DisclosureCategory, DisclosureDocument, DisclosureItem, DisclosureStandard
from app.services import disclosure_periods as periods
from app.services.disclosure_files import FORMAT_NAMES

SCHEMA = Path(__file__).resolve().parents[1] / "data" / "disclosure_index.schema.json"
ATOM_NS = "http://www.w3.org/2005/Atom"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
FEED_LANGUAGE = "ru"
# The date in the tag: URIs of the feed and its entries (RFC 4151). It is part of every id, so it
# never changes: a feed reader would take every entry for a new one.
TAG_DATE = "2026"
# The feed's `updated` while nothing is published yet: fixed, so the feed's ETag does not change.
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
PUBLISHED, WITHDRAWN = "published", "withdrawn"
# Stands for a document's id while a link is built once, then filled in for every document:
# thousands of url_for calls would be most of the cost of the index.
_ID = 987654321

D, I, C, S = DisclosureDocument, DisclosureItem, DisclosureCategory, DisclosureStandard


# --- the JSON index ------------------------------------------------------------------------------------------

def index() -> dict:
    """Every standard, category and item, each item with its current version, its withdrawn one (when
    the latest version was withdrawn) and its archive (replaced versions, newest first).

    Four queries whatever the number of documents: standards, categories, items, documents.
    """
    standard_rows = db.session.execute(
        select(S.id, S.code, S.title_ru, S.title_en, S.act_ru, S.act_en).order_by(S.position, S.id)).all()
    category_rows = db.session.execute(
        select(C.id, C.standard_id, C.code, C.clause, C.title_ru, C.title_en, C.periodicity, C.due_days)
        .order_by(C.position, C.id)).all()
    item_rows = db.session.execute(
        select(I.id, I.category_id, I.code, I.title_ru, I.title_en, I.generator).order_by(I.position, I.id)).all()
    document_rows = db.session.execute(
        select(D.id, D.item_id, D.version, D.title, D.period, D.note, D.filename, D.content_type, D.size, D.sha256,
               D.pages, D.published_at, D.replaced_at, D.withdrawn_at, D.withdraw_reason)
        .order_by(D.item_id, D.version.desc())).all()

    with _Links() as links:
        category_urls = {}
        codes = {s.id: s.code for s in standard_rows}
        for c in category_rows:
            if c.standard_id in codes:
                category_urls[c.id] = links.url("disclosure.category", standard=codes[c.standard_id], category=c.code)
        schema_url, feed_url = links.url("disclosure.index_schema"), links.url("disclosure.feed")

    zone = _zone()
    period_of = _PeriodCache()
    documents = defaultdict(list)  # item id → its versions, newest first
    updated = None
    for row in document_rows:
        documents[row.item_id].append(_document(row, links, zone, period_of))
        for moment in (row.published_at, row.withdrawn_at):
            if moment is not None and (updated is None or moment > updated):
                updated = moment

    items = defaultdict(list)
    for row in item_rows:
        versions = documents.get(row.id, [])
        latest = next((v for v in versions if v["replaced_at"] is None), None)
        withdrawn = latest if latest is not None and latest["withdrawn_at"] is not None else None
        items[row.category_id].append({
            "code": row.code,
            "title": {"ru": row.title_ru, "en": row.title_en},
            "generator": row.generator,
            "current": latest if withdrawn is None else None,
            "withdrawn": withdrawn,
            "archive": [v for v in versions if v is not latest],
        })
    categories = defaultdict(list)
    for row in category_rows:
        categories[row.standard_id].append({
            "code": row.code,
            "clause": row.clause or "",
            "title": {"ru": row.title_ru, "en": row.title_en},
            "periodicity": row.periodicity,
            "due_days": row.due_days,
            "url": category_urls.get(row.id),
            "items": items.get(row.id, []),
        })
    return {
        "schema": schema_url,
        "generated_at": _iso(datetime.now(timezone.utc), zone),
        "updated_at": _iso(updated, zone) if updated else None,
        "publisher": current_app.config["COMPANY_NAME"],
        "feed": feed_url,
        "standards": [{
            "code": row.code,
            "title": {"ru": row.title_ru, "en": row.title_en},
            "act": {"ru": row.act_ru or "", "en": row.act_en or ""},
            "categories": categories.get(row.id, []),
        } for row in standard_rows],
    }


def schema() -> dict:
    """The JSON Schema of the index, its `$id` being where it is served."""
    document = json.loads(_schema_text())
    with _Links() as links:
        return {"$schema": document.pop("$schema"), "$id": links.url("disclosure.index_schema"), **document}


@lru_cache(maxsize=1)
def _schema_text() -> str:
    return SCHEMA.read_text(encoding="utf-8")


def last_modified() -> datetime | None:
    """The newest publication or withdrawal: what the index and the feed change with."""
    moments = db.session.execute(select(func.max(D.published_at), func.max(D.withdrawn_at))).one()
    return max((m for m in moments if m is not None), default=None)


def _document(row, links: "_Links", zone: ZoneInfo, period_of: "_PeriodCache") -> dict:
    return {
        "id": row.id,
        "version": row.version,
        "title": row.title,
        "period": period_of(row.period),
        "note": row.note or "",
        "published_at": _iso(row.published_at, zone),
        "replaced_at": _iso(row.replaced_at, zone) if row.replaced_at else None,
        "withdrawn_at": _iso(row.withdrawn_at, zone) if row.withdrawn_at else None,
        "withdraw_reason": (row.withdraw_reason or "") if row.withdrawn_at else None,
        "filename": row.filename,
        "format": FORMAT_NAMES.get(row.content_type, ""),
        "content_type": row.content_type,
        "size": row.size,
        "pages": row.pages,
        "sha256": row.sha256,
        "url": links.document(row.id),
        "file_url": links.file(row.id),
    }


class _PeriodCache:
    """A period code as {code, start, end}; the same few codes repeat over thousands of documents."""

    def __init__(self):
        self._seen = {}

    def __call__(self, code: str | None) -> dict | None:
        if not code:
            return None
        if code not in self._seen:
            period = periods.parse(code)
            self._seen[code] = {"code": period.code, "start": period.start.isoformat(), "end": period.end.isoformat()}
        return self._seen[code]


# --- the Atom feed ---------------------------------------------------------------------------------------------

def atom(limit: int = 50) -> bytes:
    """The newest `limit` events, newest first: each publication of a version, and each withdrawal
    as an entry of its own that says so."""
    events = _events(limit)
    config = current_app.config
    company = config["COMPANY_NAME"]
    host = (urlsplit(config["PUBLIC_URL"]).hostname or "localhost").lower()
    zone = _zone()
    E = ElementMaker(namespace=ATOM_NS, nsmap={None: ATOM_NS})
    with _Links() as links, force_locale(FEED_LANGUAGE):
        home = links.url("disclosure.index")
        feed = E.feed(
            E.id(f"tag:{host},{TAG_DATE}:disclosure"),
            E.title(_("Information disclosure: %(company)s", company=company)),
            E.subtitle(_("New publications and withdrawals of disclosed information")),
            E.updated(_iso(events[0].moment if events else EPOCH, zone)),
            E.author(E.name(company), E.uri(config["PUBLIC_URL"].rstrip("/") + "/")),
            E.link(rel="self", type="application/atom+xml", href=links.url("disclosure.feed")),
            E.link(rel="alternate", type="text/html", href=home),
            E.link(rel="related", type="application/json", href=links.url("disclosure.index_json")),
        )
        feed.set(XML_LANG, FEED_LANGUAGE)
        period_label = {}
        for event in events:
            feed.append(_entry(E, event, host, home, links, zone, period_label))
    return etree.tostring(feed, xml_declaration=True, encoding="utf-8")


class _Event:
    __slots__ = ("kind", "moment", "row")

    def __init__(self, kind: str, moment: datetime, row):
        self.kind, self.moment, self.row = kind, moment, row


def _events(limit: int) -> list[_Event]:
    """Two queries (the newest publications, the newest withdrawals), merged by time."""
    columns = select(D.id, D.item_id, D.version, D.title, D.period, D.filename, D.content_type, D.size,
                     D.published_at, D.withdrawn_at, D.withdraw_reason, C.code.label("category_code"),
                     C.title_ru.label("category_title"), S.code.label("standard_code"),
                     S.title_ru.label("standard_title")) \
        .join(I, I.id == D.item_id).join(C, C.id == I.category_id).join(S, S.id == C.standard_id)
    published = db.session.execute(columns.order_by(D.published_at.desc(), D.id.desc()).limit(limit)).all()
    withdrawn = db.session.execute(columns.where(D.withdrawn_at.is_not(None))
                                   .order_by(D.withdrawn_at.desc(), D.id.desc()).limit(limit)).all()
    events = [_Event(PUBLISHED, row.published_at, row) for row in published]
    events += [_Event(WITHDRAWN, row.withdrawn_at, row) for row in withdrawn]
    events.sort(key=lambda e: (e.moment, e.row.id, e.kind == WITHDRAWN), reverse=True)
    return events[:limit]


def _entry(E, event: _Event, host: str, home: str, links: "_Links", zone: ZoneInfo, period_label: dict):
    row = event.row
    title = row.title if row.version == 1 else _("%(title)s (version %(version)s)", title=row.title,
                                                    version=row.version)
    summary = [_("Category: %(category)s.", category=row.category_title)]
    if row.period:
        if row.period not in period_label:
            period_label[row.period] = periods.parse(row.period).label()
        summary.append(_("Period: %(period)s.", period=period_label[row.period]))
    summary.append(_("Format: %(format)s, %(size)s.", format=FORMAT_NAMES.get(row.content_type, row.content_type),
                     size=filesize(row.size)))
    links_out = [E.link(rel="alternate", type="text/html", href=links.document(row.id))]
    if event.kind == WITHDRAWN:
        title = _("Withdrawn: %(title)s", title=title)
        summary.insert(0, _("The document is withdrawn. The reason: %(reason)s.",
                            reason=(row.withdraw_reason or "").rstrip(".")))
    else:
        # A withdrawn file is not offered for download in the feed: robots fetch enclosures.
        links_out.append(E.link(rel="enclosure", type=row.content_type, length=str(row.size),
                                href=links.file(row.id), title=row.filename))
    moment = _iso(event.moment, zone)
    return E.entry(
        E.id(f"tag:{host},{TAG_DATE}:disclosure/documents/{row.id}/{event.kind}"),
        E.title(title),
        E.updated(moment),
        E.published(moment),
        *links_out,
        E.category(term=row.standard_code, scheme=home, label=row.standard_title),
        E.category(term=f"{row.standard_code}/{row.category_code}", scheme=home, label=row.category_title),
        E.category(term=event.kind, scheme=f"tag:{host},{TAG_DATE}:disclosure/events"),
        E.summary(" ".join(summary)),
    )


# --- links and times ---------------------------------------------------------------------------------------

class _Links:
    """url_for on PUBLIC_URL, inside one request context for the whole build; a document's card and
    file links are built once and filled in with each id."""

    def __enter__(self) -> "_Links":
        base = current_app.config["PUBLIC_URL"].rstrip("/")
        self._context = current_app.test_request_context(base_url=base + "/")
        self._context.push()
        try:
            self._document = self._pattern("disclosure.document")
            self._file = self._pattern("disclosure.document_file")
        except Exception:
            self._context.pop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self._context.pop()

    @staticmethod
    def url(endpoint: str, **values) -> str:
        return url_for(endpoint, _external=True, **values)

    def _pattern(self, endpoint: str) -> tuple[str, str]:
        head, _sep, tail = self.url(endpoint, document_id=_ID).partition(str(_ID))
        return head, tail

    def document(self, document_id: int) -> str:
        return f"{self._document[0]}{document_id}{self._document[1]}"

    def file(self, document_id: int) -> str:
        return f"{self._file[0]}{document_id}{self._file[1]}"


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


def _iso(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).isoformat(timespec="seconds")
