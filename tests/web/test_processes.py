"""The modeler's server side: the shared draft with its revision, validation by element, deploying a
new version while running cases stay on theirs, the catalog, and who may do any of it."""
import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, Case, ProcessDefinition
from tests.factories import PASSWORD
from workflows import definitions, engine

DEMO = definitions.BPMN_FOLDER / "demo_meter_replacement.bpmn"
KEY = "demo_meter_replacement"
REQUEST = {"reason": "multizone", "phone": "+7 900 111-22-33"}


@pytest.fixture
def demo(app, tmp_path):
    app.config["FILE_STORE"] = str(tmp_path / "files")
    definition, _created = definitions.deploy(DEMO.read_bytes(), source="test")
    return definition


@pytest.fixture
def analyst(client, users):
    person = users.staff("analyst")
    client.login(person.email, PASSWORD)
    return person


def _json(client, method, path, body=None):
    headers = {"X-CSRFToken": client.csrf("/processes/"), "Accept": "application/json"}
    return client.open(path, method=method, json=body, headers=headers)


def _renamed(xml: str, old: str, new: str) -> str:
    return xml.replace(f'name="{old}"', f'name="{new}"', 1)


def test_the_draft_starts_from_the_deployed_version_and_keeps_each_save(client, demo, analyst):
    first = client.get(f"/processes/{KEY}/draft").get_json()
    assert (first["is_draft"], first["revision"], first["base_version"]) == (False, 0, 1)
    xml = _renamed(first["xml"], "Рассмотреть заявку", "Рассмотреть заявку внимательно")
    saved = _json(client, "PUT", f"/processes/{KEY}/draft", {"xml": xml, "revision": 0})
    assert saved.status_code == 200 and saved.get_json()["revision"] == 1
    again = client.get(f"/processes/{KEY}/draft").get_json()
    assert again["is_draft"] and again["revision"] == 1 and "внимательно" in again["xml"]
    assert _json(client, "PUT", f"/processes/{KEY}/draft", {"xml": xml, "revision": 1}).get_json()["revision"] == 2


def test_a_save_over_someone_elses_newer_draft_is_refused_and_says_who(client, demo, analyst, users, app):
    xml = client.get(f"/processes/{KEY}/draft").get_json()["xml"]
    assert _json(client, "PUT", f"/processes/{KEY}/draft", {"xml": xml, "revision": 0}).status_code == 200
    other = users.staff("analyst")
    from app.services import processes

    processes.save_draft(KEY, _renamed(xml, "Рассмотреть заявку", "Их правка"), 1, other)
    refused = _json(client, "PUT", f"/processes/{KEY}/draft", {"xml": xml, "revision": 1})
    body = refused.get_json()
    assert refused.status_code == 409 and refused.mimetype == "application/problem+json"
    assert body["current_revision"] == 2 and body["updated_by"] == other.full_name and other.full_name in body["detail"]
    assert "Их правка" in client.get(f"/processes/{KEY}/draft").get_json()["xml"]  # theirs is kept
    # Saving over it on purpose names the revision seen.
    assert _json(client, "PUT", f"/processes/{KEY}/draft", {"xml": xml, "revision": 2}).status_code == 200


def test_two_first_saves_at_once_keep_one_and_tell_the_other(app, demo, users):
    from app.services import processes
    from tests.helpers import at_once

    first, second = users.staff("analyst"), users.staff("analyst")
    xml = DEMO.read_text(encoding="utf-8")
    outcomes = at_once(app, [first.id, second.id], lambda person: processes.save_draft(KEY, xml, 0, person))
    assert sorted(o == "ok" for o in outcomes) == [False, True], outcomes


@pytest.mark.parametrize("xml, message", [
    pytest.param("not xml at all", "не является диаграммой BPMN", id="not-xml"),
    pytest.param("<note>hello</note>", "не является диаграммой BPMN", id="not-bpmn"),
    pytest.param(DEMO.read_text(encoding="utf-8").replace('id="demo_meter_replacement"', 'id="other_process"'),
                 "demo_meter_replacement", id="another-process"),
])
def test_a_draft_that_is_not_this_process_is_refused(client, demo, analyst, xml, message):
    refused = _json(client, "PUT", f"/processes/{KEY}/draft", {"xml": xml, "revision": 0})
    assert refused.status_code == 422 and message in refused.get_json()["detail"]
    assert not client.get(f"/processes/{KEY}/draft").get_json()["is_draft"]


