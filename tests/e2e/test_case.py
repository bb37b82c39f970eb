"""The demo process end to end in Chromium: the applicant files, a specialist takes and completes the
review, a document is generated, and the applicant sees the new status and downloads the PDF."""
from pathlib import Path

import pytest

from tests.documents import pdf_text
from tests.helpers import log_in, log_out
from tests.factories import UserFactory
from workflows import definitions

pytestmark = pytest.mark.e2e
DEMO = Path(__file__).resolve().parents[2] / "bpmn" / "demo_meter_replacement.bpmn"


@pytest.fixture
def people(live_server, tmp_path_factory):
    app = live_server["app"]
    app.config["FILE_STORE"] = str(tmp_path_factory.mktemp("files"))
    with app.app_context():
        definitions.deploy(DEMO.read_bytes(), source="e2e")
        users = UserFactory(app)
        applicant = users.customer(email="case.applicant@example.com", name="Заявителева Ольга")
        users.account(number="5600000001", owner=applicant)
        specialist = users.staff("specialist", groups=["metering"], email="case.metering@example.com")
        return {"applicant": applicant.email, "specialist": specialist.email}


def test_a_case_from_filing_to_the_generated_act(browser, live_server, people):
    base = live_server["url"]
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)

    log_in(page, base, people["applicant"])
    page.get_by_role("link", name="Заявки").click()
    page.get_by_role("link", name="Новая заявка").click()
    page.get_by_role("region", name="Замена прибора учёта (демо)", exact=True).get_by_role("link").click()
    page.get_by_role("link", name="Начать заполнение заявки").click()
    page.get_by_label("Причина замены").select_option(label="Неисправность прибора учёта")
    page.get_by_label("Желаемая дата визита специалиста").fill("2099-01-10")
    page.get_by_label("Контактный телефон").fill("+7 900 555-44-33")
    page.get_by_role("button", name="Продолжить").click()
    page.get_by_role("heading", name="Проверьте ответы").wait_for()
    assert "+7 900 555-44-33" in page.locator("dl").inner_text()
    page.get_by_role("button", name="Подать заявку").click()
    confirmation = page.get_by_role("status").filter(has_text="Ваша заявка подана")
    number = confirmation.locator("strong").inner_text()
    page.get_by_role("link", name="Перейти к заявке").click()
    page.get_by_role("heading", level=1).filter(has_text=number).wait_for()
    assert "Заявка на рассмотрении" in page.locator("#case-status").inner_text()
    log_out(page, base)

    log_in(page, base, people["specialist"])
    page.get_by_role("link", name="Задачи", exact=True).click()
    page.get_by_role("link", name="Задачи моих групп").click()
    row = page.get_by_role("row").filter(has_text=number)
    row.get_by_role("button", name="Взять").click()
    page.get_by_label("Решение").select_option(label="Согласовать замену")
    page.get_by_label("Плановая дата визита").fill("2099-01-20")
    page.get_by_role("button", name="Завершить задачу").click()
    page.get_by_role("status").filter(has_text=number).wait_for()
    log_out(page, base)

    log_in(page, base, people["applicant"])
    page.get_by_role("link", name="Заявки").click()
    page.get_by_role("link", name=number).click()
    assert "Ждём вашего подтверждения" in page.locator("#case-status").inner_text()
    page.get_by_label("Да").check()
    page.get_by_role("button", name="Отправить", exact=True).click()
    page.get_by_role("status").filter(has_text="ответ получен").wait_for()
    assert "Визит согласован, акт готов" in page.locator("#case-status").inner_text()

    link = page.get_by_role("link", name="Скачать").filter(has_text=".pdf").first
    response = context.request.get(f"{base}{link.get_attribute('href')}")
    assert response.ok and response.headers["content-type"] == "application/pdf"
    assert number in pdf_text(response.body()) and "Заявителева Ольга" in pdf_text(response.body())
    context.close()
