"""The change of owner: the new owner files, the billing group approves (or refuses), the account passes
to the new owner from the transfer date, the previous owner keeps only their history, the contract."""
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from app import policy
from app.extensions import db
from app.models import (OWNER, Account, AccountAccess, AccountPeriod, Accrual, Case, CaseDocument, CaseEvent,
                        HumanTask, LedgerEntry, MeterReading)
from app.services import accounts, cases, file_store, readings, statements
from app.services.errors import Forbidden, InvalidInput, TooManyAttempts
from app.services.periods import last_day, local_today, period_of, previous_period
from tests.documents import pdf_text
from tests.factories import PASSWORD
from tests.helpers import Browser
from workflows import definitions

DIAGRAM = Path(__file__).resolve().parents[2] / "bpmn" / "contract_reassignment.bpmn"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
HOLDER, ADDRESS = "Прежнева Ольга Викторовна", "г. Москва, ул. Садовая, д. 5, кв. 12"

# The transfer is on the 10th of last month: last month is billed to the new owner, the one before to
# the previous owner, and a reading taken this month is after the transfer.
THIS_MONTH = period_of(date.today())
TRANSFER_MONTH = previous_period(THIS_MONTH)
ON = TRANSFER_MONTH + timedelta(days=9)
OLD_MONTH = previous_period(TRANSFER_MONTH)


def request(**changes) -> dict:
    values = {"account_number": "7700123456", "address": ADDRESS, "transfer_date": ON.isoformat(),
              "egrn_extract": {"filename": "egrn.pdf", "content_type": "application/pdf", "data": PDF},
              "egrn_details": "от 05.10.2026 № КУВИ-001/2026-123456789", "reading_t1": "1234.5",
              "reading_t2": None, "reading_t3": None, "meter_serial": None, "phone": "+7 900 555-66-77",
              "comment": None}
    return {**values, **changes}


def review(**changes) -> dict:
    values = {"decision": "approve", "rejection_reason": None, "confirmed_serial": None, "confirmed_t1": None,
              "confirmed_t2": None, "confirmed_t3": None, "debt_decision": "stays_with_previous_owner",
              "debt_agreement": None}
    return {**values, **changes}


@pytest.fixture
def setup(app, tmp_path, users, billing):
    app.config["FILE_STORE"] = str(tmp_path / "files")
    definitions.deploy(DIAGRAM.read_bytes(), source="test")
    previous = users.customer(name=HOLDER)
    account = users.account(number="7700123456", owner=previous, holder=HOLDER, address=ADDRESS)
    # The previous owner has had the account in the portal for years.
    access = db.session.scalar(select(AccountAccess).where(AccountAccess.user_id == previous.id))
    access.granted_at = datetime(2024, 1, 15, tzinfo=timezone.utc)
    helper = users.customer(name="Прежнев Игорь Петрович")
    db.session.add(AccountAccess(account=account, user_id=helper.id, role="representative",
                                 granted_by_id=previous.id))
    db.session.commit()
    meter = billing.meter(account, serial="SN-4471", installed_on=date(2024, 3, 1), initial={"T1": "1000"})
    billing.reading(meter, OLD_MONTH, T1="1200.5")
    # The previous owner's month: billed 850, paid 500 before the transfer.
    db.session.add_all([
        AccountPeriod(account_id=account.id, period=OLD_MONTH, charged=Decimal("850.00"),
                      due_date=last_day(TRANSFER_MONTH)),
        Accrual(account_id=account.id, period=OLD_MONTH, meter_id=meter.id, resource="electricity", zone="T1",
                basis="reading", quantity=Decimal("121.429"), price=Decimal("7.0000"), amount=Decimal("850.00")),
        LedgerEntry(account_id=account.id, kind="charge", amount=Decimal("850.00"), period=OLD_MONTH,
                    due_date=last_day(TRANSFER_MONTH), booked_on=last_day(OLD_MONTH), source="close"),
        LedgerEntry(account_id=account.id, kind="payment", amount=Decimal("-500.00"), booked_on=ON - timedelta(days=5),
                    source="bank", external_id="old-1"),
    ])
    db.session.commit()
    new_owner = users.customer(name="Новикова Дарья Андреевна")
    specialist = users.staff("specialist", groups=["billing"])
    return {"previous": previous, "helper": helper, "account": account, "meter": meter, "new": new_owner,
            "specialist": specialist}


