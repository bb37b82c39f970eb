"""The form editor's server side: the preview is the task page's own rendering, problems come back at
their fields, a deployed version is what the next task page shows, and only analysts get here."""
import copy
import json
import re

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import FormVersion, HumanTask
from app.services import cases
from tests.factories import PASSWORD
from tests.helpers import Browser
from workflows import definitions

DEMO = definitions.BPMN_FOLDER / "demo_meter_replacement.bpmn"
REVIEW = definitions.BPMN_FOLDER / "forms" / "demo_review.json"


@pytest.fixture
def demo(app, tmp_path):
    app.config["FILE_STORE"] = str(tmp_path / "files")
    definitions.deploy(DEMO.read_bytes(), source="test")


@pytest.fixture
def analyst(client, users):
    person = users.staff("analyst")
    client.login(person.email, PASSWORD)
    return person


def review() -> dict:
    return json.loads(REVIEW.read_text(encoding="utf-8"))


def relabelled(text: str) -> dict:
    data = review()
    data["fields"][0]["label"] = {"ru": text, "en": text}
    return data


def post(client, path, body):
    return client.post(path, json=body, headers={"X-CSRFToken": client.csrf("/profile/"),
                                                 "Accept": "text/html, application/json"})


def versions(key="demo_review") -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(FormVersion).where(FormVersion.key == key))


def editor_config(html: str) -> dict:
    return json.loads(re.search(r'id="form-editor-config">(.*?)</script>', html, re.S).group(1))


def review_task_page(app, users) -> str:
    """The review task of a fresh demo case, as the specialist who took it sees it."""
    applicant, specialist = users.customer(), users.staff("specialist", groups=["metering"])
    case = cases.start(applicant, "demo_meter_replacement", {"reason": "failure", "phone": "+79001112233"})
    task = db.session.scalar(select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.status == "open"))
    cases.claim(specialist, task.id)
    browser = Browser(app.test_client())
    browser.login(specialist.email, PASSWORD)
    page = browser.get(f"/tasks/{task.id}")
    assert page.status_code == 200
    return page.get_data(as_text=True)


def fields_html(html: str) -> str:
    """The rendered fields, without CSRF tokens and with whitespace between tags evened out."""
    html = re.sub(r'<input[^>]*name="csrf_token"[^>]*>', "", html)
    return re.sub(r">\s+<", "><", re.sub(r"\s+", " ", html)).strip()


def test_the_preview_is_the_task_pages_form(app, client, demo, analyst, users):
    preview = post(client, "/processes/forms/demo_review/preview?lang=ru", review())
    assert preview.status_code == 200 and preview.mimetype == "text/html"
    fragment = preview.get_data(as_text=True)
    assert "Рассмотрение заявки на замену прибора учёта" in fragment
    rendered = fragment.split("</h3>", 1)[1].rsplit("</div>", 1)[0]

    page = review_task_page(app, users)
    task_form = page.split('<form method="post" novalidate>', 1)[1]
    task_form = task_form.split('<button class="btn btn-primary" type="submit">', 1)[0]
    assert 'name="decision"' in task_form and 'name="materials-0-quantity"' in task_form
    assert fields_html(rendered) == fields_html(task_form)


def test_the_preview_follows_the_chosen_language_and_the_edits(client, analyst):
    english = post(client, "/processes/forms/demo_review/preview?lang=en", relabelled("Verdict")).get_data(as_text=True)
    assert "Verdict" in english and 'lang="en"' in english and "Review of the meter replacement request" in english


def test_a_bad_definition_gives_its_problems_by_field(client, analyst):
    bad = review()
    bad["fields"][0]["type"] = "radio"
    bad["fields"][3]["columns"][1]["min"] = "много"
    refused = post(client, "/processes/forms/demo_review/preview", bad)
    body = refused.get_json()
    assert refused.status_code == 422 and refused.mimetype == "application/problem+json"
    assert [(p["field"], p["position"], p["column"]) for p in body["problems"]] == [
        ("decision", 1, None), ("materials", 4, "quantity")]
    assert all(p["message"] and p["text"] for p in body["problems"])
    not_json = post(client, "/processes/forms/demo_review/preview", ["not", "a", "form"])
    assert not_json.status_code == 422 and not_json.mimetype == "application/problem+json"


