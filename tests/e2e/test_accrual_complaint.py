"""A complaint about an accrual end to end in Chromium: the applicant reads the guide, files the complaint
(a month without accruals is refused at the field) and checks the answers; the billing specialist takes
the review, sees the month's accruals and readings and recalculates; the applicant follows the status,
downloads the answer (PDF and DOCX text checked) and accepts it."""
import io
from datetime import date
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from app.extensions import db
from app.models import Tariff
from app.services import billing as close
from tests.e2e.steps import answer_on_case_page, document_texts, finish_task, submit_application, take_task
from tests.helpers import log_in, log_out
from tests.factories import BillingFactory, UserFactory
from workflows import definitions

pytestmark = pytest.mark.e2e
DIAGRAM = Path(__file__).resolve().parents[2] / "bpmn" / "accrual_complaint.bpmn"
REGION = "zhn"
REASON = "Показания 1400 введены ошибочно, верные показания 1300."


@pytest.fixture
def people(live_server, tmp_path_factory):
    app = live_server["app"]
    app.config["FILE_STORE"] = str(tmp_path_factory.mktemp("files"))
    with app.app_context():
        definitions.deploy(DIAGRAM.read_bytes(), source="e2e")
        users, billing = UserFactory(app), BillingFactory(app)
        applicant = users.customer(email="zhn.applicant@example.com", name="Жалобина Мария Петровна")
        account = users.account(number="5600000099", owner=applicant)
        # A region of its own, with its tariff and normative, so that other tests closing a month for every
        # account of the shared database close this one too.
        account.region = REGION
        db.session.commit()
        if db.session.scalar(select(Tariff.id).where(Tariff.region == REGION)) is None:
            billing.tariff(date(2020, 1, 1), "7.00", region=REGION)
            billing.norm(date(2020, 1, 1), "100", region=REGION)
        meter = billing.meter(account, serial="SN-ZHN-1", installed_on=date(2024, 3, 1), initial={"T1": "1000"})
        billing.reading(meter, date(2026, 9, 1), T1="1150")
        billing.reading(meter, date(2026, 10, 1), T1="1400")
        for period in (date(2026, 9, 1), date(2026, 10, 1)):
            assert not close.close_period(period, account_ids=[account.id]).problems
        specialist = users.staff("specialist", groups=["billing"], email="zhn.billing@example.com")
        return {"applicant": applicant.email, "specialist": specialist.email}


def meter_photo() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "white").save(buffer, format="PNG")
    return buffer.getvalue()


def test_a_complaint_recalculated_and_the_answer_accepted(desktop, live_server, people):
    base, page = live_server["url"], desktop

    log_in(page, base, people["applicant"])
    page.goto(f"{base}/cases/new")
    page.get_by_role("region", name="Жалоба на начисление", exact=True).get_by_role("link").click()
    assert "20 рабочих дней" in page.locator("main").inner_text()
    page.get_by_role("link", name="Начать заполнение заявки").click()
    page.get_by_label("Месяц начисления").fill("2026-07-10")
    page.get_by_label("Что не так").select_option(label="Учтены неверные показания")
    page.get_by_label("Суть жалобы").fill("В октябре учтены показания 1400, а на приборе было 1300.")
    page.get_by_label("Верные, по-вашему, показания, кВт·ч").fill("1300")
    page.get_by_label("Подтверждающий документ").set_input_files(
        {"name": "meter.png", "mimeType": "image/png", "buffer": meter_photo()})
    page.get_by_role("button", name="Продолжить").click()
    # July has no bill on the account: said at the month, and the rest stays filled in.
    error = page.locator("#period-error")
    error.wait_for()
    assert "5600000099" in error.inner_text()
    assert page.get_by_label("Суть жалобы").input_value().startswith("В октябре")
    page.get_by_label("Месяц начисления").fill("2026-10-10")
    page.get_by_label("Подтверждающий документ").set_input_files(
        {"name": "meter.png", "mimeType": "image/png", "buffer": meter_photo()})
    page.get_by_role("button", name="Продолжить").click()
    page.get_by_role("heading", name="Проверьте ответы").wait_for()
    answers = page.locator("dl").inner_text()
    assert "Учтены неверные показания" in answers and "meter.png" in answers and "1300" in answers
    number = submit_application(page)
    assert number.startswith("ЖН-")
    page.get_by_role("link", name="Перейти к заявке").click()
    assert "Жалоба рассматривается" in page.locator("#case-status").inner_text()
    log_out(page, base)

    log_in(page, base, people["specialist"])
    take_task(page, base, number)
    month = page.locator("section[aria-labelledby='period-accruals-title']")
    shown = " ".join(month.inner_text().split())
    for expected in ("октябрь 2026", "1 750,00", "№ SN-ZHN-1", "T1 1 400", "по показаниям"):
        assert expected in shown, (expected, shown)
    page.get_by_label("Решение").select_option(label="Произвести перерасчёт")
    page.get_by_label("Сумма перерасчёта, руб.").fill("1234,56")
    page.get_by_label("Основание перерасчёта").fill(REASON)
    finish_task(page, number)
    log_out(page, base)

    log_in(page, base, people["applicant"])
    page.get_by_role("link", name="Заявки").click()
    page.get_by_role("link", name=number).click()
    assert "Ответ готов: примите его или обжалуйте" in page.locator("#case-status").inner_text()
    for extension, text in document_texts(page, base).items():
        for expected in (number, "октябрь 2026", "5600000099", "1 234,56", REASON, "Жалобина Мария Петровна",
                         "в течение 14 дней"):
            assert expected in text, (extension, expected, text[:800])
    page.get_by_label("Ваше решение").select_option(label="Согласен(на) с ответом")
    answer_on_case_page(page)
    assert "Ответ дан и принят" in page.locator("#case-status").inner_text()
