"""The public disclosure page of a category whose items have 1,000 archived versions, on PostgreSQL.

    python -m bench.disclosure [--archived 1000] [--others 20000] [--requests 500]

The category's items get their versions through `disclosure.publish` (the real path: a PDF checked,
its text taken out, the previous version replaced) — --archived of them end up in the archive; the
rest of the taxonomy gets --others documents inserted directly, so the table is the size of years of
publications. Then the page is asked --requests times through the whole Flask stack (routing,
queries, template), as a logged-out regulator. Figures: the 95th percentile of the category page,
and of the first page of its full archive.
"""
import argparse
import logging
import tempfile
import time
from datetime import timedelta

from bench.support import database_url, migrated_app, percentile, report

STANDARD, CATEGORY = "electricity", "financial-statements"


def prepare(archived: int, others: int) -> None:
    from sqlalchemy import delete, insert, select

    from app.extensions import db
    from app.models import (DisclosureCategory, DisclosureDocument, DisclosureItem, DisclosureReminder,
                            DisclosureStandard, User)
    from app.models.types import utcnow
    from app.services import disclosure, users
    from weasyprint import HTML

    for model in (DisclosureReminder, DisclosureDocument, DisclosureItem, DisclosureCategory, DisclosureStandard):
        db.session.execute(delete(model))
    db.session.commit()
    disclosure.seed_taxonomy()
    admin = db.session.scalar(select(User).where(User.email == "bench.disclosure@example.com")) or \
        users.create_staff("bench.disclosure@example.com", "Публикатор", ["admin"], [], password="Bench-2026-admin",
                           send_invitation=False)
    category = disclosure.find_category(STANDARD, CATEGORY)
    items = list(category.items)
    pdfs = [HTML(string=f"<p>Бухгалтерская отчётность, версия {n}.</p>" + "<p>Строка баланса 1600.</p>" * 200)
            .write_pdf() for n in range(20)]
    started = time.perf_counter()
    for n in range(archived + len(items)):
        item = items[n % len(items)]
        db.session.refresh(item)
        disclosure.publish(item, data=pdfs[n % len(pdfs)], filename=f"otchetnost-{n}.pdf", user=admin,
                           seen_revision=item.revision, period=str(2000 + n // 40), title=f"Отчётность, версия {n}")
    print(f"published {archived + len(items)} versions in {time.perf_counter() - started:.1f} s")

    other_items = db.session.scalars(select(DisclosureItem).where(DisclosureItem.category_id != category.id)).all()
    now = utcnow()
    rows = []
    for n in range(others):
        item = other_items[n % len(other_items)]
        rows.append(dict(item_id=item.id, version=n // len(other_items) + 1, title=f"Документ {n}", period=None,
                         note="", filename=f"doc-{n}.pdf", content_type="application/pdf", size=100_000 + n,
                         sha256=f"{n:064x}", pages=3, search_text="текст документа " * 100,
                         published_at=now - timedelta(days=others - n), published_by_id=admin.id,
                         replaced_at=None if n >= others - len(other_items) else now - timedelta(days=others - n - 1),
                         withdraw_reason=""))
    for chunk in range(0, len(rows), 5000):
        db.session.execute(insert(DisclosureDocument), rows[chunk:chunk + 5000])
    db.session.commit()
    db.session.execute(db.text("ANALYZE disclosure_document"))
    db.session.commit()


def measure(client, path: str, requests: int) -> list[float]:
    for _ in range(20):  # warm up: templates compiled, connections pooled
        assert client.get(path).status_code == 200
    timings = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(path)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.status_code
    return sorted(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--archived", type=int, default=1000)
    parser.add_argument("--others", type=int, default=20000)
    parser.add_argument("--requests", type=int, default=500)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    url = database_url().rsplit("/", 1)[0] + "/bench_disclosure"
    app = migrated_app(url, FILE_STORE=tempfile.mkdtemp(prefix="bench-disclosure-"))
    with app.app_context():
        prepare(args.archived, args.others)
        from app.services import disclosure

        category = disclosure.find_category(STANDARD, CATEGORY)
        _rows, total = disclosure.archived(category)
        assert total == args.archived, total
    client = app.test_client()
    page = f"/disclosure/{STANDARD}/{CATEGORY}/"
    timings = measure(client, page, args.requests)
    archive = measure(client, page + "archive", args.requests // 2)
    print(f"category page: median {percentile(timings, 0.5):.1f} ms, p95 {percentile(timings, 0.95):.1f} ms; "
          f"archive page 1: median {percentile(archive, 0.5):.1f} ms, p95 {percentile(archive, 0.95):.1f} ms")
    report("disclosure", p95_ms=percentile(timings, 0.95), archive_p95_ms=percentile(archive, 0.95),
           archived=args.archived, documents=args.archived + args.others)


if __name__ == "__main__":
    main()
