"""Import from and export to the external billing system: all-or-nothing, skipping bad rows, meters with
their installation readings, idempotent opening balances, XLSX, the CLI and the exports."""
import csv
import io
from datetime import date
from decimal import Decimal

from openpyxl import load_workbook
from sqlalchemy import func, select

from app.cli import billing_exchange as _commands  # noqa: F401  (registers them until app.cli imports it)
from app import policy
from app.extensions import db
from app.models import Account, AuditEvent, LedgerEntry, Meter, MeterReading, Premises
from app.services import accounts
from app.services.billing_exchange import export_payments, export_readings, import_file
from integrations.billing.files import write_xlsx

D = Decimal
ACCOUNTS = ("number;holder_name;address;code;region;category;penalty_scheme;residents\n"
            "7000000001;Иванов Иван Иванович;г. Москва, ул. Ленина, д. 1, кв. 1;1111;77;;;3\n"
            "7000000002;Петров Пётр;г. Москва, ул. Ленина, д. 1, кв. 2;2222;;population_rural;legal;\n")
METERS = ("account_number;resource;model;serial;zones;digits;installed_on;initial_t1;initial_t2;askue;"
          "next_verification_on\n")


def csv_bytes(text: str, encoding: str = "utf-8-sig") -> bytes:
    return text.encode(encoding)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def last_audit() -> AuditEvent:
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == "billing.import")
                              .order_by(AuditEvent.id.desc())).first()


def test_valid_accounts_file_applies_with_premises_and_hashed_code(users):
    operator = users.staff(policy.OPERATOR)
    report = import_file("accounts", "accounts.csv", csv_bytes(ACCOUNTS), actor=operator)
    assert (report.applied_ok, report.total, report.applied, report.skipped, report.errors) == (True, 2, 2, [], [])
    first = db.session.scalar(select(Account).where(Account.number == "7000000001"))
    assert (first.holder_name, first.region, first.category, first.penalty_scheme) == (
        "Иванов Иван Иванович", "77", "population_urban", "household")
    assert first.verification_code_hash == accounts.code_hash("1111")
    premises = db.session.scalar(select(Premises).where(Premises.account_id == first.id))
    assert (premises.address, premises.residents) == (first.address, 3)
    second = db.session.scalar(select(Account).where(Account.number == "7000000002"))
    assert (second.category, second.penalty_scheme) == ("population_rural", "legal")
    event = last_audit()
    assert (event.actor_id, event.outcome) == (operator.id, "ok")
    assert {"kind": "accounts", "filename": "accounts.csv", "total": 2, "applied": 2,
            "skipped": 0}.items() <= event.details.items()


def test_an_existing_account_is_updated_and_keeps_its_code_unless_given(users):
    account = users.account("7000000001", code="9999", address="старый адрес")
    import_file("accounts", "a.csv", csv_bytes("number;holder_name;address;code\n"
                                               "7000000001;Новый Владелец;новый адрес;\n"))
    db.session.expire_all()
    assert (account.holder_name, account.address) == ("Новый Владелец", "новый адрес")
    assert account.verification_code_hash == accounts.code_hash("9999")
    import_file("accounts", "a.csv", csv_bytes("number;holder_name;address;code\n"
                                               "7000000001;Новый Владелец;новый адрес;4321\n"))
    db.session.expire_all()
    assert account.verification_code_hash == accounts.code_hash("4321")
    assert count(Account) == 1


def test_one_bad_row_applies_nothing_and_names_the_line_and_column(users):
    content = csv_bytes(ACCOUNTS + "7000000003;Сидоров;адрес;3333;;;;много\n"
                                   "12;Без номера;адрес;;;;unknown;\n")
    report = import_file("accounts", "accounts.csv", content)
    assert not report.applied_ok and report.applied == 0 and report.total == 4
    assert [line for line, _ in report.skipped] == [4, 5]
    assert report.skipped[0][1] == ['line 4, column "residents": must be a whole number from 0 to 100, not \'много\'']
    assert 'line 5, column "number": an account number has 6 to 20 digits' in report.skipped[1][1][0]
    assert any('line 5, column "penalty_scheme": must be one of household' in m for m in report.skipped[1][1])
    assert count(Account) == 0 and count(Premises) == 0
    assert (last_audit().outcome, last_audit().details["skipped"]) == ("rejected", 2)


