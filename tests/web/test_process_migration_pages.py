"""The analyst's page for moving running cases to another version: the preview with reasons and
links, the button that queues the job, the list of past moves, and who may see any of it."""
import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Case, HumanTask, ProcessMigration
from tests.factories import PASSWORD
from workflows import definitions, engine

DEMO = definitions.BPMN_FOLDER / "demo_meter_replacement.bpmn"
KEY = "demo_meter_replacement"
REQUEST = {"reason": "failure", "phone": "+7 900 111-22-33"}
APPROVE = {"decision": "approve", "visit_date": "2026-12-01", "materials": []}


@pytest.fixture
def cases(app, tmp_path, users):
    """Version 1 with a case at the review and one at the confirmation; version 2 renames the review's id."""
    app.config["FILE_STORE"] = str(tmp_path / "files")
    xml = DEMO.read_text(encoding="utf-8")
    definitions.deploy(xml.encode("utf-8"), source="test")
    applicant, specialist = users.customer(), users.staff("specialist", groups=["metering"])
    reviewing = engine.start_case(KEY, applicant=applicant, data=REQUEST)
    confirming = engine.start_case(KEY, applicant=applicant, data=REQUEST)
    review = db.session.scalar(select(HumanTask).where(HumanTask.case_id == confirming.id))
    engine.complete_task(review.id, specialist, APPROVE)
    changed = (xml.replace('id="review"', 'id="review_new"').replace(">review<", ">review_new<")
               .replace('Ref="review"', 'Ref="review_new"'))
    definitions.deploy(changed.encode("utf-8"), source="test")
    return {"reviewing": reviewing.number, "confirming": confirming.number}


@pytest.fixture
def analyst(client, users):
    person = users.staff("analyst")
    person.locale = "en"  # the page in English, whatever the catalogs hold for the new texts yet
    db.session.commit()
    client.login(person.email, PASSWORD)
    return person


def _table(page: str, table_id: str) -> str:
    match = re.search(rf'<table[^>]*id="{table_id}".*?</table>', page, re.S)
    assert match, table_id
    return match.group(0)


def test_the_preview_shows_which_cases_move_and_why_the_others_stay(client, cases, analyst):
    page = client.get(f"/processes/{KEY}/migrate?from=1&to=2")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    movable, blocked = _table(html, "movable"), _table(html, "blocked")
    assert "<caption>" in movable and "<caption>" in blocked
    assert cases["confirming"] in movable and cases["reviewing"] not in movable and cases["reviewing"] in blocked
    # An analyst works on the process and sees the numbers; the cases themselves are for those who work them.
    assert 'href="/cases/' not in movable + blocked
    assert "the task review is not in version 2" in blocked
    assert "Move the cases that can move (1) to version 2" in html
    assert "<script" not in html.split("</nav>", 1)[1].split("</main>")[0] and " style=" not in movable


def test_the_preview_shows_what_changes_for_the_open_tasks(client, cases, analyst):
    xml = DEMO.read_text(encoding="utf-8").replace('name="Подтвердить время визита"', 'name="Подтвердить визит"')
    xml = xml.replace('<spiffworkflow:property name="slaDays" value="5" />',
                      '<spiffworkflow:property name="slaDays" value="7" />')
    definitions.deploy(xml.encode("utf-8"), source="test")
    html = client.get(f"/processes/{KEY}/migrate?from=1&to=3").get_data(as_text=True)
    movable = _table(html, "movable")
    assert "Подтвердить время визита: Title: Подтвердить время визита → Подтвердить визит" in movable
    assert "Подтвердить время визита: SLA, working days: 5 → 7" in movable
    assert "Move the cases that can move (2) to version 3" in html


def test_without_versions_the_page_compares_the_busy_one_with_the_latest(client, cases, analyst):
    html = client.get(f"/processes/{KEY}/migrate").get_data(as_text=True)
    assert re.search(r'<option value="1" selected>', html) and re.search(r'<option value="2" selected>', html)


def test_the_button_queues_the_move_and_the_page_lists_it(client, cases, analyst):
    response = client.submit(f"/processes/{KEY}/migrate?from=1&to=2", {"from": "1", "to": "2"},
                             action=f"/processes/{KEY}/migrate")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/processes/{KEY}/migrate?from=1&to=2")
    db.session.expire_all()
    job = db.session.scalar(select(ProcessMigration))
    assert (job.status, job.moved, job.skipped, job.requested_by_id) == ("done", 1, 1, analyst.id)
    moved = db.session.scalar(select(Case).where(Case.number == cases["confirming"]))
    assert moved.definition.version == 2

    html = client.get(f"/processes/{KEY}/migrate?from=1&to=2").get_data(as_text=True)
    history = _table(html, "history")
    assert "Done" in history and "1 → 2" in history and cases["reviewing"] in history
    assert "No case can move." in _table(html, "movable")  # the moved case is on version 2 now


def test_only_analysts_and_administrators_get_here(client, cases, users):
    specialist = users.staff("specialist", groups=["metering"])
    client.login(specialist.email, PASSWORD)
    assert client.get(f"/processes/{KEY}/migrate?from=1&to=2").status_code == 403
    form = {"csrf_token": client.csrf("/profile/"), "from": "1", "to": "2"}
    assert client.post(f"/processes/{KEY}/migrate", data=form).status_code == 403
    assert db.session.scalar(select(ProcessMigration)) is None


def test_the_post_needs_its_csrf_token_and_real_versions(client, cases, analyst):
    assert client.post(f"/processes/{KEY}/migrate", data={"from": "1", "to": "2"}).status_code == 400
    token = client.csrf(f"/processes/{KEY}/migrate")
    path = f"/processes/{KEY}/migrate"
    assert client.post(path, data={"csrf_token": token, "from": "1", "to": "9"}).status_code == 404
    assert client.post(path, data={"csrf_token": token, "from": "x", "to": "2"}).status_code == 422
    assert db.session.scalar(select(ProcessMigration)) is None
