"""Billing periods (calendar months in the company's time zone) and their due dates."""
from calendar import monthrange
from functools import lru_cache
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.models import DueDateRule


def local_today() -> date:
    return datetime.now(ZoneInfo(current_app.config["TIMEZONE"])).date()


def local_date(moment: datetime) -> date:
    """The company's calendar day of a moment."""
    return moment.astimezone(ZoneInfo(current_app.config["TIMEZONE"])).date()


def period_of(day: date) -> date:
    return day.replace(day=1)


def next_period(period: date) -> date:
    return date(period.year + (period.month == 12), period.month % 12 + 1, 1)


def previous_period(period: date) -> date:
    return date(period.year - (period.month == 1), (period.month - 2) % 12 + 1, 1)


@lru_cache(maxsize=512)
def days_in(period: date) -> int:
    return monthrange(period.year, period.month)[1]


def last_day(period: date) -> date:
    return period.replace(day=days_in(period))


def months_between(earlier: date, later: date) -> int:
    return (later.year - earlier.year) * 12 + later.month - earlier.month


def parse_period(text: str) -> date:
    """'2026-03' → 1 March 2026; ValueError with a readable message otherwise."""
    try:
        year, month = (int(part) for part in text.strip().split("-")[:2])
        return date(year, month, 1)
    except (ValueError, TypeError):
        raise ValueError(f"a period is written YYYY-MM, not {text!r}") from None


def due_date_rules() -> list[tuple[date, int]]:
    return [(r.valid_from_period, r.day) for r in
            db.session.scalars(select(DueDateRule).order_by(DueDateRule.valid_from_period))]


def due_date(period: date, rules: list[tuple[date, int]] | None = None) -> date:
    """The bill of `period` is due on the rule's day of the following month."""
    rules = rules if rules is not None else due_date_rules()
    day = next((d for since, d in reversed(rules) if since <= period), 10)
    following = next_period(period)
    return following.replace(day=min(day, days_in(following)))