def test_skip_errors_applies_the_rest_and_reports_exactly_the_skipped_row(users):
    content = csv_bytes(ACCOUNTS + "7000000003;;адрес;3333;;;;\n")
    report = import_file("accounts", "accounts.csv", content, skip_errors=True)
    assert report.applied_ok and (report.total, report.applied) == (3, 2)
    assert report.skipped == [(4, ['line 4, column "holder_name": is empty'])]
    assert sorted(db.session.scalars(select(Account.number))) == ["7000000001", "7000000002"]


def test_the_same_account_twice_in_a_file_refuses_both_rows(users):
    content = csv_bytes(ACCOUNTS + "7000-000-001;Двойник;адрес;1;;;;\n")
    report = import_file("accounts", "accounts.csv", content, skip_errors=True)
    assert [line for line, _ in report.skipped] == [2, 4]
    assert "appears more than once in the file (lines 2, 4)" in report.skipped[0][1][0]
    assert list(db.session.scalars(select(Account.number))) == ["7000000002"]


def test_a_header_without_required_columns_is_a_file_error(users):
    report = import_file("accounts", "accounts.csv", csv_bytes("number;holder;address\n1;2;3\n"))
    assert not report.applied_ok and report.total == 0
    [error] = report.errors
    assert 'missing columns "holder_name", "code"' in error and 'unknown column "holder"' in error
    assert last_audit().outcome == "failed"


def test_meters_with_their_installation_readings(users):
    account = users.account("7000000001")
    content = csv_bytes(METERS + "7000000001;electricity;Меркурий 206;A-1;2;6;15.01.2025;1234,5;567;да;2033-01-01\n"
                                 "7000 000 001;heat;Пульсар;H-1;1;5;2025-02-03;12.345;;0;\n", "cp1251")
    report = import_file("meters", "meters.csv", content)
    assert (report.applied_ok, report.applied, report.skipped) == (True, 2, [])
    electric, heat = db.session.scalars(select(Meter).order_by(Meter.id))
    assert (electric.premises.account_id, electric.zones, electric.digits, electric.askue,
            electric.installed_on, electric.next_verification_on) == (
        account.id, 2, 6, True, date(2025, 1, 15), date(2033, 1, 1))
    assert electric.premises_id == heat.premises_id  # one premises made for the account, then reused
    reading = db.session.scalar(select(MeterReading).where(MeterReading.meter_id == electric.id))
    assert (reading.source, reading.status, reading.period, reading.taken_on, reading.t1, reading.t2,
            reading.t3, reading.is_current) == (
        "installation", "billed", date(2025, 1, 1), date(2025, 1, 15), D("1234.5"), D("567"), None, True)
    heat_reading = db.session.scalar(select(MeterReading).where(MeterReading.meter_id == heat.id))
    assert (heat_reading.period, heat_reading.t1, heat.askue) == (date(2025, 2, 1), D("12.345"), False)


def test_meter_rows_are_checked_column_by_column(users, billing):
    account = users.account("7000000001")
    billing.meter(account, serial="TAKEN")
    content = csv_bytes(
        METERS
        + "7000000001;electricity;Меркурий 201;TAKEN;1;6;2025-01-10;0;;;\n"   # 2: already in the database
        + "7000000001;electricity;Меркурий 230;S-1;4;6;2025-01-10;0;;;\n"     # 3: four zones
        + "7000000001;heat;Пульсар;S-2;2;6;2025-01-10;0;0;;\n"                # 4: heat has one zone
        + "7000000009;electricity;Меркурий 201;S-3;1;6;31.02.2025;0;;;\n"     # 5: no account, no such date
        + "7000000001;electricity;Меркурий 201;S-4;1;6;2025-01-10;0;5;maybe;\n"  # 6: t2 on a 1-zone meter
        + "7000000001;electricity;Меркурий 201;S-5;1;4;2025-01-10;10000;;;\n"  # 7: too many digits
        + "7000000001;electricity;Меркурий 201;S-6;1;6;2025-01-10;1;;;\n"     # 8 and 9: the same meter twice
        + "7000000001;electricity;Меркурий 201;S-6;1;6;2025-01-10;1;;;\n"
        + "7000000001;water;Меркурий 201;S-7;1;6;2025-01-10;1;;;\n")          # 10: unknown resource
    report = import_file("meters", "meters.csv", content)
    problems = dict(report.skipped)
    assert sorted(problems) == [2, 3, 4, 5, 6, 7, 8, 9, 10]
    assert problems[2] == ['line 2, column "serial": meter Меркурий 201 No. TAKEN is already registered '
                           '(account 7000000001)']
    assert problems[3] == ['line 3, column "zones": must be 1, 2 or 3, not \'4\'']
    assert problems[4] == ['line 4, column "zones": must be 1 for a heat meter, not 2']
    assert problems[5] == ['line 5, column "account_number": no account 7000000009 in the portal; '
                           'import the accounts first',
                           'line 5, column "installed_on": \'31.02.2025\' is not a date in the calendar']
    assert problems[6] == ['line 6, column "askue": must be 0/1, yes/no or да/нет, not \'maybe\'',
                           'line 6, column "initial_t2": the meter has 1 zone(s); leave this column empty']
    assert problems[7] == ['line 7, column "initial_t1": does not fit the meter\'s 4 digits']
    assert problems[8] == ['line 8, column "serial": meter Меркурий 201 No. S-6 appears more than once in the '
                           'file (lines 8, 9)']
    assert problems[9] == ['line 9, column "serial": meter Меркурий 201 No. S-6 appears more than once in the '
                           'file (lines 8, 9)']
    assert problems[10][0].startswith('line 10, column "resource": must be one of electricity, heat, hot_water')
    assert count(Meter) == 1


