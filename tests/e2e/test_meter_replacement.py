"""Meter replacement end to end in Chromium: the applicant files and checks the answers, picks a visit
window on the case page, the fitter takes the task and records the replacement, and the applicant
downloads the act of replacement (PDF and DOCX text checked)."""
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.e2e.steps import (answer_on_case_page, document_texts, finish_task, start_application,
                             submit_application, take_task, to_check_page)
from tests.helpers import log_in, log_out
from tests.factories import BillingFactory, UserFactory
from workflows import definitions

pytestmark = pytest.mark.e2e
DIAGRAM = Path(__file__).resolve().parents[2] / "bpmn" / "meter_replacement.bpmn"


@pytest.fixture
def people(live_server, tmp_path_factory):
    app = live_server["app"]
    app.config["FILE_STORE"] = str(tmp_path_factory.mktemp("files"))
    with app.app_context():
        definitions.deploy(DIAGRAM.read_bytes(), source="e2e")
        users = UserFactory(app)
        applicant = users.customer(email="zpu.applicant@example.com", name="Кузнецова Вера Павловна")
        account = users.account(number="5600000077", owner=applicant)
        BillingFactory(app).meter(account, serial="SN-OLD-5", installed_on=date(2023, 5, 1))
        fitter = users.staff("specialist", groups=["metering"], email="zpu.fitter@example.com")
        return {"applicant": applicant.email, "fitter": fitter.email}


def test_a_meter_replacement_from_request_to_act(desktop, live_server, people):
    base, page = live_server["url"], desktop

    log_in(page, base, people["applicant"])
    start_application(page, base, "Замена прибора учёта")
    page.get_by_label("Причина замены").select_option(label="Переход на двух- или трёхзонный учёт")
    page.get_by_role("button", name="Продолжить").click()
    # Told what is missing, and what was chosen stays chosen.
    page.locator(".invalid-feedback").first.wait_for()
    assert page.get_by_label("Причина замены").input_value() == "multi_zone"
    page.get_by_label("Сколько тарифных зон нужно").select_option("2")
    page.get_by_label("Контактный телефон").fill("+7 900 222-33-44")
    assert "Две зоны (день / ночь)" in to_check_page(page)
    number = submit_application(page)
    assert number.startswith("ЗПУ-")
    page.get_by_role("link", name="Перейти к заявке").click()
    assert "Выберите удобное время визита" in page.locator("#case-status").inner_text()
    page.get_by_label("Удобное время визита").select_option(index=1)
    page.get_by_label("Как пройти к прибору учёта").fill("Подъезд 2, код 45")
    answer_on_case_page(page)
    assert "Визит специалиста назначен" in page.locator("#case-status").inner_text()
    log_out(page, base)

    log_in(page, base, people["fitter"])
    take_task(page, base, number)
    page.get_by_role("group", name="Визит состоялся, прибор учёта заменён").get_by_label("Да").check()
    page.get_by_label("Дата замены").fill((date.today() - timedelta(days=1)).isoformat())
    page.get_by_label("Снятый прибор учёта: заводской номер").fill("SN-OLD-5")
    page.get_by_label("Конечные показания снятого прибора, T1 (или единственная зона)").fill("4321,5")
    page.get_by_label("Установленный прибор учёта: тип").fill("Меркурий 206 PRNO")
    page.get_by_label("Установленный прибор учёта: заводской номер").fill("SN-NEW-9")
    page.get_by_label("Тарифных зон").select_option("2")
    page.get_by_label("Класс точности").select_option("1.0")
    page.get_by_label("Дата поверки", exact=True).fill("2026-09-01")
    page.get_by_label("Дата следующей поверки").fill("2042-09-01")
    page.get_by_label("Номер пломбы").fill("ПЛ-7781")
    page.get_by_label("Начальные показания нового прибора, T1").fill("0,4")
    page.get_by_label("Начальные показания нового прибора, T2").fill("0,1")
    finish_task(page, number)
    log_out(page, base)

    log_in(page, base, people["applicant"])
    page.get_by_role("link", name="Заявки").click()
    page.get_by_role("link", name=number).click()
    assert "Прибор учёта заменён, акт готов" in page.locator("#case-status").inner_text()
    for extension, text in document_texts(page, base).items():
        for expected in (number, "Кузнецова Вера Павловна", "SN-OLD-5", "SN-NEW-9", "ПЛ-7781", "4 321,5"):
            assert expected in text, (extension, expected, text[:500])
