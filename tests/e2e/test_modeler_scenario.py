"""The modeler's acceptance scenario in Chromium, end to end: an analyst opens the demo process, adds a
user task with a form and a deadline between "review" and the decision, is told by the check that the
form does not exist, creates that form in the form editor (another tab), checks again with no errors,
saves the draft, test-runs the draft along the path through the new task and deploys. A case started
afterwards gets the new task; a case started before stays on its version and finishes on its own path."""
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Case, HumanTask, User
from app.services import processes
from tests.e2e.diagram_steps import click_connection, click_shape, connect, label, settle, shape
from tests.factories import UserFactory
from tests.helpers import log_in
from workflows import definitions, engine

pytestmark = pytest.mark.e2e
DEMO = Path(__file__).resolve().parents[2] / "bpmn" / "demo_meter_replacement.bpmn"
KEY = "demo_meter_replacement"
PROCESS = "Замена прибора учёта (демо)"
FORM = "demo_extra_check"
TASK_NAME = "Проверить данные заявки"
REQUEST = {"reason": "failure", "phone": "+7 900 111-22-33"}
REJECT = {"decision": "reject", "rejection_reason": "Нет доступа к прибору"}


@pytest.fixture(scope="module")
def world(live_server):
    """The demo process deployed and one case started on it before anyone changes the diagram."""
    app = live_server["app"]
    with app.app_context():
        deployed, _created = definitions.deploy(DEMO.read_bytes(), source="e2e")
        processes.discard_draft(KEY, None)  # the modeler opens on the deployed version
        factory = UserFactory(app)
        analyst = factory.staff("analyst", email="scenario.analyst@example.com")
        specialist = factory.staff("specialist", groups=["metering"], email="scenario.specialist@example.com")
        applicant = factory.customer(email="scenario.applicant@example.com")
        older = engine.start_case(KEY, applicant=applicant, data=REQUEST)
        assert older.definition_id == deployed.id
        return {"email": analyst.email, "version": deployed.version, "older_case": older.id,
                "applicant": applicant.id, "specialist": specialist.id}


def open_tasks(case_id: int) -> list[HumanTask]:
    db.session.expire_all()
    return list(db.session.scalars(select(HumanTask).where(HumanTask.case_id == case_id,
                                                           HumanTask.status == "open").order_by(HumanTask.id)))


def specs_of(case_id: int) -> list[str]:
    return list(db.session.scalars(select(HumanTask.spec).where(HumanTask.case_id == case_id)
                                   .order_by(HumanTask.id)))


def add_task_between_review_and_decision(page) -> str:
    """Cut the review → decision flow, drop a new user task into the free part of the metering lane
    below the review, and wire review → new task → decision. Returns the new task's id."""
    click_connection(page, "to_decision")
    page.locator('.djs-context-pad [data-action="delete"]').click()
    page.locator('.djs-connection[data-element-id="to_decision"]').wait_for(state="detached")

    review = shape(page, "review").bounding_box()
    escalated = shape(page, "escalated").bounding_box()  # the lowest row of the lane
    x, y = review["x"] + review["width"] / 2, escalated["y"] + escalated["height"] / 2
    page.locator(".djs-palette").get_by_label("Создать пользовательскую задачу").click()
    page.mouse.move(x - 20, y - 20)
    page.mouse.move(x, y, steps=5)
    page.mouse.click(x, y)
    page.keyboard.press("Escape")  # the name is given in the panel
    settle(page)
    panel = page.locator("#modeler-panel")
    assert "Пользовательская задача" in panel.inner_text()
    task_id = panel.get_by_label("Идентификатор").input_value()
    assert task_id.startswith("Activity_")

    connect(page, "review", task_id)
    connect(page, task_id, "decision")
    return task_id


def fill_panel(page, task_id: str, form_key: str, sla: str):
    panel = page.locator("#modeler-panel")
    click_shape(page, task_id)
    for name, value in (("Название", TASK_NAME), ("Форма", form_key), ("Срок, рабочих дней", sla)):
        field = panel.get_by_label(name, exact=True)
        field.fill(value)
        field.press("Tab")
    assert label(page, task_id) == "".join(TASK_NAME.split())


def run_shape(page, element_id: str, marker: str):
    """A shape on the test run's diagram carrying a marker: the path taken, waiting now, ended."""
    return page.locator(f'#test-run-canvas .djs-element.{marker}[data-element-id="{element_id}"]')


def validate(page):
    """Run the check and wait for its answer (the summary is replaced on every run)."""
    summary = page.locator("#modeler-problems-summary")
    page.get_by_role("button", name="Проверить", exact=True).click()
    page.locator("#modeler-validate:not([disabled])").wait_for()
    summary.wait_for()
    return summary