def test_validation_names_the_element(client, demo, analyst):
    xml = DEMO.read_text(encoding="utf-8").replace('value="demo_review"', 'value="no_such_form"', 1)
    problems = _json(client, "POST", f"/processes/{KEY}/validate", {"xml": xml}).get_json()["problems"]
    assert any(p["element"] == "review" and p["severity"] == "error" and p["code"] == "unknown-form"
               for p in problems), problems
    clean = _json(client, "POST", f"/processes/{KEY}/validate", {"xml": DEMO.read_text(encoding="utf-8")})
    assert [p for p in clean.get_json()["problems"] if p["severity"] == "error"] == []


def test_a_deploy_makes_the_next_version_and_running_cases_stay_on_theirs(client, demo, analyst, users):
    older = engine.start_case(KEY, applicant=users.customer(), data=REQUEST)
    xml = _renamed(DEMO.read_text(encoding="utf-8"), "Рассмотреть заявку", "Рассмотреть заявку v2")
    deployed = _json(client, "POST", f"/processes/{KEY}/deploy", {"xml": xml, "comment": "Новое имя задачи"})
    assert deployed.status_code == 201 and deployed.get_json() == {"key": KEY, "version": 2}
    newer = engine.start_case(KEY, applicant=users.customer(), data=REQUEST)
    db.session.expire_all()
    assert db.session.get(Case, older.id).definition.version == 1
    assert db.session.get(Case, newer.id).definition.version == 2
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "process.deploy",
                                                       AuditEvent.actor_id == analyst.id))
    assert event is not None and event.details["version"] == 2
    row = db.session.scalar(select(ProcessDefinition).where(ProcessDefinition.version == 2))
    assert (row.comment, row.deployed_by_id) == ("Новое имя задачи", analyst.id)
    page = client.get(f"/processes/{KEY}/").get_data(as_text=True)
    assert "Новое имя задачи" in page
    listing = client.get("/processes/").get_data(as_text=True)
    assert KEY in listing
    assert client.get(f"/processes/{KEY}/versions/1.bpmn").data == DEMO.read_bytes()


def test_a_diagram_with_errors_is_not_deployed(client, demo, analyst):
    xml = DEMO.read_text(encoding="utf-8").replace('value="demo_review"', 'value="no_such_form"', 1)
    refused = _json(client, "POST", f"/processes/{KEY}/deploy", {"xml": xml})
    body = refused.get_json()
    assert refused.status_code == 422 and any(p["code"] == "unknown-form" for p in body["problems"])
    assert db.session.scalar(select(ProcessDefinition.version).order_by(ProcessDefinition.version.desc())) == 1


def test_deploying_over_a_newer_draft_is_refused(client, demo, analyst, users):
    from app.services import processes

    xml = DEMO.read_text(encoding="utf-8")
    processes.save_draft(KEY, _renamed(xml, "Рассмотреть заявку", "Чужой черновик"), 0, users.staff("analyst"))
    refused = _json(client, "POST", f"/processes/{KEY}/deploy", {"xml": xml, "revision": 0})
    assert refused.status_code == 409


def test_the_catalog_lists_what_a_diagram_may_name(client, demo, analyst):
    catalog = client.get("/processes/catalog").get_json()
    assert next(f for f in catalog["forms"] if f["key"] == "demo_review")["title"]
    assert "metering" in [g["code"] for g in catalog["groups"]] and catalog["actors"] == ["staff", "applicant"]
    assert "invoice_paid" in catalog["messages"] and catalog["handlers"]