def open_task(case, spec):
    db.session.expire_all()
    return db.session.scalar(select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.status == "open",
                                                     HumanTask.spec == spec))


def approve(setup, **changes) -> Case:
    case = cases.start(setup["new"], "contract_reassignment", request())
    task = open_task(case, "review")
    assert task.candidate_group == "billing"
    cases.complete(setup["specialist"], task.id, review(**changes))
    db.session.expire_all()
    return db.session.get(Case, case.id)


def after_the_transfer(setup) -> None:
    """What happens on the account after the transfer: a reading this month, the transfer month billed,
    a payment today."""
    account, meter = setup["account"], setup["meter"]
    readings.record(meter, THIS_MONTH, local_today(), {"T1": Decimal("1300")}, "customer", setup["new"],
                    confirm_jump=True)
    db.session.add_all([
        AccountPeriod(account_id=account.id, period=TRANSFER_MONTH, charged=Decimal("458.50"),
                      due_date=last_day(THIS_MONTH)),
        Accrual(account_id=account.id, period=TRANSFER_MONTH, meter_id=meter.id, resource="electricity",
                zone="T1", basis="reading", quantity=Decimal("65.5"), price=Decimal("7.0000"),
                amount=Decimal("458.50")),
        LedgerEntry(account_id=account.id, kind="charge", amount=Decimal("458.50"), period=TRANSFER_MONTH,
                    due_date=last_day(THIS_MONTH), booked_on=last_day(TRANSFER_MONTH), source="close"),
        LedgerEntry(account_id=account.id, kind="payment", amount=Decimal("-111.11"), booked_on=local_today(),
                    source="bank", external_id="new-1"),
    ])
    db.session.commit()


def page_text(response) -> str:
    return response.get_data(as_text=True).replace("\u00a0", " ")


def test_the_account_passes_to_the_new_owner_from_the_transfer_date(setup, users):
    previous, helper, account, new = setup["previous"], setup["helper"], setup["account"], setup["new"]
    case = approve(setup)
    assert case.number.startswith("ПЛС-") and case.status == "closed"
    assert case.status_label == "Лицевой счёт переоформлен, договор готов"
    account = db.session.get(Account, account.id)

    # The new owner owns it from the transfer date; the previous owner's access ended that day.
    owner = account.owner_access()
    assert (owner.user_id, owner.role, owner.valid_from, owner.valid_until) == (new.id, OWNER, ON, None)
    assert account.holder_name == "Новикова Дарья Андреевна"
    before = account.access_of(previous.id)
    assert (before.role, before.valid_until, before.revoked_at) == (OWNER, ON, None)
    assert policy.account_window(previous, account) == policy.Window(None, ON)
    assert policy.account_window(new, account) == policy.Window(ON, None)
    assert policy.can_view_account(previous, account) and not policy.can_act_on_account(previous, account)
    assert not policy.can_manage_account(previous, account) and policy.can_manage_account(new, account)
    # The representative the previous owner appointed has nothing any more.
    assert not policy.can_view_account(helper, account) and account.access_of(helper.id) is None
    assert [a.id for a, _ in accounts.accounts_of(new)] == [account.id]
    assert accounts.accounts_of(previous) == [] and [a.account_id for a in accounts.accesses_of(previous)] == [account.id]

    # The readings on the transfer date are the month's reading, entered by the specialist.
    transfer = db.session.scalar(select(MeterReading).where(MeterReading.taken_on == ON))
    assert (transfer.t1, transfer.period, transfer.source, transfer.status, transfer.submitted_by_id) == (
        Decimal("1234.5"), TRANSFER_MONTH, "staff", "accepted", setup["specialist"].id)

    after_the_transfer(setup)
    mine, theirs = policy.account_window(previous, account), policy.account_window(new, account)
    assert [b.period for b in statements.bills(account, mine)] == [OLD_MONTH]
    assert [b.period for b in statements.bills(account, theirs)] == [TRANSFER_MONTH]
    assert [p.amount for p in statements.payments(account, mine)] == [Decimal("-500.00")]
    assert [p.amount for p in statements.payments(account, theirs)] == [Decimal("-111.11")]
    assert statements.debt(account, window=mine).statement.balance == Decimal("350.00")
    assert statements.debt(account, window=theirs).statement.balance == Decimal("347.39")
    assert [r.t1 for r in readings.history_of(account, window=mine) if r.source != "installation"] == [Decimal("1200.5")]
    assert [r.t1 for r in readings.history_of(account, window=theirs)] == [Decimal("1300"), Decimal("1234.5")]
    with pytest.raises(Forbidden):
        readings.submit(previous, setup["meter"].id, {"T1": "1400"})
    with pytest.raises(Forbidden):
        accounts.add_representative(previous, account.id, helper.email)
    # The new owner's application is not shown to the previous owner.
    assert not cases.can_see_case(previous, case) and cases.can_see_case(new, case)


