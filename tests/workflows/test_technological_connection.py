"""Technological connection: category and fee from the dated rates, the completeness loop and its
annulment, the offer, acceptance by payment, the connection term from the contract date, the act and
the notice, the state TP system reporting through the outbox, and deadlines across the New Year."""
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Case, CaseDocument, CaseEvent, ConnectionRate, HumanTask, OutboxMessage
from app.models.types import utcnow
from app.services import cases, connection_fees, file_store
from app.services.errors import Conflict, InvalidInput
from integrations.gis_tp import GisTpSimulator
from tests.documents import pdf_text
from tests.helpers import age_timers
from workflows import definitions, engine, outbox
from workflows.deadlines import due_after

DIAGRAM = Path(__file__).resolve().parents[2] / "bpmn" / "technological_connection.bpmn"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
APPLICATION = {
    "applicant_kind": "individual", "object_name": "Жилой дом", "cadastral_number": "50:27:0020806:123",
    "object_address": "Московская обл., д. Лаговское, ул. Полевая, уч. 15", "max_power": "15",
    "existing_power": "0", "voltage": "0.4", "reliability_category": "III", "load": "household",
    "distance_m": 120, "area": "rural", "privileged": False, "retail_supplier": "gridcase_sales",
    "title_document": {"filename": "egrn.pdf", "content_type": "application/pdf", "data": PDF},
    "location_plan": {"filename": "plan.pdf", "content_type": "application/pdf", "data": PDF},
}


def add_rates(valid_from=date(2026, 1, 1), factor=1):
    table = {("standard_per_kw", "up_to_15"): 8000, ("standard_per_km", "up_to_15"): 450000,
             ("preferential_per_kw", "up_to_15"): 3500, ("privileged_per_kw", "up_to_15"): 1000,
             ("standard_per_kw", "up_to_150"): 9000, ("standard_per_km", "up_to_150"): 500000,
             ("standard_per_kw", "from_150_to_670"): 10000, ("standard_per_km", "from_150_to_670"): 600000}
    for (kind, category), amount in table.items():
        db.session.add(ConnectionRate(valid_from=valid_from, kind=kind, category=category, amount=Decimal(amount * factor)))
    db.session.commit()


@pytest.fixture
def tp(app, tmp_path, users):
    app.config["FILE_STORE"] = str(tmp_path / "files")
    definitions.deploy(DIAGRAM.read_bytes(), source="test")
    add_rates()
    return {"applicant": users.customer(name="Петрова Ирина Олеговна"),
            "engineer": users.staff("specialist", groups=["connection"]),
            "fitter": users.staff("specialist", groups=["metering"])}


def task(case, spec):
    db.session.expire_all()
    return db.session.scalar(select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.status == "open",
                                                     HumanTask.spec == spec))


def reload(case):
    db.session.expire_all()
    return db.session.get(Case, case.id)


def documents_of(case, template):
    return db.session.scalars(select(CaseDocument).where(CaseDocument.case_id == case.id,
                                                         CaseDocument.template == template)).all()


def text_of(case, template):
    pdf = next(d for d in documents_of(case, template) if d.content_type == "application/pdf")
    return pdf_text(file_store.open_bytes(pdf.sha256))


def to_offer(people, **changes):
    case = cases.start(people["applicant"], "technological_connection", {**APPLICATION, **changes})
    cases.complete(people["engineer"], task(case, "completeness").id, {"complete": True})
    cases.complete(people["engineer"], task(case, "prepare_conditions").id, {
        "connection_point": "РУ-0,4 кВ ТП-125, фидер 3", "supply_source": "ПС 110/10 кВ «Лаговская»",
        "grid_works_rows": [{"item": "Строительство ВЛИ-0,4 кВ от опоры № 12"}],
        "applicant_works_rows": [{"item": "Установка вводного устройства"}]})
    return reload(case)


