"""The meter replacement process: request, visit window, field work, register updated, act."""
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Case, CaseDocument, HumanTask, Meter, MeterReading, VisitSlot
from app.services import cases, file_store, visits
from app.services.errors import InvalidInput
from tests.documents import pdf_text
from workflows import definitions, engine

DIAGRAM = Path(__file__).resolve().parents[2] / "bpmn" / "meter_replacement.bpmn"
REQUEST = {"reason": "multi_zone", "zones_wanted": "2", "phone": "+7 900 111-22-33"}


@pytest.fixture
def setup(app, tmp_path, users, billing):
    app.config["FILE_STORE"] = str(tmp_path / "files")
    definitions.deploy(DIAGRAM.read_bytes(), source="test")
    applicant = users.customer(name="Соколова Анна Игоревна")
    account = users.account(owner=applicant)
    meter = billing.meter(account, zones=1, serial="011234567", installed_on=date(2024, 3, 1))
    billing.reading(meter, date(2026, 9, 1), T1="1200.5")
    fitter = users.staff("specialist", groups=["metering"])
    return applicant, account, meter, fitter


def open_task(case, spec):
    db.session.expire_all()
    return db.session.scalar(select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.status == "open",
                                                     HumanTask.spec == spec))


def work(replaced_on, **changes):
    values = {"visit_done": True, "replaced_on": replaced_on.isoformat(), "old_serial": "011234567",
              "old_t1": "1234.5", "old_t2": None, "old_t3": None, "new_model": "Меркурий 206", "new_serial": "NEW-777",
              "new_zones": "2", "new_digits": 6, "new_accuracy_class": "1.0", "new_verified_on": "2026-10-01",
              "new_verified_until": "2042-10-01", "new_seal": "ПЛ-0042", "new_t1": "0.7", "new_t2": "0.2",
              "new_t3": None, "askue_bound": True, "absence_note": None}
    return {**values, **changes}


def test_a_meter_is_replaced_and_the_history_goes_on(setup, users):
    applicant, account, old, fitter = setup
    case = cases.start(applicant, "meter_replacement", REQUEST, account=account)
    assert case.number.startswith("ЗПУ-") and case.status_label == "Выберите удобное время визита"
    choose = open_task(case, "choose_slot")
    offered = engine.task_data(case, choose)["visit_slots"]
    assert offered and all(o["label"]["ru"] for o in offered)
    cases.complete(applicant, choose.id, {"slot": offered[0]["value"], "access_note": "Код 12"})
    assert db.session.get(VisitSlot, int(offered[0]["value"])).booked == 1

    field = open_task(case, "field_work")
    assert field.candidate_group == "metering"
    replaced_on = date.today() - timedelta(days=1)
    cases.complete(fitter, field.id, work(replaced_on))
    db.session.expire_all()
    case = db.session.get(Case, case.id)
    assert case.status == "closed" and case.status_label == "Прибор учёта заменён, акт готов"

    old = db.session.get(Meter, old.id)
    new = db.session.scalar(select(Meter).where(Meter.replaces_id == old.id))
    assert old.removed_on == replaced_on and new.serial == "NEW-777" and new.zones == 2 and new.askue
    removal = db.session.scalar(select(MeterReading).where(MeterReading.meter_id == old.id,
                                                           MeterReading.source == "removal"))
    assert removal.t1 == Decimal("1234.5") and removal.is_current
    installation = db.session.scalar(select(MeterReading).where(MeterReading.meter_id == new.id))
    assert (installation.source, installation.status, installation.t1, installation.t2) == (
        "installation", "billed", Decimal("0.7"), Decimal("0.2"))

    pdf = db.session.scalar(select(CaseDocument).where(CaseDocument.case_id == case.id,
                                                       CaseDocument.content_type == "application/pdf"))
    text = pdf_text(file_store.open_bytes(pdf.sha256))
    for expected in (case.number, "011234567", "NEW-777", "ПЛ-0042", "Соколова Анна Игоревна"):
        assert expected in text, expected


def test_a_final_reading_lower_than_the_last_one_is_refused(setup):
    applicant, account, old, fitter = setup
    case = cases.start(applicant, "meter_replacement", REQUEST, account=account)
    choose = open_task(case, "choose_slot")
    cases.complete(applicant, choose.id, {"slot": engine.task_data(case, choose)["visit_slots"][0]["value"]})
    field = open_task(case, "field_work")
    with pytest.raises(InvalidInput) as refused:
        cases.complete(fitter, field.id, work(date.today(), old_t1="1100"))
    assert refused.value.field == "old_t1" and "меньше предыдущего" in str(refused.value.message)
    with pytest.raises(InvalidInput) as refused:
        cases.complete(fitter, field.id, work(date.today(), old_serial="999"))
    assert refused.value.field == "old_serial"
    with pytest.raises(InvalidInput) as refused:
        cases.complete(fitter, field.id, work(date.today(), new_t2=None))
    assert refused.value.field == "new_t2"
    # Nothing was written: the task still waits, the old meter is in service.
    assert open_task(case, "field_work") is not None
    assert db.session.get(Meter, old.id).removed_on is None


def test_a_missed_visit_gives_the_place_back_and_asks_for_another_time(setup):
    applicant, account, old, fitter = setup
    case = cases.start(applicant, "meter_replacement", REQUEST, account=account)
    choose = open_task(case, "choose_slot")
    first = engine.task_data(case, choose)["visit_slots"][0]["value"]
    cases.complete(applicant, choose.id, {"slot": first})
    field = open_task(case, "field_work")
    cases.complete(fitter, field.id, {"visit_done": False, "absence_note": "Никого не было дома"})
    again = open_task(case, "choose_slot")
    assert again is not None and again.id != choose.id
    assert db.session.get(VisitSlot, int(first)).booked == 0


def test_the_last_place_in_a_window_goes_to_one_applicant(app, setup, users):
    app.config["VISITS_PER_WINDOW"] = 1
    slot = visits.free()[0]["value"]
    visits.book(slot)
    with pytest.raises(InvalidInput, match="только что заняли"):
        visits.book(slot)
    assert slot not in [o["value"] for o in visits.free()]


def test_an_account_without_that_meter_cannot_file(setup, users):
    applicant, account, old, fitter = setup
    with pytest.raises(InvalidInput) as refused:
        cases.start(applicant, "meter_replacement", {**REQUEST, "meter_serial": "404"}, account=account)
    assert refused.value.field == "meter_serial"
    with pytest.raises(InvalidInput) as refused:
        cases.start(applicant, "meter_replacement", REQUEST, account=None)
    assert refused.value.field == "account_id"
    assert db.session.scalar(select(Case)) is None