def create_form(editor, base: str):
    """The form editor, reached the way an analyst finds it: processes → task forms → new form."""
    editor.goto(f"{base}/processes/")
    editor.get_by_role("link", name="Формы задач").click()
    editor.get_by_role("link", name="Новая форма").click()
    editor.get_by_role("heading", name="Новая форма").wait_for()
    cards = editor.locator("#fe-fields > li")
    # The editor's script fills the key and title inputs from its state when it starts, so typing
    # before it has drawn the field list would be overwritten.
    cards.first.wait_for()

    editor.get_by_label("Ключ", exact=True).fill(FORM)
    editor.get_by_label("Название на русском").fill("Проверка данных заявки")
    editor.get_by_label("Название на английском").fill("Request data check")

    first = cards.nth(0)  # a new form starts with one field, a comment; it becomes a yes/no question
    first.get_by_label("Имя", exact=True).fill("data_confirmed")
    first.get_by_label("Тип", exact=True).select_option("yesno")
    first = cards.nth(0)  # the list is drawn anew after a change of type
    first.get_by_label("Подпись на русском").fill("Данные заявки подтверждены по телефону")
    first.get_by_label("Подпись на английском").fill("The request data are confirmed by phone")
    first.get_by_label("Обязательное").check()

    editor.get_by_label("Тип нового поля").select_option("textarea")
    editor.get_by_role("button", name="Добавить поле").click()
    second = cards.nth(1)
    second.get_by_label("Имя", exact=True).fill("check_comment")
    second.get_by_label("Подпись на русском").fill("Комментарий проверяющего")
    second.get_by_label("Подпись на английском").fill("Reviewer's comment")

    preview = editor.locator("#fe-preview")
    preview.get_by_role("heading", name="Проверка данных заявки").wait_for()  # the live preview follows
    preview.get_by_text("Данные заявки подтверждены по телефону").wait_for()
    preview.get_by_label("Комментарий проверяющего").wait_for()
    assert preview.get_by_label("Да", exact=True).count() == 1
    assert not editor.locator("#fe-problems").is_visible()

    editor.get_by_label("Что изменилось (для истории версий)").fill("Проверка данных перед решением")
    editor.get_by_role("button", name="Создать форму").click()
    editor.wait_for_url(f"**/processes/forms/{FORM}")
    versions = editor.locator("#fe-versions tr")
    assert versions.count() == 1 and "Проверка данных перед решением" in versions.first.inner_text()


