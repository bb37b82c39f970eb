"""Task forms kept as versions: the files seed them, the editor deploys new ones, pages use the latest,
and a form nobody deployed yet is read from its file."""
import copy
import json
import shutil

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, FormVersion
from app.services import process_forms
from app.services.errors import Conflict, InvalidInput
from workflows import definitions
from workflows.forms import load_file

FORMS = definitions.BPMN_FOLDER / "forms"


def review() -> dict:
    return json.loads((FORMS / "demo_review.json").read_text(encoding="utf-8"))


def relabelled(data: dict, text: str) -> dict:
    changed = copy.deepcopy(data)
    changed["fields"][0]["label"] = {"ru": text, "en": text}
    return changed


def count(key: str) -> int:
    return db.session.scalar(select(func.count()).select_from(FormVersion).where(FormVersion.key == key))


def test_a_form_never_deployed_is_read_from_its_file(app):
    spec = process_forms.current("demo_review")
    assert spec.field("decision").label.ru == load_file(FORMS / "demo_review.json").field("decision").label.ru
    assert set(process_forms.all_current()) == {p.stem for p in FORMS.glob("*.json")}


def test_seeding_deploys_each_file_once(app, tmp_path):
    for name in ("demo_review.json", "demo_request.json"):
        shutil.copy(FORMS / name, tmp_path / name)
    first = process_forms.seed(folder=tmp_path)
    assert [(name, row.version, created) for name, row, created in first] == [
        ("demo_request.json", 1, True), ("demo_review.json", 1, True)]
    assert [created for _n, _r, created in process_forms.seed(folder=tmp_path)] == [False, False]

    # Laid out differently, the same form is no new version; a changed one is.
    (tmp_path / "demo_review.json").write_text(json.dumps(review()), encoding="utf-8")
    assert not process_forms.seed(folder=tmp_path)[1][2]
    (tmp_path / "demo_review.json").write_text(json.dumps(relabelled(review(), "Итог")), encoding="utf-8")
    name, row, created = process_forms.seed(folder=tmp_path)[1]
    assert (name, row.version, created) == ("demo_review.json", 2, True)
    assert process_forms.current("demo_review").field("decision").label.ru == "Итог"


def test_seeding_does_not_take_back_what_the_analysts_deployed(app, tmp_path, users):
    shutil.copy(FORMS / "demo_review.json", tmp_path / "demo_review.json")
    process_forms.seed(folder=tmp_path)
    analyst = users.staff("analyst")
    process_forms.deploy("demo_review", relabelled(review(), "Решение специалиста"), analyst, "clearer label")
    assert not process_forms.seed(folder=tmp_path)[0][2]
    assert process_forms.current("demo_review").field("decision").label.ru == "Решение специалиста"


def test_seeding_refuses_a_broken_file_before_storing_anything(app, tmp_path):
    shutil.copy(FORMS / "demo_request.json", tmp_path / "demo_request.json")
    broken = review()
    broken["fields"][0]["type"] = "radio"
    (tmp_path / "demo_review.json").write_text(json.dumps(broken), encoding="utf-8")
    with pytest.raises(Exception, match=r'demo_review.json: .*unknown type "radio"'):
        process_forms.seed(folder=tmp_path)
    assert count("demo_request") == 0


def test_deploying_makes_the_next_version_with_its_author_and_an_audit_event(app, users):
    analyst = users.staff("analyst")
    row = process_forms.deploy("demo_review", relabelled(review(), "Ваше решение"), analyst, "  new label  ")
    assert (row.version, row.deployed_by_id, row.comment) == (1, analyst.id, "new label")
    assert process_forms.current("demo_review").field("decision").label.ru == "Ваше решение"
    second = process_forms.deploy("demo_review", relabelled(review(), "Решение"), analyst)
    assert second.version == 2 and [v.version for v in process_forms.versions("demo_review")] == [2, 1]
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "form.deploy")
                               .order_by(AuditEvent.id.desc())).first()
    assert event.actor_id == analyst.id and event.details["key"] == "demo_review" and event.details["version"] == 2