def test_what_each_owner_sees_on_the_pages(app, setup):
    previous, helper, account, new, meter = (setup[k] for k in ("previous", "helper", "account", "new", "meter"))
    approve(setup)
    after_the_transfer(setup)
    base = f"/cabinet/accounts/{account.id}"

    browser = Browser(app.test_client())
    browser.login(previous.email, PASSWORD)
    dashboard = page_text(browser.get("/cabinet/"))
    assert "7700123456" in dashboard and "Новикова" not in dashboard
    assert 'class="badge text-bg-secondary"' in dashboard  # marked as passed to a new owner
    assert "350,00" in dashboard  # the balance when it passed; nothing after
    history = page_text(browser.get(f"{base}/readings"))
    assert "1 200,5" in history and "1 300" not in history and "1 234,5" not in history
    assert f'name="m{meter.id}-T1"' not in history  # no form to send a reading
    sent = browser.post(f"{base}/readings", data={"csrf_token": browser.csrf(f"{base}/readings"),
                                                  f"m{meter.id}-meter_id": meter.id, f"m{meter.id}-T1": "1400"})
    assert sent.status_code == 403
    assert db.session.scalar(select(MeterReading).where(MeterReading.t1 == Decimal("1400"))) is None
    old_bill = page_text(browser.get(f"{base}/accruals"))
    assert "850,00" in old_bill and "458,50" not in old_bill
    assert browser.get(f"{base}/accruals?period={TRANSFER_MONTH:%Y-%m}").status_code == 404
    assert browser.get(f"{base}/bills/{TRANSFER_MONTH:%Y-%m}.pdf").status_code == 404
    paid = page_text(browser.get(f"{base}/payments"))
    assert "500,00" in paid and "111,11" not in paid
    assert "350,00" in page_text(browser.get(f"{base}/debt"))
    overview = page_text(browser.get(base))
    assert 'id="account-transferred"' in overview and new.email not in overview and "Новикова" not in overview
    refused = browser.submit(base, {"email": helper.email}, follow=True)
    assert refused.status_code == 200
    db.session.expire_all()
    assert db.session.get(Account, account.id).access_of(helper.id) is None
    api = browser.api("GET", "/api/v1/accounts").get_json()
    assert [(a["number"], a["transferred_on"], a["holder_name"]) for a in api] == [("7700123456", ON.isoformat(), None)]
    assert browser.api("POST", f"/api/v1/meters/{meter.id}/readings", json={"values": {"T1": "1400"}}).status_code == 403
    assert browser.api("GET", f"/api/v1/accounts/{account.id}/people").get_json() == []

    newcomer = Browser(app.test_client())
    newcomer.login(new.email, PASSWORD)
    readings_page = page_text(newcomer.get(f"{base}/readings"))
    assert f'name="m{meter.id}-T1"' in readings_page and "1 234,5" in readings_page and "1 200,5" not in readings_page
    accruals = page_text(newcomer.get(f"{base}/accruals"))
    assert "458,50" in accruals and "850,00" not in accruals
    assert newcomer.get(f"{base}/accruals?period={OLD_MONTH:%Y-%m}").status_code == 404
    payments = page_text(newcomer.get(f"{base}/payments"))
    assert "111,11" in payments and "500,00" not in payments
    assert 'id="account-since"' in page_text(newcomer.get(base))

    representative = Browser(app.test_client())
    representative.login(helper.email, PASSWORD)
    assert representative.get(base).status_code == 404
    assert representative.get(f"{base}/readings").status_code == 404


