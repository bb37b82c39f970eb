"""Disclosure compliance: what each periodicity owes on a given day and by when, the states a
category goes through, and the deadline letters — once per (category, period, kind), only to a
responsible person who can log in, in their language."""
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import func, select

from app import policy
from app.extensions import db
from app.models.disclosure import DisclosureCategory, DisclosureItem, DisclosureReminder, DisclosureStandard
from app.services import disclosure
from app.services import disclosure_compliance as compliance
from app.services.periods import local_date
from tests.helpers import at_once, make_pdf

PDF = None


def _pdf() -> bytes:
    global PDF
    if PDF is None:
        PDF = make_pdf("Раскрытие информации")
    return PDF


@pytest.fixture
def admin(app, users):
    disclosure.seed_taxonomy()
    return users.staff(policy.ADMIN)


def _category(standard: str, code: str) -> DisclosureCategory:
    return disclosure.find_category(standard, code)


def _publish(item: DisclosureItem, user, period: str | None = None):
    db.session.refresh(item)
    return disclosure.publish(item, data=_pdf(), filename="doc.pdf", user=user, seen_revision=item.revision,
                              period=period)


def _publish_all(category: DisclosureCategory, user, period: str | None = None) -> None:
    for item in list(category.items):
        _publish(item, user, period)


def _row(today: date, category: DisclosureCategory) -> compliance.Row:
    return next(r for r in compliance.status(today) if r.category.id == category.id)


def _once(admin, created_at: datetime, due_days: int, items: int = 1) -> DisclosureCategory:
    standard = db.session.scalar(select(DisclosureStandard).where(DisclosureStandard.code == "electricity"))
    category = DisclosureCategory(standard_id=standard.id, code=f"once-{due_days}", clause="п. 99",
                                  title_ru="Разовая публикация", title_en="A one-off publication",
                                  periodicity="once", due_days=due_days, created_at=created_at)
    db.session.add(category)
    db.session.flush()
    for n in range(items):
        db.session.add(DisclosureItem(category_id=category.id, code=f"item-{n}", title_ru=f"Документ {n}",
                                      title_en=f"Document {n}", position=n))
    db.session.commit()
    return category


# --- the due date and state of each periodicity ---------------------------------------------------------

def test_a_quarterly_category_goes_from_waiting_to_due_soon_to_overdue(admin):
    category = _category("heat", "free-capacity")  # quarterly, 30 days
    waiting = _row(date(2026, 4, 5), category)
    assert (waiting.state, waiting.period.code, waiting.due, waiting.days_left) == \
        (compliance.NEVER, "2026-Q1", date(2026, 4, 30), 25)

    _publish_all(category, admin, "2025-Q4")  # the quarter before: published, but not what is owed now
    assert _row(date(2026, 4, 5), category).state == compliance.WAITING
    soon = _row(date(2026, 4, 20), category)  # the 20th day after the quarter
    assert (soon.state, soon.days_left) == (compliance.DUE_SOON, 10)
    assert [i.code for i in soon.missing] == [i.code for i in category.items]
    assert _row(date(2026, 4, 30), category).state == compliance.DUE_SOON  # the due date itself still counts
    late = _row(date(2026, 5, 1), category)
    assert (late.state, late.days_left) == (compliance.OVERDUE, -1)

    _publish_all(category, admin, "2026-Q1")
    met = _row(date(2026, 5, 1), category)
    assert (met.state, met.missing) == (compliance.OK, [])
    assert met.last_published == local_date(datetime.now(timezone.utc))
    # The next quarter has its own deadline: Q2 ends 30 June, due 30 July.
    assert _row(date(2026, 7, 1), category).state == compliance.WAITING
    assert _row(date(2026, 7, 1), category).due == date(2026, 7, 30)


def test_a_later_period_covers_an_earlier_one(admin):
    category = _category("heat", "free-capacity")
    _publish_all(category, admin, "2026-Q2")
    assert _row(date(2026, 5, 1), category).state == compliance.OK


