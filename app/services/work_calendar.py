"""Working days on the Russian production calendar.

Deadlines of cases (SLA in working days, answer periods, payment terms) count working days, not calendar
days. The calendar comes from the `holidays` package, country "RU": besides the public holidays it knows
the transfers made by government decree (a working Saturday such as 01.11.2025, the days off moved to the
New Year holidays or to 31 December). `workalendar` gets Russia wrong and must not be used.

A decree published after the installed `holidays` release is handled by an *override table*: every
function takes an optional ``overrides`` mapping of date -> bool (True = working day, False = day off)
that wins over the package. Loading the table (from the database, a setting) is the caller's business;
this module stays pure — no Flask, no database — so the case engine, the web layer and the sandbox
helpers all use the same rules.

Functions (dates are calendar dates in the utility's local time zone; a ``datetime`` is taken by its
date, so convert it to local time first):

- ``is_working_day(day)``
- ``add_working_days(start, n)`` — the n-th working day after ``start``; n = 0 gives ``start`` itself if it
  is a working day, else the next working day.
- ``working_days_between(start, end)`` — working days in (start, end]; negative when end < start.
- ``working_days_in_year(year)``

The pre-holiday shortened days are full working days here: they shorten hours, not the day count.
"""
from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import date, datetime, timedelta

import holidays

COUNTRY = "RU"
ONE_DAY = timedelta(days=1)

Overrides = Mapping[date, bool]


@functools.lru_cache(maxsize=None)
def _calendar(year: int) -> holidays.HolidayBase:
    # One object per year, only ever asked about dates of its own year: it is then never expanded
    # after construction, so the cached objects are read-only and safe to share between threads.
    return holidays.country_holidays(COUNTRY, years=year)


def _as_date(day: date) -> date:
    if isinstance(day, datetime):
        return day.date()
    if not isinstance(day, date):
        raise TypeError(f"a date is expected, got {type(day).__name__}")
    return day


def is_working_day(day: date, overrides: Overrides | None = None) -> bool:
    """True when ``day`` is a working day (overrides first, then the production calendar)."""
    day = _as_date(day)
    if overrides and day in overrides:
        return bool(overrides[day])
    return _calendar(day.year).is_working_day(day)


def add_working_days(start: date, n: int, overrides: Overrides | None = None) -> date:
    """The n-th working day after ``start`` (n >= 0).

    n = 0 is "the first working day from start on": ``start`` itself if it is a working day.
    """
    start = _as_date(start)
    if n < 0:
        raise ValueError("n must be zero or positive")
    day = start
    if n == 0:
        while not is_working_day(day, overrides):
            day += ONE_DAY
        return day
    while n:
        day += ONE_DAY
        if is_working_day(day, overrides):
            n -= 1
    return day


def working_days_between(start: date, end: date, overrides: Overrides | None = None) -> int:
    """Working days in the half-open interval (start, end].

    So ``working_days_between(d, add_working_days(d, n)) == n`` for n >= 1. When end < start the answer is
    the negated count of (end, start] — "how many working days overdue".
    """
    start, end = _as_date(start), _as_date(end)
    if end < start:
        return -working_days_between(end, start, overrides)
    count = 0
    day = start + ONE_DAY
    while day <= end:
        count += is_working_day(day, overrides)
        day += ONE_DAY
    return count


def working_days_in_year(year: int, overrides: Overrides | None = None) -> int:
    """Number of working days in ``year`` (247 in 2025: the figure in the official calendar)."""
    return working_days_between(date(year - 1, 12, 31), date(year, 12, 31), overrides)
