"""Regulatory periods of disclosure: "2026", "2026-H1", "2026-Q3", "2026-10".

A publication names the period it covers; a category's periodicity says which period is due and
its `due_days` by when. Categories published once or on change have no period: a publication
covers them until it is replaced.
"""
import re
from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l

from app.models.disclosure import HALF_YEARLY, MONTHLY, ONCE, ON_CHANGE, QUARTERLY, YEARLY
from app.services.errors import InvalidInput

_CODE = re.compile(r"(?P<year>\d{4})(?:-(?:(?P<half>H[12])|(?P<quarter>Q[1-4])|(?P<month>0[1-9]|1[0-2])))?")
ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}
PERIODIC = (YEARLY, HALF_YEARLY, QUARTERLY, MONTHLY)
PERIODICITY_LABELS = {
    ONCE: _l("once"),
    YEARLY: _l("yearly"),
    HALF_YEARLY: _l("twice a year"),
    QUARTERLY: _l("quarterly"),
    MONTHLY: _l("monthly"),
    ON_CHANGE: _l("on change"),
}


@dataclass(frozen=True)
class Period:
    code: str
    start: date
    end: date  # the last day, inclusive

    @property
    def kind(self) -> str:
        if "-H" in self.code:
            return HALF_YEARLY
        if "-Q" in self.code:
            return QUARTERLY
        return MONTHLY if "-" in self.code else YEARLY

    def label(self) -> str:
        """Said as a person would: "2026 год", "III квартал 2026 г.", "1-е полугодие 2026 г.", "октябрь 2026 г."."""
        from flask_babel import format_date
        from flask_babel import gettext as _

        year = self.start.year
        if self.kind == YEARLY:
            return _("%(year)s (year)", year=year)
        if self.kind == HALF_YEARLY:
            return _("half %(half)s of %(year)s", half=1 if self.start.month == 1 else 2, year=year)
        if self.kind == QUARTERLY:
            return _("quarter %(quarter)s of %(year)s", quarter=ROMAN[(self.start.month - 1) // 3 + 1], year=year)
        return format_date(self.start, "LLLL y")

    def previous(self) -> "Period":
        return containing(self.kind, self.start - timedelta(days=1))


def parse(code: str | None) -> Period | None:
    """A period from its code; None for an empty one; InvalidInput for anything else."""
    code = (code or "").strip().upper()
    if not code:
        return None
    match = _CODE.fullmatch(code)
    if not match or not 1990 <= int(match["year"]) <= 2100:
        raise InvalidInput(_l("The period must look like 2026, 2026-H1, 2026-Q3 or 2026-10."), field="period")
    year = int(match["year"])
    if match["half"]:
        first = 1 if match["half"] == "H1" else 7
        return _period(code, date(year, first, 1), 6)
    if match["quarter"]:
        return _period(code, date(year, (int(match["quarter"][1]) - 1) * 3 + 1, 1), 3)
    if match["month"]:
        return _period(code, date(year, int(match["month"]), 1), 1)
    return _period(code, date(year, 1, 1), 12)


def containing(periodicity: str, day: date) -> Period:
    """The period of that kind the day falls in."""
    if periodicity == YEARLY:
        return parse(f"{day.year}")
    if periodicity == HALF_YEARLY:
        return parse(f"{day.year}-H{1 if day.month <= 6 else 2}")
    if periodicity == QUARTERLY:
        return parse(f"{day.year}-Q{(day.month - 1) // 3 + 1}")
    if periodicity == MONTHLY:
        return parse(f"{day.year}-{day.month:02d}")
    raise ValueError(f"{periodicity!r} has no periods")


def last_ended(periodicity: str, day: date) -> Period:
    """The latest period of that kind that is over on `day` — the one a publication is due for."""
    return containing(periodicity, day).previous()


def recent(periodicity: str, day: date, count: int = 6) -> list[Period]:
    """Choices for an upload form: the current period and the ones before it, newest first."""
    if periodicity not in PERIODIC:
        return []
    periods = [containing(periodicity, day)]
    while len(periods) < count:
        periods.append(periods[-1].previous())
    return periods


def _period(code: str, start: date, months: int) -> Period:
    month = start.month - 1 + months
    following = date(start.year + month // 12, month % 12 + 1, 1)
    return Period(code=code, start=start, end=following - timedelta(days=1))