def test_only_analysts_and_administrators(client, demo, users):
    specialist = users.staff("specialist", groups=["metering"])
    client.login(specialist.email, PASSWORD)
    assert client.get("/processes/").status_code == 403
    assert client.get(f"/processes/{KEY}/draft").status_code == 403
    refused = client.open(f"/processes/{KEY}/deploy", method="POST", json={"xml": DEMO.read_text(encoding="utf-8")},
                          headers={"X-CSRFToken": client.csrf("/profile/"), "Accept": "application/json"})
    assert refused.status_code == 403


def test_export_writes_a_version_to_a_file(app, demo, tmp_path):
    runner = app.test_cli_runner()
    target = tmp_path / "out.bpmn"
    result = runner.invoke(args=["bpmn", "export", KEY, "--output", str(target)])
    assert result.exit_code == 0, result.output
    assert target.read_bytes() == DEMO.read_bytes()
    assert runner.invoke(args=["bpmn", "export", "nothing_such"]).exit_code != 0


def test_two_versions_are_compared_element_by_element(client, demo, analyst):
    xml = _renamed(DEMO.read_text(encoding="utf-8"), "Рассмотреть заявку", "Рассмотреть заявку v2")
    assert _json(client, "POST", f"/processes/{KEY}/deploy", {"xml": xml}).status_code == 201
    page = client.get(f"/processes/{KEY}/diff").get_data(as_text=True)
    assert "Версия 1" in page and "Версия 2" in page and "Рассмотреть заявку v2" in page and "изменено" in page
    assert '"changed": ["review"]' in page  # the shapes the viewer marks
    assert client.get(f"/processes/{KEY}/diff?old=1&new=7").status_code == 404


def test_an_earlier_version_is_deployed_again_as_the_next(client, demo, analyst, users):
    xml = _renamed(DEMO.read_text(encoding="utf-8"), "Рассмотреть заявку", "Рассмотреть заявку v2")
    assert _json(client, "POST", f"/processes/{KEY}/deploy", {"xml": xml}).status_code == 201
    running = engine.start_case(KEY, applicant=users.customer(), data=REQUEST)
    page = client.submit(f"/processes/{KEY}/", {}, action=f"/processes/{KEY}/versions/1/rollback", follow=True)
    assert "развёрнута снова как версия 3" in page.get_data(as_text=True)
    third = db.session.scalar(select(ProcessDefinition).where(ProcessDefinition.version == 3))
    assert third.bpmn_xml == DEMO.read_text(encoding="utf-8") and third.source == "rollback:v1"
    db.session.expire_all()
    assert db.session.get(Case, running.id).definition.version == 2  # a running case stays
    again = client.submit(f"/processes/{KEY}/", {}, action=f"/processes/{KEY}/versions/3/rollback", follow=True)
    assert "уже текущая" in again.get_data(as_text=True)


def test_the_draft_is_compared_with_the_deployed_version(client, demo, analyst):
    xml = _renamed(DEMO.read_text(encoding="utf-8"), "Рассмотреть заявку", "Рассмотреть заявку в черновике")
    assert _json(client, "PUT", f"/processes/{KEY}/draft", {"xml": xml, "revision": 0}).status_code == 200
    page = client.get(f"/processes/{KEY}/diff?new=draft&old=1").get_data(as_text=True)
    assert "Черновик" in page and "в черновике" in page and '"changed": ["review"]' in page
    assert "в черновике" in client.get(f"/processes/{KEY}/draft.bpmn").get_data(as_text=True)


def test_an_earlier_version_is_opened_to_work_from(client, demo, analyst):
    xml = _renamed(DEMO.read_text(encoding="utf-8"), "Рассмотреть заявку", "Рассмотреть заявку v2")
    assert _json(client, "POST", f"/processes/{KEY}/deploy", {"xml": xml}).status_code == 201
    assert "/draft?version=1" in client.get(f"/processes/{KEY}/?version=1").get_data(as_text=True)
    opened = client.get(f"/processes/{KEY}/draft?version=1").get_json()
    assert opened["base_version"] == 1 and "v2" not in opened["xml"] and not opened["is_draft"]
    saved = _json(client, "PUT", f"/processes/{KEY}/draft", {"xml": opened["xml"], "revision": opened["revision"]})
    assert saved.status_code == 200
