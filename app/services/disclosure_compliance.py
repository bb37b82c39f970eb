"""Information disclosure: what each category owes now, whether it is published, and the deadline
letters to the people responsible.

A periodic category owes, for the last period that is over, a current publication in every item
covering at least that period, by the period's end plus `due_days`. A category published once owes
one current publication per item by its creation date plus `due_days`. A category published on
change cannot be dated: it is met while every item has a current publication. An item the portal
makes from its own tables (tariffs in force) is its own publication, unless its category is
periodic: then the period's snapshot (`disclosure_generated.snapshot`) is what counts.

Reminders are written once per (category, period, kind): a DisclosureReminder row is claimed under
its unique constraint before the letter goes, so a second run — or two runs at once — sends nothing
more.
"""
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from app.extensions import db
from app.models.disclosure import (ONCE, ON_CHANGE, DisclosureCategory, DisclosureDocument, DisclosureItem,
                                   DisclosureReminder, DisclosureStandard)
from app.services import disclosure_periods as periods
from app.services.periods import local_date

OK, DUE_SOON, WAITING, OVERDUE, NEVER, WITHDRAWN, INCOMPLETE = \
    "ok", "due_soon", "waiting", "overdue", "never", "withdrawn", "incomplete"
STATES = (OVERDUE, DUE_SOON, NEVER, INCOMPLETE, WITHDRAWN, WAITING, OK)
STATE_LABELS = {
    OK: _l("published"),
    DUE_SOON: _l("due soon"),
    WAITING: _l("waiting"),
    OVERDUE: _l("overdue"),
    NEVER: _l("never published"),
    INCOMPLETE: _l("not all items published"),
    WITHDRAWN: _l("document withdrawn"),
}
SOON, LATE = "soon", "overdue"  # the kinds of reminder


def remind_days() -> int:
    """How many days before the due date a category counts as due soon (and its letter goes)."""
    return current_app.config["DISCLOSURE_REMIND_DAYS"]


@dataclass
class Row:
    category: DisclosureCategory
    state: str
    period: periods.Period | None  # the period owed; None for "once" and "on change"
    due: date | None  # None for "on change"
    days_left: int | None  # negative when overdue
    missing: list[DisclosureItem] = field(default_factory=list)
    withdrawn: list[DisclosureItem] = field(default_factory=list)  # of `missing`, those withdrawn last
    last_published: date | None = None

    @property
    def standard(self) -> DisclosureStandard:
        return self.category.standard

    @property
    def responsible(self):
        return self.category.responsible

    @property
    def met(self) -> bool:
        return self.state == OK

    @property
    def reminder_kind(self) -> str | None:
        """"overdue" once the due date has passed, "soon" within the reminder window, else None."""
        if self.met or self.days_left is None:
            return None
        if self.days_left < 0:
            return LATE
        return SOON if self.days_left <= remind_days() else None

    @property
    def reminder_period(self) -> str:
        """What a reminder is about: the period's code, or the due date for a category published once."""
        return self.period.code if self.period else self.due.isoformat()


