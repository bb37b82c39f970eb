"""The complaint about an accrual: filing, review with the month's accruals at hand, the correcting entry,
the answer letter, one appeal to the team lead, and the timers (escalation, time to appeal)."""
import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Accrual, Case, CaseDocument, HumanTask, LedgerEntry
from app.services import billing as close
from app.services import cases, file_store, statements
from app.services.errors import InvalidInput
from tests.documents import docx_text, pdf_text
from tests.factories import PASSWORD
from tests.helpers import Browser, age_timers, location_path
from workflows import complaint_handlers, definitions, engine
from workflows.documents_handler import DOCX

DIAGRAM = Path(__file__).resolve().parents[2] / "bpmn" / "accrual_complaint.bpmn"
OCTOBER = date(2026, 10, 1)
COMPLAINT = {"period": "2026-10-17", "issue": "wrong_reading", "correct_reading": "1300",
             "complaint_text": "В октябре учтены показания 1400, а на приборе было 1300."}
RECALCULATE = {"decision": "recalculate", "recalculation_amount": "1234.56",
               "recalculation_reason": "Показания 1400 введены ошибочно; верные показания 1300.",
               "refusal_reason": None}
REFUSE = {"decision": "refuse", "recalculation_amount": None, "recalculation_reason": None,
          "refusal_reason": "Начисление произведено по показаниям, переданным вами 20.10.2026."}


@pytest.fixture
def setup(app, tmp_path, users, billing):
    app.config["FILE_STORE"] = str(tmp_path / "files")
    definitions.deploy(DIAGRAM.read_bytes(), source="test")
    applicant = users.customer(name="Павлова Ирина Сергеевна")
    account = users.account(number="5600012345", owner=applicant)
    billing.tariff(date(2025, 1, 1), "7.00")
    meter = billing.meter(account, serial="SN-77001", installed_on=date(2024, 3, 1), initial={"T1": "1000"})
    billing.reading(meter, date(2026, 9, 1), T1="1150")
    billing.reading(meter, OCTOBER, T1="1400")
    for period in (date(2026, 9, 1), OCTOBER):
        assert not close.close_period(period, account_ids=[account.id]).problems
    specialist = users.staff("specialist", groups=["billing"])
    lead = users.staff("team_lead")
    return applicant, account, specialist, lead


def open_task(case, spec):
    db.session.expire_all()
    return db.session.scalar(select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.status == "open",
                                                     HumanTask.spec == spec))


def open_specs(case) -> list[str]:
    db.session.expire_all()
    return sorted(db.session.scalars(select(HumanTask.spec).where(HumanTask.case_id == case.id,
                                                                  HumanTask.status == "open")))


def reload(case) -> Case:
    db.session.expire_all()
    return db.session.get(Case, case.id)


def corrections(account) -> list[LedgerEntry]:
    db.session.expire_all()
    return list(db.session.scalars(select(LedgerEntry).where(LedgerEntry.account_id == account.id,
                                                             LedgerEntry.kind == "correction")))


def answers(case, content_type="application/pdf") -> list[str]:
    rows = db.session.scalars(select(CaseDocument).where(CaseDocument.case_id == case.id,
                                                         CaseDocument.content_type == content_type)
                              .order_by(CaseDocument.id))
    read = pdf_text if content_type == "application/pdf" else docx_text
    return [read(file_store.open_bytes(row.sha256)) for row in rows]


def file_and_review(setup, decision=RECALCULATE) -> Case:
    applicant, account, specialist, lead = setup
    case = cases.start(applicant, "accrual_complaint", COMPLAINT, account=account)
    review = open_task(case, "review")
    cases.claim(specialist, review.id)
    cases.complete(specialist, review.id, decision)
    return reload(case)


