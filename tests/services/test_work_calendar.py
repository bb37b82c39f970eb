"""The production calendar: figures from the official calendars of 2024-2027 and the decree transfers."""
from datetime import date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.services.work_calendar import (
    add_working_days,
    is_working_day,
    working_days_between,
    working_days_in_year,
)


@pytest.mark.parametrize(("year", "days"), [(2024, 248), (2025, 247), (2026, 247), (2027, 247)])
def test_working_days_in_year_match_the_official_calendar(year, days):
    assert working_days_in_year(year) == days


def test_decree_transfers_of_2025():
    assert is_working_day(date(2025, 11, 1))  # a Saturday made working by decree
    assert not is_working_day(date(2025, 11, 3))  # the Monday it was moved to
    assert not is_working_day(date(2025, 11, 4))  # Unity Day
    assert not is_working_day(date(2025, 12, 31))  # moved from Sunday 05.01.2025
    assert is_working_day(date(2025, 12, 30))


def test_new_year_holidays_2026_run_from_1_to_11_january():
    assert not any(is_working_day(date(2026, 1, d)) for d in range(1, 12))
    assert is_working_day(date(2026, 1, 12))


def test_adding_working_days_across_the_new_year():
    # 30.12.2025 is a Tuesday; 31.12.2025 and 1-11.01.2026 are days off.
    assert add_working_days(date(2025, 12, 30), 1) == date(2026, 1, 12)
    assert add_working_days(date(2025, 12, 30), 3) == date(2026, 1, 14)
    assert working_days_between(date(2025, 12, 30), date(2026, 1, 14)) == 3


def test_zero_days_is_the_first_working_day_from_start_on():
    assert add_working_days(date(2025, 12, 30), 0) == date(2025, 12, 30)
    assert add_working_days(date(2026, 1, 3), 0) == date(2026, 1, 12)


def test_negative_n_is_refused():
    with pytest.raises(ValueError):
        add_working_days(date(2025, 1, 1), -1)


def test_between_counts_the_half_open_interval_and_is_signed():
    assert working_days_between(date(2025, 6, 2), date(2025, 6, 2)) == 0
    assert working_days_between(date(2025, 6, 2), date(2025, 6, 3)) == 1  # Mon -> Tue
    assert working_days_between(date(2025, 6, 6), date(2025, 6, 9)) == 1  # Fri -> Mon
    assert working_days_between(date(2025, 6, 9), date(2025, 6, 6)) == -1


def test_a_datetime_counts_by_its_date():
    assert add_working_days(datetime(2025, 12, 30, 23, 59), 1) == date(2026, 1, 12)
    assert is_working_day(datetime(2025, 11, 1, 10, 0))


def test_overrides_flip_a_day():
    extra_day_off = {date(2025, 12, 30): False}
    working_saturday = {date(2026, 1, 10): True}
    assert not is_working_day(date(2025, 12, 30), extra_day_off)
    assert is_working_day(date(2026, 1, 10), working_saturday)
    assert add_working_days(date(2025, 12, 29), 1, extra_day_off) == date(2026, 1, 12)
    assert add_working_days(date(2025, 12, 30), 1, working_saturday) == date(2026, 1, 10)
    assert working_days_in_year(2025, extra_day_off) == 246
    assert working_days_in_year(2026, working_saturday) == 248


@given(
    start=st.dates(min_value=date(2000, 1, 1), max_value=date(2030, 12, 31)),
    n=st.integers(min_value=1, max_value=400),
)
def test_adding_then_counting_gives_n_back(start, n):
    deadline = add_working_days(start, n)
    assert deadline > start
    assert is_working_day(deadline)
    assert working_days_between(start, deadline) == n


@given(start=st.dates(min_value=date(2000, 1, 1), max_value=date(2030, 12, 31)))
def test_zero_days_always_lands_on_a_working_day(start):
    deadline = add_working_days(start, 0)
    assert is_working_day(deadline)
    assert working_days_between(start, deadline) == (0 if deadline == start else 1)