def test_a_new_task_with_a_new_form_is_test_run_deployed_and_only_new_cases_get_it(desktop, live_server, world):
    base, page = live_server["url"], desktop
    log_in(page, base, world["email"])

    # 1. The modeler: a new user task between the review and the decision, with a form not made yet.
    page.goto(f"{base}/processes/")
    page.get_by_role("link", name=PROCESS).click()
    shape(page, "decision").wait_for()
    assert f"опубликованная версия {world['version']}" in page.locator("#modeler-state").inner_text()
    task_id = add_task_between_review_and_decision(page)
    fill_panel(page, task_id, FORM, "2")
    panel = page.locator("#modeler-panel")
    panel.get_by_text("Такой формы нет в каталоге.").wait_for()
    assert page.locator("#modeler-dirty").is_visible()

    # 2. The check names the missing form on the new task.
    summary = validate(page)
    problem = page.locator("#modeler-problems-list").get_by_role("button").filter(has_text=task_id)
    problem.first.wait_for()
    assert "Ошибка" in problem.first.inner_text() and FORM in problem.first.inner_text()
    assert TASK_NAME in problem.first.inner_text()
    assert "Ошибок: 1" in summary.inner_text()  # nothing else is wrong with the diagram
    assert "gc-problem-error" in shape(page, task_id).get_attribute("class")

    # 3. The form is made in the form editor, in another tab: the diagram stays open and unsaved.
    editor = page.context.new_page()
    editor.set_default_timeout(15_000)
    create_form(editor, base)
    editor.close()

    # 4. The same diagram now checks clean; the draft is saved.
    page.bring_to_front()
    validate(page)
    page.get_by_text("Ошибок не найдено").wait_for()
    assert page.locator("#modeler-problems-list li").count() == 0
    assert "gc-problem-error" not in shape(page, task_id).get_attribute("class")
    page.get_by_role("button", name="Сохранить черновик").click()
    page.get_by_role("status").filter(has_text="Черновик сохранён").wait_for()
    assert not page.locator("#modeler-dirty").is_visible()

    # 5. A test run of the draft: the start form, the review (a refusal), then the new task's form.
    page.goto(f"{base}/processes/")
    page.get_by_role("row").filter(has=page.get_by_role("link", name=PROCESS)).get_by_role(
        "link", name="тестовый прогон").click()
    page.get_by_role("heading", name="Форма заявки").wait_for()
    assert "Прогон идёт по черновику" in page.locator("#test-run").inner_text()
    page.get_by_label("Причина замены").select_option("failure")
    page.get_by_label("Желаемая дата визита специалиста").fill((date.today() + timedelta(days=14)).isoformat())
    page.get_by_label("Контактный телефон").fill("+7 900 111-22-33")
    page.get_by_role("button", name="Начать тестовый прогон").click()

    page.get_by_role("heading", name="Рассмотреть заявку").wait_for()
    page.get_by_label("Решение").select_option("reject")
    page.get_by_label("Причина отказа").fill("Нет доступа к прибору")
    page.get_by_role("button", name="Завершить задачу").click()

    page.get_by_role("heading", name=TASK_NAME).wait_for()
    run_shape(page, task_id, "test-run-current").wait_for()  # the diagram shows where the run waits
    run_shape(page, "review", "test-run-taken").wait_for()
    waiting = page.locator("section[aria-labelledby='waiting-title']")
    assert FORM in waiting.inner_text() and "metering" in waiting.inner_text()
    page.get_by_label("Да", exact=True).check()
    page.get_by_label("Комментарий проверяющего").fill("Телефон заявителя подтверждён")
    page.get_by_role("button", name="Завершить задачу").click()

    page.get_by_text("Процесс завершился событием «Отказ».").wait_for()
    run_shape(page, task_id, "test-run-taken").wait_for()
    run_shape(page, "rejected", "test-run-ended").wait_for()
    assert page.locator('#test-run-canvas .test-run-taken[data-element-id="make_act"]').count() == 0
    path = page.locator("ol.test-run-path")
    steps = [item.inner_text() for item in path.locator("li").all()]
    assert any(TASK_NAME in step and task_id in step for step in steps), steps
    ids = [item.locator("code").inner_text() for item in path.locator("li").all()]
    assert ids.index("review") < ids.index(task_id) < ids.index("decision") < ids.index("rejected"), ids
    assert "make_act" not in ids

    # 6. Back in the modeler (it opens the saved draft), the diagram is deployed with a comment.
    page.goto(f"{base}/processes/")
    page.get_by_role("link", name=PROCESS).click()
    shape(page, task_id).wait_for()
    assert "Черновик, редакция" in page.locator("#modeler-state").inner_text()
    page.get_by_label("Что изменилось (комментарий к версии)").fill("Проверка данных заявки перед решением")
    page.get_by_role("button", name="Опубликовать новую версию").click()
    new_version = world["version"] + 1
    page.get_by_role("status").filter(has_text=f"Версия {new_version} опубликована").wait_for()

    page.reload()  # the server's list: the new version is current, the older one still has its case
    rows = page.locator("#modeler-versions tbody tr")
    rows.first.wait_for()
    assert rows.first.locator("th").inner_text().startswith(str(new_version))
    assert "действующая" in rows.first.inner_text()
    assert "Проверка данных заявки перед решением" in rows.first.inner_text()
    older_row = rows.filter(has=page.locator("th", has_text=re.compile(rf"^\s*{world['version']}\b"))).first
    assert older_row.locator("td.text-end").inner_text().strip() == "1"  # the older case, still open

    # 7. The cases: a new one passes the new task, the older one stays on its version.
    with live_server["app"].app_context():
        applicant = db.session.get(User, world["applicant"])
        specialist = db.session.get(User, world["specialist"])
        deployed = definitions.latest_version(KEY)
        assert deployed.version == new_version and FORM in deployed.bpmn_xml

        newer = engine.start_case(KEY, applicant=applicant, data=REQUEST)
        assert newer.definition.version == new_version
        [review] = open_tasks(newer.id)
        assert review.spec == "review"
        engine.complete_task(review.id, specialist, REJECT)
        [extra] = open_tasks(newer.id)
        assert (extra.spec, extra.form_key, extra.candidate_group) == (task_id, FORM, "metering")
        assert extra.due_at is not None
        newer = engine.complete_task(extra.id, specialist, {"data_confirmed": True,
                                                            "check_comment": "Телефон подтверждён"})
        assert (newer.status, newer.status_label) == ("closed", "Отказано")
        assert specs_of(newer.id) == ["review", task_id]

        older = db.session.get(Case, world["older_case"])
        assert older.definition.version == world["version"]
        [review] = open_tasks(older.id)
        older = engine.complete_task(review.id, specialist, REJECT)
        assert (older.status, older.status_label) == ("closed", "Отказано")
        assert older.definition.version == world["version"]
        assert specs_of(older.id) == ["review"]