def test_a_recalculation_posts_a_correction_and_answers(setup):
    applicant, account, specialist, lead = setup
    debt_before = statements.debt(account).statement.balance
    case = cases.start(applicant, "accrual_complaint", COMPLAINT, account=account)
    assert case.number.startswith("ЖН-") and case.status_label == "Жалоба рассматривается"
    assert case.due_at is not None
    review = open_task(case, "review")
    assert (review.candidate_group, review.form_key, review.actor) == ("billing", "complaint_review", "staff")
    data = engine.task_data(case, review)
    # The reviewer has the month at hand: the accrual line and the readings it came from.
    assert (data["period"], data["period_start"], data["account_number"]) == ("октябрь 2026", "2026-10-01",
                                                                              "5600012345")
    assert data["period_accrued"] == "1750.00"
    [line] = data["period_accruals"]
    assert (line["basis"], line["quantity"], line["amount"]) == ("reading", "250.000", "1750.00")
    assert [r["values"]["T1"] for r in data["period_readings"]] == ["1400.000"]

    cases.claim(specialist, review.id)
    cases.complete(specialist, review.id, RECALCULATE)
    case = reload(case)
    assert case.status_label == "Ответ готов: примите его или обжалуйте в течение 14 дней"

    [entry] = corrections(account)
    assert entry.amount == Decimal("-1234.56") and entry.description.startswith(f"{case.number}: ")
    assert entry.created_by_id == specialist.id
    line = db.session.scalar(select(Accrual).where(Accrual.account_id == account.id, Accrual.basis == "correction"))
    assert line.amount == Decimal("-1234.56") and line.details["for_period"] == "2026-10-01"
    assert statements.debt(account).statement.balance == debt_before - Decimal("1234.56")

    [pdf], [docx] = answers(case), answers(case, DOCX)
    for text in (pdf, docx):
        for expected in (case.number, "октябрь 2026", "1 234,56", RECALCULATE["recalculation_reason"],
                         "5600012345", "Павлова Ирина Сергеевна", "в течение 14 дней", COMPLAINT["complaint_text"]):
            assert expected in text, expected

    offer = open_task(case, "appeal_offer")
    assert (offer.actor, offer.candidate_group) == ("applicant", None)
    cases.complete(applicant, offer.id, {"response": "accept", "appeal_text": None})
    case = reload(case)
    assert (case.status, case.status_label) == ("closed", "Ответ дан и принят")
    assert len(corrections(account)) == 1


def test_a_refusal_posts_nothing_and_gives_the_reasons(setup):
    applicant, account, specialist, lead = setup
    case = file_and_review(setup, REFUSE)
    assert corrections(account) == []
    [pdf] = answers(case)
    assert "отказано" in pdf and REFUSE["refusal_reason"] in pdf and "октябрь 2026" in pdf
    assert "перерасчёт платы за" not in pdf


def test_a_month_without_accruals_cannot_be_complained_about(setup, users):
    applicant, account, specialist, lead = setup
    with pytest.raises(InvalidInput) as refused:
        cases.start(applicant, "accrual_complaint", {**COMPLAINT, "period": "2026-07-05"}, account=account)
    assert refused.value.field == "period" and "5600012345" in str(refused.value.message)
    with pytest.raises(InvalidInput) as refused:
        cases.start(applicant, "accrual_complaint", COMPLAINT, account=None)
    assert refused.value.field == "account_id"
    # An account without any bill is refused the same way.
    with pytest.raises(InvalidInput) as refused:
        cases.start(applicant, "accrual_complaint", COMPLAINT, account=users.account())
    assert refused.value.field == "period"
    assert db.session.scalar(select(func.count()).select_from(Case)) == 0


def test_the_recalculation_is_at_most_what_the_month_accrued(setup):
    applicant, account, specialist, lead = setup
    case = cases.start(applicant, "accrual_complaint", COMPLAINT, account=account)
    review = open_task(case, "review")
    cases.claim(specialist, review.id)
    with pytest.raises(InvalidInput) as refused:
        cases.complete(specialist, review.id, {**RECALCULATE, "recalculation_amount": "1750.01"})
    assert refused.value.field == "recalculation_amount" and re.search(r"1.750,00", str(refused.value.message))
    assert open_task(case, "review") is not None and corrections(account) == []
    cases.complete(specialist, review.id, {**RECALCULATE, "recalculation_amount": "1750"})
    assert [e.amount for e in corrections(account)] == [Decimal("-1750.00")]


