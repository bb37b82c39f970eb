"""Which local day and tariff zone each interval of a series falls in.

The daily and monthly sums are kept per tariff zone by the zone hours in local time (`zone_hours`,
dated). Working that out per value would cost more than storing the value, so it is worked out once
per shape of series (start, length, interval, zone count) as runs of consecutive intervals that share
a day and a zone; the thousands of series of one poll that cover the same day share one layout.
"""
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from flask import current_app

from app.extensions import db
from app.models import ZoneHours

ZONE_NUMBERS = {"T1": 1, "T2": 2, "T3": 3}


@dataclass(frozen=True)
class Run:
    day: date
    zone: int
    first: int  # index of the first interval of the run in the series
    stop: int  # one past the last


class ZoneCalendar:
    """The zone hours as loaded once: for a zone count and a local day, the zone of each minute of the
    day is found by the schedule valid on that day."""

    def __init__(self, rows: list[tuple[int, str, time, time, date]], tz: ZoneInfo):
        self.tz = tz
        # {zones: [(valid_from, [(start_minute, end_minute, zone)])]}, newest first
        schedules: dict[int, dict[date, list]] = {}
        for zones, zone, starts, ends, valid_from in rows:
            spans = schedules.setdefault(zones, {}).setdefault(valid_from, [])
            start, end = starts.hour * 60 + starts.minute, ends.hour * 60 + ends.minute
            if end <= start:  # the night zone runs over midnight
                spans.append((start, 24 * 60, ZONE_NUMBERS[zone]))
                spans.append((0, end, ZONE_NUMBERS[zone]))
            else:
                spans.append((start, end, ZONE_NUMBERS[zone]))
        self._schedules = {zones: sorted(by_date.items(), reverse=True) for zones, by_date in schedules.items()}
        self._layout = lru_cache(maxsize=4096)(self._compute_layout)

    def zone_at(self, zones: int, day: date, minute_of_day: int) -> int:
        if zones <= 1:
            return 1
        for valid_from, spans in self._schedules.get(zones, ()):
            if valid_from <= day:
                for start, end, zone in spans:
                    if start <= minute_of_day < end:
                        return zone
                break
        return 1

    def layout(self, start: datetime, minutes: int, count: int, zones: int) -> tuple[Run, ...]:
        return self._layout(start, minutes, count, zones)

    def _compute_layout(self, start: datetime, minutes: int, count: int, zones: int) -> tuple[Run, ...]:
        runs: list[Run] = []
        step = timedelta(minutes=minutes)
        current = None
        for index in range(count):
            local = (start + step * index).astimezone(self.tz)
            key = (local.date(), self.zone_at(zones, local.date(), local.hour * 60 + local.minute))
            if key != current:
                if current is not None:
                    runs[-1] = Run(runs[-1].day, runs[-1].zone, runs[-1].first, index)
                runs.append(Run(key[0], key[1], index, count))
                current = key
        return tuple(runs)


def load_calendar() -> ZoneCalendar:
    rows = db.session.execute(db.select(ZoneHours.zones, ZoneHours.zone, ZoneHours.starts, ZoneHours.ends,
                                        ZoneHours.valid_from)).all()
    return ZoneCalendar([tuple(row) for row in rows], ZoneInfo(current_app.config["TIMEZONE"]))