def test_a_deployed_version_is_what_the_next_task_page_shows(app, client, demo, analyst, users):
    assert "Решение по заявке" not in review_task_page(app, users)
    deployed = post(client, "/processes/forms/demo_review",
                    {"definition": relabelled("Решение по заявке"), "comment": "Понятнее"})
    assert deployed.status_code == 201 and deployed.get_json() == {"key": "demo_review", "version": 1}
    assert "Решение по заявке" in review_task_page(app, users)

    editor = client.get("/processes/forms/demo_review").get_data(as_text=True)
    assert "Понятнее" in editor and editor_config(editor)["definition"] == relabelled("Решение по заявке")
    stored = client.get("/processes/forms/demo_review/versions/1.json")
    assert json.loads(stored.data) == relabelled("Решение по заявке")
    listing = client.get("/processes/forms/").get_data(as_text=True)
    assert "/processes/forms/demo_review" in listing and "/processes/forms/demo_request" in listing


def test_an_unchanged_form_is_not_deployed_again(client, analyst):
    assert post(client, "/processes/forms/demo_review", {"definition": relabelled("Итог")}).status_code == 201
    again = post(client, "/processes/forms/demo_review", {"definition": relabelled("Итог"), "comment": "ещё раз"})
    assert again.status_code == 409 and again.mimetype == "application/problem+json"
    assert versions() == 1
    as_file = post(client, "/processes/forms/demo_request",
                   {"definition": json.loads((REVIEW.parent / "demo_request.json").read_text(encoding="utf-8"))})
    assert as_file.status_code == 409 and versions("demo_request") == 0


def test_a_deploy_with_problems_or_another_key_is_refused(client, analyst):
    bad = review()
    bad["fields"][1]["name"] = "decision"
    refused = post(client, "/processes/forms/demo_review", {"definition": bad})
    assert refused.status_code == 422
    assert [(p["field"], p["position"]) for p in refused.get_json()["problems"]] == [("decision", 2)]
    other = post(client, "/processes/forms/demo_request", {"definition": review()})
    assert other.status_code == 422 and "key" in other.get_json()["errors"]
    missing = post(client, "/processes/forms/no_such_form", {"definition": {**review(), "key": "no_such_form"}})
    assert missing.status_code == 404
    assert versions() == 0


def test_a_new_form(client, analyst):
    page = client.get("/processes/forms/new")
    assert page.status_code == 200 and 'id="form-editor-config"' in page.get_data(as_text=True)
    data = {"key": "field_note", "title": {"ru": "Заметка выездной бригады", "en": "Field crew note"},
            "fields": [{"name": "note", "type": "textarea", "label": {"ru": "Заметка", "en": "Note"},
                        "required": True}]}
    created = post(client, "/processes/forms/new", {"definition": data, "comment": "новая форма"})
    assert created.status_code == 201
    assert created.get_json() == {"key": "field_note", "version": 1, "url": "/processes/forms/field_note"}
    assert "Заметка выездной бригады" in client.get("/processes/forms/field_note").get_data(as_text=True)
    assert post(client, "/processes/forms/new", {"definition": data}).status_code == 409
    taken = copy.deepcopy(data)
    taken["key"] = "demo_review"
    assert post(client, "/processes/forms/new", {"definition": taken}).status_code == 409
    reserved = {**data, "key": "new"}
    assert post(client, "/processes/forms/new", {"definition": reserved}).status_code == 422


def test_the_editor_page_keeps_to_the_content_policy(client, analyst):
    page = client.get("/processes/forms/demo_review")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "script-src 'self'" in page.headers["Content-Security-Policy"]
    scripts = re.findall(r"<script([^>]*)>", html)
    assert all("src=" in attrs or 'type="application/json"' in attrs for attrs in scripts), scripts
    assert " style=" not in html and "<style" not in html
    assert '<meta name="csrf-token"' in html and "js/form_editor.js" in html
    config = editor_config(html)
    assert config["definition"] == review() and config["key"] == "demo_review"


@pytest.mark.parametrize("role", ["specialist", "team_lead", "operator"])
def test_only_analysts_and_admins_edit_forms(app, users, role):
    person = users.staff(role)
    browser = Browser(app.test_client())
    browser.login(person.email, PASSWORD)
    assert browser.get("/processes/forms/").status_code == 403
    assert browser.get("/processes/forms/demo_review").status_code == 403
    assert post(browser, "/processes/forms/demo_review/preview", review()).status_code == 403
    assert post(browser, "/processes/forms/demo_review", {"definition": relabelled("Чужое")}).status_code == 403
    assert versions() == 0


def test_a_customer_and_a_stranger_are_kept_out(app, users):
    customer = users.customer()
    browser = Browser(app.test_client())
    browser.login(customer.email, PASSWORD)
    assert browser.get("/processes/forms/").status_code == 403
    anonymous = app.test_client().get("/processes/forms/demo_review")
    assert anonymous.status_code in (302, 401)
    admin = users.staff("admin")
    as_admin = Browser(app.test_client())
    as_admin.login(admin.email, PASSWORD)
    assert as_admin.get("/processes/forms/").status_code == 200