def test_the_contract(setup):
    case = approve(setup, confirmed_t1="1234.5")
    pdf = db.session.scalar(select(CaseDocument).where(CaseDocument.case_id == case.id,
                                                       CaseDocument.content_type == "application/pdf",
                                                       CaseDocument.kind == "generated"))
    assert pdf.template == "reassignment_contract"
    text = pdf_text(file_store.open_bytes(pdf.sha256))
    for expected in (case.number, "Новикова Дарья Андреевна", "7700123456", ADDRESS, "1 234,5", "350,00",
                     "Выписка из ЕГРН от 05.10.2026",
                     "Задолженность остаётся за прежним собственником.", ON.strftime("%d.%m.%Y")):
        assert expected in text, (expected, text[:1500])
    # The EGRN extract the applicant attached is on the case.
    upload = db.session.scalar(select(CaseDocument).where(CaseDocument.case_id == case.id,
                                                          CaseDocument.kind == "upload"))
    assert upload.filename == "egrn.pdf"


def test_a_debt_passed_by_agreement_is_in_the_contract(setup):
    case = approve(setup, debt_decision="transferred_by_agreement", debt_agreement="от 05.10.2026 № 12")
    pdf = db.session.scalar(select(CaseDocument).where(CaseDocument.case_id == case.id,
                                                       CaseDocument.content_type == "application/pdf",
                                                       CaseDocument.kind == "generated"))
    text = pdf_text(file_store.open_bytes(pdf.sha256))
    assert "Задолженность переходит к новому собственнику по соглашению сторон (от 05.10.2026 № 12)." in text


def test_a_debt_cannot_be_called_paid_off_while_the_ledger_shows_it(setup):
    case = cases.start(setup["new"], "contract_reassignment", request())
    task = open_task(case, "review")
    with pytest.raises(InvalidInput) as refused:
        cases.complete(setup["specialist"], task.id, review(debt_decision="settled"))
    assert refused.value.field == "debt_decision" and "350,00" in str(refused.value.message)


def test_a_refusal_closes_the_case_and_tells_the_reason(setup):
    previous, account, new = setup["previous"], setup["account"], setup["new"]
    case = cases.start(new, "contract_reassignment", request())
    assert case.status_label == "Документы на проверке у специалиста"
    task = open_task(case, "review")
    cases.complete(setup["specialist"], task.id, review(decision="reject", debt_decision=None,
                                                       rejection_reason="Выписка из ЕГРН нечитаема."))
    db.session.expire_all()
    case = db.session.get(Case, case.id)
    assert case.status == "closed" and case.status_label == "В переоформлении лицевого счёта отказано"
    message = db.session.scalar(select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.kind == "comment"))
    assert message.details["text"] == "Выписка из ЕГРН нечитаема." and message.details["side"] == "staff"
    account = db.session.get(Account, account.id)
    assert account.owner_access().user_id == previous.id and account.access_of(new.id) is None
    assert account.holder_name == HOLDER
    assert db.session.scalar(select(CaseDocument).where(CaseDocument.kind == "generated")) is None


