"""The process modeler in Chromium: an analyst adds a user task to the demo process with the palette,
wires it in, fills its properties in the panel, is told by the check that its form does not exist and
is taken to it, fixes it, saves the draft, finds the task again after a reload, and deploys the diagram
as the process's next version."""
from pathlib import Path

import pytest

from tests.e2e.diagram_steps import click_connection, click_shape, connect, label, settle, shape
from tests.factories import UserFactory
from tests.helpers import log_in
from workflows import definitions

pytestmark = pytest.mark.e2e
DEMO = Path(__file__).resolve().parents[2] / "bpmn" / "demo_meter_replacement.bpmn"
KEY = "demo_meter_replacement"


@pytest.fixture(scope="module")
def analyst(live_server):
    app = live_server["app"]
    with app.app_context():
        deployed, _created = definitions.deploy(DEMO.read_bytes(), source="e2e")
        person = UserFactory(app).staff("analyst", email="modeler.analyst@example.com")
        return {"email": person.email, "version": deployed.version}


def test_an_analyst_adds_a_task_checks_saves_and_deploys(desktop, live_server, analyst):
    base, page = live_server["url"], desktop
    log_in(page, base, analyst["email"])
    page.goto(f"{base}/processes/{KEY}/")
    shape(page, "escalation").wait_for()
    assert "Черновика пока нет" in page.locator("#modeler-state").inner_text()

    # The escalation task ends in "escalated"; the new task goes between them.
    click_connection(page, "to_escalated")
    page.locator('.djs-context-pad [data-action="delete"]').click()
    assert page.locator('[data-element-id="to_escalated"]').count() == 0

    escalation = shape(page, "escalation").bounding_box()
    escalated = shape(page, "escalated").bounding_box()
    x, y = escalation["x"] + escalation["width"] / 2, escalated["y"] + escalated["height"] / 2
    page.locator(".djs-palette").get_by_label("Создать пользовательскую задачу").click()
    page.mouse.move(x - 20, y - 20)
    page.mouse.move(x, y, steps=5)
    page.mouse.click(x, y)
    page.keyboard.press("Escape")  # leave the name to the panel rather than the label editor
    settle(page)
    panel = page.locator("#modeler-panel")
    assert "Пользовательская задача" in panel.inner_text()
    task_id = panel.get_by_label("Идентификатор").input_value()
    assert task_id.startswith("Activity_")

    connect(page, "escalation", task_id)
    connect(page, task_id, "escalated")

    click_shape(page, task_id)
    panel.get_by_label("Название", exact=True).fill("Сообщить руководителю о просрочке")
    panel.get_by_label("Название", exact=True).press("Tab")
    panel.get_by_label("Форма", exact=True).fill("demo_escalation_note")
    panel.get_by_label("Форма", exact=True).press("Tab")
    panel.get_by_text("Такой формы нет в каталоге.").wait_for()  # the field says so at once
    panel.get_by_label("Срок, рабочих дней").fill("2")
    panel.get_by_label("Срок, рабочих дней").press("Tab")
    assert label(page, task_id) == "Сообщитьруководителюопросрочке"
    assert page.locator("#modeler-dirty").is_visible()

    page.get_by_role("button", name="Проверить").click()
    problems = page.locator("#modeler-problems-list")
    problem = problems.get_by_role("button").filter(has_text=task_id)
    problem.first.wait_for()
    assert "Ошибка" in problem.first.inner_text() and "demo_escalation_note" in problem.first.inner_text()
    assert "gc-problem-error" in shape(page, task_id).get_attribute("class")
    canvas = page.locator("#modeler-canvas").bounding_box()
    page.mouse.click(canvas["x"] + canvas["width"] - 30, canvas["y"] + 12)  # empty canvas: nothing selected
    assert "selected" not in shape(page, task_id).get_attribute("class")
    problem.first.click()
    assert "selected" in shape(page, task_id).get_attribute("class")
    assert panel.get_by_label("Идентификатор").input_value() == task_id

    panel.get_by_label("Форма", exact=True).fill("demo_escalation")
    panel.get_by_label("Форма", exact=True).press("Tab")
    page.get_by_role("button", name="Проверить").click()
    page.get_by_text("Ошибок не найдено").or_(page.get_by_text("Ошибок: 0")).first.wait_for()

    page.get_by_role("button", name="Сохранить черновик").click()
    page.get_by_role("status").filter(has_text="Черновик сохранён").wait_for()
    assert not page.locator("#modeler-dirty").is_visible()

    page.reload()
    shape(page, task_id).wait_for()
    assert "Черновик, редакция" in page.locator("#modeler-state").inner_text()
    assert label(page, task_id) == "Сообщитьруководителюопросрочке"
    click_shape(page, task_id)
    assert panel.get_by_label("Форма", exact=True).input_value() == "demo_escalation"
    assert panel.get_by_label("Срок, рабочих дней").input_value() == "2"

    page.get_by_label("Что изменилось (комментарий к версии)").fill("Руководителю сообщают о просрочке")
    page.get_by_role("button", name="Опубликовать новую версию").click()
    new_version = analyst["version"] + 1
    page.get_by_role("status").filter(has_text=f"Версия {new_version} опубликована").wait_for()
    row = page.locator("#modeler-versions tbody tr").first
    assert row.locator("th").inner_text().startswith(str(new_version))
    assert "Руководителю сообщают о просрочке" in row.inner_text()

    page.reload()  # the server lists it too, as the current version
    first = page.locator("#modeler-versions tbody tr").first
    assert first.locator("th").inner_text().startswith(str(new_version)) and "действующая" in first.inner_text()
    with live_server["app"].app_context():
        deployed = definitions.latest_version(KEY)
        assert deployed.version == new_version and "demo_escalation" in deployed.bpmn_xml
