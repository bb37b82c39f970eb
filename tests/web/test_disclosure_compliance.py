"""The staff disclosure dashboard: every category with its state in words, its due date, the items
still to publish linked to their pages, the counts at the top and a filter by state; staff only."""
import re
from datetime import timedelta

import pytest

from app import policy
from app.extensions import db
from app.models.disclosure import DisclosureCategory, DisclosureItem, DisclosureStandard
from app.models.types import utcnow
from app.services import disclosure
from tests.factories import PASSWORD
from tests.helpers import make_pdf


@pytest.fixture
def taxonomy(app, users):
    """A small standard whose states do not depend on the day the test runs."""
    admin = users.staff(policy.ADMIN)
    standard = DisclosureStandard(code="test", title_ru="Тестовый стандарт", title_en="Test standard",
                                  act_ru="Тестовый акт", act_en="The test act")
    db.session.add(standard)
    db.session.flush()
    made = {}

    def category(code, periodicity, due_days, created_days_ago, items):
        row = DisclosureCategory(standard_id=standard.id, code=code, clause="п. 1", title_ru=f"Категория {code}",
                                 title_en=f"Category {code}", periodicity=periodicity, due_days=due_days,
                                 created_at=utcnow() - timedelta(days=created_days_ago), responsible_id=admin.id)
        db.session.add(row)
        db.session.flush()
        for n in range(items):
            db.session.add(DisclosureItem(category_id=row.id, code=f"{code}-{n}", title_ru=f"Документ {code} {n}",
                                          title_en=f"Document {code} {n}", position=n))
        db.session.flush()
        made[code] = row

    category("late", "once", 30, 40, 2)  # one of two published, due 10 days ago
    category("soon", "once", 35, 30, 2)  # one of two published, due in 5 days
    category("unpublished", "once", 30, 0, 1)
    category("done", "on_change", 10, 0, 1)
    db.session.commit()
    pdf = make_pdf("Документ")
    for code in ("late", "soon", "done"):
        item = made[code].items[0]
        disclosure.publish(item, data=pdf, filename="doc.pdf", user=admin, seen_revision=item.revision)
    return made


@pytest.fixture
def staff(client, users):
    person = users.staff(policy.SPECIALIST)
    person.locale = "en"
    db.session.commit()
    client.login(person.email, PASSWORD)
    return client


def _row_of(html: str, title: str) -> str:
    return next(row for row in re.findall(r"<tr>.*?</tr>", html, re.S) if title in row)


def test_the_dashboard_shows_each_category_with_its_state(staff, taxonomy):
    response = staff.get("/staff/disclosure/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Test standard" in html and "<caption>The test act</caption>" in html
    assert '<th scope="col">Deadline</th>' in html

    late = _row_of(html, "Category late")
    assert "overdue" in late and "<td class=\"text-end\">-10</td>" in late
    missing = taxonomy["late"].items[1]
    assert f'href="/staff/disclosure/items/{missing.id}">Document late 1</a>' in late
    assert "Document late 0" not in late
    assert "due soon" in _row_of(html, "Category soon")
    assert "never published" in _row_of(html, "Category unpublished")
    done = _row_of(html, "Category done")
    assert "published" in done and "Document done" not in done
    assert 'href="/disclosure/test/done/"' in done

    # The counts at the top, each a link to the filtered list.
    assert re.search(r'state=overdue"[^>]*><span class="badge [^"]+">overdue</span>\s*<strong>1</strong>', html)
    assert re.search(r'state=due_soon"[^>]*><span class="badge [^"]+">due soon</span>\s*<strong>1</strong>', html)
    assert re.search(r'state=never"[^>]*><span class="badge [^"]+">never published</span>\s*<strong>1</strong>', html)
    assert 'class="table-responsive"' in html and "<script>" not in html and "style=" not in html


def test_the_filter_shows_one_state(staff, taxonomy):
    html = staff.get("/staff/disclosure/?state=overdue").get_data(as_text=True)
    assert "Category late" in html
    assert "Category soon" not in html and "Category done" not in html
    assert '<option value="overdue" selected>' in html

    html = staff.get("/staff/disclosure/?state=withdrawn").get_data(as_text=True)
    assert "No categories in this state." in html
    html = staff.get("/staff/disclosure/?state=nonsense").get_data(as_text=True)
    assert "Category late" in html and "Category done" in html


def test_the_navigation_leads_staff_to_the_dashboard(staff, taxonomy):
    html = staff.get("/staff/").get_data(as_text=True)
    assert re.search(r'<a class="nav-link" href="/staff/disclosure/"\s*>Disclosure</a>', html)


def test_a_customer_and_a_visitor_cannot_open_it(client, users, taxonomy):
    assert client.get("/staff/disclosure/").status_code in (302, 401)
    customer = users.customer()
    client.login(customer.email, PASSWORD)
    assert client.get("/staff/disclosure/").status_code == 403
    assert 'href="/staff/disclosure/"' not in client.get("/cabinet/").get_data(as_text=True)


def test_the_seeded_taxonomy_shows_in_russian(client, users):
    disclosure.seed_taxonomy()
    person = users.staff(policy.SPECIALIST)
    client.login(person.email, PASSWORD)
    html = client.get("/staff/disclosure/").get_data(as_text=True)
    category = disclosure.find_category("electricity", "outages")
    assert category.title_ru in _row_of(html, category.title_ru)
    assert html.count("<caption>") == 2  # electricity and heat
    assert "квартал" in html  # the period said in words