def test_opening_balances_are_imported_once(users):
    debtor, advance = users.account("7000000001"), users.account("7000000002")
    content = csv_bytes("account_number,amount,as_of,period\n"
                        '7000000001,"1 500,50",01.03.2026,\n'
                        "7000000002,-200.1,2026-03-01,2026-01\n")
    report = import_file("balances", "opening.csv", content)
    assert (report.applied_ok, report.applied) == (True, 2)
    entries = {e.account_id: e for e in db.session.scalars(select(LedgerEntry))}
    debt = entries[debtor.id]
    assert (debt.kind, debt.amount, debt.booked_on, debt.period, debt.due_date, debt.source, debt.external_id) == (
        "opening", D("1500.50"), date(2026, 3, 1), date(2026, 2, 1), date(2026, 3, 1), "import",
        "opening:7000000001:2026-03-01")
    assert (entries[advance.id].amount, entries[advance.id].period) == (D("-200.10"), date(2026, 1, 1))

    again = import_file("balances", "opening.csv", content, skip_errors=True)
    assert not again.applied_ok and again.applied == 0
    assert again.skipped[0] == (2, ['line 2, column "as_of": the opening balance of account 7000000001 as of '
                                    '2026-03-01 is already imported'])
    assert count(LedgerEntry) == 2


def test_balance_rows_with_bad_values(users):
    users.account("7000000001")
    content = csv_bytes("account_number;amount;as_of;period\n"
                        "7000000001;12,345;2026-03-01;\n"
                        "7000000001;1e3;2026-03-02;2026-13\n"
                        "7000000001;10;2026-03-03;\n"
                        "7000000001;20;03.03.2026;\n")
    report = import_file("balances", "b.csv", content)
    problems = dict(report.skipped)
    assert problems[2] == ['line 2, column "amount": at most 2 digits after the decimal point']
    assert problems[3] == ['line 3, column "amount": must be a number like 1234.56, not \'1e3\'',
                           'line 3, column "period": must be a month written YYYY-MM, not \'2026-13\'']
    assert [line for line in problems] == [2, 3, 4, 5] and "lines 4, 5" in problems[4][0]
    assert count(LedgerEntry) == 0


def test_xlsx_accounts_and_balances(users):
    rows = [{"number": 7000000001, "holder_name": "Иванов", "address": "адрес", "code": 1234}]
    content = write_xlsx(rows, ["number", "holder_name", "address", "code"])
    assert import_file("accounts", "accounts.xlsx", content).applied == 1
    balances = write_xlsx([{"account_number": "7000000001", "amount": D("99.90"), "as_of": date(2026, 2, 10),
                            "period": date(2026, 1, 1)}], ["account_number", "amount", "as_of", "period"])
    report = import_file("balances", "balances.xlsx", balances)
    assert report.applied_ok, report.messages()
    entry = db.session.scalar(select(LedgerEntry))
    assert (entry.amount, entry.booked_on, entry.period) == (D("99.90"), date(2026, 2, 10), date(2026, 1, 1))
    assert db.session.scalar(select(Account)).verification_code_hash == accounts.code_hash("1234")


