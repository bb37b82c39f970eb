"""Technological connection end to end in Chromium: the applicant files with attachments, the
connection group checks it and prepares the conditions, the applicant accepts the offer, the payment is
marked, the works are done, the applicant reports readiness, the metering group admits the meter, and
the applicant downloads the act (PDF and DOCX text checked)."""
from datetime import date
from pathlib import Path

import pytest

from app.services import connection_fees
from tests.e2e.steps import (answer_on_case_page, document_texts, finish_task, start_application,
                             submit_application, take_task, to_check_page)
from tests.helpers import log_in, log_out
from tests.factories import UserFactory
from workflows import definitions

pytestmark = pytest.mark.e2e
DIAGRAM = Path(__file__).resolve().parents[2] / "bpmn" / "technological_connection.bpmn"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def people(live_server, tmp_path_factory):
    app = live_server["app"]
    app.config["FILE_STORE"] = str(tmp_path_factory.mktemp("files"))
    with app.app_context():
        definitions.deploy(DIAGRAM.read_bytes(), source="e2e")
        connection_fees.seed_demo_rates()
        users = UserFactory(app)
        return {"applicant": users.customer(email="tp.applicant@example.com", name="Морозов Илья Сергеевич").email,
                "engineer": users.staff("specialist", groups=["connection"], email="tp.engineer@example.com").email,
                "fitter": users.staff("specialist", groups=["metering"], email="tp.fitter@example.com").email}


def test_technological_connection_from_application_to_act(desktop, live_server, people):
    base, page = live_server["url"], desktop

    log_in(page, base, people["applicant"])
    start_application(page, base, "Технологическое присоединение")
    page.get_by_label("Заявитель").select_option("individual")
    page.get_by_label("Присоединяемый объект").fill("Жилой дом")
    page.get_by_label("Адрес объекта").fill("Московская обл., д. Лаговское, ул. Полевая, уч. 15")
    page.get_by_label("Кадастровый номер земельного участка").fill("50-27-123")
    page.get_by_label("Максимальная мощность, кВт").fill("15")
    page.get_by_label("Уровень напряжения, кВ").select_option("0.4")
    page.get_by_label("Характер нагрузки").select_option("household")
    page.get_by_label("Расстояние до ближайших электрических сетей, м").fill("120")
    page.get_by_label("Местность").select_option("rural")
    page.get_by_label("Гарантирующий поставщик").select_option("gridcase_sales")
    page.get_by_label("Правоустанавливающий документ на участок или здание").set_input_files(
        files=[{"name": "egrn.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    page.get_by_label("План расположения энергопринимающих устройств").set_input_files(
        files=[{"name": "plan.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    page.get_by_role("button", name="Продолжить").click()
    # A cadastral number in the wrong format is refused with what is expected; the rest stays filled in.
    page.get_by_text("Кадастровый номер записывается как 50:27:0020806:123.").wait_for()
    assert page.get_by_label("Присоединяемый объект").input_value() == "Жилой дом"
    page.get_by_label("Кадастровый номер земельного участка").fill("50:27:0020806:123")
    for label, name in (("Правоустанавливающий документ на участок или здание", "egrn.pdf"),
                        ("План расположения энергопринимающих устройств", "plan.pdf")):
        page.get_by_label(label).set_input_files(files=[{"name": name, "mimeType": "application/pdf", "buffer": PDF}])
    assert "egrn.pdf" in to_check_page(page)
    number = submit_application(page)
    assert number.startswith("ТП-")
    log_out(page, base)

    log_in(page, base, people["engineer"])
    take_task(page, base, number)
    page.get_by_role("group", name="Заявка и документы в порядке").get_by_label("Да").check()
    finish_task(page, number)
    take_task(page, base, number)
    page.get_by_label("Точка присоединения").fill("РУ-0,4 кВ ТП-125, фидер 3")
    page.get_by_label("Источник питания").fill("ПС 110/10 кВ «Лаговская»")
    page.locator("#grid_works_rows-0-item").fill("Строительство ВЛИ-0,4 кВ от опоры № 12")
    page.locator("#applicant_works_rows-0-item").fill("Установка вводного устройства")
    finish_task(page, number)
    log_out(page, base)

    log_in(page, base, people["applicant"])
    page.goto(f"{base}/cases/{number}")
    assert "оплатите счёт" in page.locator("#case-status").inner_text()
    page.get_by_label("Ваше решение").select_option("accept")
    answer_on_case_page(page)
    log_out(page, base)

    log_in(page, base, people["engineer"])
    take_task(page, base, number)
    page.get_by_label("Дата оплаты").fill(date.today().isoformat())
    page.get_by_label("Платёжный документ").fill("п/п № 17")
    finish_task(page, number)
    take_task(page, base, number)
    page.get_by_role("group", name="Мероприятия по техническим условиям выполнены").get_by_label("Да").check()
    finish_task(page, number)
    log_out(page, base)

    log_in(page, base, people["applicant"])
    page.goto(f"{base}/cases/{number}")
    page.get_by_role("group", name="Мои мероприятия по техническим условиям выполнены").get_by_label("Да").check()
    answer_on_case_page(page)
    log_out(page, base)

    log_in(page, base, people["fitter"])
    take_task(page, base, number)
    page.get_by_label("Тип прибора учёта").fill("Меркурий 201.8")
    page.get_by_label("Заводской номер прибора учёта").fill("46211234")
    page.get_by_label("Показания при допуске").fill("0,8")
    page.get_by_label("Границы балансовой и эксплуатационной ответственности").fill("На контактах вводного провода")
    page.get_by_label("Дата фактического присоединения").fill(date.today().isoformat())
    finish_task(page, number)
    log_out(page, base)

    log_in(page, base, people["applicant"])
    page.goto(f"{base}/cases/{number}")
    assert "присоединение выполнено" in page.locator("#case-status").inner_text()
    for extension, text in document_texts(page, base, f"tp_act-{number}").items():
        for expected in (number, "Морозов Илья Сергеевич", "46211234", "Жилой дом", "Сотрудник Тестовый"):
            assert expected in text, (extension, expected, text[:400])