def test_from_application_to_the_act(tp):
    case = to_offer(tp)
    assert case.number.startswith("ТП-") and "оплатите счёт" in case.status_label
    # Up to 15 kW at 0.4 kV, III category, within 500 m in the country: the preferential rate is lower.
    data = engine.case_data(case)
    assert data["fee"] == {"amount": "52500.00", "vat": "8750.00", "basis": "льготная ставка: 3500.00 ₽/кВт"}
    assert data["connection_term"] == "6 месяцев"
    contract = text_of(case, "tp_contract")
    assert case.number in contract and "Петрова Ирина Олеговна" in contract and "52 500,00" in contract
    assert "50:27:0020806:123" in contract
    assert "Строительство ВЛИ-0,4 кВ от опоры № 12" in text_of(case, "tp_conditions")
    assert "52 500,00" in text_of(case, "tp_invoice")

    # The payments side reports the payment: the contract is concluded that day.
    engine.correlate(case.id, "invoice_paid", {"paid_on": "2026-11-20", "amount": "52500.00"})
    case = reload(case)
    data = engine.case_data(case)
    assert data["contract_date"] == "2026-11-20" and data["connection_deadline"] == "2027-05-20"
    assert case.due_at.astimezone(ZoneInfo("Europe/Moscow")).date() == date(2027, 5, 20)

    cases.complete(tp["engineer"], task(case, "grid_works").id, {"grid_works_done": True})
    cases.complete(tp["applicant"], task(case, "readiness_notice").id, {"applicant_ready": True})
    cases.complete(tp["fitter"], task(case, "inspection").id, {
        "meter_model": "Меркурий 201.8", "meter_number": "46211234", "meter_initial_reading": "0.8",
        "balance_boundary": "На контактах присоединения вводного провода к опоре № 12", "connected_on": date.today().isoformat()})
    case = reload(case)
    assert case.status == "closed" and "присоединение выполнено" in case.status_label.lower()
    act = text_of(case, "tp_act")
    assert "46211234" in act and case.number in act
    assert documents_of(case, "tp_notice"), "up to 150 kW at 0.4 kV the notice is issued too"
    stages = [m.payload["submission"]["stage"] for m in db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.case_id == case.id).order_by(OutboxMessage.id))]
    assert stages == ["application", "conditions", "contract", "act"]


def test_a_specialist_marks_the_payment_and_the_short_term_counts_working_days(tp):
    case = to_offer(tp, distance_m=10)
    assert engine.case_data(case)["connection_term"] == "30 рабочих дней"
    cases.complete(tp["applicant"], task(case, "offer_decision").id, {"offer_decision": "accept"})
    cases.complete(tp["engineer"], task(case, "await_payment").id,
                   {"paid_on": "2026-12-25", "payment_reference": "п/п № 17 от 25.12.2026"})
    # 30 working days from 25.12.2026 pass 31 December and the New Year holidays to 16.02.2027.
    assert engine.case_data(reload(case))["connection_deadline"] == "2027-02-16"


def test_missing_documents_fixed_then_annulled_when_not(tp):
    case = cases.start(tp["applicant"], "technological_connection", APPLICATION)
    cases.complete(tp["engineer"], task(case, "completeness").id,
                   {"complete": False, "missing_documents": "Нет плана расположения"})
    fix = task(case, "fix_application")
    assert fix.actor == "applicant" and "дополнить" in reload(case).status_label
    cases.complete(tp["applicant"], fix.id, {"additional_documents": {"filename": "plan.pdf",
                                                                      "content_type": "application/pdf", "data": PDF}})
    assert task(case, "completeness") is not None  # back to the check
    cases.complete(tp["engineer"], task(case, "completeness").id, {"complete": False, "missing_documents": "Снова нет"})
    age_timers(reload(case), timedelta(days=60))
    assert engine.fire_due_timers() == 1
    case = reload(case)
    assert case.status == "closed" and "аннулирована" in case.status_label
    assert task(case, "fix_application") is None


def test_an_unpaid_invoice_annuls_and_a_late_payment_is_refused(tp):
    case = to_offer(tp)
    age_timers(case, timedelta(days=30))
    assert engine.fire_due_timers() == 1
    case = reload(case)
    assert "счёт не оплачен" in case.status_label
    with pytest.raises(InvalidInput):
        engine.correlate(case.id, "invoice_paid", {"paid_on": "2026-11-20"})


def test_the_applicant_may_refuse_the_offer(tp):
    case = to_offer(tp)
    cases.complete(tp["applicant"], task(case, "offer_decision").id,
                   {"offer_decision": "refuse", "refusal_reason": "Передумал"})
    assert reload(case).status_label == "Вы отказались от заключения договора"