def test_cli_import_and_exports(app, users, billing, tmp_path):
    runner = app.test_cli_runner()
    bad = tmp_path / "accounts.csv"
    bad.write_bytes(csv_bytes(ACCOUNTS + "7000000003;;адрес;1;;;;\n"))
    result = runner.invoke(args=["billing", "import", "accounts", str(bad)])
    assert result.exit_code == 1
    assert 'line 4, column "holder_name": is empty' in result.output and "nothing applied" in result.output
    assert count(Account) == 0

    result = runner.invoke(args=["billing", "import", "accounts", str(bad), "--skip-errors"])
    assert result.exit_code == 0, result.output
    assert "2 of 3 row(s) applied, 1 skipped" in result.output

    account = db.session.scalar(select(Account).where(Account.number == "7000000001"))
    meter = billing.meter(account, serial="E-1")
    billing.reading(meter, date(2026, 3, 1), T1="150.5")
    out = tmp_path / "readings.xlsx"
    result = runner.invoke(args=["billing", "export-readings", "2026-03", "--format", "xlsx", "--output", str(out)])
    assert result.exit_code == 0, result.output
    sheet = load_workbook(out).worksheets[0]
    assert [c.value for c in sheet[2]][:7] == ["7000000001", "E-1", meter.model, "electricity", "2026-03",
                                              sheet[2][5].value, 150.5]

    out = tmp_path / "payments.csv"
    result = runner.invoke(args=["billing", "export-payments", "2026-03-01", "31.03.2026", "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"\xef\xbb\xbfaccount_number;booked_on;amount")

    result = runner.invoke(args=["billing", "export-payments", "2026-03-01", "yesterday"])
    assert result.exit_code == 2 and "YYYY-MM-DD" in result.output


def test_export_readings_holds_the_current_readings_of_the_period(users, billing):
    account = users.account("7000000001")
    meter = billing.meter(account, zones=2, serial="D-1", initial={"T1": "100", "T2": "50"})
    billing.reading(meter, date(2026, 3, 1), T1="110", T2="55")
    billing.reading(meter, date(2026, 3, 1), T1="120.25", T2="56")  # a correction replaces the first
    billing.reading(meter, date(2026, 4, 1), T1="130", T2="57")
    filename, content = export_readings(date(2026, 3, 1), "csv")
    assert filename == "readings-2026-03.csv"
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))
    assert rows == [{"account_number": "7000000001", "meter_serial": "D-1", "meter_model": meter.model,
                     "resource": "electricity", "period": "2026-03", "taken_on": "2026-03-20", "t1": "120.250",
                     "t2": "56.000", "t3": "", "source": "staff", "status": "accepted"}]


def test_export_payments_in_the_date_range_with_positive_amounts(users):
    account = users.account("7000000001")
    for day, amount, chosen in ((date(2026, 2, 28), "-1.00", None), (date(2026, 3, 1), "-1500.50", date(2026, 2, 1)),
                                (date(2026, 3, 31), "-20.00", None), (date(2026, 4, 1), "-3.00", None)):
        db.session.add(LedgerEntry(account_id=account.id, kind="payment", amount=D(amount), booked_on=day,
                                   chosen_period=chosen, source="sbp", external_id=f"pay-{day}"))
    db.session.add(LedgerEntry(account_id=account.id, kind="charge", amount=D("99.00"), booked_on=date(2026, 3, 5)))
    db.session.commit()
    filename, content = export_payments(date(2026, 3, 1), date(2026, 3, 31), "xlsx")
    assert filename == "payments-20260301-20260331.xlsx"
    sheet = load_workbook(io.BytesIO(content)).worksheets[0]
    values = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    assert [(v[0], v[2], v[3], v[4], v[5]) for v in values] == [
        ("7000000001", 1500.5, "sbp", "pay-2026-03-01", "2026-02"), ("7000000001", 20, "sbp", "pay-2026-03-31", None)]
    _name, text = export_payments(date(2026, 3, 1), date(2026, 3, 31), "csv")
    assert "7000000001;2026-03-01;1500.50;sbp;pay-2026-03-01;2026-02" in text.decode("utf-8-sig")
