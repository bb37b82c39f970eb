"""Visits of the metering group: the windows offered to applicants and their booking.

A window is a working day (Russian production calendar) and a part of it (`VISIT_WINDOWS`), with room
for `VISITS_PER_WINDOW` visits. Applicants are offered the windows with room left from the second
working day after today, `VISIT_DAYS_AHEAD` working days ahead. Booking is one guarded UPDATE
(`booked < capacity`), so the last place goes to exactly one of two applicants booking at once.
"""
from datetime import date

from babel.dates import format_date
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from app.extensions import db
from app.models import VisitSlot
from app.services import work_calendar
from app.services.errors import InvalidInput
from app.services.periods import local_today


def _days(today: date) -> list[date]:
    first = work_calendar.add_working_days(today, 2)
    return [work_calendar.add_working_days(first, n) for n in range(current_app.config["VISIT_DAYS_AHEAD"])]


def _ensure(days: list[date]) -> None:
    """Create the windows of these days that do not exist yet (a unique key settles a race)."""
    windows = current_app.config["VISIT_WINDOWS"]
    existing = set(db.session.execute(select(VisitSlot.day, VisitSlot.window).where(VisitSlot.day.in_(days))).all())
    for day in days:
        for window in windows:
            if (day, window) not in existing:
                with db.session.begin_nested():
                    db.session.add(VisitSlot(day=day, window=window, capacity=current_app.config["VISITS_PER_WINDOW"],
                                             booked=0))
    db.session.flush()


def label(slot: VisitSlot, locale: str) -> str:
    start, _, end = slot.window.partition("-")
    return f"{format_date(slot.day, 'EEEE, d MMMM', locale=locale)}, {start}–{end}"


def free(today: date | None = None) -> list[dict]:
    """The windows with room left, as options for a form: `{"value", "label": {"ru", "en"}}`."""
    days = _days(today or local_today())
    _ensure(days)
    slots = db.session.scalars(select(VisitSlot).where(VisitSlot.day.in_(days), VisitSlot.booked < VisitSlot.capacity)
                               .order_by(VisitSlot.day, VisitSlot.window))
    return [{"value": str(s.id), "label": {"ru": label(s, "ru"), "en": label(s, "en")}} for s in slots]


def book(value: str, field: str = "slot") -> VisitSlot:
    """Take a place in the window; refused when it has filled up since the page was shown."""
    try:
        slot_id = int(value)
    except (TypeError, ValueError):
        raise InvalidInput(_l("Choose a time from the list."), field=field) from None
    taken = db.session.execute(update(VisitSlot).where(VisitSlot.id == slot_id, VisitSlot.booked < VisitSlot.capacity)
                               .values(booked=VisitSlot.booked + 1))
    if taken.rowcount != 1:
        raise InvalidInput(_l("This time has just been taken. Choose another one."), field=field)
    return db.session.get(VisitSlot, slot_id)


def release(slot_id: int | None) -> None:
    """Give the place back (the visit did not take place and another time is chosen)."""
    if slot_id:
        db.session.execute(update(VisitSlot).where(VisitSlot.id == slot_id, VisitSlot.booked > 0)
                           .values(booked=VisitSlot.booked - 1))