def test_an_unknown_account_number_is_refused_without_telling_anything(setup, users):
    closed = users.account(number="7700999999", holder="Закрытов Пётр Ильич", address="г. Москва, ул. Тайная, д. 1")
    closed.is_closed = True
    db.session.commit()
    answers = []
    for number in ("7700000000", "7700999999", "12"):
        with pytest.raises(InvalidInput) as refused:
            cases.start(setup["new"], "contract_reassignment", request(account_number=number))
        assert refused.value.field == "account_number"
        answers.append(str(refused.value.message))
    assert len(set(answers)) == 1
    for secret in (HOLDER, ADDRESS, "Закрытов", "Тайная", "7700999999"):
        assert secret not in answers[0]
    assert db.session.scalar(select(Case)) is None


def test_guessing_account_numbers_is_limited(app, setup):
    app.config["ACCOUNT_LINK_MAX_FAILURES"] = 2
    for number in ("7700000001", "7700000002"):
        with pytest.raises(InvalidInput):
            cases.start(setup["new"], "contract_reassignment", request(account_number=number))
    with pytest.raises(TooManyAttempts):
        cases.start(setup["new"], "contract_reassignment", request())


def test_a_transfer_date_in_the_future_or_before_the_owner_is_refused(setup):
    new = setup["new"]
    with pytest.raises(InvalidInput) as refused:
        cases.start(new, "contract_reassignment", request(transfer_date=(local_today() + timedelta(days=1)).isoformat()))
    assert refused.value.field == "transfer_date"
    with pytest.raises(InvalidInput) as refused:
        cases.start(new, "contract_reassignment", request(transfer_date="2023-12-31"))
    assert refused.value.field == "transfer_date"
    assert HOLDER not in str(refused.value.message)
    with pytest.raises(InvalidInput) as refused:
        cases.start(setup["previous"], "contract_reassignment", request())
    assert refused.value.field == "account_number"  # already the owner
    assert db.session.scalar(select(Case)) is None


def test_readings_lower_than_the_last_one_are_refused(setup):
    case = cases.start(setup["new"], "contract_reassignment", request(reading_t1="1100"))
    task = open_task(case, "review")
    specialist = setup["specialist"]
    with pytest.raises(InvalidInput) as refused:
        cases.complete(specialist, task.id, review())
    assert refused.value.field == "confirmed_t1" and "1200" in str(refused.value.message)
    with pytest.raises(InvalidInput) as refused:
        cases.complete(specialist, task.id, review(confirmed_t1="1199"))
    assert refused.value.field == "confirmed_t1"
    with pytest.raises(InvalidInput) as refused:  # a single-zone meter takes one value
        cases.complete(specialist, task.id, review(confirmed_t1="1250", confirmed_t2="10"))
    assert refused.value.field == "confirmed_t2"
    with pytest.raises(InvalidInput) as refused:
        cases.complete(specialist, task.id, review(confirmed_t1="1250", confirmed_serial="NOPE"))
    assert refused.value.field == "confirmed_serial"
    # Nothing was written: the task still waits and the account is the previous owner's.
    assert open_task(case, "review") is not None
    assert db.session.get(Account, setup["account"].id).owner_access().user_id == setup["previous"].id
    cases.complete(specialist, task.id, review(confirmed_t1="1250"))
    assert db.session.scalar(select(MeterReading).where(MeterReading.taken_on == ON)).t1 == Decimal("1250")


def test_the_form_asks_for_no_account_of_the_applicants_own(app, setup, users):
    new = setup["new"]
    users.account(number="7711111111", owner=new)
    browser = Browser(app.test_client())
    browser.login(new.email, PASSWORD)
    form = browser.get("/cases/new/contract_reassignment/form").get_data(as_text=True)
    assert 'name="account_id"' not in form and 'name="account_number"' in form