def test_an_unchanged_form_is_no_new_version(app, users):
    analyst = users.staff("analyst")
    with force_locale("en"):
        with pytest.raises(Conflict, match="in use already"):  # the same as the file in use
            process_forms.deploy("demo_review", review(), analyst)
        process_forms.deploy("demo_review", relabelled(review(), "Решение"), analyst)
        with pytest.raises(Conflict, match="version 1"):
            process_forms.deploy("demo_review", json.loads(json.dumps(relabelled(review(), "Решение"), indent=4)),
                                 analyst)
    assert count("demo_review") == 1


def test_a_deploy_is_refused_with_every_problem_and_for_another_key(app, users):
    analyst = users.staff("analyst")
    broken = review()
    broken["fields"][0]["type"] = "radio"
    broken["fields"][2]["lable"] = broken["fields"][2].pop("label")
    with pytest.raises(InvalidInput) as refused:
        process_forms.deploy("demo_review", broken, analyst)
    problems = refused.value.details["problems"]
    assert [(p["field"], p["position"]) for p in problems] == [("decision", 1), ("visit_date", 3)]
    with pytest.raises(InvalidInput) as other:
        process_forms.deploy("demo_request", review(), analyst)
    assert other.value.field == "key"
    assert count("demo_review") == 0 and count("demo_request") == 0


def test_check_names_each_problem_at_its_field_in_the_users_language(app):
    bad = review()
    bad["fields"][0]["choices"][1]["value"] = "approve"
    bad["fields"][3]["columns"][1]["min"] = "много"
    bad["fields"].append({"name": "data", "type": "text", "label": {"ru": "Данные", "en": ""}})
    with force_locale("en"):
        assert process_forms.check(bad) == [
            "Field “decision”, option 2: The value “approve” is used twice.",
            "Field “materials”, column “quantity”: “min” must be a number, not 'много'.",
            "Field “data”: The name is reserved by the form library; choose another.",
        ]
    with force_locale("ru"):
        assert process_forms.check(bad)[0] == "Поле «decision», вариант 2: Значение «approve» использовано дважды."
    assert process_forms.check(review()) == []


def test_problems_between_fields_name_the_field(app):
    twice = review()
    twice["fields"][2]["name"] = "rejection_reason"
    assert [(p.field, p.position) for p in process_forms.problems(twice)] == [("rejection_reason", 3)]
    dangling = review()
    dangling["fields"][1]["required_if"] = {"field": "verdict", "equals": "reject"}
    found = process_forms.problems(dangling)
    assert [(p.field, p.position) for p in found] == [("rejection_reason", 2)] and "verdict" in found[0].message
    assert [p.field for p in process_forms.problems({"key": "Bad key", "title": {}, "fields": []})] == [None]


def test_a_stored_version_is_read_once(app, users):
    analyst = users.staff("analyst")
    process_forms.deploy("demo_review", relabelled(review(), "Решение"), analyst)
    assert process_forms.current("demo_review") is process_forms.current("demo_review")


def test_a_new_form_is_known_to_diagrams_and_exported(app, users, tmp_path):
    analyst = users.staff("analyst")
    data = {"key": "survey_note", "title": {"ru": "Заметка", "en": "Note"},
            "fields": [{"name": "note", "type": "textarea", "label": {"ru": "Заметка", "en": "Note"}}]}
    process_forms.create(data, analyst, "first")
    assert "survey_note" in definitions.known_names()[0]
    assert "survey_note" in process_forms.all_current()
    with pytest.raises(Conflict):
        process_forms.create(data, analyst)
    with pytest.raises(Conflict):  # a file's key is taken too
        process_forms.create({**review(), "key": "demo_review"}, analyst)
    target = process_forms.export("survey_note", tmp_path / "survey_note.json")
    assert load_file(target).field("note").label.en == "Note"


def test_two_deploys_at_once_make_one_version(app, users):
    from tests.helpers import at_once

    first, second = users.staff("analyst"), users.staff("analyst")
    texts = iter(["Первое", "Второе"])
    bodies = {first.id: relabelled(review(), next(texts)), second.id: relabelled(review(), next(texts))}
    outcomes = at_once(app, [first.id, second.id],
                       lambda person: process_forms.deploy("demo_review", bodies[person.id], person))
    db.session.rollback()
    assert sorted(o == "ok" for o in outcomes) == [False, True], outcomes
    assert count("demo_review") == 1