@pytest.mark.parametrize("changes, field", [
    ({"max_power": "700"}, "max_power"),
    ({"existing_power": "20"}, "existing_power"),
    ({"applicant_kind": "legal_entity", "organization": "ООО «Ромашка»"}, "applicant_inn"),
])
def test_what_cannot_be_filed_online_is_refused_at_the_field(tp, changes, field):
    with pytest.raises(InvalidInput) as refused:
        cases.start(tp["applicant"], "technological_connection", {**APPLICATION, **changes})
    assert refused.value.field == field
    assert db.session.scalar(select(Case)) is None


def test_fee_categories_and_dated_rates(tp):
    on = date(2026, 6, 1)
    assert connection_fees.category("individual", Decimal(15)) == "up_to_15"
    assert connection_fees.category("individual", Decimal(15), household=False) == "up_to_150"
    assert connection_fees.category("legal_entity", Decimal(200)) == "from_150_to_670"
    privileged = connection_fees.fee("up_to_15", Decimal(10), 100, "urban", Decimal("0.4"), "III", True, on)
    assert privileged.amount == Decimal("10000.00")
    far = connection_fees.fee("up_to_15", Decimal(10), 800, "urban", Decimal("0.4"), "III", False, on)
    assert far.amount == Decimal("80000.00") + Decimal("360000.00")  # standardised: beyond 300 m in a town
    add_rates(valid_from=date(2027, 1, 1), factor=2)
    assert connection_fees.fee("up_to_150", Decimal(100), 0, "urban", Decimal(10), "II", False, on).amount == Decimal("900000.00")
    assert connection_fees.fee("up_to_150", Decimal(100), 0, "urban", Decimal(10), "II", False,
                               date(2027, 2, 1)).amount == Decimal("1800000.00")


def test_deadlines_count_working_days_across_the_new_year():
    moscow = ZoneInfo("Europe/Moscow")
    # Filed on Tuesday 29.12.2026: 31 December is a day off by decree, 1–8 January are holidays.
    filed = datetime(2026, 12, 29, 10, 0, tzinfo=moscow)
    from app import create_app

    with create_app("testing", SQLALCHEMY_DATABASE_URI="sqlite://").app_context():
        assert due_after(filed, 3).astimezone(moscow).date() == date(2027, 1, 12)
        assert due_after(filed, 20).astimezone(moscow).date() == date(2027, 2, 4)
    assert connection_fees.Term(30, "working_days", "").deadline(date(2026, 12, 25)) == date(2027, 2, 16)
    assert connection_fees.Term(6, "months", "").deadline(date(2026, 12, 25)) == date(2027, 6, 25)


def test_the_state_system_is_told_after_two_failures_and_its_number_is_shown(app, tp):
    with GisTpSimulator(failures=2) as gis:
        app.config["GIS_TP_URL"] = gis.url
        case = to_offer(tp)
        moment = utcnow()
        for _ in range(4):
            moment += timedelta(hours=1)
            outbox.deliver_due(now=moment)
        rows = db.session.scalars(select(OutboxMessage).where(OutboxMessage.case_id == case.id)
                                  .order_by(OutboxMessage.id)).all()
        application, conditions = rows
        assert (application.status, application.attempts) == ("sent", 3)
        assert conditions.status == "sent" and application.result["external_id"] == conditions.result["external_id"]
        assert [r["stage"] for r in gis.received] == ["application", "conditions"]
        events = db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id,
                                                            CaseEvent.kind == "delivered")).all()
        assert events[0].details["result"]["external_id"].startswith("GIS-TP-")


def test_without_rates_the_specialist_is_told_and_nothing_is_written(app, tmp_path, users):
    app.config["FILE_STORE"] = str(tmp_path / "files")
    definitions.deploy(DIAGRAM.read_bytes(), source="test")
    engineer = users.staff("specialist", groups=["connection"])
    case = cases.start(users.customer(), "technological_connection", APPLICATION)
    cases.complete(engineer, task(case, "completeness").id, {"complete": True})
    conditions = task(case, "prepare_conditions")
    with pytest.raises(Conflict, match="Ставки ТП"):
        cases.complete(engineer, conditions.id, {"connection_point": "ТП-125", "supply_source": "ПС «Лаговская»",
                                                 "grid_works_rows": [{"item": "ВЛИ-0,4 кВ"}],
                                                 "applicant_works_rows": [{"item": "Вводное устройство"}]})
    assert task(case, "prepare_conditions").id == conditions.id
    assert documents_of(case, "tp_contract") == []
