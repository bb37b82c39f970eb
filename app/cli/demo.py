"""Demo data: staff in every role and three customers with accounts. Running it again changes nothing."""
import click
from flask.cli import with_appcontext
from sqlalchemy import select

from app import policy
from app.extensions import db
from app.models import OWNER, REPRESENTATIVE, Account, AccountAccess, User
from app.models.types import utcnow
from app.cli import demo_askue, demo_billing, demo_disclosure
from app.services import accounts, connection_fees, passwords, users

DEMO_PASSWORD = "demo-Password-2026"

STAFF = [
    ("admin@gridcase.example", "Администратор Системы", [policy.ADMIN], []),
    ("lead@gridcase.example", "Руководитель Группы Присоединения", [policy.TEAM_LEAD, policy.SPECIALIST], ["connection"]),
    ("tp@gridcase.example", "Специалист По Присоединению", [policy.SPECIALIST], ["connection"]),
    ("metering@gridcase.example", "Специалист По Учёту", [policy.SPECIALIST], ["metering"]),
    ("billing@gridcase.example", "Специалист По Расчётам", [policy.SPECIALIST], ["billing"]),
    ("legal@gridcase.example", "Юрист Отдела Договоров", [policy.SPECIALIST], ["legal"]),
    ("analyst@gridcase.example", "Аналитик Процессов", [policy.ANALYST], []),
    ("operator@gridcase.example", "Оператор АСКУЭ", [policy.OPERATOR], []),
]

CUSTOMERS = [
    ("ivanova@example.com", "Иванова Мария Петровна", "+7 900 111-22-33"),
    ("petrov@example.com", "Петров Алексей Иванович", "+7 900 222-33-44"),
    ("ooo.svet@example.com", "ООО «Свет и Тепло»", "+7 495 123-45-67"),
]

# number, holder, address, bill code, [(customer e-mail, role)]
ACCOUNTS = [
    ("1000000001", "Иванова Мария Петровна", "г. Москва, ул. Лесная, д. 5, кв. 12", "4821",
     [("ivanova@example.com", OWNER), ("petrov@example.com", REPRESENTATIVE)]),
    ("1000000002", "Иванова Мария Петровна", "Московская обл., д. Сосновка, ул. Садовая, д. 3", "1937",
     [("ivanova@example.com", OWNER)]),
    ("1000000003", "Петров Алексей Иванович", "г. Москва, пр-т Мира, д. 101, кв. 7", "5564",
     [("petrov@example.com", OWNER)]),
    ("2000000001", "ООО «Свет и Тепло»", "г. Москва, ул. Заводская, д. 14, стр. 2", "7710",
     [("ooo.svet@example.com", OWNER)]),
    # Not linked yet: a demo customer can add it with the code from "the bill".
    ("1000000004", "Сидоров Олег Викторович", "г. Москва, ул. Лесная, д. 7, кв. 3", "2468", []),
]


def seed() -> dict:
    created = {"staff": 0, "customers": 0, "accounts": 0}
    for email, name, roles, groups in STAFF:
        if users.by_email(email) is None:
            users.create_staff(email, name, roles, groups, password=DEMO_PASSWORD, send_invitation=False)
            created["staff"] += 1
    for email, name, phone in CUSTOMERS:
        if users.by_email(email) is None:
            user = User(email=email, full_name=name, phone=phone, email_confirmed_at=utcnow(),
                        password_hash=passwords.hash_password(DEMO_PASSWORD))
            user.set_roles([policy.CUSTOMER])
            db.session.add(user)
            created["customers"] += 1
    db.session.flush()
    for number, holder, address, code, links in ACCOUNTS:
        account = db.session.scalar(select(Account).where(Account.number == number))
        if account is None:
            account = accounts.create(number, holder, address, code)
            db.session.flush()
            created["accounts"] += 1
        for email, role in links:
            user = users.by_email(email)
            if not any(a.user_id == user.id for a in account.accesses):
                db.session.add(AccountAccess(account=account, user_id=user.id, role=role))
    db.session.commit()
    created["meters"] = demo_billing.seed()
    created["askue_meters"] = demo_askue.seed()
    created["connection_rates"] = connection_fees.seed_demo_rates()
    created["cases"] = _cases()
    created["disclosure_documents"] = demo_disclosure.seed()
    return created


def _cases() -> int:
    """Two demo applications: one waiting for the metering group, one waiting for the applicant."""
    from app.models import Case
    from app.services import cases
    from workflows import definitions, engine

    if db.session.scalar(select(Case.id).limit(1)) is not None or definitions.latest_version(
            "demo_meter_replacement") is None:
        return 0
    ivanova = users.by_email("ivanova@example.com")
    account = db.session.scalar(select(Account).where(Account.number == "1000000001"))
    request = {"reason": "multizone", "phone": "+7 900 111-22-33"}
    cases.start(ivanova, "demo_meter_replacement", request, account=account)
    second = cases.start(ivanova, "demo_meter_replacement", {**request, "reason": "failure"}, account=account)
    specialist = users.by_email("metering@gridcase.example")
    [review] = cases.open_tasks(second)
    engine.complete_task(review.id, specialist, {"decision": "approve", "visit_date": "2026-12-10",
                                                 "materials": [{"name": "Счётчик Меркурий 206", "quantity": "1"}]})
    return 2 + _process_cases()


# The smallest PDF readers open: what the demo applications attach as their documents.
DEMO_PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _process_cases() -> int:
    """A technological connection waiting for its completeness check, and a meter replacement waiting
    for the applicant to choose a visit time."""
    from app.services import cases
    from workflows import definitions

    made = 0
    petrov = users.by_email("petrov@example.com")
    if definitions.latest_version("technological_connection") is not None:
        attachment = lambda name: {"filename": name, "content_type": "application/pdf", "data": DEMO_PDF}  # noqa: E731
        cases.start(petrov, "technological_connection", {
            "applicant_kind": "individual", "object_name": "Жилой дом", "cadastral_number": "50:27:0020806:123",
            "object_address": "Московская обл., д. Лаговское, ул. Полевая, уч. 15", "max_power": "15",
            "existing_power": "0", "voltage": "0.4", "reliability_category": "III", "load": "household",
            "distance_m": 120, "area": "rural", "privileged": False, "retail_supplier": "gridcase_sales",
            "title_document": attachment("Выписка из ЕГРН.pdf"), "location_plan": attachment("План участка.pdf")})
        made += 1
    account = db.session.scalar(select(Account).where(Account.number == "1000000003"))
    if definitions.latest_version("meter_replacement") is not None and account is not None:
        cases.start(petrov, "meter_replacement", {"reason": "smart_meter", "meter_serial": "7730012",
                                                  "phone": "+7 900 222-33-44"},
                    account=account)
        made += 1
    return made


@click.command("seed-demo", help="Load demo users and accounts (idempotent).")
@with_appcontext
def seed_demo():
    created = seed()
    click.echo("demo data: " + ", ".join(f"{k} +{v}" for k, v in created.items()))
    click.echo(f"demo password for every demo user: {DEMO_PASSWORD}")