@pytest.mark.parametrize("standard, code, today, period, due", [
    ("electricity", "financial-statements", date(2026, 3, 1), "2025", date(2026, 5, 31)),  # yearly, 151 days
    ("electricity", "control-measurements", date(2026, 2, 10), "2025-H2", date(2026, 3, 1)),  # half-yearly, 60
    ("electricity", "control-measurements", date(2026, 8, 1), "2026-H1", date(2026, 8, 29)),
    ("electricity", "outages", date(2026, 4, 20), "2026-03", date(2026, 4, 10)),  # monthly, 10 days
    ("electricity", "tp-applications", date(2026, 1, 15), "2025-Q4", date(2026, 1, 30)),  # quarterly, 30
])
def test_each_periodicity_owes_the_last_ended_period(admin, standard, code, today, period, due):
    row = _row(today, _category(standard, code))
    assert (row.period.code, row.due, row.days_left) == (period, due, (due - today).days)


def test_the_states_of_each_periodicity_on_chosen_days(admin):
    yearly = _category("electricity", "financial-statements")
    monthly = _category("electricity", "outages")
    half = _category("electricity", "control-measurements")
    _publish(yearly.items[0], admin, "2025")  # one of two items
    _publish_all(monthly, admin, "2026-02")
    _publish_all(half, admin, "2025-H2")
    on = date(2026, 4, 20)
    assert _row(on, yearly).state == compliance.WAITING  # due 31 May: 41 days
    assert [i.id for i in _row(on, yearly).missing] == [yearly.items[1].id]
    assert _row(date(2026, 5, 20), yearly).state == compliance.DUE_SOON
    assert _row(date(2026, 6, 1), yearly).state == compliance.OVERDUE
    assert _row(on, monthly).state == compliance.OVERDUE  # March was due on 10 April
    assert _row(on, monthly).days_left == -10
    assert _row(on, half).state == compliance.OK
    assert _row(date(2026, 8, 1), half).state == compliance.WAITING  # H1 2026, due 29 August
    assert _row(date(2026, 8, 20), half).state == compliance.DUE_SOON


def test_a_generated_item_is_met_by_its_snapshot(admin):
    category = _category("electricity", "tp-applications")  # one item, made by the portal
    assert category.items[0].generator == "tp_stats"
    assert _row(date(2026, 4, 20), category).state == compliance.NEVER
    _publish(category.items[0], admin, "2026-Q1")
    assert _row(date(2026, 4, 20), category).state == compliance.OK


def test_once_is_due_after_the_category_is_created(admin):
    # Created at 01:00 on 1 April in Moscow (22:00 UTC the day before): due 30 days later, 1 May.
    category = _once(admin, datetime(2026, 3, 31, 22, 0, tzinfo=timezone.utc), due_days=30, items=2)
    row = _row(date(2026, 4, 5), category)
    assert (row.state, row.period, row.due, row.days_left) == (compliance.NEVER, None, date(2026, 5, 1), 26)
    _publish(category.items[0], admin)
    assert _row(date(2026, 4, 5), category).state == compliance.WAITING
    assert _row(date(2026, 4, 17), category).state == compliance.DUE_SOON
    assert _row(date(2026, 5, 2), category).state == compliance.OVERDUE
    _publish(category.items[1], admin)
    assert _row(date(2026, 5, 2), category).state == compliance.OK
    assert _row(date(2030, 1, 1), category).state == compliance.OK  # once is once


def test_on_change_has_no_due_date(admin):
    category = _category("electricity", "tp-contract-forms")  # three items
    row = _row(date(2026, 4, 20), category)
    assert (row.state, row.period, row.due, row.days_left) == (compliance.NEVER, None, None, None)
    _publish(category.items[0], admin)
    _publish(category.items[1], admin)
    assert _row(date(2026, 4, 20), category).state == compliance.INCOMPLETE
    assert [i.id for i in _row(date(2026, 4, 20), category).missing] == [category.items[2].id]
    _publish(category.items[2], admin)
    assert _row(date(2026, 4, 20), category).state == compliance.OK


def test_an_item_made_from_our_tables_is_its_own_publication_unless_periodic(admin):
    tariffs = _category("electricity", "tariffs")  # on change: tariffs in force (generated) and the decisions
    row = _row(date(2026, 4, 20), tariffs)
    assert [i.code for i in row.missing] == ["tariff-decisions"]
    quarterly = _category("electricity", "free-capacity")  # its one item is generated: a snapshot is owed
    assert [i.code for i in _row(date(2026, 4, 20), quarterly).missing] == ["substations"]


