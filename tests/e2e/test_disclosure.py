"""Staff publish a PDF in a disclosure category; a regulator, not logged in, finds it on the public page;
a newer version takes its place and the first one is in the archive with both of its dates."""
import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import DisclosureCategory, StaffGroup
from app.services import disclosure
from tests.factories import UserFactory
from tests.helpers import log_in, make_pdf

pytestmark = pytest.mark.e2e
CATEGORY = "/disclosure/electricity/investment-programme/"


@pytest.fixture(scope="module")
def publisher(live_server):
    app = live_server["app"]
    with app.app_context():
        disclosure.seed_taxonomy()
        category = db.session.scalar(select(DisclosureCategory).where(DisclosureCategory.code == "investment-programme",
                                                                      DisclosureCategory.periodicity == "yearly"))
        category.publisher_group_id = db.session.scalar(select(StaffGroup.id).where(StaffGroup.code == "legal"))
        db.session.commit()
        return UserFactory(app).staff("specialist", groups=["legal"], email="disclosure.publisher@example.com").email


def _log_out(page):
    page.get_by_role("button", name="Выйти").click()
    page.wait_for_load_state()


def _publish(page, base, title, text):
    page.goto(f"{base}{CATEGORY}")
    page.locator("section", has=page.get_by_role("heading", name="Инвестиционная программа", exact=True)) \
        .get_by_role("link", name="Опубликовать новую версию").click()
    page.get_by_label("Файл (PDF, XLSX или DOCX)").set_input_files(
        {"name": "investment.pdf", "mimeType": "application/pdf", "buffer": make_pdf(text)})
    page.get_by_label("Период, к которому относится документ").select_option("2025")
    page.get_by_label("Название").fill(title)
    page.get_by_role("button", name="Опубликовать", exact=True).click()
    page.wait_for_load_state()
    assert "Публичная страница уже показывает её" in page.locator("main").inner_text()


def test_a_publication_replaced_by_a_newer_one_goes_to_the_archive_with_both_dates(desktop, live_server, publisher):
    page, base = desktop, live_server["url"]
    log_in(page, base, publisher)
    _publish(page, base, "Инвестиционная программа на 2025 год", "Программа: 120 млн руб.")
    _log_out(page)

    # A regulator, not logged in.
    page.goto(f"{base}{CATEGORY}")
    section = page.locator("section", has=page.get_by_role("heading", name="Инвестиционная программа", exact=True))
    link = section.get_by_role("link", name="Инвестиционная программа на 2025 год")
    assert re.search(r"\(PDF, \d+ КБ\)", section.inner_text()) and "2025 год" in section.inner_text()
    first_url = link.get_attribute("href")
    download = page.request.get(base + first_url)
    assert download.ok and download.body().startswith(b"%PDF")
    assert page.get_by_text("Прежних версий нет.").is_visible()

    log_in(page, base, publisher)
    _publish(page, base, "Инвестиционная программа на 2025 год (изм. 1)", "Программа: 135 млн руб.")
    _log_out(page)

    page.goto(f"{base}{CATEGORY}")
    section = page.locator("section", has=page.get_by_role("heading", name="Инвестиционная программа", exact=True))
    assert "(изм. 1)" in section.inner_text()
    archive = page.locator("table.disclosure-archive")
    row = archive.locator("tbody tr").first
    cells = row.locator("td").all_inner_texts()
    assert "Инвестиционная программа на 2025 год" in cells[0] and "изм." not in cells[0]
    assert cells[1] == "2025 год"
    published, replaced = row.locator("time").all()
    assert published.get_attribute("datetime") < replaced.get_attribute("datetime")
    assert re.fullmatch(r"\d\d\.\d\d\.\d{4}, \d\d:\d\d", published.inner_text().strip())
    # The first version is still where it was.
    assert row.get_by_role("link", name="Инвестиционная программа на 2025 год").get_attribute("href") == first_url
    assert page.request.get(base + first_url).body() == download.body()
