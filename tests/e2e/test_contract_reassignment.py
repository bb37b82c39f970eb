"""The change of owner end to end in Chromium: the new owner files through the guide with the EGRN
extract attached and checks the answers, a billing specialist takes the review from the group queue and
approves it, and the new owner finds the account among theirs and downloads the supply contract (PDF and
DOCX text checked)."""
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AccountAccess
from tests.e2e.steps import (document_texts, finish_task, start_application, submit_application, take_task,
                             to_check_page)
from tests.helpers import log_in, log_out
from tests.factories import BillingFactory, UserFactory
from workflows import definitions

pytestmark = pytest.mark.e2e
DIAGRAM = Path(__file__).resolve().parents[2] / "bpmn" / "contract_reassignment.bpmn"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
NUMBER, ADDRESS = "7705550011", "г. Москва, ул. Профсоюзная, д. 7, кв. 31"


@pytest.fixture
def people(live_server, tmp_path_factory):
    app = live_server["app"]
    app.config["FILE_STORE"] = str(tmp_path_factory.mktemp("files"))
    with app.app_context():
        definitions.deploy(DIAGRAM.read_bytes(), source="e2e")
        users = UserFactory(app)
        previous = users.customer(email="pls.previous@example.com", name="Старикова Нина Львовна")
        account = users.account(number=NUMBER, owner=previous, holder="Старикова Нина Львовна", address=ADDRESS)
        access = db.session.scalar(select(AccountAccess).where(AccountAccess.user_id == previous.id))
        access.granted_at = datetime(2024, 2, 1, tzinfo=timezone.utc)
        db.session.commit()
        meter = BillingFactory(app).meter(account, serial="SN-PLS-3", installed_on=date(2024, 3, 1),
                                          initial={"T1": "2000"})
        BillingFactory(app).reading(meter, date(2024, 6, 1), T1="2345.6")
        return {"new": users.customer(email="pls.new@example.com", name="Молодцов Артём Олегович").email,
                "billing": users.staff("specialist", groups=["billing"], email="pls.billing@example.com").email}


def test_an_account_passes_to_the_new_owner_with_a_contract(desktop, live_server, people):
    base, page = live_server["url"], desktop
    on = date.today() - timedelta(days=3)

    log_in(page, base, people["new"])
    start_application(page, base, "Переоформление лицевого счёта при смене собственника")
    # The application names the account by its number: none of the applicant's own is offered.
    assert page.locator("#account_id").count() == 0
    page.get_by_label("Номер лицевого счёта помещения").fill("7705550099")
    page.get_by_label("Адрес помещения").fill(ADDRESS)
    page.get_by_label("Дата перехода права собственности").fill(on.isoformat())
    page.get_by_label("Выписка из ЕГРН", exact=True).set_input_files(
        files=[{"name": "egrn.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    page.get_by_label("Дата и номер выписки из ЕГРН").fill("от 01.10.2026 № КУВИ-001/2026-555")
    page.get_by_label("Показания на дату перехода права, T1 (или единственная зона)").fill("2400,7")
    page.get_by_label("Контактный телефон").fill("+7 900 333-44-55")
    page.get_by_role("button", name="Продолжить").click()
    # An unknown number is refused next to the field; the rest stays filled in.
    page.locator("#account_number-error").wait_for()
    assert page.get_by_label("Адрес помещения").input_value() == ADDRESS
    page.get_by_label("Номер лицевого счёта помещения").fill(NUMBER)
    page.get_by_label("Выписка из ЕГРН", exact=True).set_input_files(
        files=[{"name": "egrn.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    answers = to_check_page(page)
    assert NUMBER in answers and "egrn.pdf" in answers and "2400,7" in answers
    number = submit_application(page)
    assert number.startswith("ПЛС-")
    page.get_by_role("link", name="Перейти к заявке").click()
    assert "Документы на проверке у специалиста" in page.locator("#case-status").inner_text()
    log_out(page, base)

    log_in(page, base, people["billing"])
    take_task(page, base, number)
    page.get_by_label("Решение", exact=True).select_option(label="Переоформить лицевой счёт")
    page.get_by_label("Задолженность прежнего собственника на дату перехода права") \
        .select_option(label="Задолженность остаётся за прежним собственником")
    finish_task(page, number)
    log_out(page, base)

    log_in(page, base, people["new"])
    page.goto(f"{base}/cabinet/")
    card = page.get_by_role("region", name=f"Лицевой счёт {NUMBER}")
    assert ADDRESS in card.inner_text() and "Молодцов Артём Олегович" in card.inner_text()
    page.get_by_role("link", name="Заявки").click()
    page.get_by_role("link", name=number).click()
    assert "Лицевой счёт переоформлен, договор готов" in page.locator("#case-status").inner_text()
    for extension, text in document_texts(page, base, f"reassignment_contract-{number}").items():
        for expected in (number, "Молодцов Артём Олегович", NUMBER, ADDRESS, "2 400,7", on.strftime("%d.%m.%Y"),
                         "Выписка из ЕГРН от 01.10.2026", "Задолженность остаётся за прежним собственником."):
            assert expected in text, (extension, expected, text[:800])