def test_a_withdrawn_document_leaves_its_item_missing(admin):
    category = _category("electricity", "tp-contract-forms")
    _publish_all(category, admin)
    item = category.items[1]
    current = disclosure.latest_by_item([item.id])[item.id]
    db.session.refresh(item)
    disclosure.withdraw(current, user=admin, reason="Ошибка в форме", seen_revision=item.revision)
    row = _row(date(2026, 4, 20), category)
    assert (row.state, [i.id for i in row.missing], [i.id for i in row.withdrawn]) == \
        (compliance.WITHDRAWN, [item.id], [item.id])
    _publish(item, admin)  # a new version replaces the withdrawn one
    assert _row(date(2026, 4, 20), category).state == compliance.OK


def test_a_withdrawn_periodic_publication_is_overdue_once_the_date_passes(admin):
    category = _category("heat", "free-capacity")
    _publish_all(category, admin, "2026-Q1")
    item = category.items[0]
    db.session.refresh(item)
    disclosure.withdraw(disclosure.latest_by_item([item.id])[item.id], user=admin, reason="Неверные данные",
                        seen_revision=item.revision)
    assert _row(date(2026, 4, 20), category).state == compliance.WITHDRAWN
    assert _row(date(2026, 5, 1), category).state == compliance.OVERDUE


def test_status_takes_a_few_queries_however_many_items(app, admin):
    from sqlalchemy import event

    for category in (_category("electricity", "tp-contract-forms"), _category("electricity", "losses")):
        _publish_all(category, admin, "2025" if category.periodicity == "yearly" else None)
    db.session.expire_all()
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        rows = compliance.status(date(2026, 4, 20))
        [(r.responsible, [i.title_en for i in r.missing], r.standard.code) for r in rows]
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert len(rows) == db.session.scalar(select(func.count()).select_from(DisclosureCategory))
    assert len(statements) <= 5


# --- reminders ----------------------------------------------------------------------------------------------

def _responsible(users, category, locale="en", blocked=False):
    person = users.staff(policy.SPECIALIST)
    person.locale = locale
    person.is_blocked = blocked
    db.session.get(DisclosureCategory, category.id).responsible_id = person.id
    db.session.commit()
    return person


def _reminders():
    return sorted(tuple(r) for r in db.session.execute(
        select(DisclosureReminder.category_id, DisclosureReminder.period, DisclosureReminder.kind)))


def test_a_reminder_is_sent_once_when_due_soon_and_once_when_overdue(admin, users, mailbox):
    category = _category("heat", "free-capacity")
    person = _responsible(users, category)
    assert compliance.send_reminders(date(2026, 4, 5)) == 0  # 25 days left: not yet

    assert compliance.send_reminders(date(2026, 4, 20)) == 1
    letter = mailbox.last_to(person.email)
    body = letter.get_content()
    assert letter["Subject"] == "Disclosure deadlines: 1"
    assert category.title_en in body and category.standard.title_en in body
    assert "quarter I of 2026" in body and "Apr 30, 2026" in body and "days left: 10" in body
    assert f"http://portal.test/staff/disclosure/items/{category.items[0].id}" in body
    assert "http://portal.test/staff/disclosure/" in body

    assert compliance.send_reminders(date(2026, 4, 20)) == 0  # the same day again
    assert compliance.send_reminders(date(2026, 4, 28)) == 0  # still the same window
    assert compliance.send_reminders(date(2026, 5, 1)) == 1
    assert "days overdue: 1" in mailbox.last_to(person.email).get_content()
    assert compliance.send_reminders(date(2026, 5, 9)) == 0
    assert len(mailbox.messages()) == 2
    assert _reminders() == [(category.id, "2026-Q1", "overdue"), (category.id, "2026-Q1", "soon")]

    # The next quarter is a new period: its own letters.
    assert compliance.send_reminders(date(2026, 7, 20)) == 1
    assert (category.id, "2026-Q2", "soon") in _reminders()


