"""The machine-readable index and the Atom feed of disclosed information, as robots read them: the
index holds to its JSON Schema, the feed to the RELAX NG grammar of RFC 4287, and both say what was
published, replaced and withdrawn."""
import hashlib
import json
import time
from datetime import timedelta

import pytest
from flask_babel import force_locale, gettext
from jsonschema import Draft202012Validator
from lxml import etree
from sqlalchemy import event, insert, select

from app.extensions import db
from app.models import DisclosureCategory, DisclosureDocument, DisclosureItem
from app.models.types import utcnow
from app.services import disclosure, disclosure_feeds
from tests.helpers import make_pdf

ATOM = {"a": "http://www.w3.org/2005/Atom"}
BASE = "http://portal.test/disclosure"  # PUBLIC_URL of the test app






@pytest.fixture
def admin(users):
    return users.staff("admin")


def item(code="statements", category="financial-statements") -> DisclosureItem:
    return db.session.scalar(select(DisclosureItem).join(DisclosureItem.category)
                             .where(DisclosureItem.code == code, DisclosureCategory.code == category))


def publish(target: DisclosureItem, user, text: str, period: str | None = "2025", name="balance.pdf"):
    db.session.refresh(target)
    data = make_pdf(text)
    document = disclosure.publish(target, data=data, filename=name, user=user, seen_revision=target.revision,
                                  period=period, title=f"Отчётность: {text}")
    return document, data


def withdraw(document: DisclosureDocument, user, reason: str) -> None:
    db.session.refresh(document.item)
    disclosure.withdraw(document, user=user, reason=reason, seen_revision=document.item.revision)


def valid_index(data: dict) -> dict:
    validator = Draft202012Validator(disclosure_feeds.schema(), format_checker=Draft202012Validator.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])
    return data


def valid_feed(body: bytes, grammar) -> etree._Element:
    feed = etree.fromstring(body)
    assert grammar.validate(feed), grammar.error_log
    # The two Schematron rules of RFC 4287 that RELAX NG cannot say.
    assert feed.xpath("a:author or not(a:entry[not(a:author)])", namespaces=ATOM)
    for entry in feed.xpath("a:entry", namespaces=ATOM):
        assert entry.xpath("a:link[@rel='alternate'] or a:link[not(@rel)] or a:content", namespaces=ATOM)
        assert entry.xpath("a:author or ../a:author or a:source/a:author", namespaces=ATOM)
    return feed


def in_russian(text: str, **values) -> str:
    with force_locale("ru"):
        return gettext(text, **values)


def index_item(data: dict, standard="electricity", category="financial-statements", code="statements") -> dict:
    found = next(s for s in data["standards"] if s["code"] == standard)
    found = next(c for c in found["categories"] if c["code"] == category)
    return next(i for i in found["items"] if i["code"] == code)


def test_the_schema_is_a_valid_draft_2020_12_schema(app):
    schema = disclosure_feeds.schema()
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == f"{BASE}/index.schema.json"


def test_nothing_published_yet(taxonomy, atom_grammar):
    data = valid_index(disclosure_feeds.index())
    assert data["updated_at"] is None and data["schema"] == f"{BASE}/index.schema.json"
    assert data["feed"] == f"{BASE}/feed.atom"
    items = [i for s in data["standards"] for c in s["categories"] for i in c["items"]]
    assert items and all(i["current"] is None and i["withdrawn"] is None and i["archive"] == [] for i in items)
    category = next(c for s in data["standards"] for c in s["categories"] if c["code"] == "financial-statements")
    assert category["url"] == f"{BASE}/electricity/financial-statements/"
    assert category["periodicity"] == "yearly" and category["title"]["ru"] and category["title"]["en"]

    feed = valid_feed(disclosure_feeds.atom(), atom_grammar)
    assert feed.xpath("a:entry", namespaces=ATOM) == []
    assert feed.findtext("a:updated", namespaces=ATOM) == "1970-01-01T03:00:00+03:00"
    assert feed.findtext("a:id", namespaces=ATOM) == "tag:portal.test,2026:disclosure"
    assert disclosure_feeds.last_modified() is None
    # The same data make the same feed, byte for byte: its ETag holds.
    assert disclosure_feeds.atom() == disclosure_feeds.atom()


def test_a_publication_in_the_index(taxonomy, admin):
    document, data = publish(item(), admin, "Бухгалтерский баланс за 2025 год")
    listed = index_item(valid_index(disclosure_feeds.index()))
    current = listed["current"]
    assert current["id"] == document.id and current["version"] == 1
    assert current["sha256"] == hashlib.sha256(data).hexdigest() and current["size"] == len(data)
    assert current["format"] == "PDF" and current["content_type"] == "application/pdf" and current["pages"] == 1
    assert current["url"] == f"{BASE}/documents/{document.id}"
    assert current["file_url"] == f"{BASE}/documents/{document.id}/file"
    assert current["period"] == {"code": "2025", "start": "2025-01-01", "end": "2025-12-31"}
    assert current["title"] == "Отчётность: Бухгалтерский баланс за 2025 год"
    assert current["published_at"].endswith("+03:00") and current["replaced_at"] is None
    assert listed["withdrawn"] is None and listed["archive"] == []
    assert index_item(disclosure_feeds.index(), code="audit-report")["current"] is None