def test_an_appeal_goes_to_the_team_lead_and_the_answer_is_final(setup):
    applicant, account, specialist, lead = setup
    case = file_and_review(setup, REFUSE)
    offer = open_task(case, "appeal_offer")
    cases.complete(applicant, offer.id, {"response": "appeal", "appeal_text": "Прошу проверить показания ещё раз."})
    case = reload(case)
    assert case.status_label == "Жалоба на решение рассматривается руководителем"
    appeal = open_task(case, "appeal_review")
    assert (appeal.candidate_group, appeal.form_key) == ("team_lead", "complaint_appeal_review")
    cases.claim(lead, appeal.id)
    cases.complete(lead, appeal.id, {**RECALCULATE, "recalculation_amount": "500", "recalculation_reason":
                                     "Проверка подтвердила ошибку в показаниях."})
    case = reload(case)
    assert (case.status, case.status_label) == ("closed", "Жалоба на решение рассмотрена, ответ окончательный")
    assert open_specs(case) == []  # no second appeal is offered
    assert [e.amount for e in corrections(account)] == [Decimal("-500.00")]
    first, second = answers(case)
    assert "в течение 14 дней" in first and "отказано" in first
    assert "жалобу на ранее принятое решение" in second and "500,00" in second
    assert "Проверка подтвердила ошибку в показаниях." in second and "является окончательным" in second


def test_an_appeal_recalculates_only_what_the_review_did_not(setup):
    applicant, account, specialist, lead = setup
    case = file_and_review(setup, {**RECALCULATE, "recalculation_amount": "300"})
    offer = open_task(case, "appeal_offer")
    cases.complete(applicant, offer.id, {"response": "appeal", "appeal_text": "Мало."})
    appeal = open_task(case, "appeal_review")
    cases.claim(lead, appeal.id)
    with pytest.raises(InvalidInput) as refused:
        cases.complete(lead, appeal.id, {**RECALCULATE, "recalculation_amount": "200"})
    assert refused.value.field == "recalculation_amount"
    cases.complete(lead, appeal.id, {**RECALCULATE, "recalculation_amount": "450"})
    assert sorted(e.amount for e in corrections(account)) == [Decimal("-300.00"), Decimal("-150.00")]
    assert complaint_handlers.recalculated(account.id, case.number) == Decimal("450.00")
    assert "450,00" in answers(reload(case))[-1]


def test_without_an_appeal_the_case_closes_when_the_time_to_appeal_ends(setup):
    applicant, account, specialist, lead = setup
    case = file_and_review(setup, REFUSE)
    offer = open_task(case, "appeal_offer")
    assert engine.fire_due_timers() == 0
    assert timedelta(days=13, hours=23) < case.next_timer_at - datetime.now(case.next_timer_at.tzinfo) \
        <= timedelta(days=14)
    age_timers(reload(case), timedelta(days=14, minutes=1))
    assert engine.fire_due_timers() == 1
    case = reload(case)
    assert (case.status, case.status_label) == ("closed", "Ответ дан, срок обжалования истёк")
    assert db.session.get(HumanTask, offer.id).status == "cancelled" and open_specs(case) == []


def test_a_review_not_done_in_ten_days_is_escalated_to_the_team_lead(setup):
    applicant, account, specialist, lead = setup
    case = cases.start(applicant, "accrual_complaint", COMPLAINT, account=account)
    age_timers(reload(case), timedelta(days=9))
    assert engine.fire_due_timers() == 0
    age_timers(reload(case), timedelta(days=1, minutes=1))
    assert engine.fire_due_timers() == 1
    assert open_specs(case) == ["escalation", "review"]
    escalation = open_task(case, "escalation")
    assert (escalation.candidate_group, escalation.form_key) == ("team_lead", "complaint_escalation")
    case = reload(case)
    assert case.status_label == "Жалоба рассматривается" and case.next_timer_at is None




def test_the_lead_answers_the_escalation_and_the_review_goes_on(setup):
    applicant, account, specialist, lead = setup
    case = cases.start(applicant, "accrual_complaint", COMPLAINT, account=account)
    age_timers(reload(case), timedelta(days=10, minutes=1))
    assert engine.fire_due_timers() == 1
    escalation = open_task(case, "escalation")
    cases.claim(lead, escalation.id)
    cases.complete(lead, escalation.id, {"escalation_acknowledged": True, "escalation_comment": "Поручено Ивановой."})
    assert open_specs(case) == ["review"]
    review = open_task(case, "review")
    cases.claim(specialist, review.id)
    cases.complete(specialist, review.id, REFUSE)
    assert open_specs(case) == ["appeal_offer"]