def test_no_letter_once_published_or_without_someone_to_write_to(admin, users, mailbox):
    published = _category("heat", "free-capacity")
    _responsible(users, published)
    _publish_all(published, admin, "2026-Q1")
    _responsible(users, _category("electricity", "tp-applications"), blocked=True)
    # Every other category has nobody responsible: overdue or not, nobody is written to.
    assert compliance.send_reminders(date(2026, 5, 1)) == 0
    assert mailbox.messages() == [] and _reminders() == []


def test_one_letter_lists_all_of_a_persons_categories(admin, users, mailbox):
    quarterly, monthly = _category("heat", "free-capacity"), _category("electricity", "outages")
    person = _responsible(users, quarterly)
    db.session.get(DisclosureCategory, monthly.id).responsible_id = person.id
    db.session.commit()
    assert compliance.send_reminders(date(2026, 4, 20)) == 1
    body = mailbox.last_to(person.email).get_content()
    assert quarterly.title_en in body and monthly.title_en in body
    assert body.index(monthly.title_en) < body.index(quarterly.title_en)  # the overdue one first
    assert _reminders() == sorted([(quarterly.id, "2026-Q1", "soon"), (monthly.id, "2026-03", "overdue")])


def test_a_once_category_is_reminded_by_its_due_date(admin, users, mailbox):
    category = _once(admin, datetime(2026, 3, 31, 22, 0, tzinfo=timezone.utc), due_days=30)
    _responsible(users, category)
    assert compliance.send_reminders(date(2026, 4, 20)) == 1
    assert _reminders() == [(category.id, "2026-05-01", "soon")]
    body = mailbox.last_to(category.responsible.email).get_content()
    assert "A one-off publication" in body and "п. 99" in body and "May 1, 2026" in body


def test_letters_are_in_the_recipients_language(admin, users, mailbox):
    category = _category("heat", "free-capacity")
    russian = _responsible(users, category, locale="ru")
    compliance.send_reminders(date(2026, 4, 20))
    body = mailbox.last_to(russian.email).get_content()
    assert f"Здравствуйте, {russian.full_name}." in body
    assert category.title_ru in body and category.title_en not in body
    assert "30 апр. 2026" in body


def test_two_runs_at_once_send_one_letter(app, admin, users, mailbox):
    person = _responsible(users, _category("heat", "free-capacity"))
    outcomes = at_once(app, [None, None], lambda _: compliance.send_reminders(date(2026, 4, 20)))
    assert outcomes == ["ok", "ok"]
    assert len([m for m in mailbox.messages() if m["To"] == person.email]) == 1
    assert len(_reminders()) == 1


def test_the_celery_task_and_the_cli_send_the_reminders(app, admin, users, mailbox):
    from app.tasks import enqueue
    from app.tasks.disclosure import remind

    person = _responsible(users, _category("heat", "free-capacity"))
    assert enqueue(remind, "2026-04-20").get() == 1
    assert mailbox.last_to(person.email)
    assert app.extensions["celery"].conf.beat_schedule["disclosure-reminders"]["task"] == "disclosure.remind"

    runner = app.test_cli_runner()
    result = runner.invoke(args=["disclosure", "remind", "--today", "2026-05-01"])
    assert result.exit_code == 0, result.output
    assert "letters sent: 1" in result.output
    result = runner.invoke(args=["disclosure", "remind", "--today", "2026-05-01"])
    assert "letters sent: 0" in result.output

    result = runner.invoke(args=["disclosure", "status", "--today", "2026-05-01"])
    assert result.exit_code == 0, result.output
    line = next(line for line in result.output.splitlines() if line.startswith("heat/free-capacity "))
    assert line.split() == ["heat/free-capacity", "never", "2026-Q1", "2026-04-30", "-1", "reserve"]
    assert result.output.splitlines()[-1].startswith("overdue ")


def test_a_letter_that_cannot_be_sent_is_tried_again(app, admin, users, mailbox):
    person = _responsible(users, _category("heat", "free-capacity"))
    app.config["MAIL_URL"] = "smtp://127.0.0.1:1"  # nothing listens there
    with pytest.raises(Exception):
        compliance.send_reminders(date(2026, 4, 20))
    assert _reminders() == []
    app.config["MAIL_URL"] = f"file://{mailbox.folder}"
    assert compliance.send_reminders(date(2026, 4, 20)) == 1
    assert mailbox.last_to(person.email)