def test_a_newer_version_archives_the_older_and_a_withdrawal_is_marked(taxonomy, admin, atom_grammar):
    first, _ = publish(item(), admin, "Баланс первый")
    second, second_data = publish(item(), admin, "Баланс исправленный")
    listed = index_item(valid_index(disclosure_feeds.index()))
    assert listed["current"]["id"] == second.id and listed["current"]["version"] == 2
    assert [d["id"] for d in listed["archive"]] == [first.id]
    assert listed["archive"][0]["replaced_at"] == listed["current"]["published_at"]

    feed = valid_feed(disclosure_feeds.atom(), atom_grammar)
    entries = feed.xpath("a:entry", namespaces=ATOM)
    assert [e.findtext("a:id", namespaces=ATOM) for e in entries] == [
        f"tag:portal.test,2026:disclosure/documents/{second.id}/published",
        f"tag:portal.test,2026:disclosure/documents/{first.id}/published"]
    newest = entries[0]
    assert newest.findtext("a:title", namespaces=ATOM) == in_russian("%(title)s (version %(version)s)",
                                                                     title="Отчётность: Баланс исправленный", version=2)
    enclosure = newest.find("a:link[@rel='enclosure']", namespaces=ATOM)
    assert enclosure.get("href") == f"{BASE}/documents/{second.id}/file"
    assert enclosure.get("type") == "application/pdf" and enclosure.get("length") == str(len(second_data))
    assert newest.find("a:link[@rel='alternate']", namespaces=ATOM).get("href") == f"{BASE}/documents/{second.id}"
    assert "financial-statements" in newest.xpath("a:category/@term", namespaces=ATOM)[1]
    summary = newest.findtext("a:summary", namespaces=ATOM)
    assert "Годовая финансовая" in summary and "2025" in summary and "PDF" in summary
    assert feed.findtext("a:updated", namespaces=ATOM) == newest.findtext("a:updated", namespaces=ATOM)

    withdraw(second, admin, "Ошибка в отчётности")
    listed = index_item(valid_index(disclosure_feeds.index()))
    assert listed["current"] is None
    assert listed["withdrawn"]["id"] == second.id and listed["withdrawn"]["withdraw_reason"] == "Ошибка в отчётности"
    assert listed["withdrawn"]["withdrawn_at"] is not None
    entries = valid_feed(disclosure_feeds.atom(), atom_grammar).xpath("a:entry", namespaces=ATOM)
    assert len(entries) == 3
    notice = entries[0]
    assert notice.findtext("a:id", namespaces=ATOM) == \
        f"tag:portal.test,2026:disclosure/documents/{second.id}/withdrawn"
    assert notice.findtext("a:title", namespaces=ATOM) == in_russian(
        "Withdrawn: %(title)s", title=in_russian("%(title)s (version %(version)s)",
                                                 title="Отчётность: Баланс исправленный", version=2))
    assert "Ошибка в отчётности" in notice.findtext("a:summary", namespaces=ATOM)
    assert notice.find("a:link[@rel='enclosure']", namespaces=ATOM) is None
    assert "withdrawn" in notice.xpath("a:category/@term", namespaces=ATOM)
    db.session.refresh(second)
    assert disclosure_feeds.last_modified() == second.withdrawn_at


def test_the_feed_keeps_the_newest_entries(taxonomy, admin, atom_grammar):
    made = [publish(item(), admin, f"Версия {n}")[0] for n in range(4)]
    entries = valid_feed(disclosure_feeds.atom(limit=3), atom_grammar).xpath("a:entry", namespaces=ATOM)
    assert [e.findtext("a:id", namespaces=ATOM).split("/")[-2] for e in entries] == [str(d.id) for d in made[:0:-1]]


def test_the_index_takes_four_queries_however_many_documents(taxonomy, admin):
    publish(item(), admin, "Настоящий документ")
    template = db.session.scalar(select(DisclosureDocument))
    items = db.session.scalars(select(DisclosureItem.id)).all()
    start = utcnow() - timedelta(days=365)
    rows, version = [], {}
    for n in range(3000):
        item_id = items[n % len(items)]
        version[item_id] = version.get(item_id, 0) + 1
        rows.append(dict(item_id=item_id, version=version[item_id] + 1, title=f"Документ {n}", period=None,
                         filename="doc.pdf", content_type=template.content_type, size=template.size,
                         sha256=template.sha256, pages=1, published_at=start + timedelta(minutes=n),
                         replaced_at=start + timedelta(minutes=n + len(items))))
    db.session.execute(insert(DisclosureDocument), rows)
    db.session.commit()

    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        begun = time.perf_counter()
        data = disclosure_feeds.index()
        took = time.perf_counter() - begun
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert len(statements) == 4, statements
    assert sum(len(i["archive"]) for s in data["standards"] for c in s["categories"] for i in c["items"]) == 3000
    assert took < 5, f"the index of 3000 documents took {took:.2f} s"
    valid_index(json.loads(json.dumps(data)))