def test_an_escalated_review_is_completed_before_the_lead_answers(setup):
    applicant, account, specialist, lead = setup
    case = cases.start(applicant, "accrual_complaint", COMPLAINT, account=account)
    age_timers(reload(case), timedelta(days=10, minutes=1))
    assert engine.fire_due_timers() == 1
    review = open_task(case, "review")
    cases.claim(specialist, review.id)
    cases.complete(specialist, review.id, REFUSE)
    case = reload(case)
    # The applicant's next step shows although the lead has not answered the escalation yet.
    assert open_specs(case) == ["appeal_offer", "escalation"]
    assert case.status_label == "Ответ готов: примите его или обжалуйте в течение 14 дней"


def test_closing_the_case_cancels_an_unanswered_escalation(setup):
    applicant, account, specialist, lead = setup
    case = cases.start(applicant, "accrual_complaint", COMPLAINT, account=account)
    age_timers(reload(case), timedelta(days=10, minutes=1))
    engine.fire_due_timers()
    escalation = open_task(case, "escalation")
    review = open_task(case, "review")
    cases.claim(specialist, review.id)
    cases.complete(specialist, review.id, REFUSE)
    cases.complete(applicant, open_task(case, "appeal_offer").id, {"response": "accept"})
    case = reload(case)
    assert (case.status, case.status_label) == ("closed", "Ответ дан и принят")
    assert db.session.get(HumanTask, escalation.id).status == "cancelled"


def test_a_failed_step_posts_nothing_and_a_repeated_one_posts_once(app, setup, tmp_path):
    applicant, account, specialist, lead = setup
    case = cases.start(applicant, "accrual_complaint", COMPLAINT, account=account)
    review = open_task(case, "review")
    cases.claim(specialist, review.id)

    # The answer letter cannot be printed (its template folder is empty): the whole step is undone,
    # the correction included, and the review stays open.
    templates = app.config.get("DOCUMENT_TEMPLATES")
    app.config["DOCUMENT_TEMPLATES"] = str(tmp_path)
    with pytest.raises(Exception):
        cases.complete(specialist, review.id, RECALCULATE)
    db.session.rollback()
    assert corrections(account) == []
    assert open_task(case, "review") is not None

    app.config["DOCUMENT_TEMPLATES"] = templates
    cases.complete(specialist, review.id, RECALCULATE)
    assert [e.amount for e in corrections(account)] == [Decimal("-1234.56")]
    assert open_task(case, "appeal_offer") is not None

    # The handler itself, delivered once more with the same data, posts nothing.
    data = engine.case_data(reload(case))
    result = complaint_handlers.post_recalculation(reload(case), type("Task", (), {"data": dict(data)})())
    assert result["posted"] == "0.00" and result["entry_id"] is None
    assert len(corrections(account)) == 1


def test_the_letter_prints_the_days_the_diagram_gives_to_appeal():
    assert f'"P{complaint_handlers.APPEAL_DAYS}D"' in DIAGRAM.read_text(encoding="utf-8")


def test_the_form_says_at_the_month_that_it_has_no_accruals(app, setup):
    applicant, account, specialist, lead = setup
    browser = Browser(app.test_client())
    browser.login(applicant.email, PASSWORD)
    form = "/cases/new/accrual_complaint/form"
    refused = browser.submit(form, {"account_id": account.id, "period": "2026-07-05", "issue": "other",
                                    "complaint_text": "Начисление за июль завышено."})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 200
    error = re.search(r'id="period-error"[^>]*>([^<]*)<', page)
    assert error and "5600012345" in error.group(1), page[:3000]
    accepted = browser.submit(form, {"account_id": account.id, "period": "2026-10-05", "issue": "other",
                                     "complaint_text": "Начисление за октябрь завышено."})
    assert location_path(accepted) == "/cases/new/accrual_complaint/check"


def test_the_review_page_shows_the_months_accruals_and_readings(app, setup):
    applicant, account, specialist, lead = setup
    case = cases.start(applicant, "accrual_complaint", COMPLAINT, account=account)
    review = open_task(case, "review")
    browser = Browser(app.test_client())
    browser.login(specialist.email, PASSWORD)
    page = browser.get(f"/tasks/{review.id}").get_data(as_text=True)
    section = page[page.index('id="period-accruals-title"'):page.index('id="data-title"')]
    text = " ".join(re.sub(r"<[^>]+>", " ", section).split())
    for expected in ("октябрь 2026", "250", "7,00", "1 750,00", "№ SN-77001", "T1 1 400", "по показаниям"):
        assert expected in text, (expected, text)
