"""Deadlines in working days, on the Russian production calendar in the utility's time zone."""
from datetime import datetime, time
from zoneinfo import ZoneInfo

from flask import current_app

from app.services import work_calendar


def due_after(start: datetime, working_days: int) -> datetime:
    """The end of the n-th working day after `start` (local time), as UTC."""
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    local = start.astimezone(zone)
    day = work_calendar.add_working_days(local.date(), working_days)
    return datetime.combine(day, time(23, 59, 59), tzinfo=zone).astimezone(ZoneInfo("UTC"))