def status(today: date) -> list[Row]:
    """Every category, standard by standard, with what it owes on `today` and whether that is met."""
    categories = db.session.scalars(
        select(DisclosureCategory).join(DisclosureStandard)
        .options(joinedload(DisclosureCategory.standard), joinedload(DisclosureCategory.responsible),
                 selectinload(DisclosureCategory.items))
        .order_by(DisclosureStandard.position, DisclosureStandard.id, DisclosureCategory.position,
                  DisclosureCategory.id)).unique().all()
    # The newest version of every item (current, or withdrawn when withdrawn last).
    latest = {r.item_id: r for r in db.session.execute(
        select(DisclosureDocument.item_id, DisclosureDocument.period_end, DisclosureDocument.withdrawn_at)
        .where(DisclosureDocument.replaced_at.is_(None)))}
    last_published = dict(db.session.execute(
        select(DisclosureDocument.item_id, func.max(DisclosureDocument.published_at))
        .group_by(DisclosureDocument.item_id)).all())
    window = remind_days()

    rows = []
    for category in categories:
        period, due = _owed(category, today)
        missing, withdrawn = [], []
        for item in category.items:
            if item.generator and category.periodicity not in periods.PERIODIC:
                continue  # made from our tables and always on the page: it is the publication itself
            doc = latest.get(item.id)
            current = doc is not None and doc.withdrawn_at is None
            if current and (period is None or (doc.period_end is not None and doc.period_end >= period.end)):
                continue
            missing.append(item)
            if doc is not None and doc.withdrawn_at is not None:
                withdrawn.append(item)
        published = [last_published[i.id] for i in category.items if i.id in last_published]
        days_left = (due - today).days if due is not None else None
        rows.append(Row(category=category, state=_state(category, missing, withdrawn, published, days_left, window),
                        period=period, due=due, days_left=days_left, missing=missing, withdrawn=withdrawn,
                        last_published=local_date(max(published)) if published else None))
    return rows


def _owed(category: DisclosureCategory, today: date) -> tuple[periods.Period | None, date | None]:
    if category.periodicity in periods.PERIODIC:
        period = periods.last_ended(category.periodicity, today)
        return period, period.end + timedelta(days=category.due_days)
    if category.periodicity == ONCE:
        return None, local_date(category.created_at) + timedelta(days=category.due_days)
    return None, None


def _state(category, missing, withdrawn, published, days_left, window) -> str:
    if not missing:
        return OK
    if not published:
        return NEVER
    if category.periodicity == ON_CHANGE:
        return WITHDRAWN if withdrawn else INCOMPLETE
    if days_left < 0:
        return OVERDUE
    if withdrawn:
        return WITHDRAWN
    return DUE_SOON if days_left <= window else WAITING


def counts(rows: list[Row]) -> dict[str, int]:
    found = dict.fromkeys(STATES, 0)
    for row in rows:
        found[row.state] += 1
    return found


# --- reminders --------------------------------------------------------------------------------------------

def send_reminders(today: date) -> int:
    """Write to the person responsible for each category that is due soon or overdue, once per
    (category, period, kind); one letter per person per run lists all of theirs. Returns the number
    of letters sent."""
    from app.services import mailer

    by_user = defaultdict(list)
    for row in status(today):
        user = row.responsible
        if row.reminder_kind is None or user is None or user.is_blocked:
            continue
        by_user[user.id].append(row)

    written = {tuple(r) for r in db.session.execute(
        select(DisclosureReminder.category_id, DisclosureReminder.period, DisclosureReminder.kind))}
    letters = 0
    for rows in by_user.values():
        user = rows[0].responsible
        rows = [row for row in rows if (row.category.id, row.reminder_period, row.reminder_kind) not in written]
        claimed = [(row, reminder) for row in rows if (reminder := _claim(row, user)) is not None]
        if not claimed:
            continue
        claimed_ids = [reminder.id for _, reminder in claimed]
        db.session.commit()
        try:
            mailer.send_disclosure_due(user, sorted((row for row, _ in claimed),
                                                    key=lambda r: (r.days_left, r.category.id)))
        except Exception:
            # Not sent: give the claims back, so that the next run tries again.
            db.session.rollback()
            db.session.execute(delete(DisclosureReminder).where(DisclosureReminder.id.in_(claimed_ids)))
            db.session.commit()
            raise
        letters += 1
    return letters


def _claim(row: Row, user) -> DisclosureReminder | None:
    """The reminder row for this (category, period, kind), or None when it was already written."""
    reminder = DisclosureReminder(category_id=row.category.id, period=row.reminder_period,
                                  kind=row.reminder_kind, sent_to=user.email)
    try:
        with db.session.begin_nested():
            db.session.add(reminder)
            db.session.flush()
    except IntegrityError:  # another run wrote it meanwhile
        return None
    return reminder
